import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Scanner } from '../src/engine/scanner.js';
import { scanOptions, type ScanOptionsInit } from '../src/engine/scan-options.js';
import { ClamError } from '../src/errors.js';
import { createRarHandler } from '../src/formats/rar.js';
import type { RarEntry } from '../src/formats/rar/entry.js';
import { RarDataError } from '../src/formats/rar/entry.js';
import { Rar5Unpacker } from '../src/formats/rar/rar5-decoder.js';
import { openRar5 } from '../src/formats/rar/rar5-headers.js';
import { loadEngine } from '../src/signatures/loader.js';
import { CLAM_EXE, CLAM_MD5, fuzz, prng, run } from './support/more-archives.js';
import { tempDir } from './support/temp-dir.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'rar');
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));
const libarchive = (name: string) => fixture(`test_read_format_rar5_${name}.rar`);
const rarHandler = createRarHandler({ alertEncrypted: false });
const quiet = () => {};

/** Every entry of a RAR 5 archive, decoded (one unpacker per solid run) and checked against its CRC. */
function decodeAll(data: Uint8Array): Array<{ entry: RarEntry; content?: Uint8Array }> {
  const archive = openRar5(data, 0, quiet);
  let unpacker: Rar5Unpacker | undefined;
  return [...archive.entries()].map((entry) => {
    if (entry.isDirectory || entry.encrypted) return { entry };
    const packed = data.subarray(entry.dataStart, entry.dataStart + entry.packedSize);
    if (entry.method === 0) return { entry, content: packed };
    if (!entry.solid || !unpacker) unpacker = new Rar5Unpacker();
    return { entry, content: unpacker.unpack(entry, packed, entry.unpackedSize) };
  });
}

function assertCrcs(data: Uint8Array, names: string[]): void {
  const files = decodeAll(data).filter((f) => !f.entry.isDirectory);
  assert.deepEqual(
    files.map((f) => f.entry.name),
    names,
  );
  for (const { entry, content } of files) {
    assert.ok(content, entry.name);
    assert.equal(content.length, entry.unpackedSize, entry.name);
    assert.equal(crc32(content), entry.crc32, `${entry.name}: CRC32`);
  }
}

/** libarchive's generated test data: little-endian int32 k² − 3k + 1 + magic, negatives as 0. */
function libarchivePattern(magic: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < size / 4; i++) {
    const k = i + 1;
    view.setInt32(i * 4, Math.max(0, k * k - 3 * k + 1 + magic), true);
  }
  return out;
}

test('RAR 5 decoder: every compressed libarchive sample matches its CRC32 and test pattern', () => {
  assertCrcs(libarchive('compressed'), ['test.bin']);
  assert.deepEqual(decodeAll(libarchive('compressed'))[0]!.content, libarchivePattern(0, 1200));
  const four = ['test1.bin', 'test2.bin', 'test3.bin', 'test4.bin'];
  assertCrcs(libarchive('multiple_files'), four);
  assertCrcs(libarchive('multiple_files_solid'), four);
  decodeAll(libarchive('multiple_files_solid')).forEach(({ content }, i) => assert.deepEqual(content, libarchivePattern(i + 1, 4096)));
  assertCrcs(libarchive('solid'), ['test.bin', ...[1, 2, 3, 4, 5, 6].map((n) => `test${n}.bin`)]);
  assertCrcs(libarchive('win32'), ['test.bin', ...[1, 2, 3, 4, 5, 6].map((n) => `test${n}.bin`)]);
  assertCrcs(libarchive('stored_manyfiles'), ['make_uue.tcl', 'cebula.txt', 'test.bin']);
});

test('RAR 5 decoder: the ARM filter (an ARM executable)', () => {
  const [file] = decodeAll(libarchive('arm'));
  assert.equal(file!.entry.name, 'elf-Linux-ARMv7-ls');
  assert.equal(crc32(file!.content!), file!.entry.crc32);
  assert.equal(file!.content!.length, 90808);
});

test('RAR 5 decoder: x86 E8E9 and delta filters (an executable split over three volumes)', () => {
  const parts = [1, 2, 3].map((n) => libarchive(`multiarchive.part0${n}`));
  const pieces = parts.flatMap((part) =>
    [...openRar5(part, 0, quiet).entries()].filter((e) => e.name.endsWith('bsdcat_test')).map((e) => ({ e, data: part.subarray(e.dataStart, e.dataStart + e.packedSize) })),
  );
  assert.equal(pieces.length, 3);
  assert.ok(pieces[0]!.e.continuesInNextVolume && pieces[2]!.e.continuesFromPreviousVolume && !pieces[2]!.e.continuesInNextVolume);
  const packed = Buffer.concat(pieces.map((p) => p.data));
  const last = pieces[2]!.e;
  const content = new Rar5Unpacker().unpack(last, packed, last.unpackedSize);
  assert.equal(content.length, 144608);
  assert.equal(crc32(content), last.crc32);
});

test('RAR 5 decoder: a prefix limit, and packed data cut short give a prefix of the file', () => {
  const data = libarchive('arm');
  const [{ entry, content }] = decodeAll(data) as [{ entry: RarEntry; content: Uint8Array }];
  const packed = data.subarray(entry.dataStart, entry.dataStart + entry.packedSize);
  assert.deepEqual(new Rar5Unpacker().unpack(entry, packed, 1000), content.subarray(0, 1000));
  const cut = new Rar5Unpacker().unpack(entry, packed.subarray(0, packed.length >> 1), entry.unpackedSize);
  assert.ok(cut.length > 1000 && cut.length < content.length);
  assert.deepEqual(cut, content.subarray(0, cut.length));
});

test('RAR 5 decoder: corrupt data throws a ClamError carrying what was decoded before the damage', () => {
  const data = libarchive('arm');
  const [{ entry, content }] = decodeAll(data) as [{ entry: RarEntry; content: Uint8Array }];
  const packed = Uint8Array.from(data.subarray(entry.dataStart, entry.dataStart + entry.packedSize));
  let error: unknown;
  for (let at = packed.length >> 1; !error && at < packed.length; at += 97) {
    const broken = Uint8Array.from(packed);
    broken.fill(0xff, at, at + 8);
    try {
      new Rar5Unpacker().unpack(entry, broken, entry.unpackedSize);
    } catch (err) {
      error = err;
    }
  }
  assert.ok(error instanceof RarDataError);
  assert.ok(error.partial.length > 1000);
  assert.deepEqual(error.partial.subarray(0, 1000), content.subarray(0, 1000));
});

test('RAR 5 decoder: corrupt data is a ClamError, never another exception', () => {
  const [{ entry }] = decodeAll(libarchive('compressed'));
  const data = libarchive('compressed');
  const packed = Uint8Array.from(data.subarray(entry.dataStart, entry.dataStart + entry.packedSize));
  packed[1] ^= 0xff; // the block header's check byte
  assert.throws(() => new Rar5Unpacker().unpack(entry, packed, entry.unpackedSize), ClamError);
  assert.throws(() => new Rar5Unpacker().unpack({ ...entry, unpackVersion: 70 }, packed, 100), ClamError);
});

test('RAR 5 headers: names, versions, directories, encryption, solid flags', () => {
  const names = (data: Uint8Array) => [...openRar5(data, 0, quiet).entries()].map((e) => e.name);
  assert.deepEqual(names(libarchive('extra_field_version')), ['bin/2to3;1', 'bin/2to3']);
  assert.deepEqual(names(fixture('rarfile-rar5-versions.rar')), ['versioned.txt;1', 'versioned.txt;2', 'versioned.txt']);
  assert.deepEqual(names(libarchive('unicode')).slice(0, 1), ['👋🌎.txt']);
  const win32 = [...openRar5(libarchive('win32'), 0, quiet).entries()];
  assert.deepEqual([win32[0]!.name, win32[0]!.isDirectory], ['testdir', true]);
  const encrypted = [...openRar5(libarchive('encrypted'), 0, quiet).entries()];
  assert.deepEqual(
    encrypted.map((e) => [e.name, e.encrypted]),
    [
      ['a.txt', false],
      ['b.txt', true],
      ['c.txt', false],
      ['d.txt', true],
    ],
  );
  const solid = [...openRar5(libarchive('solid'), 0, quiet).entries()];
  assert.deepEqual(
    solid.map((e) => e.solid),
    [false, true, true, true, true, true, true],
  );
  assert.equal(solid[0]!.dictionarySize, 1024 * 1024);
  for (const name of ['encrypted_filenames', 'solid_encrypted']) assert.equal(openRar5(libarchive(name), 0, quiet).headersEncrypted, name === 'encrypted_filenames');
  assert.throws(() => openRar5(fixture('rarfile-rar5-crc.rar'), 1, quiet), ClamError);
});

// --- Stored archives built byte by byte (RARLAB's RAR 5.0 format technote) -----------------

function vint(value: number): number[] {
  const bytes: number[] = [];
  do {
    bytes.push((value & 0x7f) | (value >= 0x80 ? 0x80 : 0));
    value = Math.floor(value / 0x80);
  } while (value > 0);
  return bytes;
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

/** One block: CRC32, size, type, flags, [extra size], [data size], fields, extra area; then the data. */
function block(type: number, fields: number[], data?: Uint8Array, extra: number[] = []): Buffer {
  const flags = (extra.length ? 1 : 0) | (data ? 2 : 0);
  const body = [...vint(type), ...vint(flags), ...(extra.length ? vint(extra.length) : []), ...(data ? vint(data.length) : []), ...fields, ...extra];
  const header = Buffer.from([...vint(body.length), ...body]);
  return Buffer.concat([Buffer.from(u32(crc32(header))), header, data ?? Buffer.alloc(0)]);
}

interface Member {
  name: string;
  data: Uint8Array;
  /** Compression information field; 0 = stored, version 0. */
  compression?: number;
  unpackedSize?: number;
  crc?: number;
  encrypted?: boolean;
  directory?: boolean;
  service?: boolean;
}

function fileBlock(m: Member): Buffer {
  const name = Buffer.from(m.name);
  const fields = [
    ...vint((m.directory ? 1 : 0) | 4),
    ...vint(m.unpackedSize ?? m.data.length),
    ...vint(0x20),
    ...u32(m.crc ?? crc32(m.data)),
    ...vint(m.compression ?? 0),
    ...vint(1), // Unix
    ...vint(name.length),
    ...name,
  ];
  // File encryption record: version 0, flags 0, KDF count, 16-byte salt, 16-byte IV.
  const extra = m.encrypted ? [34, 1, 0, 0, 15, ...new Array<number>(32).fill(7)] : [];
  return block(m.service ? 3 : 2, fields, m.directory ? undefined : m.data, extra);
}

const SIGNATURE = Buffer.from('Rar!\x1a\x07\x01\x00', 'latin1');

function rar5(members: Member[], mainFlags = 0): Buffer {
  return Buffer.concat([SIGNATURE, block(1, vint(mainFlags)), ...members.map(fileBlock), block(5, vint(0))]);
}

const clam = (extra: Partial<Member> = {}): Member => ({ name: 'clam.exe', data: CLAM_EXE, ...extra });
const readme: Member = { name: 'readme.txt', data: Buffer.from('nothing to see here\n') };

async function scan(data: Uint8Array, db: Record<string, string>, options: ScanOptionsInit = {}): Promise<string[]> {
  const dir = tempDir();
  for (const [name, content] of Object.entries(db)) dir.write(name, content);
  const engine = await loadEngine([dir.root]);
  return new Scanner(engine, scanOptions(options)).scanBuffer(data).viruses;
}

const HDB = { 'test.hdb': `${CLAM_MD5}:${CLAM_EXE.length}:ClamAV-Test-File\n` };

test('scanner: clam.exe in a stored RAR 5 archive is ClamAV-Test-File, also when the archive is embedded', async () => {
  const archive = rar5([readme, clam()]);
  assert.deepEqual(await scan(archive, HDB), ['ClamAV-Test-File.UNOFFICIAL']);
  assert.deepEqual(await scan(archive, HDB, { disabledHandlers: new Set(['archive']) }), []);
  // RAR 5 archives are typed by "Rar!" at offset 0 only: ClamAV's RAR-SFX rule knows the RAR 4 signature.
  assert.deepEqual(await scan(Buffer.concat([Buffer.alloc(100, 0x90), archive]), HDB), []);
  // A file typed RAR by its first bytes: UnRAR looks for the real signature in its first 2 MiB.
  const stub = Buffer.concat([Buffer.from('Rar! is not a signature'), Buffer.alloc(5000, 0x90)]);
  assert.deepEqual(await scan(Buffer.concat([stub, archive]), HDB), ['ClamAV-Test-File.UNOFFICIAL']);
  assert.deepEqual(await scan(Buffer.concat([stub, Buffer.alloc(0x200000), archive]), HDB), []);
});

test('scanner: a CRC mismatch is scanned anyway (ClamAV keeps broken files)', async () => {
  const archive = rar5([clam({ crc: 0x12345678 })]);
  assert.deepEqual(await scan(archive, HDB), ['ClamAV-Test-File.UNOFFICIAL']);
  const r = run(rarHandler, archive);
  assert.ok(r.debug.some((d) => d.includes('CRC mismatch')));
});

test('scanner: a header CRC mismatch does not stop UnRAR', async () => {
  const archive = rar5([clam()]);
  const fileHeaderCrc = SIGNATURE.length + block(1, vint(0)).length;
  archive[fileHeaderCrc] ^= 1;
  assert.deepEqual(await scan(archive, HDB), ['ClamAV-Test-File.UNOFFICIAL']);
});

/** A RAR 1.5-4 block: CRC16 (low half of the CRC32 of the rest), type, flags, size, fields; then the data. */
function rar4Block(type: number, flags: number, fields: number[], data?: Uint8Array): Buffer {
  const size = 7 + fields.length;
  const head = Buffer.from([type, flags & 0xff, flags >> 8, size & 0xff, size >> 8, ...fields]);
  const crc = crc32(head) & 0xffff;
  return Buffer.concat([Buffer.from([crc & 0xff, crc >> 8]), head, data ?? Buffer.alloc(0)]);
}

/** A RAR 2.9 archive of stored files (made on Unix). */
function rar4(members: Member[]): Buffer {
  const files = members.map((m) => {
    const name = Buffer.from(m.name);
    const fields = [...u32(m.data.length), ...u32(m.data.length), 3, ...u32(crc32(m.data)), ...u32(0), 29, 0x30, name.length & 0xff, name.length >> 8, ...u32(0x20), ...name];
    return rar4Block(0x74, 0x8000 | (m.encrypted ? 0x04 : 0), fields, m.data);
  });
  return Buffer.concat([Buffer.from('Rar!\x1a\x07\x00', 'latin1'), rar4Block(0x73, 0, [0, 0, 0, 0, 0, 0]), ...files, rar4Block(0x7b, 0x4000, [])]);
}

test('scanner: clam.exe in a stored RAR 2.9 archive, also self-extracting (RAR-SFX inside another file)', async () => {
  const archive = rar4([readme, clam()]);
  assert.deepEqual(await scan(archive, HDB), ['ClamAV-Test-File.UNOFFICIAL']);
  const sfx = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(3000, 0x90), archive]);
  assert.deepEqual(await scan(sfx, HDB), ['ClamAV-Test-File.UNOFFICIAL']);
  assert.deepEqual(await scan(sfx, HDB, { disabledHandlers: new Set(['archive']) }), []);
  const r = run(rarHandler, archive);
  assert.deepEqual(
    r.objects.map((o) => [o.name, o.position, o.method, o.compressedSize]),
    [
      ['readme.txt', 1, 0x30, 20],
      ['clam.exe', 2, 0x30, CLAM_EXE.length],
    ],
  );
  const locked = run(createRarHandler({ alertEncrypted: true }), rar4([clam({ encrypted: true }), readme]));
  assert.deepEqual(
    locked.objects.map((o) => [o.name, o.encrypted, o.data.length]),
    [['clam.exe', true, 0]],
  );
  assert.deepEqual(locked.heuristics, ['Heuristics.Encrypted.RAR']);
});

test('container metadata: 1-based positions, packed size, encrypted flag, name (.cdb)', async () => {
  const archive = rar5([readme, { name: 'dir', data: new Uint8Array(0), directory: true }, clam()]);
  const cdb = (fields: string) => ({ 'test.cdb': `Rar.Meta:CL_TYPE_RAR:*:${fields}:*:*\n` });
  assert.deepEqual(await scan(archive, cdb(`clam\\.exe:${CLAM_EXE.length}:*:0:3`)), ['Rar.Meta.UNOFFICIAL']);
  assert.deepEqual(await scan(archive, cdb('clam\\.exe:*:*:*:2')), []);
  assert.deepEqual(await scan(archive, cdb('dir:*:*:0:2')), ['Rar.Meta.UNOFFICIAL']);
  const locked = rar5([readme, clam({ encrypted: true })]);
  assert.deepEqual(await scan(locked, cdb('clam\\.exe:*:*:1:2')), ['Rar.Meta.UNOFFICIAL']);
  assert.deepEqual(await scan(locked, HDB), []);
});

test('encrypted entries: Heuristics.Encrypted.RAR when alerted, and the archive ends at the first one', async () => {
  const archive = rar5([readme, clam({ name: 'secret.exe', encrypted: true }), clam()]);
  const alerted = { alerts: new Set(['encrypted-archive'] as const) };
  assert.deepEqual(await scan(archive, HDB), ['ClamAV-Test-File.UNOFFICIAL']);
  assert.deepEqual(await scan(archive, HDB, alerted), ['Heuristics.Encrypted.RAR']);
  assert.deepEqual(await scan(archive, { 'other.hdb': `${'0'.repeat(32)}:1:Other\n` }, alerted), ['Heuristics.Encrypted.RAR']);

  const quietRun = run(rarHandler, libarchive('encrypted'));
  assert.deepEqual(
    quietRun.objects.map((o) => [o.name, o.encrypted, o.position, o.data.length]),
    [
      ['a.txt', false, 1, 18],
      ['b.txt', true, 2, 0],
      ['c.txt', false, 3, 18],
      ['d.txt', true, 4, 0],
    ],
  );
  assert.deepEqual(quietRun.heuristics, ['Heuristics.Encrypted.RAR']);
  const alertedRun = run(createRarHandler({ alertEncrypted: true }), libarchive('encrypted'));
  assert.deepEqual(
    alertedRun.objects.map((o) => o.name),
    ['a.txt', 'b.txt'],
  );
});

test('encrypted headers: nothing listed, one encrypted count', () => {
  for (const sample of [libarchive('encrypted_filenames'), fixture('rarfile-rar5-hpsw.rar')]) {
    const r = run(rarHandler, sample);
    assert.deepEqual(r.objects, []);
    assert.deepEqual(r.heuristics, ['Heuristics.Encrypted.RAR']);
  }
});

test('the archive comment is scanned first, as UnRAR hands it to ClamAV (NUL-terminated)', () => {
  const r = run(rarHandler, fixture('rarfile-rar5-crc.rar'));
  assert.equal(Buffer.from(r.objects[0]!.data).toString('latin1'), 'RAR5 archive - crc\n\0');
  assert.equal(r.objects[0]!.name, undefined);
  assert.deepEqual(
    r.objects.slice(1).map((o) => [o.name, o.position, o.data.length]),
    [
      ['stest1.txt', 1, 2048],
      ['stest2.txt', 2, 2048],
    ],
  );
  // Encrypted files do not hide a plain comment.
  assert.equal(Buffer.from(run(rarHandler, fixture('rarfile-rar5-psw.rar')).objects[0]!.data).toString('latin1'), 'RAR5 archive - nohdr-password\n\0');
});

test('a compressed comment is unpacked; a comment with a bad CRC is dropped as UnRAR drops it', () => {
  const sample = fixture('rarfile-rar5-crc.rar');
  const [text] = openRar5(sample, 0, quiet).entries(); // compressed (method 3), 2048 bytes of text
  const packed = sample.subarray(text!.dataStart, text!.dataStart + text!.packedSize);
  const withComment = (crc: number) =>
    rar5([{ name: 'CMT', data: packed, compression: text!.method << 7, unpackedSize: text!.unpackedSize, crc, service: true }, readme]);
  const r = run(rarHandler, withComment(text!.crc32!));
  assert.equal(r.objects[0]!.data.length, 2049);
  assert.equal(crc32(r.objects[0]!.data.subarray(0, 2048)), text!.crc32);
  assert.equal(r.objects[0]!.data[2048], 0);
  assert.equal(r.objects[1]!.name, 'readme.txt');
  assert.deepEqual(
    run(rarHandler, withComment(text!.crc32! ^ 1)).objects.map((o) => o.name),
    ['readme.txt'],
  );
});

test('skipped entries: directories, files over the limit, RAR 7 compression, split files', async () => {
  const archive = rar5([readme, clam()]);
  const r = run(rarHandler, archive, 500);
  assert.deepEqual(
    r.objects.map((o) => [o.name, o.data.length]),
    [
      ['readme.txt', 20],
      ['clam.exe', 0],
    ],
  );
  assert.deepEqual(r.heuristics, ['Heuristics.Limits.Exceeded.MaxFileSize']);
  assert.deepEqual(await scan(archive, HDB, { limits: { maxFileSize: 500 } }), []);
  assert.deepEqual(await scan(archive, HDB, { limits: { maxFileSize: 500 }, alertExceedsMax: true }), ['Heuristics.Limits.Exceeded.MaxFileSize']);
  // Compression version 1 (RAR 7) is unknown to UnRAR 6.24: metadata only, unless stored.
  const [text] = openRar5(fixture('rarfile-rar5-crc.rar'), 0, quiet).entries();
  const packed = fixture('rarfile-rar5-crc.rar').subarray(text!.dataStart, text!.dataStart + text!.packedSize);
  const rar7 = rar5([{ name: 'v7.txt', data: packed, compression: 1 | (text!.method << 7), unpackedSize: 2048, crc: text!.crc32! }, clam({ compression: 1 })]);
  assert.deepEqual(
    run(rarHandler, rar7).objects.map((o) => o.data.length),
    [0, CLAM_EXE.length],
  );
  // The first part of a multi-volume set: the split file is not extracted.
  const part1 = run(rarHandler, libarchive('multiarchive.part01'));
  assert.deepEqual(
    part1.objects.map((o) => [o.name, o.data.length]),
    [['home/antek/temp/build/unrar5/libarchive/bin/bsdcat_test', 0]],
  );
});

test('file copies and symlink-like entries carry no data of their own', () => {
  const r = run(rarHandler, fixture('rarfile-rar5-dups.rar'));
  assert.equal(r.objects.length, 9);
  assert.equal(r.objects[0]!.data.length, 2048);
  assert.ok(r.objects.slice(1).every((o) => o.data.length === 0));
});

test('hostile libarchive samples: no exception, bounded time', () => {
  const hostile = [
    'bad_tables',
    'truncated_huff',
    'loop_bug',
    'distance_overflow',
    'window_buf_and_size_desync',
    'decode_number_out_of_bounds_read',
    'readtables_overflow',
    'invalid_dict_reference',
    'block_size_is_too_small',
    'leftshift1',
    'data_ready_pointer_leak',
    'bytes_remaining_underflow',
  ];
  for (const name of hostile) {
    const started = Date.now();
    assert.doesNotThrow(() => run(rarHandler, libarchive(name)), name);
    assert.ok(Date.now() - started < 2000, name);
  }
});

test('truncated archives never throw and keep what they could extract', () => {
  const full = libarchive('arm');
  for (const cut of [4, 8, 20, 60, 2000, full.length - 5]) assert.doesNotThrow(() => run(rarHandler, full.subarray(0, cut)));
  const half = run(rarHandler, full.subarray(0, 20000)).objects[0]!;
  const whole = decodeAll(full)[0]!.content!;
  assert.ok(half.data.length > 0 && half.data.length < whole.length);
  assert.deepEqual(half.data, whole.subarray(0, half.data.length));
});

test('fuzz: mutated RAR archives never throw or hang', () => {
  const samples = [
    libarchive('compressed'),
    libarchive('multiple_files_solid'),
    libarchive('encrypted'),
    fixture('rarfile-rar5-crc.rar'),
    rar5([readme, clam()]),
    rar4([readme, clam()]),
    libarchive('multiarchive.part03').subarray(0, 12000),
  ];
  fuzz(rarHandler, samples, 0x5241);
});

// --- A minimal RAR 5 compressor for window tests (fixed-length codes, one block) ----------------

type Op = { literal: number } | { length: number; distance: number } | { deltaFilter: number };

class BitWriter {
  readonly bytes: number[] = [];
  private bits = 0;
  write(value: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) {
      if (this.bits % 8 === 0) this.bytes.push(0);
      if (Math.floor(value / 2 ** i) & 1) this.bytes[this.bytes.length - 1]! |= 0x80 >> this.bits % 8;
      this.bits++;
    }
  }
  get bitsInLastByte(): number {
    return this.bits % 8 || 8;
  }
}

/** Code lengths: main 9 bits, distance 6, low distance 4, repeat length 6 (canonical code = symbol). */
const CODE_BITS = [...new Array<number>(306).fill(9), ...new Array<number>(64).fill(6), ...new Array<number>(16).fill(4), ...new Array<number>(44).fill(6)];

function lengthSlot(length: number): [number, number, number] {
  if (length < 10) return [length - 2, 0, 0];
  for (let slot = 8; slot < 44; slot++) {
    const bits = (slot >> 2) - 1;
    const base = 2 + ((4 | (slot & 3)) << bits);
    if (length < base + 2 ** bits) return [slot, length - base, bits];
  }
  throw new Error('length too long');
}

/** Packs `ops` as one RAR 5 block with tables; returns the packed data. */
function compress(ops: Op[]): Uint8Array {
  const w = new BitWriter();
  for (let i = 0; i < 20; i++) w.write(5, 4); // level table: every code 5 bits long
  for (const bits of CODE_BITS) w.write(bits, 5);
  let position = 0;
  for (const op of ops) {
    if ('literal' in op) {
      w.write(op.literal, 9);
      position++;
    } else if ('deltaFilter' in op) {
      w.write(256, 9);
      w.write(0, 2); // start: 1 byte, 0 = here
      w.write(0, 8);
      w.write(3, 2); // length: 4 bytes, low first
      for (let i = 0; i < 4; i++) w.write(Math.floor(op.deltaFilter / 256 ** i) & 0xff, 8);
      w.write(0, 3); // delta
      w.write(0, 5); // 1 channel
    } else {
      const { distance } = op;
      const bonus = distance > 0x40000 ? 3 : distance > 0x2000 ? 2 : distance > 0x100 ? 1 : 0;
      const [slot, extra, extraBits] = lengthSlot(op.length - bonus);
      w.write(262 + slot, 9);
      w.write(extra, extraBits);
      const d = distance - 1;
      if (d < 4) {
        w.write(d, 6);
      } else {
        const dbits = Math.floor(Math.log2(d)) - 1;
        const dslot = 2 * (dbits + 1) + (Math.floor(d / 2 ** dbits) & 1);
        const rest = d - (2 | (dslot & 1)) * 2 ** dbits;
        w.write(dslot, 6);
        if (dbits < 4) w.write(rest, dbits);
        else {
          w.write(Math.floor(rest / 16), dbits - 4);
          w.write(rest & 15, 4);
        }
      }
      position += op.length;
    }
  }
  const size = w.bytes.length;
  const flags = 0xc0 | (2 << 3) | (w.bitsInLastByte - 1);
  const sizeBytes = [size & 0xff, (size >> 8) & 0xff, size >> 16];
  const check = sizeBytes.reduce((c, b) => c ^ b, 0x5a ^ flags);
  return Uint8Array.from([flags, check, ...sizeBytes, ...w.bytes]);
}

/** What the ops mean, computed plainly. */
function expand(ops: Op[]): Uint8Array {
  const out: number[] = [];
  let filter: { start: number; length: number } | undefined;
  for (const op of ops) {
    if ('literal' in op) out.push(op.literal);
    else if ('deltaFilter' in op) filter = { start: out.length, length: op.deltaFilter };
    else for (let i = 0; i < op.length; i++) out.push(out[out.length - op.distance]!);
  }
  if (filter) {
    let previous = 0;
    for (let i = filter.start; i < filter.start + filter.length; i++) out[i] = previous = (previous - out[i]!) & 0xff;
  }
  return Uint8Array.from(out);
}

function windowOps(total: number, dictionary: number, seed: number, deltaAt?: number): Op[] {
  const random = prng(seed);
  const ops: Op[] = [];
  let position = 0;
  while (position < total) {
    if (deltaAt !== undefined && position >= deltaAt) {
      ops.push({ deltaFilter: 70000 });
      deltaAt = undefined;
    }
    if (position < 5000 || random() < 0.3) {
      ops.push({ literal: Math.floor(random() * 256) });
      position++;
    } else {
      const length = 2 + Math.floor(random() * random() * 4000) + 3;
      const distance = 1 + Math.floor(random() * Math.min(position, dictionary) * 0.999);
      ops.push({ length, distance });
      position += length;
    }
  }
  return ops;
}

for (const [label, dictionaryBits, total, deltaAt] of [
  ['128 KiB dictionary, output wrapping a 256 KiB window, a delta filter across the wrap', 0, 700_000, 230_000],
  ['1 MiB dictionary: the window grows from 256 KiB, then wraps', 3, 2_600_000, undefined],
] as const) {
  test(`RAR 5 decoder: ${label}`, () => {
    const dictionary = 0x20000 << dictionaryBits;
    const ops = windowOps(total, dictionary, dictionaryBits + 1, deltaAt);
    const expected = expand(ops);
    const packed = compress(ops);
    const entry: RarEntry = {
      name: 'synthetic',
      isDirectory: false,
      encrypted: false,
      packedSize: packed.length,
      unpackedSize: expected.length,
      method: 3,
      unpackVersion: 50,
      solid: false,
      dictionarySize: dictionary,
      dataStart: 0,
      continuesInNextVolume: false,
      continuesFromPreviousVolume: false,
    };
    const out = new Rar5Unpacker().unpack(entry, packed, expected.length);
    assert.equal(out.length, expected.length);
    assert.ok(Buffer.from(out).equals(expected));
  });
}
