import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Scanner } from '../src/engine/scanner.js';
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

  it('counts scanned data the way ClamAV does: whole 4 KiB units of each window, overlaps included', async () => {
    const data = Buffer.alloc(2 * 0x20000 + 1000, 1);
    const short = await engineWith({ 'a.hdb': `${EICAR_MD5}:68:A\n` });
    assert.equal(new Scanner(short).scanBuffer(data).scannedBlocks, 32 + 32 + 0);
    // Windows overlap by the longest pattern (2000 bytes): the third one holds 5000 bytes.
    const long = await engineWith({ 'a.ndb': `Long:0:*:${'41'.repeat(2000)}\n` });
    assert.equal(new Scanner(long).scanBuffer(data).scannedBlocks, 32 + 32 + 1);
  });
});

describe('cache of clean results', () => {
  const clean = (seed: number) => Buffer.alloc(64 * 1024, seed);

  it('does not scan the same clean bytes twice, and scans again when the cache is off', async () => {
    const engine = await engineWith({ 'a.hdb': `${EICAR_MD5}:68:A\n` });
    const cached = new Scanner(engine);
    const first = cached.scanBuffer(clean(1));
    assert.deepEqual(first, { viruses: [], scannedBlocks: 16 });
    assert.deepEqual(cached.scanBuffer(clean(1)), { viruses: [], scannedBlocks: 0 });
    // Other bytes of the same size are other files.
    assert.equal(cached.scanBuffer(clean(2)).scannedBlocks, 16);
    const uncached = new Scanner(engine, scanOptions({ cacheSize: 0 }));
    assert.equal(uncached.scanBuffer(clean(1)).scannedBlocks, 16);
    assert.equal(uncached.scanBuffer(clean(1)).scannedBlocks, 16);
  });

  it('never keeps a detection', async () => {
    const engine = await engineWith({ 'a.ndb': 'Marked:0:*:6d61726b6564\n' });
    const scanner = new Scanner(engine);
    const marked = Buffer.concat([clean(3), Buffer.from('marked')]);
    assert.deepEqual(scanner.scanBuffer(marked).viruses, ['Marked.UNOFFICIAL']);
    assert.deepEqual(scanner.scanBuffer(marked).viruses, ['Marked.UNOFFICIAL']);
  });

  it('forgets the least recently used result first', async () => {
    const scanner = new Scanner(await engineWith({ 'a.hdb': `${EICAR_MD5}:68:A\n` }), scanOptions({ cacheSize: 2 }));
    const blocks = (seed: number) => scanner.scanBuffer(clean(seed)).scannedBlocks;
    assert.deepEqual([blocks(1), blocks(2), blocks(1), blocks(3)], [16, 16, 0, 16]);
    // 2 was the least recently used of the three.
    assert.deepEqual([blocks(1), blocks(3), blocks(2)], [0, 0, 16]);
  });
});
