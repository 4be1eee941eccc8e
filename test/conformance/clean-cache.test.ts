/**
 * The cache of clean results, against real clamscan: a directory holding the same clean bytes
 * several times is scanned once per distinct content ("Data scanned" counts it once), unless
 * --disable-cache; infected copies are each reported. Objects unpacked from files are cached
 * too, except where ClamAV does not remember them: when a limit skipped some of their contents,
 * when a logical signature failed only for want of the right container, and after an alert.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe';
const skip = !haveTool('clamscan')
  ? 'real clamscan is not installed'
  : !existsSync(CLAM_EXE)
    ? 'clamav-testfiles is not installed'
    : !haveTool('zip') || !haveTool('tar')
      ? 'zip and tar are needed'
      : false;

/** The summary lines that depend on what was scanned (not the timings). */
const scannedLines = (stdout: string) => stdout.split('\n').filter((line) => /^(Scanned files|Infected files|Data scanned|Data read):/.test(line) || line.endsWith(' FOUND'));

describe('cache of clean results against real clamscan', { skip }, () => {
  let dir = '';
  let db = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-cache-'));
    const clean = Buffer.from('the same clean words\n'.repeat(15_000));
    const clam = readFileSync(CLAM_EXE);
    const files: Record<string, Uint8Array> = { 'a.bin': clean, 'b.bin': clean, 'c.bin': clean, 'other.bin': Buffer.from('other clean words\n'.repeat(12_000)), 'clam1.exe': clam, 'clam2.exe': clam };
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    db = join(dir, 'test.hdb');
    writeFileSync(db, `aa15bcf478d165efd2065190eb473bcb:${clam.length}:Test.Clam\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // A cache size of 0 keeps the default size, as in libclamav; --gen-json bypasses the cache.
  for (const options of [[], ['--disable-cache'], ['--cache-size=0'], ['--gen-json']]) {
    it(`counts the data scanned as clamscan does${options.length ? ` with ${options[0]}` : ''}`, () => {
      const args = [...options, '-d', db, dir];
      const real = runClamAV('clamscan', args);
      const ours = runClamTS('clamscan', args);
      assert.deepEqual(scannedLines(ours.stdout).sort(), scannedLines(real.stdout).sort());
      assert.equal(ours.status, real.status);
    });
  }
});

describe('cache of clean unpacked objects against real clamscan', { skip }, () => {
  let dir = '';
  const MARKER = 'a marked line for the cache test';
  const markerHex = Buffer.from(MARKER).toString('hex');

  /** Runs both clamscans in `dir` and compares what they scanned and found. */
  function compare(args: string[]): void {
    const real = runClamAV('clamscan', args, { cwd: dir });
    const ours = runClamTS('clamscan', args, { cwd: dir });
    assert.deepEqual(scannedLines(ours.stdout), scannedLines(real.stdout), args.join(' '));
    assert.equal(ours.status, real.status, args.join(' '));
  }

  /** Stores `members` (files in `dir`) uncompressed in the zip `name`. */
  const zip = (name: string, members: string[]) => execFileSync('zip', ['-q', '-0', name, ...members], { cwd: dir });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-cache-nested-'));
    let seed = 7;
    const noise = Buffer.alloc(300_000, 0).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    writeFileSync(join(dir, 'noise.bin'), noise);
    writeFileSync(join(dir, 'copy.bin'), noise);
    writeFileSync(join(dir, 'marked.txt'), `${'plain words '.repeat(50)}\n${MARKER}\n`);
    writeFileSync(join(dir, 'evil.txt'), `${'plain words '.repeat(50)}\nEVIL-MARKER-TEXT\n`);
    writeFileSync(join(dir, 'body.ndb'), `Test.Evil:0:*:${Buffer.from('EVIL-MARKER-TEXT').toString('hex')}\n`);
    writeFileSync(join(dir, 'zip.ldb'), `Test.MarkedInZip;Engine:81-255,Container:CL_TYPE_ZIP,Target:0;0;${markerHex}\n`);
    zip('twice.zip', ['noise.bin', 'copy.bin']);
    zip('marked.zip', ['marked.txt']);
    execFileSync('tar', ['-cf', 'mixed.tar', 'marked.txt', 'marked.zip'], { cwd: dir });
    zip('inner.zip', ['evil.txt']);
    zip('outer.zip', ['inner.zip']);
    zip('padded.zip', ['noise.bin', 'marked.txt', 'inner.zip']);
    zip('alert.zip', ['evil.txt', 'noise.bin']);
    mkdirSync(join(dir, 'again'));
    copyFileSync(join(dir, 'noise.bin'), join(dir, 'again', 'noise.bin'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('scans the same member once', () => {
    compare(['-d', 'body.ndb', 'twice.zip', 'noise.bin']);
    compare(['--disable-cache', '-d', 'body.ndb', 'twice.zip']);
  });

  it('does not remember a member whose logical signature wanted another container', () => {
    compare(['-d', 'zip.ldb', 'mixed.tar']);
  });

  it('does not remember containers whose contents a limit skipped', () => {
    compare(['--max-recursion=2', '-d', 'body.ndb', 'outer.zip', 'inner.zip']);
    compare(['--max-files=2', '-d', 'body.ndb', 'padded.zip', 'inner.zip']);
  });

  it('does not remember clean members scanned after an alert', () => {
    compare(['--allmatch', '-d', 'body.ndb', 'alert.zip', join('again', 'noise.bin')]);
  });
});
