/**
 * Long database lines, against real clamscan: ClamAV's loaders read lines into fixed buffers,
 * 8 KiB for most formats and 32 KiB for logical signatures. In a plain file a longer line is read
 * as several lines; inside a container (.cvd/.cld/.cud) it ends the file with an error. Real
 * main.ldb has lines of 16 KiB, which must load from a container too. The messages about such
 * lines are cut where libclamav's message buffer ends.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { haveTool, runClamAV, runClamTS } from '../support/run-tool.js';
import { needsSharedSigs, sharedSigs } from '../support/shared-sigs.js';

const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : !haveTool('tar') ? 'tar is not installed' : (needsSharedSigs.skip ?? false);

const hex = (text: string, times: number) => Buffer.from(text).toString('hex').repeat(times);

/** Database files, each with lines around the buffer sizes. */
const DATABASES: Record<string, string> = {
  'split.ndb': `Split.Ndb:0:*:${hex('A', 4200)}\n`,
  'fits.ndb': `Fits.Ndb:0:*:${hex('A', 4000)}\n`,
  'long.ldb': `Long.Ldb;Engine:51-255,Target:0;0|1;${hex('A', 4000)};${hex('B', 4000)}\n`,
  'longer.ldb': `Longer.Ldb;Engine:51-255,Target:0;0|1|2|3;${['A', 'B', 'C', 'D'].map((c) => hex(c, 3900)).join(';')}\n`,
  'split.ldb': `Split.Ldb;Engine:51-255,Target:0;0|1;${hex('A', 8000)};${hex('B', 8500)}\n`,
  'long.hdb': `${'0'.repeat(32)}:9:${'N'.repeat(9000)}\n`,
  'exact.ndb': `Exact.Ndb:0:*:${hex('A', 4089)}\n`,
  'odd.ldb': `Odd.Ldb;Engine:51-255,Target:0;0|1;${hex('A', 8000)};${hex('B', 8500)}4\n`,
};

describe('long database lines, against real clamscan', { skip }, () => {
  let dir = '';

  /** A .cud holding `member`: test-6.cvd's header, then the member and its unsigned manifest. */
  function cud(member: string): string {
    const work = join(dir, `cud-${member}`);
    mkdirSync(work);
    const content = Buffer.from(DATABASES[member]!, 'latin1');
    writeFileSync(join(work, member), content);
    const manifest = [
      'ClamAV-VDB:22 Jun 2021 21-34 -0400:6:14:81:X:X:micasnyd:1624412045',
      `${member}:${content.length}:${createHash('sha256').update(content).digest('hex')}`,
    ];
    writeFileSync(join(work, 'test.info'), `${manifest.join('\n')}\n`);
    const body = execFileSync('tar', ['--format=ustar', '-cz', '-C', work, 'test.info', member]);
    const header = readFileSync(sharedSigs('clamav-cvd/test-6.cvd')).subarray(0, 512);
    const path = join(dir, `${member.replace('.', '-')}.cud`);
    writeFileSync(path, Buffer.concat([header, body]));
    return path;
  }

  function compare(database: string): void {
    const args = ['--no-summary', '-d', database, join(dir, 'clean.txt')];
    const real = runClamAV('clamscan', args);
    const ours = runClamTS('clamscan', args);
    assert.deepEqual({ stdout: ours.stdout, stderr: ours.stderr, status: ours.status }, { stdout: real.stdout, stderr: real.stderr, status: real.status }, database);
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-db-lines-'));
    writeFileSync(join(dir, 'clean.txt'), 'nothing to see here\n');
    for (const [name, text] of Object.entries(DATABASES)) writeFileSync(join(dir, name), text, 'latin1');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of Object.keys(DATABASES)) {
    it(`loads ${name} as clamscan does, as a file and inside a container`, () => {
      compare(join(dir, name));
      compare(cud(name));
    });
  }
});
