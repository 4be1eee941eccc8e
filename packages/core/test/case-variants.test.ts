import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addCaseVariants } from '../src/matching/candidate-index.js';
import { KeyedListsBuilder } from '../src/matching/keyed-lists.js';

/** The keys under which addCaseVariants files value 7 for the bytes of `text`; each list must be [7]. */
function filedKeys(text: string, nocase: number, keyOf?: (key: number) => number): number[] {
  const builder = new KeyedListsBuilder();
  const key = [...text].reduce((k, c) => ((k << 8) | c.charCodeAt(0)) >>> 0, 0);
  addCaseVariants(builder, key, text.length, nocase, 7, keyOf);
  const lists = builder.build();
  const keys: number[] = [];
  lists.forEachKey((k) => {
    const start = lists.slotStart[lists.find(k)]!;
    assert.deepEqual([...lists.values.subarray(start, start + lists.slotCount[lists.find(k)]!)], [7]);
    keys.push(k);
  });
  return keys;
}

/** The same keys as sorted strings of `length` bytes. */
function variants(text: string, nocase: number): string[] {
  const bytes = (k: number) => Array.from({ length: text.length }, (_, i) => String.fromCharCode((k >>> (8 * (text.length - 1 - i))) & 0xff));
  return filedKeys(text, nocase)
    .map((k) => bytes(k).join(''))
    .sort();
}

describe('case variants of a search key', () => {
  it('files a case-sensitive key as it is', () => {
    assert.deepEqual(variants('ab', 0b00), ['ab']);
  });

  it('files a case-insensitive key under every mix of upper and lower case letters', () => {
    assert.deepEqual(variants('ab', 0b11), ['AB', 'Ab', 'aB', 'ab']);
    const four = variants('wxyz', 0b1111);
    assert.equal(new Set(four).size, 16);
    assert.ok(four.includes('WxYz') && four.includes('wxyz') && four.includes('WXYZ'));
  });

  it('varies only the case-insensitive bytes that are letters', () => {
    // Only the first byte is case-insensitive; '1' and '{' have no other case.
    assert.deepEqual(variants('ab', 0b10), ['Ab', 'ab']);
    assert.deepEqual(variants('1a{z', 0b1111), ['1A{Z', '1A{z', '1a{Z', '1a{z']);
  });

  it('files each variant under the key that keyOf makes of it', () => {
    const keys = filedKeys('ab', 0b11, (key) => (key | 0x0100_0000) >>> 0);
    assert.deepEqual(keys.sort(), [0x4142, 0x4162, 0x6142, 0x6162].map((k) => k | 0x0100_0000).sort());
  });
});
