/**
 * ClamAV's second match of binary data (cli_magic_scan's CL_TYPE_BINARY_DATA case): after the raw
 * scan, binary data is matched again as CL_TYPE_OTHER, so target-14 signatures apply to it, the
 * generic and hash signatures match twice (seen with --allmatch), and "Data scanned" counts it
 * twice. Compared with real clamscan on binary data, a PE file and text.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe';
const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : !existsSync(CLAM_EXE) ? 'clamav-testfiles is not installed' : false;

const MARKER = Buffer.from('zzmarkerzz', 'latin1');

/** Pseudo-random bytes after four NULs: ClamAV types them as binary data (not UTF-16 text). */
function binaryData(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  let state = 12345;
  for (let i = 4; i < size; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/** The result lines and the summary lines that depend on what was scanned. */
const scannedLines = (stdout: string) => stdout.split('\n').filter((line) => /^(Data scanned|Infected files):/.test(line) || line.endsWith(' FOUND'));

describe('binary data matched a second time, against real clamscan', { skip }, () => {
  let dir = '';
  const databases: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-binary-'));
    const marked = Buffer.concat([binaryData(200_000), MARKER]);
    const files: Record<string, Uint8Array> = {
      'marked.bin': marked,
      'clean.bin': binaryData(150_000),
      'marked.exe': Buffer.concat([readFileSync(CLAM_EXE), MARKER]),
      'marked.txt': Buffer.concat([Buffer.from('plain words '.repeat(100)), MARKER]),
    };
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    const md5 = createHash('md5').update(marked).digest('hex');
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      databases.push('-d', join(dir, name));
    };
    write('test.ndb', `Generic.Marker:0:*:${MARKER.toString('hex')}\nOther.Marker:14:*:${MARKER.subarray(2).toString('hex')}\n`);
    write('test.ldb', `Other.Logical;Engine:51-255,Target:14;0;${MARKER.toString('hex')}\n`);
    write('test.hdb', `${md5}:${marked.length}:Marked.Hash\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const options of [[], ['--allmatch']]) {
    it(`reports and counts as clamscan does${options.length ? ' with --allmatch' : ''}`, () => {
      const args = ['--disable-cache', ...options, ...databases, dir];
      const real = runClamAV('clamscan', args);
      const ours = runClamTS('clamscan', args);
      assert.deepEqual(scannedLines(ours.stdout).sort(), scannedLines(real.stdout).sort());
      assert.equal(ours.status, real.status);
    });
  }

  it('counts the overlap of the scan windows as clamscan does', () => {
    // Windows overlap by the longest pattern: with a 4000-byte one, each of the 23 windows of a
    // 3 MB object counts about one more 4 KiB unit.
    const big = join(dir, 'big.bin');
    const longDb = join(dir, 'long.ndb');
    writeFileSync(big, binaryData(3_000_000));
    writeFileSync(longDb, `Long.Pattern:0:*:${'41'.repeat(4000)}\n`);
    try {
      const args = ['--disable-cache', '-d', longDb, big];
      assert.deepEqual(scannedLines(runClamTS('clamscan', args).stdout), scannedLines(runClamAV('clamscan', args).stdout));
    } finally {
      rmSync(big);
      rmSync(longDb);
    }
  });

  it('counts only the window a detection ends the scan in, as clamscan does', () => {
    // 32 units (0.125 MB), which clamscan prints as 0.12.
    const early = join(dir, 'early.bin');
    writeFileSync(early, Buffer.concat([binaryData(16), MARKER, binaryData(300_000)]));
    try {
      const args = ['--disable-cache', ...databases, early];
      assert.deepEqual(scannedLines(runClamTS('clamscan', args).stdout), scannedLines(runClamAV('clamscan', args).stdout));
    } finally {
      rmSync(early);
    }
  });

  it('finds the target-14 signatures in binary data only', () => {
    const ours = runClamTS('clamscan', ['--allmatch', '--no-summary', ...databases, dir]).stdout;
    for (const name of ['Other.Marker', 'Other.Logical']) {
      assert.ok(ours.includes(`${dir}/marked.bin: ${name}.UNOFFICIAL FOUND`), ours);
      assert.ok(!ours.includes(`marked.exe: ${name}.`) && !ours.includes(`marked.txt: ${name}.`), ours);
    }
  });
});
