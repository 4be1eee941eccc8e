/**
 * `.pwdb` password databases against real clamscan: the load errors and quirks of cli_loadpwdb,
 * and encrypted zip members (traditional PKWARE encryption, made by `zip -P` and 7-Zip) decrypted
 * with the first password that fits, in ClamAV's order, with its debug lines about each try.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertSameReports, comparable, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : !haveTool('zip') || !haveTool('7z') ? 'zip or 7z is not installed' : false;
const TESTFILES = '/usr/share/clamav-testfiles';

/** The lines both tools print about decrypting: each password tried, the one that fits, or none. */
const DECRYPT_LINE = /cli_unzip: decrypt - (\(v|password|skipping)|cli_loadpwdb|password entries|init_tdb|lsigattribs/;

function decryptLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => DECRYPT_LINE.test(line));
}

/** Both clamscans print the same decryption debug lines for `args` (without `--debug`). */
function assertSameDecryptLines(args: string[], what: string): void {
  const debugArgs = ['--debug', ...args];
  assert.deepEqual(decryptLines(runClamTS('clamscan', debugArgs).stderr), decryptLines(runClamAV('clamscan', debugArgs).stderr), what);
}

describe('.pwdb password databases against real clamscan', { skip }, () => {
  let dir = '';
  let hashes = '';
  const file = (name: string, content: string | Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const zip = (name: string, password: string, ...options: string[]) => {
    const path = join(dir, name);
    const result = spawnSync('zip', ['-q', '-j', '-P', password, ...options, path, join(dir, 'clam.exe'), join(dir, 'clean.txt')]);
    assert.equal(result.status, 0, `zip made ${name}`);
    return path;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-pwdb-'));
    copyFileSync(join(TESTFILES, 'clam.exe'), join(dir, 'clam.exe'));
    file('clean.txt', 'nothing to see here\n'.repeat(20));
    hashes = file('clam.hdb', 'aa15bcf478d165efd2065190eb473bcb:544:Clamav.Test.File-6\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses and passes over lines as ClamAV does, with its messages and exit codes', () => {
    const sample = join(TESTFILES, 'clam.exe');
    const cases = [
      'Pw;Engine:81-255;2;x',
      'Pw;;0;secret',
      'Pw;Engine:81-255,Container:CL_TYPE_PDF;0;x',
      'Pw;Engine:81-255;a;x',
      'Pw;Engine:81-255;1;zz',
      'Pw;Engine:81-255;1;736',
      'Pw;Engine:81-255;0',
      'Pw;Engine:300-400;0;x',
      'Pw;Foo:1;0;secret',
      'Pw;Engine:81-255,Container:CL_TYPE_ZIP;0;secret;extra',
      'Pw;Engine:81-255;;secret',
      'Pw;Engine:81-255;0;',
      '# a comment is no line\nPw;Engine:81-255;0;a\nBad;Engine:81-255;0',
      'Pw;Engine:300-400;0;x\nPw2;Engine:81-255;0;y',
      'Pw2;Engine:81-255;0;y\nPw;Engine:300-400;0;x',
      'Pw;Engine:81-255;7;x\nPw2;Target:0;1;414243',
      '',
    ];
    cases.forEach((text, i) => {
      const database = file(`case${i}.pwdb`, `${text}\n`);
      for (const args of [['--no-summary', '-d', hashes, '-d', database, sample], ['--debug', '-d', hashes, '-d', database, sample]]) {
        const real = runClamAV('clamscan', args);
        const ours = runClamTS('clamscan', args);
        const debug = args[0] === '--debug';
        const lines = (stderr: string) => (debug ? decryptLines(stderr) : stderr.split('\n').filter((line) => !line.includes('unrar')));
        assert.deepEqual(lines(ours.stderr), lines(real.stderr), `the same ${debug ? 'debug lines' : 'errors'} for ${JSON.stringify(text)}`);
        assert.equal(ours.status, real.status, `the same exit code for ${JSON.stringify(text)}`);
        assert.deepEqual(comparable(ours.stdout), comparable(real.stdout), `the same report for ${JSON.stringify(text)}`);
      }
    });
  });

  it('decrypts zip members with the first password that fits, in ClamAV’s order', () => {
    const zips = [zip('deflated.zip', 'secret'), zip('stored.zip', 'secret', '-Z', 'store'), zip('other.zip', 'another')];
    const sevenZip = join(dir, '7z.zip');
    assert.equal(spawnSync('7z', ['a', '-tzip', '-psecret', '-mem=ZipCrypto', sevenZip, join(dir, 'clam.exe')]).status, 0, '7z made its zip');
    // 7-Zip checks the password by the CRC's high byte only: with "version needed" 2.0 ClamAV
    // compares two bytes and never decrypts it; with a later version it compares one.
    const later = Buffer.from(readFileSync(sevenZip));
    later.writeUInt16LE(45, 4);
    const files = [...zips, sevenZip, file('7z-v45.zip', later)];
    const databases = [
      'Secret;Engine:81-255;0;secret',
      'Wrong;Engine:81-255;0;wrong\nSecret;Engine:81-255,Container:CL_TYPE_ZIP;1;736563726574\nAnother;Target:0;0;another',
      'Secret;Engine:81-255,Container:CL_TYPE_ANY;0;secret\nRar;Engine:81-255,Container:CL_TYPE_RAR;0;another',
      'Secret;Engine:81-255;0;secret\nSecret;Engine:81-255;0;secret',
    ];
    databases.forEach((text, i) => {
      const database = file(`order${i}.pwdb`, `${text}\n`);
      assertSameReports(['--no-summary', '-d', hashes, '-d', database, ...files]);
      for (const sample of files) {
        assertSameDecryptLines(['-d', hashes, '-d', database, sample], `the same tries of ${sample} with ${JSON.stringify(text)}`);
      }
    });
  });

  it('leaves encrypted members alone without passwords, or with DCONF’s ARCHIVE PASSWD off', () => {
    const encrypted = zip('plain.zip', 'secret');
    const database = file('secret.pwdb', 'Secret;Engine:81-255;0;secret\n');
    const passwdOff = file('passwd-off.cfg', 'ARCHIVE:0x3fbfffff\n');
    for (const args of [
      ['-d', hashes, encrypted],
      ['-d', hashes, '-d', passwdOff, '-d', database, encrypted],
      ['-d', hashes, '-d', database, '--alert-encrypted-archive', encrypted],
      ['-d', hashes, '--alert-encrypted-archive', encrypted],
    ]) {
      assertSameReports(['--no-summary', ...args]);
      assertSameDecryptLines(args, `the same debug lines with ${args.join(' ')}`);
    }
  });
});
