/**
 * Issue 4's acceptance set: every file of Debian's clamav-testfiles, scanned with the real
 * main.hdb, must be reported exactly as real clamscan reports it. Executables whose unpacker has
 * not landed yet, and formats whose handler has not landed yet, are marked `todo` (they run and
 * report, but do not fail the suite) so the list shows what is left.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registeredHandlers } from '../../packages/core/src/formats/registry.js';
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

/**
 * Executables whose test signature ClamAV finds only with an unpacker ClamTS does not have yet
 * (packers). They run as `todo`: the output lists
 * which still differ.
 */
const EXECUTABLES_LEFT: readonly [RegExp, string][] = [
  [/^clam-pespin\.exe$/, 'its PE unpacker'],
];

/** What each test file needs, to tell whether ClamTS has the handler yet. */
const NEEDS: Record<string, string> = {
  'clam.7z': 'CL_TYPE_7Z',
  'clam.arj': 'CL_TYPE_ARJ',
  'clam.cab': 'CL_TYPE_MSCAB',
  'clam.chm': 'CL_TYPE_MSCHM',
  'clam.sis': 'CL_TYPE_SIS',
  'clam.zip': 'CL_TYPE_ZIP',
  'clam.impl.zip': 'CL_TYPE_ZIP',
  'clam.bz2.zip': 'CL_TYPE_ZIP',
  'clam.d64.zip': 'CL_TYPE_ZIP',
  'clam.tar.gz': 'CL_TYPE_GZ',
  'clam_cache_emax.tgz': 'CL_TYPE_GZ',
  'clam.exe.bz2': 'CL_TYPE_BZ',
  'clam.bin-be.cpio': 'CL_TYPE_CPIO_OLD',
  'clam.bin-le.cpio': 'CL_TYPE_CPIO_OLD',
  'clam.newc.cpio': 'CL_TYPE_CPIO_NEWC',
  'clam.odc.cpio': 'CL_TYPE_CPIO_ODC',
  'clam.exe.szdd': 'CL_TYPE_MSSZDD',
  'clam.exe.mbox.base64': 'CL_TYPE_MAIL',
  'clam.exe.mbox.uu': 'CL_TYPE_MAIL',
  'clam.mail': 'CL_TYPE_MAIL',
  'clam.exe.binhex': 'CL_TYPE_BINHEX',
  'clam.exe.html': 'CL_TYPE_HTML',
  'clam.exe.rtf': 'CL_TYPE_RTF',
  'clam.ole.doc': 'CL_TYPE_MSOLE2',
  'clam.ppt': 'CL_TYPE_MSOLE2',
  'clam.pdf': 'CL_TYPE_PDF',
  'clam.tnef': 'CL_TYPE_TNEF',
};

let db = '';

describe('clamav-testfiles reported as real clamscan reports them', { skip }, () => {
  before(() => {
    db = mkdtempSync(join(tmpdir(), 'clamts-testfiles-'));
    execFileSync('sh', ['-c', `zcat ${MAIN_HDB} > ${join(db, 'main.hdb')}`]);
  });
  after(() => rmSync(db, { recursive: true, force: true }));

  const handled = new Set(registeredHandlers().flatMap((handler) => handler.fileTypes));
  const files = existsSync(TESTFILES) ? readdirSync(TESTFILES).sort() : [];
  for (const name of files) {
    const needs = NEEDS[name];
    const executableWork = EXECUTABLES_LEFT.find(([pattern]) => pattern.test(name))?.[1];
    const todo = executableWork ? `needs ${executableWork}` : needs !== undefined && !handled.has(needs) ? `needs a ${needs} handler` : undefined;
    it(name, { todo }, () => {
      const args = ['--no-summary', '-d', join(db, 'main.hdb'), join(TESTFILES, name)];
      const real = runClamAV('clamscan', args);
      const ours = runClamTS('clamscan', args);
      assert.deepEqual(comparable(ours.stdout), comparable(real.stdout));
      assert.equal(ours.status, real.status);
    });
  }
});
