/**
 * File typing replayed against the installed ClamAV (skipped without clamscan).
 *
 * For every sample, ClamAV's `RootFileType`, its `EmbeddedObjects` and its typing debug lines
 * (from `clamscan --gen-json --debug`) must equal what the detector gives; the `.ftm` cases must
 * print the same errors. Besides the hand-made samples, seeded random objects cover inputs nobody
 * wrote by hand. ClamAV skips objects of 5 bytes or less, so samples are longer.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileTypeDetector } from '../src/filetypes/index.js';
import { caseFile, FTM_CASES } from './fixtures/filetypes/ftm-cases.js';
import { fuzzObjects } from './fixtures/filetypes/fuzz.js';
import { CUSTOM_SAMPLES, EMBEDDED_SAMPLES, SAMPLES } from './fixtures/filetypes/samples.js';
import { CaptureLogger } from './support/capture-logger.js';
import { tempDir } from './support/temp-dir.js';
import { DAILY_FTM, dailyDetector } from './fixtures/filetypes/daily-ftm.js';
import { needsSharedSigs } from '../../../test/support/shared-sigs.js';

const CUSTOM_FTM = new URL('./fixtures/filetypes/custom.ftm', import.meta.url);
const CLAMAV_TESTFILES = '/usr/share/clamav-testfiles';
const installed = spawnSync('clamscan', ['--version']).status === 0;

/** ClamAV's view of one scanned file. */
interface Observed {
  rootType: string;
  /** Undefined when ClamAV's metadata was too large to read back. */
  embedded?: Array<{ type: string; offset: number }>;
  /** The debug lines printed while typing the file, before scanning starts. */
  typing: string[];
}

const TYPING_LINE = /^(Recognized |Matched signature for file type |Likely OOXML|cli_determine_fmap_type: |Partition type)/;
/** Debug lines of helpers that run in the middle of typing, which the detector does not print. */
const HELPER_LINE = /^(entconv: |in_iconv_u16|in unzip_search|unzip_search|cli_unzip: central header)/;

/**
 * Scans files with clamscan and reads its JSON metadata and debug lines. OLE2 parsing is off
 * because it renames the root type of Word and PowerPoint files; the cache is off so that files
 * with equal contents are all scanned.
 */
function clamscan(databases: string[], files: string[]): Map<string, Observed> {
  const options = ['--gen-json', '--debug', '--no-summary', '--disable-cache', '--scan-ole2=no'];
  const args = [...options, ...databases.flatMap((db) => ['-d', db]), ...files];
  const { stdout } = spawnSync('sh', ['-c', 'exec clamscan "$@" 2>&1', 'clamscan', ...args], { encoding: 'latin1', maxBuffer: 1 << 30 });
  const seen = new Map<string, Observed>();
  const typing = new Map<string, string[]>();
  let current: string[] | undefined;
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const scanning = /^LibClamAV debug: Checking realpath of (.*)$/.exec(line);
    if (scanning) {
      current = [];
      typing.set(scanning[1].slice(scanning[1].lastIndexOf('/') + 1), current);
      continue;
    }
    if (line === 'LibClamAV debug: {') {
      const block = ['{'];
      // A cut message runs into the next one, so a block also ends where other output starts.
      while (++i < lines.length && lines[i] !== '}' && !lines[i].includes('LibClamAV ')) block.push(lines[i]);
      if (lines[i] !== '}') i--;
      const { name, rootType, embedded } = readMetadata(`${block.join('\n')}}`);
      seen.set(name, { rootType, embedded, typing: typing.get(name) ?? [] });
      continue;
    }
    if (!current) continue;
    const message = line.replace(/^LibClamAV debug: /, '');
    if (HELPER_LINE.test(message)) continue;
    if (TYPING_LINE.test(message)) current.push(message);
    else current = undefined;
  }
  return seen;
}

/**
 * The fields of ClamAV's JSON metadata used here. ClamAV cuts debug messages at 8 KiB, so large
 * metadata (objects with many embedded files) is not valid JSON: then the embedded list is unknown.
 */
function readMetadata(text: string): { name: string; rootType: string; embedded?: Observed['embedded'] } {
  try {
    const json = JSON.parse(text);
    const embedded = (json.EmbeddedObjects ?? []).map((o: { FileType: string; Offset: number }) => ({ type: o.FileType, offset: o.Offset }));
    return { name: json.FileName, rootType: json.RootFileType, embedded };
  } catch {
    const field = (key: string) => new RegExp(`"${key}":"([^"]*)"`).exec(text)?.[1] ?? '';
    return { name: field('FileName'), rootType: field('RootFileType') };
  }
}

/** What the detector says about the same object. */
function observe(detector: FileTypeDetector, data: Uint8Array): Observed {
  const logger = new CaptureLogger(true);
  const rootType = detector.detect(data, logger);
  // ClamAV's raw scan treats plain ASCII text as data of any type.
  const scan = detector.typeScan(rootType === 'CL_TYPE_TEXT_ASCII' ? 'CL_TYPE_ANY' : rootType, { objectSize: data.length });
  scan.feed(data, 0);
  return { rootType, embedded: scan.embedded.filter(({ offset }) => offset > 0), typing: logger.debugs };
}

/** Types whose raw scan ClamAV runs with type signatures and whose embedded list can be compared. */
const RAW_SCANNED = new Set(
  ['BINARY_DATA', 'TEXT_ASCII', 'TEXT_UTF8', 'TEXT_UTF16LE', 'TEXT_UTF16BE', 'MSEXE', 'MBR'].map((type) => `CL_TYPE_${type}`),
);

function compareAll(detector: FileTypeDetector, databases: string[], samples: Map<string, Uint8Array>, dir: ReturnType<typeof tempDir>): void {
  const paths = [...samples].map(([name, data]) => dir.write(name, data));
  const seen = clamscan(databases, paths);
  const mismatches: string[] = [];
  for (const [name, data] of samples) {
    const expected = seen.get(name);
    assert.ok(expected, `clamscan did not report ${name}`);
    const actual = observe(detector, data);
    if (!RAW_SCANNED.has(expected.rootType) || !expected.embedded) {
      actual.embedded = undefined;
      expected.embedded = undefined;
    }
    try {
      assert.deepEqual(actual, expected);
    } catch {
      mismatches.push(`${name}: clamscan ${JSON.stringify(expected)}, detector ${JSON.stringify(actual)}`);
    }
  }
  assert.deepEqual(mismatches, []);
}

describe('typing replayed against the installed clamscan', installed ? needsSharedSigs : { skip: 'clamscan is not installed' }, () => {
  const dir = tempDir('clamts-filetypes-');
  const hdb = dir.write('dummy.hdb', '44d88612fea8a8f36de82e1278abb02f:68:Dummy.Test.Sig\n');
  const daily = dailyDetector();

  it('hand-made samples with daily.ftm', () => {
    compareAll(daily, [DAILY_FTM, hdb], new Map([...Object.entries(SAMPLES), ...Object.entries(EMBEDDED_SAMPLES)]), dir);
  });

  it('hand-made samples with the built-in magic', () => {
    compareAll(FileTypeDetector.builtin({}), [hdb], new Map(Object.entries(SAMPLES).map(([n, d]) => [`builtin-${n}`, d])), dir);
  });

  it('custom.ftm samples', () => {
    const custom = FileTypeDetector.fromFtm(readFileSync(CUSTOM_FTM));
    compareAll(custom, [new URL(CUSTOM_FTM).pathname, hdb], new Map(Object.entries(CUSTOM_SAMPLES)), dir);
  });

  it('random objects with daily.ftm', () => {
    const objects = new Map<string, Uint8Array>();
    let n = 0;
    for (const data of fuzzObjects(400, 20240601)) objects.set(`fuzz-${n++}`, data);
    compareAll(daily, [DAILY_FTM, hdb], objects, dir);
  });

  it("ClamAV's test files", { skip: existsSync(CLAMAV_TESTFILES) ? false : 'clamav-testfiles is not installed' }, () => {
    const files = readdirSync(CLAMAV_TESTFILES);
    const seen = clamscan([DAILY_FTM, hdb], files.map((file) => join(CLAMAV_TESTFILES, file)));
    for (const file of files) {
      assert.equal(daily.detect(readFileSync(join(CLAMAV_TESTFILES, file))), seen.get(file)?.rootType, file);
    }
  });

  it('.ftm cases print what clamscan prints', () => {
    const target = dir.write('target.txt', 'some text to scan\n');
    for (const { name, line, output } of FTM_CASES) {
      const ftm = dir.write(`${name}.ftm`, caseFile(line));
      const { stdout } = spawnSync('sh', ['-c', 'exec clamscan --no-summary -d "$0" "$1" 2>&1', ftm, target], { encoding: 'latin1' });
      const printed = stdout
        .split('\n')
        .filter((l) => l.startsWith('LibClamAV ') && !l.includes("Can't load"))
        .map((l) => l.replace('LibClamAV Error: ', 'E: ').replace('LibClamAV Warning: ', 'W: '));
      assert.deepEqual(printed, output, name);
    }
  });
});
