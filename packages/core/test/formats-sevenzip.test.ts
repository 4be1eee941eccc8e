import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sevenZipHandler } from '../src/formats/sevenzip.js';
import { CLAM_EXE, CLAM_MD5, exec, fuzz, hashes, md5, run, tempDir, testfile, tool } from './support/more-archives.js';

test('clam.7z (LZMA, plain header) yields exactly clam.exe', () => {
  const r = run(sevenZipHandler, testfile('clam.7z'));
  assert.deepEqual(hashes(r), [CLAM_MD5]);
  assert.equal(r.objects[0]!.name, 'clam.exe');
});

const sevenZip = tool('7z');
const random = randomBytes(100_000);
const text = Buffer.from(Array.from({ length: 30_000 }, (_, i) => `line ${i}\n`).join(''));
function archive(...switches: string[]): Buffer {
  const dir = tempDir();
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'clam.exe'), CLAM_EXE);
  writeFileSync(join(dir, 'd', 'random.bin'), random);
  writeFileSync(join(dir, 'd', 'text.txt'), text);
  writeFileSync(join(dir, 'd', 'empty'), '');
  exec('7z', ['a', '-bd', ...switches, 'out.7z', 'clam.exe', 'd'], dir);
  return readFileSync(join(dir, 'out.7z'));
}
const expected = [md5(new Uint8Array(0)), CLAM_MD5, md5(random), md5(text)];

for (const [label, switches] of [
  ['LZMA', ['-m0=lzma']],
  ['LZMA2', ['-m0=lzma2']],
  ['Copy', ['-m0=copy']],
  ['BCJ + LZMA', ['-m0=bcj', '-m1=lzma']],
  ['ARM + LZMA2', ['-m0=arm', '-m1=lzma2']],
  ['BCJ2 (four coders)', ['-mf=bcj2']],
  ['uncompressed header', ['-mhc=off']],
  ['non-solid', ['-ms=off']],
] as const) {
  test(`7z ${label}`, { skip: !sevenZip && '7z (p7zip-full) not installed' }, () => {
    const r = run(sevenZipHandler, archive(...switches));
    assert.deepEqual(hashes(r).sort(), [...expected].sort());
    assert.ok(r.objects.some((o) => o.name === 'd/random.bin'));
  });
}

test('encrypted header: Heuristics.Encrypted.7Zip and nothing else', { skip: !sevenZip && '7z not installed' }, () => {
  const r = run(sevenZipHandler, archive('-mhe=on', '-psecret'));
  assert.deepEqual(r.heuristics, ['Heuristics.Encrypted.7Zip']);
  assert.equal(r.objects.length, 0);
});

test('encrypted members: heuristic, metadata with encrypted flag, no data', { skip: !sevenZip && '7z not installed' }, () => {
  const r = run(sevenZipHandler, archive('-psecret'));
  assert.ok(r.heuristics.length > 0 && r.heuristics.every((h) => h === 'Heuristics.Encrypted.7Zip'));
  const clam = r.objects.find((o) => o.name === 'clam.exe')!;
  assert.equal(clam.encrypted, true);
  assert.equal(clam.data.length, 0);
});

test('PPMd is not decoded (documented gap): metadata only', { skip: !sevenZip && '7z not installed' }, () => {
  const r = run(sevenZipHandler, archive('-m0=ppmd'));
  assert.ok(r.objects.every((o) => o.data.length === 0));
  assert.ok(r.debug.some((d) => d.includes('not implemented')));
});

test('members over the limit are skipped without decoding; others still come out', { skip: !sevenZip && '7z not installed' }, () => {
  const r = run(sevenZipHandler, archive('-m0=lzma2'), 10_000);
  assert.deepEqual(hashes(r).sort(), [md5(new Uint8Array(0)), CLAM_MD5].sort());
});

test('corrupt data: CRC mismatch means no data, as in ClamAV', () => {
  const sample = Buffer.from(testfile('clam.7z'));
  sample[0x40] ^= 0x10; // packed LZMA data
  const r = run(sevenZipHandler, sample);
  assert.ok(r.objects.every((o) => o.data.length === 0));
  const badHeaderCrc = Buffer.from(testfile('clam.7z'));
  badHeaderCrc[28] ^= 1;
  assert.deepEqual(run(sevenZipHandler, badHeaderCrc).objects, []);
});

test('truncated archives never throw', { skip: !sevenZip && '7z not installed' }, () => {
  const full = archive('-m0=lzma2');
  for (const cut of [10, 32, 100, 5000, full.length - 10]) assert.doesNotThrow(() => run(sevenZipHandler, full.subarray(0, cut)));
});

test('fuzz: mutated 7z archives never throw or hang', () => {
  const samples = [testfile('clam.7z')];
  if (sevenZip) {
    const dir = tempDir();
    writeFileSync(join(dir, 'clam.exe'), CLAM_EXE);
    writeFileSync(join(dir, 'small.txt'), text.subarray(0, 3000));
    for (const m of [['-m0=lzma2'], ['-mf=bcj2'], ['-m0=bcj', '-m1=lzma']]) {
      exec('7z', ['a', '-bd', ...m, `s${samples.length}.7z`, 'clam.exe', 'small.txt'], dir);
      samples.push(readFileSync(join(dir, `s${samples.length}.7z`)));
    }
  }
  fuzz(sevenZipHandler, samples, 0x7a);
});
