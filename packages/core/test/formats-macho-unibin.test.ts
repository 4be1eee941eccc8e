/**
 * Universal (fat) Mach-O binaries: the slices cli_scanmacho_unibin scans, views of the file in
 * entry order, and the walk's ends (real clamscan agreeing: test/conformance/macho-unibin.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { machoUnibinHandler } from '../src/formats/macho-unibin.js';
import { extractAll, fuzz, recordingContext } from './support/archive-samples.js';

/** A big-endian fat header with `count` entries (offset, size) and `length` bytes in all, slices after the entries filled with their index. */
function fatFile(entries: [number, number][], length: number, count = entries.length): Uint8Array {
  const data = new Uint8Array(length);
  const view = new DataView(data.buffer);
  view.setUint32(0, 0xcafebabe);
  view.setUint32(4, count);
  entries.forEach(([offset, size], i) => {
    view.setUint32(8 + 20 * i + 8, offset);
    view.setUint32(8 + 20 * i + 12, size);
    if (offset >= 8 + 20 * count) data.fill(0x41 + i, offset, Math.min(length, offset + size));
  });
  return data;
}

describe('universal Mach-O binaries', () => {
  it('yield each slice as a view of the file, cut at its end, the rest of it for size 0', () => {
    const ctx = recordingContext();
    const slices = extractAll(machoUnibinHandler, fatFile([[0x100, 0x40], [0x200, 0], [0x300, 0x400]], 0x380), ctx);
    assert.deepEqual(slices.map((s) => [s.data.byteOffset, s.data.length, s.sameBuffer]), [[0x100, 0x40, true], [0x200, 0x180, true], [0x300, 0x80, true]], 'three views');
    assert.ok(ctx.debugLines.includes('magic_scan_nested_fmap_type: Data truncated: 1024 -> 128'), 'the cut is logged');
    assert.deepEqual(ctx.heuristics, [], 'nothing broken');
  });

  it('end at an entry cut by the end of the file or a slice inside the header, as broken', () => {
    for (const data of [fatFile([[0x30, 0x10]], 0x40, 3), fatFile([[0x100, 0x10], [0x10, 0x10]], 0x200)]) {
      const ctx = recordingContext();
      const slices = extractAll(machoUnibinHandler, data, ctx);
      assert.equal(slices.length, 1, 'the slice before it');
      assert.deepEqual(ctx.heuristics, [{ kind: 'broken', name: 'Heuristics.Broken.Executable' }], 'a broken executable');
    }
  });

  it('pass over small and out-of-file slices, Java class files and too many architectures', () => {
    assert.equal(extractAll(machoUnibinHandler, fatFile([[0x100, 5], [0x9000, 0x10]], 0x200)).length, 0, 'nothing to scan');
    const java = fatFile([], 0x100, 0x0034);
    assert.equal(extractAll(machoUnibinHandler, java).length, 0, 'a Java class file');
    const ctx = recordingContext();
    assert.equal(extractAll(machoUnibinHandler, fatFile([], 0x100, 33), ctx).length, 0, '33 architectures');
    assert.ok(ctx.debugLines.includes('cli_scanmacho_unibin: Invalid number of architectures'), 'ClamAV’s line');
  });

  it('never throw or hang on mutated fat headers', () => {
    fuzz(machoUnibinHandler, [fatFile([[0x100, 0x40], [0x200, 0x100]], 0x300), fatFile([[0x40, 0]], 0x80, 2)], { seed: 0xfa7 });
  });
});
