/**
 * Issue 4's acceptance set: every file of Debian's clamav-testfiles, scanned with the real
 * main.hdb, must be reported exactly as real clamscan reports it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { comparable, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';
import { sharedSigs } from '../support/shared-sigs.js';

const TESTFILES = '/usr/share/clamav-testfiles';
const MAIN_HDB = sharedSigs('clamav-main/main.hdb.gz');
const skip = !haveTool('clamscan')
  ? 'real clamscan is not installed'
  : !existsSync(TESTFILES)
    ? 'clamav-testfiles is not installed'
    : !existsSync(MAIN_HDB)
      ? '../shared/sigs is not present'
      : false;

let db = '';

describe('clamav-testfiles reported as real clamscan reports them', { skip }, () => {
  before(() => {
    db = mkdtempSync(join(tmpdir(), 'clamts-testfiles-'));
    execFileSync('sh', ['-c', `zcat ${MAIN_HDB} > ${join(db, 'main.hdb')}`]);
  });
  after(() => rmSync(db, { recursive: true, force: true }));

  const files = existsSync(TESTFILES) ? readdirSync(TESTFILES).sort() : [];
  for (const name of files) {
    it(name, () => {
      const args = ['--no-summary', '-d', join(db, 'main.hdb'), join(TESTFILES, name)];
      const real = runClamAV('clamscan', args);
      const ours = runClamTS('clamscan', args);
      assert.deepEqual(comparable(ours.stdout), comparable(real.stdout));
      assert.equal(ours.status, real.status);
    });
  }
});
