/** bin/clamscan end to end, without real ClamAV: behaviour that does not need the oracle. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { printfHundredths } from '../src/clamscan/summary.js';

const CLAMSCAN = fileURLToPath(new URL('../../../bin/clamscan', import.meta.url));
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const roots: string[] = [];
after(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

function workspace(base = tmpdir()) {
  const root = mkdtempSync(join(base, 'clamts-cli-'));
  roots.push(root);
  writeFileSync(join(root, 'sigs.hdb'), '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test\n');
  mkdirSync(join(root, 'files'));
  writeFileSync(join(root, 'files', 'eicar.com'), EICAR);
  writeFileSync(join(root, 'files', 'clean.txt'), 'clean\n');
  return root;
}

function clamscan(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [CLAMSCAN, ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('bin/clamscan', () => {
  it('scans with the bundled database when none is given and /var/lib/clamav has none', { skip: hasSystemDatabases() }, () => {
    const root = workspace();
    const run = clamscan(['files/eicar.com'], root);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /^files\/eicar\.com: Win\.Test\.EICAR_HDB-1\.UNOFFICIAL FOUND$/m);
    assert.match(run.stdout, /^Known viruses: 2$/m);
  });

  it('exits 0 when clean, 1 when infected, 2 on errors, and prints the summary keys in order', () => {
    const root = workspace();
    assert.equal(clamscan(['-d', 'sigs.hdb', 'files/clean.txt'], root).status, 0);
    const infected = clamscan(['-d', 'sigs.hdb', '-r', 'files'], root);
    assert.equal(infected.status, 1);
    const keys = infected.stdout
      .split('\n')
      .filter((line) => /^[A-Z][A-Za-z ]+: /.test(line) && !line.startsWith('files/'))
      .map((line) => line.slice(0, line.indexOf(':')));
    assert.deepEqual(keys, [
      'Known viruses', 'Engine version', 'Scanned directories', 'Scanned files', 'Infected files',
      'Data scanned', 'Data read', 'Time', 'Start Date', 'End Date',
    ]);
    assert.equal(clamscan(['-d', 'sigs.hdb', 'files/missing'], root).status, 2);
  });

  it('writes FOUND lines but not OK lines to the --log file', () => {
    const root = workspace();
    const run = clamscan(['-d', 'sigs.hdb', '-l', 'scan.log', '--no-summary', '-r', 'files'], root);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /clean\.txt: OK/);
    const log = readFileSync(join(root, 'scan.log'), 'utf8');
    assert.match(log, /files\/eicar\.com: Eicar-Test\.UNOFFICIAL FOUND/);
    assert.doesNotMatch(log, /OK/);
    assert.match(log, /^\n-{79}\n\n/);
  });

  it('moves across filesystems without losing the file, and numbers name collisions', { skip: !existsSync('/dev/shm') }, () => {
    const root = workspace();
    const quarantine = mkdtempSync(join('/dev/shm', 'clamts-q-'));
    roots.push(quarantine);
    writeFileSync(join(quarantine, 'eicar.com'), 'taken');
    const run = clamscan(['-d', 'sigs.hdb', `--move=${quarantine}`, '--no-summary', 'files/eicar.com'], root);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, new RegExp(`moved to '${quarantine}/eicar\\.com\\.001'`));
    assert.equal(existsSync(join(root, 'files', 'eicar.com')), false);
    assert.equal(readFileSync(join(quarantine, 'eicar.com.001'), 'latin1'), EICAR);
    assert.equal(readFileSync(join(quarantine, 'eicar.com'), 'utf8'), 'taken');
    assert.deepEqual(readdirSync(quarantine).sort(), ['eicar.com', 'eicar.com.001']);
  });

  it('refuses a quarantine that is not a directory before scanning', () => {
    const root = workspace();
    writeFileSync(join(root, 'not-a-dir'), '');
    const run = clamscan(['-d', 'sigs.hdb', '--move=not-a-dir', 'files'], root);
    assert.equal(run.status, 2);
    assert.equal(run.stderr, `ERROR: '${join(root, 'not-a-dir')}' doesn't exist or is not a directory\n`);
    assert.equal(run.stdout, '');
    assert.ok(existsSync(join(root, 'files', 'eicar.com')));
  });

  it('prints a version line and a help text', () => {
    const root = workspace();
    assert.match(clamscan(['-V'], root).stdout, /^ClamTS \d+\.\d+\.\d+/);
    assert.match(clamscan(['--help'], root).stdout, /clamscan \[options\] \[file\/directory\/-\]/);
  });
});

function hasSystemDatabases(): boolean {
  try {
    return readdirSync('/var/lib/clamav').some((name) => /\.(c[lv]d|cud|[hm]d[bu]|[hm]s[bu]|ndb|ldb)$/.test(name));
  } catch {
    return false;
  }
}

describe('summary figures', () => {
  it("round like C's %.2f: exact halves to the even hundredth", () => {
    assert.equal(printfHundredths(32 / 256), '0.12');
    assert.equal(printfHundredths(96 / 256), '0.38');
    assert.equal(printfHundredths(33 / 256), '0.13');
    assert.equal(printfHundredths(1.125), '1.12');
    assert.equal(printfHundredths(2 / 3), '0.67');
    assert.equal(printfHundredths(0), '0.00');
  });
});
