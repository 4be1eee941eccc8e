import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readPeHeaders } from '../src/executables/pe-file.js';
import { rebuildPe, type RebuildSection } from '../src/executables/unpackers/rebuild-pe.js';

/** An unpacked image: each section's bytes hold its number. */
function image(sections: readonly RebuildSection[]): Uint8Array {
  const end = Math.max(...sections.map((s) => s.rawOffset + s.rawSize));
  const bytes = new Uint8Array(end);
  sections.forEach((s, i) => bytes.fill(i + 1, s.rawOffset, s.rawOffset + s.rawSize));
  return bytes;
}

const sectionName = (file: Uint8Array, at: number) => Buffer.from(file.subarray(at, at + 8)).toString('latin1').replace(/\0+$/, '');

describe('rebuildPe (cli_rebuildpe)', () => {
  const sections: RebuildSection[] = [
    { rva: 0x1000, virtualSize: 0x2000, rawOffset: 0, rawSize: 0x300 },
    { rva: 0x3000, virtualSize: 0x1000, rawOffset: 0x300, rawSize: 0x100 },
  ];

  it('writes a PE file that parses, with the given image base, entry point and resources', () => {
    const file = rebuildPe(image(sections), sections, 0x400000, 0x1234, 0x3000, 0x80)!;
    const view = new DataView(file.buffer);
    assert.equal(view.getUint32(0xd0 + 24 + 16, true), 0x1234);
    assert.equal(view.getUint32(0xd0 + 24 + 28, true), 0x400000);
    assert.equal(view.getUint32(0x148 + 0x10, true), 0x3000);
    assert.equal(view.getUint32(0x148 + 0x14, true), 0x80);
    const pe = readPeHeaders(file);
    assert.notEqual(typeof pe, 'string');
    if (typeof pe === 'string') return;
    // The headers (0x148 + 0x80 + 2 * 0x28 bytes) take two 512-byte blocks; each section's data is padded to 512.
    assert.equal(pe.headersSize, 0x1000);
    assert.deepEqual(
      pe.sections.map((s) => [s.rva, s.virtualSize, s.declaredRawOffset, s.declaredRawSize, s.characteristics >>> 0]),
      [
        [0x1000, 0x2000, 0x400, 0x300, 0xffffffff],
        [0x3000, 0x1000, 0x800, 0x100, 0xffffffff],
      ],
    );
    assert.equal(file.length, 0x400 + 0x400 + 0x200);
    assert.ok(file.subarray(0x400, 0x700).every((b) => b === 1));
    assert.ok(file.subarray(0x800, 0x900).every((b) => b === 2));
    assert.equal(view.getUint32(0xd0 + 24 + 56, true), 0x1000 + 0x2000 + 0x1000, 'SizeOfImage: headers and sections, page-aligned');
    assert.deepEqual([sectionName(file, 0x1c8), sectionName(file, 0x1f0)], ['.clam01', '.clam02']);
  });

  it('fills a gap before the first section with an "empty" one', () => {
    const late = [{ rva: 0x5000, virtualSize: 0x1000, rawOffset: 0, rawSize: 0x200 }];
    const file = rebuildPe(image(late), late, 0x400000, 0x5000, 0, 0)!;
    const view = new DataView(file.buffer);
    assert.equal(view.getUint16(0xd0 + 6, true), 2);
    assert.equal(sectionName(file, 0x1c8), 'empty');
    assert.deepEqual([view.getUint32(0x1c8 + 8, true), view.getUint32(0x1c8 + 12, true)], [0x4000, 0x1000]);
    assert.equal(sectionName(file, 0x1f0), '.clam01');
    assert.equal(view.getUint32(0xd0 + 24 + 56, true), 0x6000);
  });

  it('rounds sections to the alignment it is given', () => {
    const odd = [{ rva: 0x1000, virtualSize: 0x10, rawOffset: 0, rawSize: 0x10 }];
    const file = rebuildPe(image(odd), odd, 0, 0x1000, 0, 0, 0x100)!;
    const view = new DataView(file.buffer);
    assert.deepEqual([view.getUint32(0x1c8 + 8, true), view.getUint32(0x1c8 + 16, true)], [0x100, 0x100]);
  });

  it('gives up as ClamAV does: more than 96 sections', () => {
    const many = Array.from({ length: 97 }, (_, i) => ({ rva: 0x1000 * (i + 1), virtualSize: 0x1000, rawOffset: 0, rawSize: 0 }));
    assert.equal(rebuildPe(new Uint8Array(0), many, 0, 0, 0, 0), undefined);
    assert.notEqual(rebuildPe(new Uint8Array(0), many.slice(0, 96), 0, 0, 0, 0), undefined);
  });

  it('gives up as ClamAV does: more than 1 GiB of section data', () => {
    const huge = [{ rva: 0x1000, virtualSize: 0x1000, rawOffset: 0, rawSize: 0x4000_0001 }];
    assert.equal(rebuildPe(new Uint8Array(0), huge, 0, 0, 0, 0), undefined);
  });
});
