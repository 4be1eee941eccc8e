/**
 * The cache of clean results, against real clamscan: a directory holding the same clean bytes
 * several times is scanned once per distinct content ("Data scanned" counts it once), unless
 * --disable-cache; infected copies are each reported.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe';
const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : !existsSync(CLAM_EXE) ? 'clamav-testfiles is not installed' : false;

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

  // A cache size of 0 keeps the default size, as in libclamav.
  for (const options of [[], ['--disable-cache'], ['--cache-size=0']]) {
    it(`counts the data scanned as clamscan does${options.length ? ` with ${options[0]}` : ''}`, () => {
      const args = [...options, '-d', db, dir];
      const real = runClamAV('clamscan', args);
      const ours = runClamTS('clamscan', args);
      assert.deepEqual(scannedLines(ours.stdout).sort(), scannedLines(real.stdout).sort());
      assert.equal(ours.status, real.status);
    });
  }
});
