/**
 * Normalised layers (ClamAV's LAYER_ATTRIBUTES_NORMALIZED), against real clamscan.
 *
 * ClamAV has two ways of scanning normalised text (cli_scanscript). When a target-type-7 pattern
 * has a relative offset (`EOF-n`, as in the real databases), the normalised text is written to a
 * file and scanned as an object of its own one level down: whole, with hash signatures, in scan
 * windows. Otherwise each buffer of normalised text is matched on its own in the text file's
 * layer. Each database below is loaded with and without such an `EOF-n` signature.
 *
 * Container lookups (`Container:`, `Intermediates:`) pass over normalised layers: the container
 * of normalised text or of an HTML view is the container of the file it was made from.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const skip = haveTool('clamscan') ? false : 'real clamscan is not installed';

/** libclamav's SCANBUFF. */
const SCAN_BUFFER = 0x20000;
const hex = (text: string) => Buffer.from(text, 'latin1').toString('hex');

/** The normalised form of HASHED, written out by hand: lower case, white space collapsed. */
const HASHED = 'Hash Me\n\n\tPlease\n';
const HASHED_NORMALISED = 'hash me please ';
/** The longest target-7 pattern below (the logical signature's subsignature). */
const LONGEST_TEXT_PATTERN = 'contained words'.length;

const FILES: Record<string, Buffer> = {
  // A generic pattern across the first flush of the buffer-by-buffer scan, by more than the
  // carried-over tail (the longest target-7 pattern); and a short one inside that tail.
  'spanning.txt': Buffer.concat([Buffer.alloc(SCAN_BUFFER - 20, 0x61), Buffer.from(' MARKER WORDS THAT GO ON AND ON '), Buffer.alloc(8000, 0x62)]),
  // A white-space run across the end of the first normalisation chunk of the whole-text scan.
  'chunk-space.txt': Buffer.concat([Buffer.alloc(SCAN_BUFFER + LONGEST_TEXT_PATTERN - 2, 0x61), Buffer.from('    QZ')]),
  // And across the first flush of the buffer-by-buffer scan.
  'flush-space.txt': Buffer.concat([Buffer.alloc(SCAN_BUFFER - 3, 0x61), Buffer.from('  '), Buffer.alloc(4096, 0x20), Buffer.from('QZ')]),
  'ending.txt': Buffer.from('Some words, and then\nTHE END\n\n'),
  'hashed.txt': Buffer.from(HASHED),
  // Normalised text is a layer that container lookups pass over: its container is the text
  // file's (none here), not the text file.
  'contained.txt': Buffer.from('Text with Contained   Words in it\n'),
  // UTF-16 text: its NULs are dropped by the normalisation.
  'utf16.txt': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('UTF-16 text: marker words that go on and on\r\n'.repeat(2000), 'utf16le')]),
  'long.txt': Buffer.from('A line of ordinary text, repeated.\n'.repeat(20000)),
};

const NDB = [
  `Generic.Spanning:0:*:${hex('marker words that go on and on')}`,
  `Generic.Short:0:*:${hex('go on')}`,
  `Text.Double:7:*:${hex('a  q')}`,
  `Text.Single:7:*:${hex('a q')}`,
];
const EOF_SIGNATURE = `Text.Eof:7:EOF-8:${hex('the end ')}`;
const LDB = `Text.Contained;Engine:51-255,Target:7,Container:CL_TYPE_TEXT_ASCII;0;${hex('contained words')}`;
const HDB = `${createHash('md5').update(HASHED_NORMALISED).digest('hex')}:${HASHED_NORMALISED.length}:Text.Hash`;

/** The result lines and the summary lines that depend on what was scanned. */
const scannedLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => /^(Data scanned|Infected files):/.test(line) || line.endsWith(' FOUND'))
    .sort();

describe('normalised text scanned as clamscan scans it', { skip }, () => {
  let dir = '';
  const databases = (relative: boolean) => {
    const ndb = join(dir, relative ? 'relative.ndb' : 'plain.ndb');
    writeFileSync(ndb, `${[...NDB, ...(relative ? [EOF_SIGNATURE] : [])].join('\n')}\n`);
    return ['-d', ndb, '-d', join(dir, 'test.ldb'), '-d', join(dir, 'test.hdb')];
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-script-'));
    writeFileSync(join(dir, 'test.ldb'), `${LDB}\n`);
    writeFileSync(join(dir, 'test.hdb'), `${HDB}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const relative of [false, true]) {
    const kind = relative ? 'whole (an EOF-n target-7 signature loaded)' : 'buffer by buffer';
    for (const [name, data] of Object.entries(FILES)) {
      for (const options of [[], ['--allmatch']]) {
        it(`${kind}: ${name}${options.length ? ' with --allmatch' : ''}`, () => {
          const file = join(dir, name);
          writeFileSync(file, data);
          const args = ['--disable-cache', ...options, ...databases(relative), file];
          const real = runClamAV('clamscan', args);
          const ours = runClamTS('clamscan', args);
          assert.deepEqual(scannedLines(ours.stdout), scannedLines(real.stdout));
          assert.equal(ours.status, real.status);
        });
      }
    }
  }

  it('the files tell the two ways apart, so the comparisons above test both', () => {
    const found = (relative: boolean, name: string) => {
      const file = join(dir, name);
      writeFileSync(file, FILES[name]!);
      return scannedLines(runClamTS('clamscan', ['--allmatch', ...databases(relative), file]).stdout).filter((line) => line.endsWith('FOUND'));
    };
    for (const [name, signature] of [
      ['spanning.txt', 'Generic.Spanning'],
      ['hashed.txt', 'Text.Hash'],
      ['ending.txt', 'Text.Eof'],
    ] as const) {
      assert.ok(found(true, name).some((line) => line.includes(`${signature}.UNOFFICIAL`)), `${name}: whole`);
      assert.ok(!found(false, name).some((line) => line.includes(`${signature}.UNOFFICIAL`)), `${name}: buffer by buffer`);
    }
  });
});

describe('HTML views: container lookups pass over them, as in clamscan', { skip: skip || (!haveTool('zip') && 'zip is not installed') }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-html-views-'));
    writeFileSync(join(dir, 'page.html'), '<html><body><p>Hello Contained   Words here</p><script>var contained = 1;</script></body></html>\n');
    execFileSync('zip', ['-q', join(dir, 'page.zip'), 'page.html'], { cwd: dir });
    const pattern = hex('contained words');
    writeFileSync(
      join(dir, 'test.ldb'),
      ['CL_TYPE_HTML', 'CL_TYPE_ZIP', 'CL_TYPE_ANY']
        .map((type) => `Html.In.${type.slice('CL_TYPE_'.length)};Engine:51-255,Target:3,Container:${type};0;${pattern}\n`)
        .concat(`Html.Through.Zip;Engine:51-255,Target:3,Intermediates:CL_TYPE_ZIP;0;${pattern}\n`)
        .join(''),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of ['page.html', 'page.zip']) {
    it(name, () => {
      const args = ['--allmatch', '--disable-cache', '-d', join(dir, 'test.ldb'), join(dir, name)];
      const real = runClamAV('clamscan', args);
      assert.ok(real.stdout.includes('FOUND'), 'clamscan finds something');
      assert.deepEqual(scannedLines(runClamTS('clamscan', args).stdout), scannedLines(real.stdout));
    });
  }
});

describe('the normalised-text layer and the scan limits, as in clamscan', { skip: skip || (!haveTool('zip') && 'zip is not installed') }, () => {
  let dir = '';
  let databases: string[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-script-limits-'));
    writeFileSync(join(dir, 'hashed.txt'), HASHED);
    execFileSync('zip', ['-q', 'z1.zip', 'hashed.txt'], { cwd: dir });
    execFileSync('zip', ['-q', 'z2.zip', 'z1.zip'], { cwd: dir });
    writeFileSync(join(dir, 'test.hdb'), `${HDB}\n`);
    writeFileSync(join(dir, 'test.ndb'), `${EOF_SIGNATURE}\n`);
    databases = ['-d', join(dir, 'test.hdb'), '-d', join(dir, 'test.ndb')];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const limits = [
    ...[1, 2, 3, 4].map((n) => `--max-recursion=${n}`),
    '--max-files=1',
    '--max-files=2',
    // hashed.txt is 17 bytes, its normalised text 15: the scan size left must hold the latter.
    '--max-scansize=31',
    '--max-scansize=32',
  ];
  for (const limit of limits) {
    it(limit, () => {
      for (const name of ['hashed.txt', 'z1.zip', 'z2.zip']) {
        for (const alert of [[], ['--alert-exceeds-max']]) {
          const args = ['--disable-cache', limit, ...alert, ...databases, join(dir, name)];
          assert.deepEqual(scannedLines(runClamTS('clamscan', args).stdout), scannedLines(runClamAV('clamscan', args).stdout), `${name} ${alert.join('')}`);
        }
      }
    });
  }
});
