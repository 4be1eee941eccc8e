import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ClamError } from '../src/errors.js';
import { Ppmd7, type PpmdRangeDecoder } from '../src/formats/compression/ppmd7.js';
import { sevenZipHandler } from '../src/formats/sevenzip.js';
import {
  CLAM_EXE, CLAM_MD5, clamscanExtractedMd5s, exec, fuzz, hashes, md5, prng, run, tempDir, testfile, tool,
} from './support/more-archives.js';

function writeTemp(data: Uint8Array): string {
  const path = join(tempDir(), 'sample.7z');
  writeFileSync(path, data);
  return path;
}

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

// PPMd: orders and model sizes across 7-Zip's range; with 64 KiB and 1 MiB the text and random
// members are larger than the model's memory, so it fills up and restarts several times.
for (const [label, switches] of [
  ['order 2, 64 KiB', ['-m0=PPMd:o=2:mem=64k']],
  ['order 4, 64 KiB, BCJ', ['-m0=bcj', '-m1=PPMd:o=4:mem=64k']],
  ['order 6, 1 MiB', ['-m0=PPMd:o=6:mem=1m']],
  ['order 16, 3 MiB', ['-m0=PPMd:o=16:mem=3m']],
  ['order 32, 16 MiB, non-solid', ['-m0=PPMd:o=32:mem=16m', '-ms=off']],
  ['in the BCJ2 layout', ['-mf=bcj2', '-m0=PPMd:o=8:mem=256k']],
] as const) {
  test(`7z PPMd ${label}: every member byte for byte`, { skip: !sevenZip && '7z not installed' }, () => {
    const r = run(sevenZipHandler, archive(...switches));
    assert.deepEqual(hashes(r).sort(), [...expected].sort());
  });
}

/** An archive of clam.exe alone with an uncompressed header, for patching header fields. */
function plainHeaderPpmd(): { file: Buffer; props: number } {
  const dir = tempDir();
  writeFileSync(join(dir, 'clam.exe'), CLAM_EXE);
  exec('7z', ['a', '-bd', '-mhc=off', '-m0=PPMd:o=6:mem=1m', 'out.7z', 'clam.exe'], dir);
  const file = readFileSync(join(dir, 'out.7z'));
  // Coder record: flags 0x23 (3-byte id, has properties), 03 04 01, 5 property bytes.
  const props = file.indexOf(Buffer.from([0x23, 0x03, 0x04, 0x01, 0x05])) + 5;
  assert.ok(props > 5);
  return { file, props };
}

/** Re-seals the start header over the (patched) header at the end of the file. */
function resealed(file: Buffer): Buffer {
  const headerStart = 32 + Number(file.readBigUInt64LE(12));
  file.writeUInt32LE(crc32(file.subarray(headerStart)), 28);
  file.writeUInt32LE(crc32(file.subarray(12, 32)), 8);
  return file;
}

test('PPMd properties outside order 2..64 and memory 2 KiB..4 GiB-36 are unsupported, as in 7zDec.c', { skip: !sevenZip && '7z not installed' }, () => {
  const { file, props } = plainHeaderPpmd();
  assert.deepEqual(hashes(run(sevenZipHandler, file)), [CLAM_MD5]);
  for (const [order, memory] of [[1, 1 << 20], [65, 1 << 20], [6, 2047], [6, 0xffffffff - 35]] as const) {
    const bad = Buffer.from(file);
    bad[props] = order;
    bad.writeUInt32LE(memory, props + 1);
    const r = run(sevenZipHandler, resealed(bad));
    assert.equal(r.objects.length, 1, 'the member is still listed, for metadata matching');
    assert.equal(r.objects[0]!.data.length, 0);
    assert.ok(r.debug.some((d) => d.includes('unsupported PPMd')), `order ${order} memory ${memory}`);
  }
  // A model ClamAV's allocator refuses (over 1 GiB with its alignment and spare unit): no data.
  const huge = Buffer.from(file);
  huge.writeUInt32LE(2 ** 30, props + 1);
  const r = run(sevenZipHandler, resealed(huge));
  assert.equal(r.objects[0]!.data.length, 0);
  assert.ok(r.debug.some((d) => d.includes('cannot allocate a PPMd model')));
});

test('PPMd stream with a byte to spare, or one short: data error, nothing scanned (as clamscan)', { skip: !sevenZip && '7z not installed' }, () => {
  const { file } = plainHeaderPpmd();
  const packed = Number(file.readBigUInt64LE(12));
  // Pack info: 06, packPos 00, one stream 01, sizes 09, then the size as a 7z number.
  const sizeAt = file.indexOf(Buffer.from([0x06, 0x00, 0x01, 0x09]), 32 + packed) + 4;
  const sizeBytes = (n: number) => Buffer.from(n < 0x4000 ? [0x80 | (n >> 8), n & 0xff] : [0xc0 | (n >> 16), n & 0xff, (n >> 8) & 0xff]);
  assert.deepEqual(file.subarray(sizeAt, sizeAt + sizeBytes(packed).length), sizeBytes(packed));
  const control = clamscanExtractedMd5s(writeTemp(file));
  if (control) assert.ok(control.includes(CLAM_MD5), 'clamscan extracts clam.exe from the intact archive');
  const cases: Array<[string, Buffer]> = [];
  for (const delta of [1, -1]) {
    const head = Buffer.from(file.subarray(32 + packed));
    sizeBytes(packed + delta).copy(head, sizeAt - 32 - packed);
    const body = delta > 0 ? Buffer.concat([file.subarray(32, 32 + packed), Buffer.from([0])]) : file.subarray(32, 32 + packed - 1);
    const start = Buffer.from(file.subarray(0, 32));
    start.writeBigUInt64LE(BigInt(body.length), 12);
    cases.push([delta > 0 ? 'spare byte' : 'short', resealed(Buffer.concat([start, body, head]))]);
  }
  for (const [label, bad] of cases) {
    const r = run(sevenZipHandler, bad);
    assert.equal(r.objects.length, 1, label);
    assert.equal(r.objects[0]!.data.length, 0, label);
    const oracle = clamscanExtractedMd5s(writeTemp(bad));
    if (oracle) assert.ok(!oracle.includes(CLAM_MD5), `${label}: clamscan extracted clam.exe after all`);
  }
});

test('Ppmd7 stays consistent whatever symbols are chosen: orders up to 64, heaps down to 2 KiB', () => {
  // A decoder that always answers within range draws random symbols (biased towards hits, so
  // that contexts grow, the heap fills, is glued and restarts): the model must never report a
  // data error, which here could only come from its own links going wrong.
  const random = prng(0x9e3779b9);
  const rc: PpmdRangeDecoder = {
    threshold: (total) => Math.floor(total * random() ** 4),
    decode: () => {},
    decodeBit: (size0) => (random() * 16384 < size0 ? 0 : 1),
  };
  for (const [order, memory] of [[64, 2048], [64, 65536], [33, 4000], [2, 2048], [12, 300_000]] as const) {
    const model = new Ppmd7(memory);
    model.init(order);
    let symbols = 0;
    for (let i = 0; i < 60_000; i++) {
      const symbol = model.decodeSymbol(rc);
      assert.notEqual(symbol, -2, `order ${order}, ${memory} bytes, symbol ${i}`);
      if (symbol === -1) model.init(order);
      else symbols++;
    }
    assert.ok(symbols > 50_000);
  }
});

test('Ppmd7 refuses model sizes it cannot hold and orders outside 2..64', () => {
  assert.throws(() => new Ppmd7(2047), (e) => e instanceof ClamError && e.code === 'EMEM');
  assert.throws(() => new Ppmd7(2 ** 30 - 12), (e) => e instanceof ClamError && e.code === 'EMEM');
  const model = new Ppmd7(2048);
  assert.throws(() => model.init(1), ClamError);
  assert.throws(() => model.init(65), ClamError);
  model.init(64);
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
    for (const m of [['-m0=lzma2'], ['-mf=bcj2'], ['-m0=bcj', '-m1=lzma'], ['-m0=PPMd:o=4:mem=64k', '-mhc=off'], ['-m0=PPMd:o=32:mem=1m']]) {
      exec('7z', ['a', '-bd', ...m, `s${samples.length}.7z`, 'clam.exe', 'small.txt'], dir);
      samples.push(readFileSync(join(dir, `s${samples.length}.7z`)));
    }
  }
  fuzz(sevenZipHandler, samples, 0x7a);
});
