import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { peTargetInfo } from '../src/executables/pe-file.js';
import { Random } from './fixtures/body/random-signatures.js';
import { basePeSpec, buildPe, type PeSpec } from './fixtures/executables/pe-builder.js';

const CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe';
const info = (change: (spec: PeSpec) => void = () => {}) => {
  const spec = basePeSpec();
  change(spec);
  return peTargetInfo(buildPe(spec, new Random(7)));
};

describe('PE target info (cli_peheader)', () => {
  it("reads clam.exe as ClamAV does: entry point at 0x40, one section", { skip: !existsSync(CLAM_EXE) }, () => {
    assert.deepEqual(peTargetInfo(readFileSync(CLAM_EXE)), {
      entryPoint: 0x40,
      sections: [{ rva: 0x1000, virtualSize: 0x1000, rawOffset: 0, rawSize: 0x200 }],
    });
  });

  it('maps the entry point through the section holding it, and keeps sections aligned', () => {
    const parsed = info();
    assert.equal(parsed?.entryPoint, 0x410);
    assert.deepEqual(parsed?.sections, [
      { rva: 0x1000, virtualSize: 0x1000, rawOffset: 0x400, rawSize: 0x800 },
      { rva: 0x2000, virtualSize: 0x1000, rawOffset: 0xc00, rawSize: 0x200 },
      { rva: 0x3000, virtualSize: 0x1000, rawOffset: 0xe00, rawSize: 0x200 },
    ]);
    assert.equal(info((s) => { s.plus = true; s.optionalHeaderSize = 0xf0; })?.entryPoint, 0x410);
  });

  it('takes an entry point inside the headers as it is, if inside the file', () => {
    assert.equal(info((s) => (s.entryRva = 0x123))?.entryPoint, 0x123);
    assert.equal(info((s) => { s.entryRva = 0x1800; s.headersSize = 0x2000; s.size = 0x1000; })?.entryPoint, undefined);
  });

  it('fails where ClamAV fails', () => {
    assert.equal(info((s) => (s.dosMagic = 0x1234)), undefined);
    assert.equal(info((s) => (s.peOffset = 0)), undefined);
    assert.equal(info((s) => (s.peSignature = 0x4551)), undefined);
    assert.equal(info((s) => (s.sectionCount = 0)), undefined);
    assert.equal(info((s) => (s.optionalHeaderSize = 0x5f)), undefined);
    assert.equal(info((s) => { s.plus = true; s.optionalHeaderSize = 0x6f; }), undefined);
    assert.equal(info((s) => (s.plus = true)), undefined, 'the directories do not fit in the optional header');
    assert.notEqual(info((s) => (s.directories = 1000)), undefined, 'at most 16 directories are read');
    assert.equal(info((s) => (s.entryRva = 0x5000)), undefined, 'the entry point is in no section');
    assert.equal(info((s) => (s.sections[1]!.virtualSize = 0x8000_0000)), undefined);
    assert.equal(info((s) => (s.size = 0x1f0)), undefined, 'the section table is cut off');
  });

  it('empties sections outside the file and cuts truncated ones', () => {
    const parsed = info((s) => {
      s.sections[1]!.rawOffset = 0x2000;
      s.sections[2]!.rawSize = 0x400;
    });
    assert.equal(parsed?.sections[1]!.rawSize, 0);
    assert.equal(parsed?.sections[2]!.rawSize, 0x200);
  });

  it('falls back to a 512-byte file alignment for sections aligned to 512 only', () => {
    const parsed = info((s) => {
      s.fileAlignment = 0x1000;
      s.sections[0]!.rawOffset = 0x600;
    });
    assert.equal(parsed?.sections[0]!.rawOffset, 0x600);
    // No section aligned to 512 only: the declared alignment stays, and rounds the offset down.
    const declared = info((s) => {
      s.fileAlignment = 0x1000;
      s.sections[0]!.rawOffset = 0x410;
      s.sections[1]!.rawSize = 0;
      s.sections[2]!.rawSize = 0;
    });
    assert.equal(declared?.sections[0]!.rawOffset, 0);
    assert.equal(declared?.entryPoint, 0x10);
  });
});
