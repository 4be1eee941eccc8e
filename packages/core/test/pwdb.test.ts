/**
 * `.pwdb` password databases (cli_loadpwdb) and the decryption of zip members with them
 * (zdecrypt): which list each password joins and in which order, the load errors, and encrypted
 * zips made by Info-ZIP's `zip -P` (real clamscan agreeing is test/conformance/pwdb.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClamError } from '../src/errors.js';
import { zipHandler } from '../src/formats/zip.js';
import { DatabaseLoader } from '../src/signatures/loader.js';
import type { ArchivePassword } from '../src/signatures/pwdb.js';
import { CaptureLogger } from './support/capture-logger.js';
import { extractAll, fuzz, needsTool, recordingContext } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

function load(text: string, logger = new CaptureLogger()) {
  const loader = new DatabaseLoader({ logger });
  loader.loadBytes('test.pwdb', new TextEncoder().encode(text), false);
  return loader.builder;
}

function loadError(text: string): { error: ClamError; logger: CaptureLogger } {
  const logger = new CaptureLogger();
  try {
    load(text, logger);
  } catch (error) {
    assert.ok(error instanceof ClamError, 'a load error');
    return { error, logger };
  }
  assert.fail(`loading ${JSON.stringify(text)} should fail`);
}

describe('.pwdb databases', () => {
  it('put each password in its container’s list, the last loaded first, and count no signature', () => {
    const builder = load('A;Engine:81-255;0;one\n# comment\nB;Engine:81-255,Container:CL_TYPE_ZIP;1;74776f\nC;Target:0;0;three\nD;Engine:81-255,Container:CL_TYPE_RAR;0;four\n');
    const names = (list: ArchivePassword[]) => list.map(({ name, password }) => `${name}=${password}`);
    assert.deepEqual(names(builder.passwords.any), ['C=three', 'A=one'], 'the any list, last first');
    assert.deepEqual(names(builder.passwords.zip), ['B=two'], 'hex decoded into the zip list');
    assert.deepEqual(names(builder.passwords.rar), ['D=four'], 'the rar list');
    assert.equal(builder.signatureCount, 0, 'passwords are no signatures');
    assert.deepEqual(builder.build().zipPasswords.map((p) => p.name), ['B', 'C', 'A'], 'zip members try the zip list, then any');
  });

  it('fail as ClamAV does, with the line number that does not count comments', () => {
    const cases: [string, string, string[]][] = [
      ['# c\nA;Engine:81-255;0;x\nB;Engine:81-255;0', 'EMALFDB', ['Problem processing external password database at line 2']],
      ['A;Engine:81-255;x;y', 'EMALFDB', ['cli_loadpwdb: Invalid value for PWStorageType (third entry)', 'Problem processing external password database at line 1']],
      ['A;Engine:81-255,Container:CL_TYPE_PDF;0;x', 'EMALFDB', ['cli_loadpwdb: Invalid container specified to .pwdb signature']],
      ['A;Engine:81-255;1;abc', 'EMALFDB', ['cli_mpool_hex2str(): Malformed hexstring: abc (length: 3)', "cli_loadpwdb: Can't decode or add new password entry", 'Problem processing external password database at line 1']],
      ['A;Engine:81-255;5;x', 'EMALFDB', ['Empty external password database']],
      ['A;Engine:81-255;0;x\nB;Engine:300-400;0;y', 'EBREAK', ['Problem processing external password database at line 2']],
    ];
    for (const [text, code, errors] of cases) {
      const { error, logger } = loadError(`${text}\n`);
      assert.equal(error.code, code, `${JSON.stringify(text)}: ${code}`);
      assert.deepEqual(logger.errors.filter((line) => !line.startsWith("Can't load")), errors, `${JSON.stringify(text)}: ClamAV's messages`);
    }
    assert.equal(load('B;Engine:300-400;0;y\nA;Engine:81-255;0;x\n').passwords.any.length, 1, 'a skipped line followed by a valid one loads');
  });
});

describe('encrypted zip members', needsTool('zip', '-v'), () => {
  const dir = tempDir('clamts-pwdb-').root;
  const plain = Buffer.from('the member of an encrypted zip\n'.repeat(40));
  writeFileSync(join(dir, 'member.txt'), plain);
  const encrypted = (name: string, ...options: string[]) => {
    const path = join(dir, name);
    assert.equal(spawnSync('zip', ['-q', '-j', '-P', 'secret', ...options, path, join(dir, 'member.txt')]).status, 0, `zip made ${name}`);
    return new Uint8Array(readFileSync(path));
  };
  const passwords = (...list: string[]): ArchivePassword[] => list.map((password, i) => ({ name: `P${i}`, password }));

  it('are decrypted with the first password that fits, deflated or stored', () => {
    for (const zip of [encrypted('deflated.zip'), encrypted('stored.zip', '-Z', 'store')]) {
      const ctx = { ...recordingContext(), zipPasswords: passwords('wrong', 'secret', 'secret') };
      const objects = extractAll(zipHandler, zip, ctx).filter((object) => object.noMetadata);
      assert.deepEqual(objects.map((o) => Buffer.from(o.data).equals(plain)), [true], 'the member decrypted');
      assert.ok(ctx.debugLines.includes('cli_unzip: decrypt - password [P1] matches'), 'the first fitting password is named');
      assert.ok(!ctx.debugLines.includes('cli_unzip: decrypt - password [P2] matches'), 'and no later one');
    }
  });

  it('are skipped without a fitting password, or without passwords at all', () => {
    const zip = encrypted('skipped.zip');
    const wrong = { ...recordingContext(), zipPasswords: passwords('wrong') };
    assert.equal(extractAll(zipHandler, zip, wrong).filter((object) => object.noMetadata).length, 0, 'a wrong password extracts nothing');
    assert.ok(wrong.debugLines.includes('cli_unzip: decrypt - skipping encrypted file, no valid passwords'), 'ClamAV’s line');
    const off = recordingContext();
    assert.equal(extractAll(zipHandler, zip, off).filter((object) => object.noMetadata).length, 0, 'no passwords (DCONF PASSWD off) extracts nothing');
    assert.ok(off.debugLines.includes('cli_unzip: decrypt - skipping encrypted file'), 'ClamAV’s line for PASSWD off');
  });

  it('never throw or hang on mutated encrypted zips', () => {
    const samples = [encrypted('fuzz.zip'), encrypted('fuzz-stored.zip', '-Z', 'store')];
    const handler = { ...zipHandler, extract: (data: Uint8Array, ctx: Parameters<typeof zipHandler.extract>[1]) => zipHandler.extract(data, { ...ctx, zipPasswords: passwords('secret') }) };
    fuzz(handler, samples, { seed: 41 });
  });
});
