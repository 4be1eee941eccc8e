import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countedBlocks, Scanner } from '../src/engine/scanner.js';
import { scanOptions } from '../src/engine/scan-options.js';
import { loadEngine } from '../src/signatures/loader.js';
import { EICAR, EICAR_MD5, EICAR_SHA1, EICAR_SHA256, tempDir } from './support/temp-dir.js';

async function engineWith(files: Record<string, string>) {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) dir.write(name, content);
  return loadEngine([dir.root]);
}

describe('scanner with hash signatures', () => {
  it('reports the first match, or every match in ClamAV order with allMatch', async () => {
    const engine = await engineWith({
      'a.hsb': `${EICAR_SHA256}:68:S256\n${EICAR_SHA1}:68:S1\n${EICAR_MD5}:*:Wild:73\n${EICAR_MD5}:68:M5\n`,
    });
    assert.deepEqual(new Scanner(engine).scanBuffer(Buffer.from(EICAR)).viruses, ['M5.UNOFFICIAL']);
    const all = new Scanner(engine, scanOptions({ allMatch: true })).scanBuffer(Buffer.from(EICAR));
    assert.deepEqual(all.viruses, ['M5.UNOFFICIAL', 'Wild.UNOFFICIAL', 'S1.UNOFFICIAL', 'S256.UNOFFICIAL']);
  });

  it('does not match a hash signature of another size', async () => {
    const engine = await engineWith({ 'a.hdb': `${EICAR_MD5}:69:A\n` });
    assert.deepEqual(new Scanner(engine).scanBuffer(Buffer.from(EICAR)).viruses, []);
  });

  it('lets the allow-list (.fp by MD5, .sfp by SHA256) clear a detection', async () => {
    const detect = `${EICAR_MD5}:68:A\n`;
    assert.deepEqual(
      new Scanner(await engineWith({ 'a.hdb': detect, 'a.fp': `${EICAR_MD5}:68:Allowed\n` })).scanBuffer(Buffer.from(EICAR)).viruses,
      [],
    );
    assert.deepEqual(
      new Scanner(await engineWith({ 'a.hdb': detect, 'a.sfp': `${EICAR_SHA256}:68:Allowed\n` })).scanBuffer(Buffer.from(EICAR))
        .viruses,
      [],
    );
    assert.deepEqual(
      new Scanner(await engineWith({ 'a.hdb': detect, 'a.fp': `${EICAR_MD5}:67:Other\n` })).scanBuffer(Buffer.from(EICAR)).viruses,
      ['A.UNOFFICIAL'],
    );
  });

  it('skips objects over max-filesize, or reports them with alertExceedsMax', async () => {
    const engine = await engineWith({ 'a.hdb': `${EICAR_MD5}:68:A\n` });
    const limited = { limits: { maxFileSize: 10 } };
    assert.deepEqual(new Scanner(engine, scanOptions(limited)).scanBuffer(Buffer.from(EICAR)).viruses, []);
    assert.deepEqual(
      new Scanner(engine, scanOptions({ ...limited, alertExceedsMax: true })).scanBuffer(Buffer.from(EICAR)).viruses,
      ['Heuristics.Limits.Exceeded.MaxFileSize'],
    );
  });

  it('scans files and streams the same way as buffers', async () => {
    const engine = await engineWith({ 'a.hdb': `${EICAR_MD5}:68:A\n` });
    const dir = tempDir();
    const scanner = new Scanner(engine);
    assert.deepEqual((await scanner.scanFile(dir.write('e.com', EICAR))).viruses, ['A.UNOFFICIAL']);
    async function* pieces() {
      yield Buffer.from(EICAR.slice(0, 10));
      yield Buffer.from(EICAR.slice(10));
    }
    assert.deepEqual((await scanner.scanStream(pieces())).viruses, ['A.UNOFFICIAL']);
    await assert.rejects(scanner.scanFile(`${dir.root}/missing`), { code: 'EOPEN', message: 'No such file or directory' });
  });

  it('counts scanned data the way ClamAV does: whole 4 KiB units of each 128 KiB chunk', () => {
    assert.equal(countedBlocks(68), 0);
    assert.equal(countedBlocks(4096), 1);
    assert.equal(countedBlocks(0x20000 + 4095), 32);
    assert.equal(countedBlocks(0x20000 * 3 + 8192), 98);
  });
});
