/**
 * clamscan with hash signatures: the same command through real ClamAV and through ClamTS must give
 * the same output lines, error lines and exit code. Needs real ClamAV (`clamscan`) and Debian's
 * clamav-testfiles; skipped otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { comparable, haveTool, runClamAV, runClamTS, type ToolRun } from '../support/run-tool.js';
import { needsSharedSigs, sharedSigs } from '../support/shared-sigs.js';

const TESTFILES = '/usr/share/clamav-testfiles';
const SHARED_SIGS = sharedSigs();
const skip = !haveTool('clamscan')
  ? 'real clamscan is not installed'
  : !existsSync(TESTFILES)
    ? 'clamav-testfiles is not installed'
    : (needsSharedSigs.skip ?? false);

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
let root = '';

describe('clamscan conformance: hash signatures', { skip }, () => {
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'clamts-conf-'));
    const db = join(root, 'db');
    mkdirSync(db);
    execFileSync('sh', ['-c', `zcat ${join(SHARED_SIGS, 'clamav-main', 'main.hdb.gz')} > ${join(db, 'main.hdb')}`]);
    writeFileSync(join(db, 'eicar.hdb'), '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n');
    const daily = join(SHARED_SIGS, 'clamav-daily-27371');
    for (const name of ['daily.hdb', 'daily.hdu', 'daily.hsu', 'daily.fp', 'daily.sfp', 'main.fp']) {
      copyFileSync(join(daily, name), join(db, name));
    }
    const files = join(root, 'files');
    mkdirSync(join(files, 'sub', 'deeper'), { recursive: true });
    copyFileSync(join(TESTFILES, 'clam.exe'), join(files, 'clam.exe'));
    writeFileSync(join(files, 'eicar.com'), EICAR);
    writeFileSync(join(files, 'clean.txt'), 'nothing to see\n');
    writeFileSync(join(files, 'empty.txt'), '');
    copyFileSync(join(TESTFILES, 'clam.exe'), join(files, 'sub', 'clam-copy.exe'));
    writeFileSync(join(files, 'sub', 'deeper', 'eicar.txt'), EICAR);
    writeFileSync(join(files, 'sub', 'notes.md'), '# notes\n');
    symlinkSync('clam.exe', join(files, 'link-to-clam'));
    symlinkSync('sub', join(files, 'link-to-sub'));
    writeFileSync(join(root, 'list.txt'), 'files/clam.exe\nfiles/clean.txt\nfiles/missing\n');
    writeFileSync(join(root, 'bad.hdb'), '44d88612fea8a8f36de82e1278abb02f:68:A\nzz:1\n');
    writeFileSync(join(root, 'empty.hdb'), '');
    writeFileSync(join(root, 'badpcre.ldb'), 'Test.Bad;Engine:81-255,Target:0;0&1;414243;0/abc(/i\n');
    writeFileSync(join(root, 'wild.hsb'), '44d88612fea8a8f36de82e1278abb02f:*:W\n');
    writeFileSync(join(root, 'garbage.hdb'), Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 73 + 11) % 256)));
    mkdirSync(join(root, 'nodb'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  // [title, arguments, stdin]
  const cases: Array<[string, string[], string?]> = [
    ['files, clean, empty and missing', ['-d', 'db', 'files/clam.exe', 'files/eicar.com', 'files/clean.txt', 'files/empty.txt', 'files/missing']],
    ['a directory without -r', ['-d', 'db', 'files']],
    ['recursive', ['-r', '-d', 'db', 'files']],
    ['recursive, infected only', ['-r', '-i', '-d', 'db', 'files']],
    ['suppress OK results, no summary', ['-r', '-o', '--no-summary', '-d', 'db', 'files']],
    ['all matches', ['-z', '-d', 'db', '-d', 'db/eicar.hdb', 'files/eicar.com']],
    ['two databases given', ['-d', 'db/main.hdb', '-d', 'db/eicar.hdb', 'files']],
    ['PUA databases', ['--detect-pua', '-d', 'db', 'files/clean.txt']],
    ['PUA category excluded', ['--detect-pua', '--exclude-pua=Win', '-d', 'db', 'files/clean.txt']],
    ['exclude by regex', ['-r', '--exclude=\\.exe$', '-d', 'db', 'files']],
    ['include by regex', ['-r', '--include=eicar', '-d', 'db', 'files']],
    ['exclude a directory', ['-r', '--exclude-dir=deeper', '-d', 'db', 'files']],
    ['include a directory', ['-r', '--include-dir=sub', '-d', 'db', 'files']],
    ['symlinks never followed', ['-r', '--follow-dir-symlinks=0', '--follow-file-symlinks=0', '-d', 'db', 'files/link-to-clam', 'files']],
    ['symlinks always followed', ['-r', '--follow-dir-symlinks=2', '--follow-file-symlinks=2', '-d', 'db', 'files']],
    ['max-dir-recursion', ['-r', '--max-dir-recursion=1', '-d', 'db', 'files']],
    ['max-filesize, skipped', ['--max-filesize=100', '-d', 'db', 'files/clam.exe']],
    ['max-filesize, alerted', ['--max-filesize=100', '--alert-exceeds-max', '-d', 'db', 'files/clam.exe']],
    ['file list', ['-f', 'list.txt', '-d', 'db']],
    ['file list missing', ['-f', 'nolist.txt', '-d', 'db']],
    ['stdin', ['-d', 'db', '-'], EICAR],
    ['stdin, clean', ['-d', 'db', '-'], 'hello\n'],
    ['malformed database', ['-d', 'bad.hdb', 'files/clean.txt']],
    ['empty database', ['-d', 'empty.hdb', 'files/clean.txt']],
    ['invalid PCRE: database initialization error', ['-d', 'badpcre.ldb', 'files/clean.txt']],
    ['binary garbage database', ['-d', 'garbage.hdb', 'files/clean.txt']],
    ['wildcard without level', ['-d', 'wild.hsb', 'files/clean.txt']],
    ['missing database', ['-d', 'nonexistent.hdb', 'files/clean.txt']],
    ['directory without databases', ['-d', 'nodb', 'files/clean.txt']],
    ['unknown long option', ['--foo']],
    ['unknown short option', ['-Q']],
    ['missing option argument', ['-d']],
    ['bad number', ['--max-files=12x', 'files']],
    ['bad boolean', ['--recursive=maybe', 'files']],
    ['outdated database refused', ['--fail-if-cvd-older-than=1', '-d', join(SHARED_SIGS, 'clamav-cvd', 'test-6.cvd'), 'files/clean.txt']],
    ['database young enough', ['--fail-if-cvd-older-than=100000', '-d', join(SHARED_SIGS, 'clamav-cvd', 'test-6.cvd'), 'files/eicar.com']],
    ['age check of a missing database', ['--fail-if-cvd-older-than=1', '-d', 'nonexistent', 'files/clean.txt']],
    ['signed container with every signature kind', ['-z', '-d', join(SHARED_SIGS, 'clamav-cvd', 'test-6.cvd'), 'files']],
    ['include and exclude PUA together', ['--detect-pua', '--include-pua=A', '--exclude-pua=B', '-d', 'db', 'files/clean.txt']],
  ];

  for (const [title, args, input] of cases) {
    it(title, () => {
      const real = runClamAV('clamscan', args, { cwd: root, input });
      const ours = runClamTS('clamscan', args, { cwd: root, input });
      assertSameRun(ours, real);
    });
  }

  it('invalid symlink policy (ClamAV also prints an internal cl_free warning, not reproduced)', () => {
    const args = ['--follow-dir-symlinks=3', '-d', 'db', 'files/clean.txt'];
    const real = runClamAV('clamscan', args, { cwd: root });
    const ours = runClamTS('clamscan', args, { cwd: root });
    assert.equal(ours.status, real.status);
    assert.deepEqual(comparable(ours.stdout), comparable(real.stdout));
    assert.deepEqual(
      ours.stderr.split('\n'),
      real.stderr.split('\n').filter((line) => line !== 'LibClamAV Error: cl_free: engine == NULL'),
    );
  });

  it('known viruses for main.hdb equals real clamscan', () => {
    const args = ['-d', 'db/main.hdb', 'files/clean.txt'];
    const known = (run: ToolRun) => /Known viruses: (\d+)/.exec(run.stdout)?.[1];
    assert.equal(known(runClamTS('clamscan', args, { cwd: root })), known(runClamAV('clamscan', args, { cwd: root })));
  });

  for (const action of [['--move=quarantine'], ['--copy=quarantine'], ['--remove']]) {
    it(`quarantine action ${action[0]}, twice for name collisions`, () => {
      const runs = [runClamAV, runClamTS].map((runner) => {
        const work = join(root, 'action');
        rmSync(work, { recursive: true, force: true });
        cpSync(join(root, 'files'), join(work, 'files'), { recursive: true, verbatimSymlinks: true });
        mkdirSync(join(work, 'quarantine'));
        const first = runner === runClamAV ? runClamAV('clamscan', ['-r', ...action, '-d', '../db', 'files'], { cwd: work }) : runClamTS('clamscan', ['-r', ...action, '-d', '../db', 'files'], { cwd: work });
        execFileSync('cp', [join(root, 'files', 'eicar.com'), join(work, 'files', 'eicar.com')]);
        const second = runner === runClamAV ? runClamAV('clamscan', ['-r', ...action, '-d', '../db', 'files'], { cwd: work }) : runClamTS('clamscan', ['-r', ...action, '-d', '../db', 'files'], { cwd: work });
        const tree = execFileSync('sh', ['-c', 'find . | sort'], { cwd: work, encoding: 'latin1' });
        return { first, second, tree };
      });
      const [real, ours] = runs as [(typeof runs)[0], (typeof runs)[0]];
      assertSameRun(ours.first, real.first);
      assertSameRun(ours.second, real.second);
      assert.equal(ours.tree, real.tree);
    });
  }
});

function sortedLines(text: string): string[] {
  return comparable(text).sort();
}

function assertSameRun(ours: ToolRun, real: ToolRun): void {
  assert.equal(ours.status, real.status, `exit code\n--- ours:\n${ours.stdout}${ours.stderr}\n--- real:\n${real.stdout}${real.stderr}`);
  // Directory entries come in the filesystem's order for both, so stdout compares line by line.
  assert.deepEqual(comparable(ours.stdout), comparable(real.stdout));
  assert.deepEqual(sortedLines(ours.stderr), sortedLines(real.stderr));
}
