// Growable shared arrays: what engine builders write survives growth, and is handed over as is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GrowableShared } from '../src/util/shared-memory.js';

describe('GrowableShared', () => {
  it('keeps what was written while it grows, and hands over the used part in shared memory', () => {
    const values = new GrowableShared(Uint32Array, 4);
    for (let i = 0; i < 100_000; i++) values.push(i * 3);
    const used = values.used();
    assert.equal(used.length, 100_000);
    assert.ok(used.buffer instanceof SharedArrayBuffer);
    assert.equal(used[99_999], 299_997);
    assert.ok(used.every((value, i) => value === i * 3));
    assert.equal(values.used(10).length, 10);
  });

  it('appends byte ranges and moves to a larger reservation when it outgrows its own', () => {
    const bytes = new GrowableShared(Uint8Array, 8, 64);
    const source = Uint8Array.from({ length: 50 }, (_, i) => i);
    bytes.append(source, 10, 50);
    bytes.append(source);
    bytes.append(source, 0, 25);
    const used = bytes.used();
    assert.equal(used.length, 115);
    assert.deepEqual([...used.subarray(0, 40)], [...source.subarray(10, 50)]);
    assert.deepEqual([...used.subarray(40, 90)], [...source]);
    assert.deepEqual([...used.subarray(90)], [...source.subarray(0, 25)]);
  });

  it('appends short and long ranges of a Buffer alike', () => {
    const bytes = new GrowableShared(Uint8Array, 8);
    const source = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    // Copied in a loop up to 64 bytes, through a subarray beyond.
    for (const [start, end] of [[5, 69], [0, 65], [100, 300], [7, 7], [299, 300]] as const) {
      const at = bytes.length;
      bytes.append(source, start, end);
      assert.equal(bytes.length, at + end - start);
      assert.deepEqual([...bytes.used().subarray(at)], [...source.subarray(start, end)]);
    }
  });
});
