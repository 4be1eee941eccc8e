/** The bundled tools' V8 code cache (src/bundle-launcher.ts), through bin/clamscan. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLAMSCAN = fileURLToPath(new URL('../../../bin/clamscan', import.meta.url));
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const EXPECTED = 'eicar.com: Eicar-Test.UNOFFICIAL FOUND\n';

const root = mkdtempSync(join(tmpdir(), 'clamts-launcher-'));
after(() => rmSync(root, { recursive: true, force: true }));
writeFileSync(join(root, 'sigs.hdb'), '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test\n');
writeFileSync(join(root, 'eicar.com'), EICAR);

let runs = 0;
function newCacheDir(): string {
  const directory = join(root, `cache-${runs++}`);
  mkdirSync(directory);
  return directory;
}

const cacheEnv = (cacheDir: string, env: NodeJS.ProcessEnv = {}) => ({ ...process.env, CLAMTS_CACHE_DIR: cacheDir, CLAMTS_CODE_CACHE: '', ...env });

function clamscan(cacheDir: string, flags: readonly string[] = [], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [...flags, CLAMSCAN, '--no-summary', '-d', 'sigs.hdb', 'eicar.com'], {
    cwd: root,
    encoding: 'utf8',
    env: cacheEnv(cacheDir, env),
  });
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, EXPECTED);
  assert.equal(result.status, 1);
}

/** `clamscan --version`: a short run that calls little of the bundle. */
function clamscanVersion(cacheDir: string) {
  const result = spawnSync(process.execPath, [CLAMSCAN, '--version'], { encoding: 'utf8', env: cacheEnv(cacheDir) });
  assert.match(result.stdout, /^ClamTS /);
}

/** Scans standard input, which gets the EICAR file only after `delayMs`: a run at least that long. */
function clamscanSlowInput(cacheDir: string, delayMs: number): Promise<number | null> {
  const child = spawn(process.execPath, [CLAMSCAN, '--no-summary', '-d', 'sigs.hdb', '-'], { cwd: root, env: cacheEnv(cacheDir), stdio: ['pipe', 'ignore', 'inherit'] });
  setTimeout(() => child.stdin.end(EICAR), delayMs);
  return new Promise((resolve) => child.on('close', resolve));
}

const codeCaches = (directory: string) => readdirSync(directory).filter((name) => name.endsWith('.code')).sort();

describe('the code cache of the bundled tools', () => {
  it('is written by the first run and read, not rewritten, by the next', () => {
    const cacheDir = newCacheDir();
    clamscan(cacheDir);
    const [name, ...others] = codeCaches(cacheDir);
    assert.match(name ?? '', /^clamscan\.[0-9a-f]{16}\.code$/);
    assert.deepEqual(others, []);
    const written = statSync(join(cacheDir, name!));
    assert.ok(written.size > 100_000, `a cache of the compiled bundle (${written.size} bytes)`);
    clamscan(cacheDir);
    const after = statSync(join(cacheDir, name!));
    // A refused cache would have been replaced through a new file.
    assert.equal(after.ino, written.ino);
    assert.equal(after.mtimeMs, written.mtimeMs);
  });

  it('is replaced when V8 refuses it, and the run is unaffected', () => {
    const cacheDir = newCacheDir();
    clamscan(cacheDir);
    const [name] = codeCaches(cacheDir);
    const path = join(cacheDir, name!);
    writeFileSync(path, Buffer.alloc(4096, 0x5a));
    clamscan(cacheDir);
    assert.notDeepEqual(readFileSync(path), Buffer.alloc(4096, 0x5a));
    assert.ok(statSync(path).size > 100_000);
  });

  it('is replaced by a much longer run that called more of the bundle, and kept by a short one', async () => {
    const cacheDir = newCacheDir();
    clamscanVersion(cacheDir);
    const [name] = codeCaches(cacheDir);
    const path = join(cacheDir, name!);
    const versionOnly = statSync(path);
    // The scan calls the database loader and the scanner, which --version never does.
    assert.equal(await clamscanSlowInput(cacheDir, 1000), 1);
    const scanned = statSync(path);
    assert.notEqual(scanned.ino, versionOnly.ino);
    assert.ok(scanned.size > versionOnly.size * 1.05, `${versionOnly.size} -> ${scanned.size} bytes`);
    clamscanVersion(cacheDir);
    assert.equal(statSync(path).ino, scanned.ino);
  });

  it('has one file per way of running Node, and keeps the three most recent', () => {
    const cacheDir = newCacheDir();
    const ways = [[], ['--stack-size=900'], ['--stack-size=901'], ['--stack-size=902']];
    for (const flags of ways) clamscan(cacheDir, flags);
    assert.equal(codeCaches(cacheDir).length, 3);
  });

  it('is not used with CLAMTS_CODE_CACHE=off', () => {
    const cacheDir = newCacheDir();
    clamscan(cacheDir, [], { CLAMTS_CODE_CACHE: 'off' });
    assert.deepEqual(codeCaches(cacheDir), []);
  });
});
