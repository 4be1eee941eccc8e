/**
 * Text normalisation for target-type-7 signatures, compared byte for byte with ClamAV's:
 * `sigtool --ascii-normalise=FILE` writes ./normalised_text with libclamav's textnorm.c. Inputs
 * mix letters, white-space runs, control and high bytes, and are long enough to cross sigtool's
 * 128 KiB buffer (where the white-space memory resets).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { normaliseText, normaliseTextForScan, SCAN_BUFFER_SIZE, SIGTOOL_BUFFER_SIZE } from '../src/formats/normalise/text.js';
import { clamscan, clamtsScan, haveTool, prng } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const needsSigtool = haveTool('sigtool') ? {} : { skip: 'sigtool (the oracle) is not installed' };

function sigtool(text: Uint8Array): Buffer {
  const dir = tempDir('clamts-text-');
  const input = dir.write('input.txt', text);
  const result = spawnSync('sigtool', [`--ascii-normalise=${input}`], { cwd: dir.root });
  assert.equal(result.status, 0, String(result.stderr));
  return readFileSync(join(dir.root, 'normalised_text'));
}

function generated(seed: number, length: number): Uint8Array {
  const random = prng(seed);
  const alphabet = Buffer.from('abcXYZ 019 \t\n\r\v\f  <>&;"\x00\x01\x1f\x7f\x80\xe9\xff', 'latin1');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = alphabet[Math.floor(random() * alphabet.length)]!;
  return out;
}

describe('text normalisation against sigtool --ascii-normalise', () => {
  it('short and buffer-crossing inputs', needsSigtool, () => {
    const inputs = [
      Buffer.from('Hello   WORLD\n\tfoo\x01\x80bar  baz\n', 'latin1'),
      generated(1, 1000),
      generated(2, SIGTOOL_BUFFER_SIZE + 5000),
      // A white-space run straddling the buffer boundary: ClamAV writes two spaces there.
      Buffer.concat([Buffer.alloc(SIGTOOL_BUFFER_SIZE - 2, 0x61), Buffer.from('    b')]),
    ];
    for (const input of inputs) assert.deepEqual(Buffer.from(normaliseText(input)), sigtool(input));
  });
});

describe('text normalisation rules', () => {
  it('lower-cases, collapses white space and drops control and high bytes', () => {
    assert.equal(Buffer.from(normaliseText(Buffer.from('A  B\r\n\tC\x00\x80d', 'latin1'))).toString(), 'a b cd');
  });

  it('resets the white-space memory where the scan buffer is flushed, as clamscan does', () => {
    // A space run that reaches the page ClamAV's scan buffer flushes before (4-byte patterns).
    const input = Buffer.concat([Buffer.alloc(SCAN_BUFFER_SIZE - 3, 0x61), Buffer.from('  '), Buffer.alloc(4096, 0x20), Buffer.from('QZ')]);
    const scanned = Buffer.from(normaliseTextForScan(input, 4).text);
    assert.ok(scanned.includes('a  q'), 'two spaces across the flush');
    assert.ok(!scanned.includes('a q'));
    if (haveTool('clamscan')) {
      const db = ['Text.Double:7:*:61202071', 'Text.Single:7:*:612071'];
      assert.deepEqual(clamscan(input, { ndb: db }), ['Text.Double']);
      assert.deepEqual(clamtsScan(input, { ndb: db }), ['Text.Double']);
    }
  });

  it('matches each scan buffer on its own, carrying over only the longest target-7 pattern', { skip: !haveTool('clamscan') && 'clamscan is not installed' }, () => {
    // "marker words" straddles the first flush of the normalised text: a generic signature for it
    // is not seen (the buffers overlap by the 4 bytes of the target-7 pattern only), a short one
    // inside the carried tail is.
    const input = Buffer.concat([Buffer.alloc(SCAN_BUFFER_SIZE - 10, 0x61), Buffer.from(' MARKER WORDS '), Buffer.alloc(8000, 0x62)]);
    const { bufferEnds } = normaliseTextForScan(input, 4);
    assert.ok(bufferEnds.length >= 2, 'the text fills more than one buffer');
    const db = ['Text.Short:7:*:7a7a7a7a', `Generic.Spanning:0:*:${Buffer.from('marker words').toString('hex')}`, `Generic.Tail:0:*:${Buffer.from('rds b').toString('hex')}`];
    assert.deepEqual(clamtsScan(input, { ndb: db }), clamscan(input, { ndb: db }));
  });
});
