import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forEachLine } from '../src/signatures/lines.js';
import { libclamavLine } from '../src/util/logger.js';

const linesOf = (text: string, lineBuffer: number) => {
  const lines: string[] = [];
  forEachLine(Buffer.from(text, 'latin1'), (line, number) => lines.push(`${number}:${line}`), lineBuffer);
  return lines;
};

describe('database lines read through a line buffer, as fgets reads them', () => {
  it('splits lines longer than the buffer into several', () => {
    assert.deepEqual(linesOf('abcdefgh\nij\r\n', 5), ['1:abcd', '2:efgh', '3:', '4:ij']);
    assert.deepEqual(linesOf('abc\nlast', 5), ['1:abc', '2:last']);
  });

  it('keeps lines that fit whole, the newline included', () => {
    assert.deepEqual(linesOf('abc\nde\n', 5), ['1:abc', '2:de']);
  });
});

describe('libclamav message lines', () => {
  it('are prefixed, end with a newline, and are cut at 8191 characters', () => {
    assert.equal(libclamavLine('Error', 'broken'), 'LibClamAV Error: broken\n');
    const long = libclamavLine('Warning', 'x'.repeat(9000));
    assert.equal(long.length, 8191);
    assert.ok(!long.endsWith('\n'), 'a cut message has no newline');
  });
});
