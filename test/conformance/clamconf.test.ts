/**
 * bin/clamconf next to real ClamAV 1.4.6 clamconf on the same configuration directories: the
 * configuration listings (with and without -n), parse errors and warnings, the database
 * section and the command-line errors must be identical. The sections about the software
 * itself (version, platform, build) describe ClamTS and are left out of the comparison.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { haveTool, runClamAV, runClamTS, type ToolRun } from '../support/run-tool.js';
import { needsSharedSigs, sharedSigs } from '../support/shared-sigs.js';

const root = mkdtempSync(join(tmpdir(), 'clamts-clamconf-'));
after(() => rmSync(root, { recursive: true, force: true }));
const CVDS = sharedSigs('clamav-cvd');
const DAILY = sharedSigs('clamav-daily-27371');

/** A config directory with these files (name → content). */
function configDir(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** The report without the sections that describe the program itself. */
function comparable(run: ToolRun): ToolRun {
  const stdout = run.stdout
    .replace(/\nSoftware settings\n-+\n(?:.+\n)+/, '\n<software>\n')
    .replace(/\nPlatform information\n-+\n[^]*$/, '\n<platform and build>\n');
  return { ...run, stdout };
}

const both = (args: string[]) => [comparable(runClamAV('clamconf', args, { cwd: root })), comparable(runClamTS('clamconf', args, { cwd: root }))];

describe('clamconf against ClamAV 1.4.6', { skip: !haveTool('clamconf') && 'ClamAV clamconf is not installed' }, () => {
  it('lists every option of every file the same, and only the changed ones with -n', () => {
    const dir = configDir('full', {
      'clamd.conf': [
        `DatabaseDirectory ${DAILY}`,
        'LocalSocket /run/clamav/test.ctl',
        'TCPAddr 127.0.0.1',
        'TCPAddr ::1',
        'MaxThreads 4',
        'MaxScanSize 400M',
        'StreamMaxLength 0',
        'LogTime no',
        'ExcludePath ^/proc/',
        'ExcludePath "^/sys/ with blanks"',
        'ScanOnAccess yes',
        'OnAccessExcludeUID 0',
        'OnAccessExcludeUID 1000',
        'log-rotate yes',
        'MaxThreads 8',
        '',
      ].join('\n'),
      'freshclam.conf': `DatabaseDirectory ${CVDS}\nDatabaseMirror db.example.org\nChecks 12\nNotifyClamd /etc/x.conf\n`,
      'clamav-milter.conf': 'MilterSocket /run/milter.sock\nOnInfected Reject\nAddHeader Add\n',
    });
    for (const args of [['-c', dir], ['-c', dir, '-n'], ['--config-dir', dir, '--non-default']]) {
      const [real, ours] = both(args);
      assert.equal(real.status, 0);
      assert.deepEqual(ours, real, args.join(' '));
    }
  });

  it('reports missing files, parse errors and warnings the same', () => {
    const broken = configDir('broken', {
      'clamd.conf': 'Foo bar\n',
      'freshclam.conf': 'Example\n',
      'clamav-milter.conf': 'LogTime maybe\n',
    });
    const warned = configDir('warned', { 'clamd.conf': 'MaxScanSize 9000000000000000000000\nPreludeEnable yes\n' });
    for (const args of [['-c', broken], ['-c', warned], ['-c', join(root, 'no-such-dir')]]) {
      const [real, ours] = both(args);
      assert.deepEqual(ours, real, args.join(' '));
    }
  });

  it('describes the database directory the same: containers, third-party files and the total', needsSharedSigs, () => {
    const db = join(root, 'db');
    mkdirSync(db);
    copyFileSync(join(CVDS, 'test-6.cvd'), join(db, 'daily.cvd'));
    copyFileSync(join(CVDS, 'bytecode-19.cvd'), join(db, 'bytecode.cvd'));
    copyFileSync(join(DAILY, 'daily.ndb'), join(db, 'third.ndb'));
    writeFileSync(join(db, 'one.hdb'), 'x\n');
    writeFileSync(join(db, 'long.ldb'), `${'A'.repeat(3000)}\n#comment\n${'B'.repeat(1023)}\nlast`);
    writeFileSync(join(db, 'code.cbc'), 'bytecode\n');
    writeFileSync(join(db, 'junk.cld'), 'not a database');
    writeFileSync(join(db, 'notes.info'), 'ignored\n');
    mkdirSync(join(db, 'dir.hdb'));
    const same = configDir('samedb', { 'clamd.conf': `DatabaseDirectory ${db}\n`, 'freshclam.conf': `DatabaseDirectory ${db}\n` });
    const other = configDir('otherdb', { 'clamd.conf': `DatabaseDirectory ${DAILY}\n`, 'freshclam.conf': `DatabaseDirectory ${db}\n` });
    const missing = configDir('missingdb', { 'freshclam.conf': `DatabaseDirectory ${join(root, 'nothing')}\n` });
    for (const dir of [same, other, missing]) {
      const [real, ours] = both(['-c', dir]);
      assert.deepEqual(ours, real, dir);
    }
    assert.match(runClamTS('clamconf', ['-c', same], { cwd: root }).stdout, /^daily\.cvd: version 6, sigs: 14, built on Wed Jun 23 01:34:05 2021$/m);
  });

  it('answers -g with an unknown name, and command-line errors, the same', () => {
    for (const args of [['-g', 'foo.conf'], ['--foo'], ['-c'], ['-x']]) {
      const [real, ours] = both(args);
      assert.deepEqual(ours, real, args.join(' '));
    }
  });
});
