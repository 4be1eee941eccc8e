/**
 * ClamAV's PE scan (cli_scanpe) and its embedded-PE search, compared with real clamscan on
 * crafted files: section hash signatures (.mdb/.msb) on the sections as cli_peheader keeps them,
 * Heuristics.Broken.Executable with --alert-broken, and PE files found inside PE files, with
 * MaxEmbeddedPE.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Random } from '../../packages/core/test/fixtures/body/random-signatures.js';
import { basePeSpec, buildPe, type PeSpec } from '../../packages/core/test/fixtures/executables/pe-builder.js';
import { assertSameReports, haveTool, runClamTS } from '../support/run-tool.js';

const CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe';
const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : !existsSync(CLAM_EXE) ? 'clamav-testfiles is not installed' : false;

const digest = (algorithm: string, data: Uint8Array) => createHash(algorithm).update(data).digest('hex');
/** A PE file from the base spec; each gets its own random bytes, so no two sections match alike. */
let seed = 11;
const pe = (change: (spec: PeSpec) => void = () => {}) => {
  const spec = basePeSpec();
  change(spec);
  return buildPe(spec, new Random(seed++));
};
const section = (data: Uint8Array, offset: number, size: number) => data.subarray(offset, offset + size);
const concat = (...parts: Uint8Array[]) => Buffer.concat(parts);

describe('PE scan and embedded PE files against real clamscan', { skip }, () => {
  let dir = '';
  const files = new Map<string, Uint8Array>();
  let base: Uint8Array;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-pe-scan-'));
    base = pe();
    const clam = readFileSync(CLAM_EXE);
    const plus = pe((spec) => {
      spec.plus = true;
      spec.optionalHeaderSize = 0xf0;
    });
    const cut = pe((spec) => {
      spec.size = 0xd80;
    });
    const missing = pe((spec) => {
      spec.sections[2]!.rawOffset = 0x2000;
    });
    const samples: Record<string, Uint8Array> = {
      base,
      plus,
      cut,
      missing,
      'no-sections': pe((spec) => {
        spec.sectionCount = 0;
      }),
      misaligned: pe((spec) => {
        spec.sections[1]!.virtualAddress = 0x2100;
      }),
      'first-section-away': pe((spec) => {
        spec.headersSize = 0x200;
        spec.sectionAlignment = 0x2000;
      }),
      'sign-bit': pe((spec) => {
        spec.sections[1]!.virtualSize = 0x8000_0000;
      }),
      'bad-file-alignment': pe((spec) => {
        spec.fileAlignment = 0x100;
      }),
      'embedded-clam': concat(base, clam),
      'embedded-clam-twice': concat(base, new Uint8Array(100), clam, clam),
      'embedded-broken': concat(base, clam.subarray(0, 0x60)),
      'embedded-in-data': concat(new Uint8Array(0x400).fill(0x41), clam),
      'embedded-in-embedded': concat(base, pe(), clam),
    };
    for (const [name, data] of Object.entries(samples)) {
      files.set(name, data);
      writeFileSync(join(dir, name), data);
    }
    const mdb = [
      `2048:${digest('md5', section(base, 0x400, 0x800))}:Test.Section.Md5`,
      `384:${digest('md5', section(cut, 0xc00, 0x180))}:Test.Section.Cut`,
      `512:${digest('md5', section(plus, 0xc00, 0x200))}:Test.Section.Plus`,
      `512:${digest('md5', section(missing, 0xc00, 0x200))}:Test.Section.Missing`,
    ];
    const msb = [
      `512:${digest('sha1', section(base, 0xc00, 0x200))}:Test.Section.Sha1`,
      `*:${digest('sha256', section(base, 0xe00, 0x200))}:Test.Section.Sha256.Any:73`,
    ];
    writeFileSync(join(dir, 'test.mdb'), mdb.join('\n') + '\n');
    writeFileSync(join(dir, 'test.msb'), msb.join('\n') + '\n');
    writeFileSync(join(dir, 'test.hdb'), `${digest('md5', clam)}:${clam.length}:Test.Embedded.Clam\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, string[]]> = [
    ['section hashes, all names', ['--allmatch']],
    ['section hashes, first name', []],
    ['broken executables reported with --alert-broken', ['--alert-broken', '--allmatch']],
    ['embedded PE files limited by --max-embeddedpe', ['--max-embeddedpe=600', '--allmatch']],
    ['PE scanning switched off', ['--scan-pe=no', '--allmatch']],
  ];
  for (const [name, options] of cases) {
    it(name, () => {
      assertSameReports(['--no-summary', ...options, '-d', join(dir, 'test.mdb'), '-d', join(dir, 'test.msb'), '-d', join(dir, 'test.hdb'), ...[...files.keys()].map((file) => join(dir, file))]);
    });
  }

  it('finds what the samples are built to show', () => {
    const ours = runClamTS('clamscan', ['--no-summary', '--allmatch', '--alert-broken', '-d', join(dir, 'test.mdb'), '-d', join(dir, 'test.msb'), '-d', join(dir, 'test.hdb'), dir]);
    for (const expected of ['base: Test.Section.Md5', 'base: Test.Section.Sha1', 'base: Test.Section.Sha256.Any', 'cut: Test.Section.Cut', 'plus: Test.Section.Plus', 'embedded-clam: Test.Embedded.Clam', 'no-sections: Heuristics.Broken.Executable']) {
      const [file, name] = expected.split(': ');
      const suffix = name!.startsWith('Heuristics.') ? '' : '.UNOFFICIAL';
      assert.ok(ours.stdout.includes(`${dir}/${file}: ${name}${suffix} FOUND`), `${expected}\n${ours.stdout}`);
    }
  });
});
