import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineBuilder } from '../src/engine/engine-builder.js';
import { ClamError } from '../src/errors.js';
import type { DatabaseContext } from '../src/signatures/database-context.js';
import { inMemoryInput } from '../src/signatures/database-input.js';
import { loadHashDatabase, type HashPurpose } from '../src/signatures/hash-db.js';
import { CaptureLogger } from './support/capture-logger.js';
import { EICAR_MD5, EICAR_SHA1, EICAR_SHA256 } from './support/temp-dir.js';
import { DATABASE_LINE_BUFFER } from '../src/signatures/lines.js';

function load(text: string, purpose: HashPurpose = 'file', official = false) {
  const engine = new EngineBuilder();
  const logger = new CaptureLogger();
  const ctx: DatabaseContext = { path: 'test.hdb', official, options: {}, logger, engine, lineBuffer: DATABASE_LINE_BUFFER };
  const index = purpose === 'pe-section' ? engine.sectionHashes : engine.fileHashes;
  const run = () => loadHashDatabase(inMemoryInput(Buffer.from(text, 'latin1')), purpose, index, ctx);
  return { engine, logger, run };
}

function loadError(text: string): { error: ClamError; logger: CaptureLogger } {
  const { logger, run } = load(text);
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ClamError);
    return { error, logger };
  }
  assert.fail('expected the load to fail');
}

describe('hash databases', () => {
  it('loads MD5, SHA1 and SHA256 lines, told apart by length, and counts them', () => {
    const { engine, run } = load(`${EICAR_MD5}:68:A\n${EICAR_SHA1}:68:B\n${EICAR_SHA256}:68:C\n`);
    assert.equal(run(), 3);
    const index = engine.fileHashes.build();
    engine.names.freeze();
    const md5 = index.lookup('md5', Buffer.from(EICAR_MD5, 'hex'), 68);
    assert.equal(engine.names.get(md5.sized), 'A.UNOFFICIAL');
    assert.equal(engine.names.get(index.lookup('sha1', Buffer.from(EICAR_SHA1, 'hex'), 68).sized), 'B.UNOFFICIAL');
    assert.equal(engine.names.get(index.lookup('sha256', Buffer.from(EICAR_SHA256, 'hex'), 68).sized), 'C.UNOFFICIAL');
  });

  it('keeps names unchanged for official databases', () => {
    const { engine, run } = load(`${EICAR_MD5}:68:Win.Test.EICAR_HDB-1\n`, 'file', true);
    run();
    const index = engine.fileHashes.build();
    engine.names.freeze();
    assert.equal(engine.names.get(index.lookup('md5', Buffer.from(EICAR_MD5, 'hex'), 68).sized), 'Win.Test.EICAR_HDB-1');
  });

  it('skips comment lines, accepts CRLF endings and upper-case hex', () => {
    const { run } = load(`# comment\r\n${EICAR_MD5.toUpperCase()}:68:A\r\n`);
    assert.equal(run(), 1);
  });

  it('honours the functionality-level fields as ClamAV 1.4.6 (level 216) does', () => {
    const { run } = load(
      [`${EICAR_MD5}:68:A:216`, `${EICAR_MD5}:68:B:217`, `${EICAR_MD5}:68:C:1:215`, `${EICAR_MD5}:68:D:1:216`].join('\n'),
    );
    assert.equal(run(), 2); // A and D
  });

  it('accepts a * size only with a minimum level of 73 or more', () => {
    assert.equal(load(`${EICAR_MD5}:*:W:73\n`).run(), 1);
    const { error, logger } = loadError(`${EICAR_MD5}:*:W\n`);
    assert.equal(error.code, 'EMALFDB');
    assert.match(logger.errors[0]!, /Minimum FLEVEL field must be at least 73 for wildcard size hash signatures/);
    assert.equal(logger.errors[1], 'cli_loadhash: Problem parsing database at line 1');
  });

  it('refuses malformed lines with the line number, like ClamAV', () => {
    const cases: Array<[string, number, string | undefined]> = [
      [`${EICAR_MD5}:68:A\nzz:1\n`, 2, undefined],
      [`${EICAR_MD5}:68:A\n\n`, 2, undefined],
      [`${EICAR_MD5}:0:A\n`, 1, 'cli_loadhash: Invalid value for the size field'],
      [`${EICAR_MD5}:6x:A\n`, 1, 'cli_loadhash: Invalid value for the size field'],
      [`${EICAR_MD5.slice(2)}:68:A\n`, 1, 'cli_loadhash: Malformed hash string at line 1'],
      [`${EICAR_MD5.slice(0, 31)}g:68:A\n`, 1, 'cli_loadhash: Malformed hash string at line 1'],
      [`${EICAR_MD5}:68:A:1:2:3\n`, 1, undefined],
    ];
    for (const [text, line, detail] of cases) {
      const { error, logger } = loadError(text);
      assert.equal(error.code, 'EMALFDB', text);
      assert.equal(error.line, line, text);
      if (detail) assert.equal(logger.errors[0], detail, text);
      assert.equal(logger.errors.at(-1), `cli_loadhash: Problem parsing database at line ${line}`, text);
    }
  });

  it('refuses an empty file', () => {
    const { error, logger } = loadError('');
    assert.equal(error.code, 'EMALFDB');
    assert.deepEqual(logger.errors, ['cli_loadhash: Empty database file']);
  });

  it('reads PE section hashes as Size:Hash:Name', () => {
    const { engine, run } = load(`1024:${EICAR_MD5}:Sec\n`, 'pe-section');
    assert.equal(run(), 1);
    assert.equal(engine.sectionHashes.build().lookup('md5', Buffer.from(EICAR_MD5, 'hex'), 1024).sized, 0);
  });
});

describe('hash databases read from disk in chunks', () => {
  it('gives the same signatures and line numbers across chunk boundaries', async () => {
    const { fileInput } = await import('../src/signatures/database-input.js');
    const { tempDir } = await import('./support/temp-dir.js');
    const dir = tempDir();
    // About 40 MiB of lines: more than two 16 MiB chunks, with the bad line in the third.
    const good = `${EICAR_MD5}:68:${'N'.repeat(60)}\n`;
    const lines = Math.ceil((40 * 1024 * 1024) / good.length);
    const path = dir.write('big.hdb', good.repeat(lines) + 'broken-line\n');
    const engine = new EngineBuilder();
    const logger = new CaptureLogger();
    const ctx: DatabaseContext = { path, official: false, options: {}, logger, engine, lineBuffer: DATABASE_LINE_BUFFER };
    assert.throws(() => loadHashDatabase(fileInput(path), 'file', engine.fileHashes, ctx), { code: 'EMALFDB', line: lines + 1 });
    const okPath = dir.write('ok.hdb', good.repeat(lines));
    assert.equal(loadHashDatabase(fileInput(okPath), 'file', new EngineBuilder().fileHashes, { ...ctx, path: okPath }), lines);
  });
});
