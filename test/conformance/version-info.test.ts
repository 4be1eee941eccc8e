/**
 * `VI` signature offsets, compared with real clamscan: the version information ClamAV reads from
 * PE files (its `versioninfo_cb`, `cli_peheader: parsing version info` and `VersionInfo (…)`
 * debug lines, and `VI match` when a pattern matches), on crafted, damaged and randomly mutated
 * version resources; detections of .ldb and .ndb signatures with `VI` offsets (at a String entry,
 * one byte off, several tables, languages and resources, the 16-resource cap, truncated tables);
 * and the `VI` signatures of ClamAV's main.ldb on files built to satisfy them.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { peWithVersionInfo, versionInfo, type VersionInfoSpec } from '../../packages/core/test/fixtures/executables/version-info-builder.js';
import { mutate, prng } from '../../packages/core/test/support/archive-samples.js';
import { assertSameReports, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const MAIN_LDB = '/work/shared/sigs/clamav-main/main.ldb.gz';
const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : false;

const utf16Hex = (text: string) => Buffer.from(text, 'utf16le').toString('hex');
const one = (strings: VersionInfoSpec['tables'][number]['strings']): VersionInfoSpec => ({ tables: [{ strings }] });
const COMPANY = one([
  ['CompanyName', 'Evil Corp'],
  ['FileDescription', 'Tool'],
  ['Comments', ''],
]);

/** Crafted files: ASCII text only, so that the debug lines compare exactly. */
const SAMPLES: Record<string, () => Uint8Array> = {
  plain: () => peWithVersionInfo([{ data: versionInfo(COMPANY) }], 1),
  'tables-and-languages': () =>
    peWithVersionInfo(
      [
        {
          data: versionInfo({
            varFileInfoFirst: true,
            tables: [{ strings: [['CompanyName', 'Evil Corp'], ['ProductName', 'Thing']] }, { language: '040704b0', strings: [['CompanyName', 'Evil Corp']] }],
          }),
          languages: 3,
        },
        { data: versionInfo(one([['InternalName', 'second']])) },
      ],
      2,
    ),
  'seventeen-resources': () =>
    peWithVersionInfo(
      Array.from({ length: 17 }, (_, i) => ({ data: versionInfo(one([i === 16 ? ['CompanyName', 'Evil Corp'] : [`Key${i}`, 'value']])) })),
      3,
    ),
  'unpadded-last-string': () =>
    peWithVersionInfo([{ data: versionInfo({ tables: [{ strings: [['Comments', 'first'], ['Odd', 'xy']], unpaddedLast: true }, { strings: [['CompanyName', 'Evil Corp']] }] }) }], 4),
  'short-string': () => peWithVersionInfo([{ data: versionInfo(one([['K', 'v'], ['CompanyName', 'Evil Corp']])) }], 5),
  'truncated-table': () => {
    const data = versionInfo(COMPANY);
    return peWithVersionInfo([{ data: data.subarray(0, data.length - 40) }], 6);
  },
  'file-cut-in-resource': () => {
    const file = peWithVersionInfo([{ data: versionInfo(COMPANY) }], 7);
    return file.subarray(0, 0x600 + 0x100);
  },
  'bad-signature': () => peWithVersionInfo([{ data: versionInfo({ ...COMPANY, signature: 0xfeef04bc }) }], 8),
  'data-outside': () => peWithVersionInfo([{ data: versionInfo(COMPANY), dataRva: 0x7000 }, { data: versionInfo(COMPANY) }], 9),
  dll: () => peWithVersionInfo([{ data: versionInfo(COMPANY) }], 10, { dll: true }),
  'no-resource-size': () => peWithVersionInfo([{ data: versionInfo(COMPANY) }], 11, { directorySize: 0 }),
  'two-directories': () => peWithVersionInfo([{ data: versionInfo(COMPANY) }], 12, { directories: 2 }),
};

/** Mutated version resources, whatever they hold. */
const RANDOM_SAMPLES = 40;
function randomSample(index: number): Uint8Array {
  const random = prng(100 + index);
  const spec = index % 2 === 0 ? COMPANY : { varFileInfoFirst: true, tables: [{ strings: [['CompanyName', 'Evil Corp']] as const }, { strings: [['Comments', 'abc']] as const }] };
  return peWithVersionInfo([{ data: mutate(versionInfo(spec), random), languages: 1 + (index % 2) }], 200 + index);
}

const VERSION_LINE = /versioninfo_cb: |cli_peheader: parsing version info|VersionInfo \(|VI match for offset/;
const versionLines = (stderr: string) => stderr.split('\n').filter((line) => VERSION_LINE.test(line));
/** The lines without the decoded key and value, whose bytes above 0x7f ClamAV prints raw (ClamTS as UTF-8). */
const withoutText = (lines: string[]) => lines.map((line) => line.replace(/: '.*' - VI:/, ': - VI:'));

describe('VI offsets against real clamscan', { skip }, () => {
  let dir = '';
  let database = '';
  const crafted: string[] = [];
  const random: string[] = [];
  const write = (name: string, data: Uint8Array) => {
    writeFileSync(join(dir, name), data);
    return join(dir, name);
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-vi-'));
    for (const [name, make] of Object.entries(SAMPLES)) crafted.push(write(name, make()));
    for (let i = 0; i < RANDOM_SAMPLES; i++) random.push(write(`random-${i}`, randomSample(i)));
    const company = utf16Hex('CompanyName\0');
    database = join(dir, 'vi.ldb');
    writeFileSync(
      database,
      [
        `Test.VI.Key;Engine:51-255,Target:1;0;VI:${company}`,
        `Test.VI.KeyAndValue;Engine:51-255,Target:1;0;VI:${company}0000${utf16Hex('Evil')}`,
        `Test.VI.OneByteOff;Engine:51-255,Target:1;0;VI:${company.slice(2)}`,
        `Test.VI.Value;Engine:51-255,Target:1;0;VI:${utf16Hex('Evil Corp')}`,
        `Test.VI.Wildcard;Engine:51-255,Target:1;0;VI:${company}????${utf16Hex('Ev')}`,
        `Test.VI.Split;Engine:51-255,Target:1;0;VI:${company}*${utf16Hex('Corp')}`,
        `Test.VI.Count;Engine:51-255,Target:1;0>2;VI:${company}`,
        `Test.VI.Key16;Engine:51-255,Target:1;0;VI:${utf16Hex('Key15\0')}`,
        `Test.VI.Pcre;Engine:81-255,Target:1;0&1;VI:${company};VI:0/E\\x00v\\x00i/`,
      ].join('\n') + '\n',
    );
    writeFileSync(join(dir, 'vi.ndb'), `Test.VI.Body:1:VI:${company}\nTest.VI.Shifted:1:VI:${company.slice(0, -4)}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the version information of crafted files as ClamAV does (debug lines)', () => {
    for (const file of crafted) {
      const real = versionLines(runClamAV('clamscan', ['--debug', '-d', database, file]).stderr);
      const ours = versionLines(runClamTS('clamscan', ['--debug', '-d', database, file]).stderr);
      assert.deepEqual(ours, real, `the version-information debug lines of ${file}`);
    }
  });

  it('reads mutated version resources as ClamAV does', () => {
    for (const file of random) {
      const real = versionLines(runClamAV('clamscan', ['--debug', '-d', database, file]).stderr);
      const ours = versionLines(runClamTS('clamscan', ['--debug', '-d', database, file]).stderr);
      assert.deepEqual(withoutText(ours), withoutText(real), `the version-information debug lines of ${file}`);
    }
  });

  it('detects .ldb and .ndb VI signatures as ClamAV does', () => {
    for (const allMatch of [true, false]) {
      const args = [...(allMatch ? ['--allmatch'] : []), '--no-summary', '-d', database, '-d', join(dir, 'vi.ndb'), ...crafted, ...random];
      assertSameReports(args);
    }
  });

  describe("main.ldb's VI signatures", { skip: !existsSync(MAIN_LDB) ? 'main.ldb is not available' : false }, () => {
    let mainVi = '';
    const targets: string[] = [];
    before(() => {
      mainVi = join(dir, 'main-vi.ldb');
      execSync(`zcat ${MAIN_LDB} | grep ';VI:' > ${mainVi}`);
      const file = (name: string, strings: VersionInfoSpec['tables'][number]['strings'], body?: string) => {
        const data = peWithVersionInfo([{ data: versionInfo(one(strings)) }], 300 + targets.length);
        if (body) data.set(Buffer.from(body, 'latin1'), 0x400);
        targets.push(write(name, data));
      };
      file('earncash', [['Comments', 'Earn cash online now']]);
      file('zusy-downloader', [['ProductName', 'Downloader X'], ['ProductVersion', '6.0.0.1']]);
      file('zusy-qq', [['OriginalFilename', 'QQ.exe'], ['FileVersion', '3.05']]);
      file('upatre', [['CompanyName', 'Landed']], 'Open File Error.');
      file('upatre-without-body', [['CompanyName', 'Landed']]);
      file('zusy-missing-one', [['ProductName', 'Downloader X']]);
    });

    it('detects the files built for them, and only those', () => {
      const real = runClamAV('clamscan', ['--allmatch', '--no-summary', '-d', mainVi, ...targets]).stdout;
      assert.equal(real.split('\n').filter((line) => line.endsWith(' FOUND')).length, 4, 'ClamAV detects the four complete samples');
      assertSameReports(['--allmatch', '--no-summary', '-d', mainVi, ...targets]);
    });
  });
});
