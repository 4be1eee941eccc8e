/**
 * Zip members against --max-filesize and --max-scansize, compared with real clamscan: ClamAV
 * trims a member at --max-filesize, and stops unpacking the zip at the first member bigger than
 * what is left of --max-scansize (the zip's own raw scan still runs). Stored and deflated
 * members, with the signature before, inside and after the member that does not fit.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : !haveTool('zip') ? 'zip is not installed' : false;

const MARKER = 'EVIL-MARKER-TEXT';
const scannedLines = (stdout: string) => stdout.split('\n').filter((line) => /^(Data scanned|Infected files):/.test(line) || / (FOUND|OK)$/.test(line));

describe('zip members and the size limits, against real clamscan', { skip }, () => {
  let dir = '';
  const zips: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-zip-limits-'));
    const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
    write('body.ndb', `Test.Evil:0:*:${Buffer.from(MARKER).toString('hex')}\n`);
    write('big.txt', 'A'.repeat(300_000));
    write('bigevil.txt', `${MARKER}${'A'.repeat(300_000)}`);
    write('evil.txt', `${'filler line with words\n'.repeat(50)}${MARKER}\n`);
    write('small.txt', 'a small clean text file\n'.repeat(20));
    const zip = (name: string, level: string, members: string[]) => {
      execFileSync('zip', ['-q', level, name, ...members], { cwd: dir });
      zips.push(name);
    };
    zip('deflated.zip', '-9', ['small.txt', 'big.txt', 'evil.txt']);
    zip('marked-big.zip', '-9', ['bigevil.txt', 'evil.txt']);
    zip('stored.zip', '-0', ['big.txt', 'small.txt', 'evil.txt']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const limit of ['--max-scansize=100000', '--max-scansize=350000', '--max-scansize=400000', '--max-filesize=50000']) {
    it(`reports and counts as clamscan does with ${limit}`, () => {
      for (const zip of zips) {
        const args = ['--disable-cache', limit, '-d', 'body.ndb', zip];
        const real = runClamAV('clamscan', args, { cwd: dir });
        const ours = runClamTS('clamscan', args, { cwd: dir });
        assert.deepEqual(scannedLines(ours.stdout), scannedLines(real.stdout), args.join(' '));
        assert.equal(ours.status, real.status, args.join(' '));
      }
    });
  }
});
