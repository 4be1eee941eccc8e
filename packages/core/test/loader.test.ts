import assert from 'node:assert/strict';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClamError } from '../src/errors.js';
import { Scanner } from '../src/engine/scanner.js';
import { DatabaseLoader, loadEngine } from '../src/signatures/loader.js';
import { CaptureLogger } from './support/capture-logger.js';
import { EICAR, EICAR_MD5, tempDir } from './support/temp-dir.js';

async function loadFails(paths: string[], logger = new CaptureLogger()) {
  const loader = new DatabaseLoader({ logger });
  try {
    for (const path of paths) await loader.load(path);
  } catch (error) {
    assert.ok(error instanceof ClamError);
    return { error, logger, loader };
  }
  assert.fail('expected the load to fail');
}

describe('database loader', () => {
  it('loads a directory: known endings only, ignore lists first, unofficial names', async () => {
    const dir = tempDir();
    dir.write('a.hdb', `${EICAR_MD5}:68:Eicar-A\n`);
    dir.write('b.hsb', `${'0'.repeat(64)}:10:Other\n`);
    dir.write('z.ign2', 'Other\n');
    dir.write('readme.txt', 'not a database');
    const engine = await loadEngine([dir.root]);
    assert.equal(engine.signatureCount, 1);
    const result = new Scanner(engine).scanBuffer(Buffer.from(EICAR));
    assert.deepEqual(result.viruses, ['Eicar-A.UNOFFICIAL']);
  });

  it('skips PUA databases unless asked, and filters PUA categories', async () => {
    const dir = tempDir();
    dir.write('p.hdu', `${EICAR_MD5}:68:PUA.Win.Tool.Eicar-1\n`);
    assert.equal((await loadEngine([dir.root])).signatureCount, 0);
    dir.write('x.hdb', `${'1'.repeat(32)}:5:X\n`);
    assert.equal((await loadEngine([dir.root])).signatureCount, 1);
    assert.equal((await loadEngine([dir.root], { detectPua: true })).signatureCount, 2);
    const excluded = await loadEngine([dir.root], { detectPua: true, puaFilter: { mode: 'exclude', categories: ['Win'] } });
    assert.equal(excluded.signatureCount, 1);
    const included = await loadEngine([dir.root], { detectPua: true, puaFilter: { mode: 'include', categories: ['Tool'] } });
    assert.equal(included.signatureCount, 2);
  });

  it('reports a missing path like cl_load', async () => {
    const { error, logger } = await loadFails(['/nonexistent/db.hdb']);
    assert.equal(error.code, 'ESTAT');
    assert.equal(error.message, "Can't get file status");
    assert.deepEqual(logger.errors, ['cl_load(): No such file or directory: /nonexistent/db.hdb']);
  });

  it('reports a directory without databases', async () => {
    const dir = tempDir();
    mkdirSync(join(dir.root, 'empty'));
    const { error, logger } = await loadFails([join(dir.root, 'empty')]);
    assert.equal(error.code, 'EOPEN');
    assert.equal(error.message, "Can't open file or directory");
    assert.deepEqual(logger.errors, [`cli_loaddbdir: No supported database files found in ${join(dir.root, 'empty')}`]);
  });

  it('names the file and line of a malformed database, and keeps the count loaded so far', async () => {
    const dir = tempDir();
    const good = dir.write('good.hdb', `${EICAR_MD5}:68:A\n`);
    const bad = dir.write('bad.hdb', `${EICAR_MD5}:68:A\nzz:1\n`);
    const { error, logger, loader } = await loadFails([good, bad]);
    assert.equal(error.code, 'EMALFDB');
    assert.equal(error.path, bad);
    assert.equal(error.line, 2);
    assert.deepEqual(logger.errors, ['cli_loadhash: Problem parsing database at line 2', `Can't load ${bad}: Malformed database`]);
    assert.equal(loader.builder.signatureCount, 1);
  });

  it('adds the directory line when a file inside a directory fails', async () => {
    const dir = tempDir();
    const bad = dir.write('bad.hdb', 'garbage');
    const { logger } = await loadFails([dir.root]);
    assert.equal(logger.errors.at(-1), `cli_loaddbdir: error loading database ${bad}`);
  });

  it('warns about unknown endings and skips formats ClamTS does not implement yet with a debug line', async () => {
    const dir = tempDir();
    const unknown = dir.write('x.zzz', 'foo');
    const logger = new CaptureLogger(true);
    const loader = new DatabaseLoader({ logger });
    await loader.load(unknown);
    assert.deepEqual(logger.warnings, [`cli_load: unknown extension - skipping ${unknown}`]);
    const yara = dir.write('rules.yar', 'rule x { condition: true }');
    await loader.load(yara);
    assert.ok(logger.debugs.includes(`${yara} skipped (format not supported by ClamTS yet)`));
  });

  it('skips unofficial databases of a directory with officialOnly', async () => {
    const dir = tempDir();
    dir.write('a.hdb', `${EICAR_MD5}:68:A\n`);
    dir.write('b.ign2', 'Nothing\n');
    const logger = new CaptureLogger(true);
    const engine = await loadEngine([dir.root], { officialOnly: true, logger });
    assert.equal(engine.signatureCount, 0);
    assert.ok(logger.debugs.includes('Skipping unofficial database a.hdb'));
  });

  it('refuses an unreadable database directory when not root', { skip: process.geteuid?.() === 0 }, async () => {
    const dir = tempDir();
    const locked = join(dir.root, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0);
    const { error, logger } = await loadFails([locked]);
    assert.equal(error.code, 'EOPEN');
    assert.equal(logger.errors[0], `cli_loaddbdir: Can't open directory ${locked}`);
  });
});
