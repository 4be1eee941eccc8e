/**
 * SZDD (MS COMPRESS): the real sample, and files written here with a literal-and-repeat encoder
 * of the format, checked against real clamscan for the header and size rules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { szddHandler } from '../src/formats/szdd.js';
import {
  CLAM_EXE, clamscan, extractAll, fuzz, hashSignature, md5, needsClamscan, needsTestfiles, noise, prose, recordingContext,
  testfile,
} from './support/archive-samples.js';

/**
 * Encodes `data` as SZDD: literals, except that a byte repeating the previous one at least 3
 * times becomes a window reference (positions are absolute in the 4 KiB window, which starts at
 * 4096 - 16).
 */
function szdd(data: Uint8Array, declared = data.length, missingChar = 0): Buffer {
  const header = Buffer.from([0x53, 0x5a, 0x44, 0x44, 0x88, 0xf0, 0x27, 0x33, 0x41, missingChar, 0, 0, 0, 0]);
  header.writeUInt32LE(declared, 10);
  const body: number[] = [];
  let i = 0;
  while (i < data.length) {
    const flagAt = body.push(0) - 1;
    for (let bit = 0; bit < 8 && i < data.length; bit++) {
      let run = 0;
      while (i > 0 && run < 18 && i + run < data.length && data[i + run] === data[i - 1]) run++;
      if (run >= 3) {
        const from = (4096 - 16 + i - 1) & 4095;
        body.push(from & 0xff, ((from >> 4) & 0xf0) | (run - 3));
        i += run;
      } else {
        body[flagAt]! |= 1 << bit;
        body.push(data[i++]!);
      }
    }
  }
  return Buffer.concat([header, Buffer.from(body)]);
}

describe('szdd handler', () => {
  it('expands clam.exe.szdd to clam.exe', needsTestfiles, () => {
    const objects = extractAll(szddHandler, testfile('clam.exe.szdd'));
    assert.equal(objects.length, 1);
    assert.deepEqual(Buffer.from(objects[0]!.data), Buffer.from(CLAM_EXE));
  });

  it('round-trips literals and window references', () => {
    const data = Buffer.concat([prose(3000), Buffer.alloc(500, 0x41), Buffer.from(noise(5000))]);
    assert.deepEqual(Buffer.from(extractAll(szddHandler, szdd(data))[0]!.data), data);
  });

  it('applies the header and size rules as clamscan does', needsClamscan, () => {
    const data = Buffer.concat([prose(5000), Buffer.alloc(300, 0x20)]);
    const cutAt2k = data.subarray(0, 2048);
    const cases: Array<[string, Buffer, Record<string, Uint8Array>]> = [
      ['plain', szdd(data), { Data: data }],
      ['declared size too small: cut at the next 2 KiB', szdd(data, 1000), { Data: data, Cut: cutAt2k }],
      ['declared size too large: all there is', szdd(data, 1_000_000), { Data: data }],
      ['missing-character byte set', szdd(data, data.length, 0x65), { Data: data }],
      ['truncated body', szdd(data).subarray(0, 3000), { Data: data, Part: extractAll(szddHandler, szdd(data).subarray(0, 3000))[0]!.data }],
    ];
    for (const [label, file, payloads] of cases) {
      const hdb = Object.entries(payloads).map(([name, bytes]) => hashSignature(name, bytes));
      const ours = new Set<string>();
      for (const object of extractAll(szddHandler, file)) {
        for (const [name, bytes] of Object.entries(payloads)) if (md5(object.data) === md5(bytes)) ours.add(name);
      }
      assert.deepEqual([...ours].sort(), clamscan(file, { hdb }), label);
    }
  });

  it('expands nothing when the declared size is over the budget', () => {
    const ctx = recordingContext(1000);
    assert.equal(extractAll(szddHandler, szdd(prose(5000)), ctx).length, 0);
    assert.equal(ctx.heuristics[0]!.kind, 'exceeds-max');
  });

  it('survives seeded mutations of valid files', () => {
    const samples = [szdd(Buffer.concat([prose(4000), Buffer.alloc(100)])), ...(CLAM_EXE.length ? [Buffer.from(testfile('clam.exe.szdd'))] : [])];
    fuzz(szddHandler, samples, { seed: 0x5dd });
  });
});
