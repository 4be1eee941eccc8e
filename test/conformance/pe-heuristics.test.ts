/**
 * cli_scanpe's detectors for W32.Parite.B, W32.Kriz, W32.Magistr and W32.Polipos.A, compared
 * with real clamscan on PE files built to show each virus's marks, and on near misses.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Random } from '../../packages/core/test/fixtures/body/random-signatures.js';
import { basePeSpec, buildPe, type PeSpec } from '../../packages/core/test/fixtures/executables/pe-builder.js';
import { comparable, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const skip = haveTool('clamscan') ? false : 'real clamscan is not installed';

interface Sample {
  spec: (spec: PeSpec) => void;
  /** Changes to the built bytes: the entry point's code, section contents, header fields. */
  patch: (file: Uint8Array, view: DataView) => void;
}

const OPTIONAL = 0x80 + 24;
const sectionHeader = (i: number) => OPTIONAL + 0xe0 + i * 40;
const setCharacteristics = (view: DataView, i: number, value: number) => view.setUint32(sectionHeader(i) + 36, value >>> 0, true);

/** A PE whose entry point is the start of its last section, 8 KiB long. */
const lastSectionEntry = (spec: PeSpec) => {
  spec.size = 0x3000;
  spec.sections[2] = { virtualAddress: 0x3000, virtualSize: 0x2000, rawOffset: 0x1000, rawSize: 0x2000 };
  spec.entryRva = 0x3000;
};

function parite(masks: [number, number, number]): Sample {
  return {
    spec: lastSectionEntry,
    patch: (file, view) => {
      const at = 0x1000 + 0x300;
      file.set(new TextEncoder().encode('GetProcAddress\0'), at);
      masks.forEach((mask, n) => {
        view.setUint32(at + 15 + 8 * n, 0x12345678, true);
        view.setUint32(at + 15 + 8 * n + 4, (0x12345678 ^ mask) >>> 0, true);
      });
    },
  };
}

/** Kriz's decryptor at the entry point: call over junk, pop ebp, mov ecx, size; xor; dec; loop. */
function kriz(back: number): Sample {
  return {
    spec: lastSectionEntry,
    patch: (file) => {
      const code = [0x90, 0x9c, 0x60, 0xe8, 2, 0, 0, 0, 0x90, 0x90, 0x5d, 0xb9, 0xd2, 0x0f, 0, 0, 0x80, 0xb5, 0, 0, 0, 0, 0x55, 0x4d, 0x49, 0x75, back & 0xff];
      file.set(code, 0x1000);
    },
  };
}

function magistr(virtualSize: number, rawSize: number, call: number[]): Sample {
  return {
    spec: (spec) => {
      spec.size = 0x1000 + rawSize;
      spec.sections[2] = { virtualAddress: 0x3000, virtualSize, rawOffset: 0x1000, rawSize };
    },
    patch: (file, view) => {
      setCharacteristics(view, 2, 0xc0000040);
      file.set(call, 0x1000 + Math.max(0, rawSize - (virtualSize >= 0x7000 && (virtualSize & 0xff) === 0xed ? 0x8000 : 0x7000)) + 0x123);
    },
  };
}

function polipos(prologue: number[]): Sample {
  return {
    spec: (spec) => {
      spec.size = 0x1000 + 0xc000;
      spec.sections[2] = { virtualAddress: 0x3000, virtualSize: 50000, rawOffset: 0x1000, rawSize: 0xc000 };
    },
    patch: (file, view) => {
      view.setUint32(OPTIONAL + 72, 0x100000, true); // SizeOfStackReserve
      setCharacteristics(view, 2, 0xe0000060);
      // A call in the first section (rva 0x1000, file 0x400) to rva 0x3100 (file 0x1100).
      const callAt = 0x400 + 0x10;
      file[callAt] = 0xe8;
      view.setInt32(callAt + 1, 0x3100 - (0x1000 + 0x10 + 5), true);
      file.set(prologue, 0x1100);
    },
  };
}

const SAMPLES: Record<string, Sample> = {
  'parite': parite([0x505a4f, 0xffffb, 0xb8]),
  'parite-wrong-mask': parite([0x505a4f, 0xffffb, 0xb9]),
  'kriz': kriz(-9),
  'kriz-loop-too-far': kriz(-20),
  'magistr-a': magistr(0x70ec, 0x7000, [0xe8, 0x2c, 0x61, 0, 0]),
  'magistr-b': magistr(0x90ed, 0x9000, [0xe8, 0x04, 0x72, 0, 0]),
  'magistr-wrong-size': magistr(0x70eb, 0x7000, [0xe8, 0x2c, 0x61, 0, 0]),
  'polipos': polipos([0x55, 0x8b, 0xec, 0x60]),
  'polipos-sub-esp': polipos([0x55, 0x8b, 0xec, 0x83, 0xec, 0x10, 0x60]),
  'polipos-plain-prologue': polipos([0x55, 0x8b, 0xec, 0x90]),
};

describe('PE virus heuristics against real clamscan', { skip }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-pe-heuristics-'));
    let seed = 5;
    for (const [name, sample] of Object.entries(SAMPLES)) {
      const spec = basePeSpec();
      sample.spec(spec);
      const file = buildPe(spec, new Random(seed++));
      sample.patch(file, new DataView(file.buffer, file.byteOffset, file.byteLength));
      writeFileSync(join(dir, name), file);
    }
    writeFileSync(join(dir, 'none.hdb'), '00000000000000000000000000000000:1:ClamTS.Placeholder\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const options of [['--allmatch'], ['--heuristic-alerts=no']]) {
    it(`reports what clamscan reports (${options.join(' ')})`, () => {
      const args = ['--no-summary', ...options, '-d', join(dir, 'none.hdb'), ...Object.keys(SAMPLES).map((name) => join(dir, name))];
      const real = runClamAV('clamscan', args);
      const ours = runClamTS('clamscan', args);
      assert.deepEqual(comparable(ours.stdout), comparable(real.stdout));
      assert.equal(ours.status, real.status);
    });
  }

  it('finds each virus the samples are built to show', () => {
    const ours = runClamTS('clamscan', ['--no-summary', '-d', join(dir, 'none.hdb'), dir]);
    for (const [name, virus] of [
      ['parite', 'W32.Parite.B'],
      ['kriz', 'W32.Kriz'],
      ['magistr-a', 'W32.Magistr.A'],
      ['magistr-b', 'W32.Magistr.B'],
      ['polipos', 'W32.Polipos.A'],
      ['polipos-sub-esp', 'W32.Polipos.A'],
    ]) {
      assert.ok(ours.stdout.includes(`${join(dir, name)}: Heuristics.${virus} FOUND`), `${name}\n${ours.stdout}`);
    }
  });
});
