/**
 * Container metadata signatures (.cdb) see what ClamAV's cli_matchmeta sees: for zip, every
 * central and every local header (encrypted and empty entries included) with the sizes the
 * header declares, before anything is extracted; tar shows empty members too, cpio does not.
 * Each case runs through real clamscan and ClamTS, with and without --allmatch; the reports must
 * be identical.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { comparable, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const skip = (!haveTool('clamscan') && 'real clamscan is not installed') || (!haveTool('zip') && 'zip is not installed');
const CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe';

// Name : container type : container size : name regex : compressed size : real size : encrypted : position : res1 : res2
const SIGNATURES = [
  'Cdb.Encrypted:CL_TYPE_ZIP:*:clam\\.exe:*:*:1:*:*:*',
  'Cdb.Directory:CL_TYPE_ZIP:*:^dir/$:*:*:*:*:*:*',
  'Cdb.RealSize:CL_TYPE_ZIP:*:*:*:544:*:*:*:*',
  'Cdb.SecondEntry:CL_TYPE_ZIP:*:*:*:*:*:2:*:*',
  'Cdb.AnyArj:CL_TYPE_ARJ:*:clam\\.exe:*:544:0:1:*:*',
  'Cdb.Tar:CL_TYPE_POSIX_TAR:*:clam\\.exe:544:544:*:*:*:*',
  'Cdb.EmptyMember:*:*:empty\\.txt:*:*:*:*:*:*',
];

let dir = '';

describe('container metadata signatures see what ClamAV matches', { skip }, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-cdb-'));
    copyFileSync(CLAM_EXE, join(dir, 'clam.exe'));
    mkdirSync(join(dir, 'dir'));
    writeFileSync(join(dir, 'empty.txt'), '');
    const zip = (args: string[]) => execFileSync('zip', ['-q', ...args], { cwd: dir });
    zip(['-P', 'secret', 'encrypted.zip', 'clam.exe']);
    zip(['-0', 'stored.zip', 'dir/', 'clam.exe']);
    zip(['empty.zip', 'empty.txt']);
    zip(['-D', 'deflated.zip', 'clam.exe']);
    execFileSync('tar', ['-cf', 'clam.tar', 'clam.exe'], { cwd: dir });
    execFileSync('tar', ['-cf', 'empty.tar', 'dir', 'empty.txt'], { cwd: dir });
    execFileSync('sh', ['-c', 'printf "empty.txt\\ndir\\n" | cpio -o -H newc > empty.cpio 2>/dev/null'], { cwd: dir });
    if (haveTool('arj')) execFileSync('arj', ['a', '-y', 'clam.arj', 'clam.exe'], { cwd: dir, stdio: 'ignore' });
    writeFileSync(join(dir, 'meta.cdb'), SIGNATURES.join('\n') + '\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const files = ['encrypted.zip', 'stored.zip', 'deflated.zip', 'empty.zip', 'clam.tar', 'empty.tar', 'empty.cpio', ...(haveTool('arj') ? ['clam.arj'] : [])];
  for (const file of files) {
    for (const options of [[], ['--allmatch']]) {
      it(`${file} ${options.join(' ') || '(first match)'}`, () => {
        const args = ['--no-summary', ...options, '-d', join(dir, 'meta.cdb'), join(dir, file)];
        const real = runClamAV('clamscan', args);
        const ours = runClamTS('clamscan', args);
        assert.deepEqual(comparable(ours.stdout), comparable(real.stdout));
        assert.equal(ours.status, real.status);
      });
    }
  }
});
