import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { isClamError } from '../src/errors.js';
import type { RarArchive, RarEntry } from '../src/formats/rar/entry.js';
import { RarDataError } from '../src/formats/rar/entry.js';
import { LegacyRarUnpacker } from '../src/formats/rar/legacy-unpacker.js';
import { openRar4 } from '../src/formats/rar/rar4-headers.js';
import { Filter, runFilter, VM_MEMORY_SIZE } from '../src/formats/rar/rar29-filters.js';
import { CLAM_EXE, CLAM_MD5, FUZZ_ITERATIONS, md5, mutate, prng } from './support/more-archives.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'rar', 'legacy');

function fixture(name: string): Uint8Array {
  return readFileSync(join(FIXTURES, name));
}

function open(data: Uint8Array, debug: string[] = []): RarArchive {
  return openRar4(data, 0, (message) => debug.push(message));
}

function packedData(data: Uint8Array, entry: RarEntry): Uint8Array {
  return data.subarray(entry.dataStart, entry.dataStart + entry.packedSize);
}

interface Decoded {
  entry: RarEntry;
  content?: Uint8Array;
}

/** Every entry in archive order, files decoded by one unpacker (as a solid run needs). */
function decodeAll(data: Uint8Array): Decoded[] {
  const unpacker = new LegacyRarUnpacker();
  return [...open(data).entries()].map((entry) => {
    if (entry.isDirectory || entry.encrypted) return { entry };
    return { entry, content: unpacker.unpack(entry, packedData(data, entry), entry.unpackedSize) };
  });
}

function assertCrcs(decoded: Decoded[]): void {
  for (const { entry, content } of decoded) {
    if (!content) continue;
    assert.equal(content.length, entry.unpackedSize, `${entry.name}: size`);
    assert.equal(crc32(content), entry.crc32, `${entry.name}: CRC32`);
  }
}

const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('latin1') : undefined);

// ---- Real archives: names from the tests that come with them, contents checked by CRC32 ----

const SAMPLES: Record<string, { names: string[]; versions: number[] }> = {
  'test_read_format_rar.rar': { names: ['test.txt', 'testlink', 'testdir/test.txt', 'testdir', 'testemptydir'], versions: [] },
  'test_read_format_rar_compress_best.rar': {
    names: ['LibarchiveAddingTest.html', 'testlink', 'testdir/test.txt', 'testdir/LibarchiveAddingTest.html', 'testdir', 'testemptydir'],
    versions: [29],
  },
  'test_read_format_rar_multi_lzss_blocks.rar': { names: ['multi_lzss_blocks_test.txt'], versions: [29] },
  'test_read_format_rar_ppmd_lzss_conversion-cut.rar': { names: ['ppmd_lzss_conversion_test.txt'], versions: [29] },
  'test_read_format_rar_unicode.rar': {
    names: [
      '表だよ/新しいフォルダ/新規テキスト ドキュメント.txt',
      '表だよ/漢字長いファイル名long-filename-in-漢字.txt',
      '表だよ/新しいフォルダ',
      '表だよ',
      '表だよ/ファイル',
      'abcdefghijklmnopqrsテスト.txt',
    ],
    versions: [29],
  },
  'test_read_format_rar_windows.rar': {
    names: ['testdir/test.txt', 'test.txt', 'testshortcut.lnk', 'testdir', 'testemptydir'],
    versions: [],
  },
  'test_read_format_rar_noeof.rar': { names: ['test.txt'], versions: [] },
  'rarfile-rar15-comment.rar': { names: ['FILE1.TXT', 'FILE2.TXT'], versions: [15] },
  'rarfile-rar2-unix-owner.rar': { names: ['file.txt'], versions: [20] },
  'rarfile-rar3-solid.rar': { names: ['stest1.txt', 'stest2.txt'], versions: [29] },
  'rarfile-unicode.rar': { names: ['уииоотивл.txt', '𝐀𝐁𝐁𝐂.txt'], versions: [29] },
  'sharpcompress-Rar15-trimmed.rar': { names: ['EXE/TEST.EXE', 'TECT.TXT'], versions: [15] },
  'sharpcompress-Rar2-trimmed.rar': { names: ['exe/test.exe', 'тест.txt'], versions: [20] },
  'sharpcompress-Rar.solid-trimmed.rar': { names: ['тест.txt', 'exe/test.exe'], versions: [29] },
  'ssokolow-testfile.rar3.rr.rar': { names: ['testfile.txt'], versions: [29] },
};

for (const [file, expected] of Object.entries(SAMPLES)) {
  test(`${file}: names as published, every entry's content matches its CRC32`, () => {
    const data = fixture(file);
    const debug: string[] = [];
    const entries = [...open(data, debug).entries()];
    assert.deepEqual(
      entries.map((e) => e.name),
      expected.names,
    );
    assert.deepEqual(debug, [], 'an intact archive is read to its end quietly');
    const packedVersions = new Set(entries.filter((e) => e.method !== 0x30 && !e.isDirectory).map((e) => e.unpackVersion));
    assert.deepEqual([...packedVersions], expected.versions);
    assertCrcs(decodeAll(data));
  });
}

test('RAR 2.9 contents libarchive publishes: low-distance reset, the end of a 20 MB text, PPMd-packed files', () => {
  const lowdist = decodeAll(fixture('test_read_format_rar3_lowdist_reset.rar'))[0]!;
  assert.equal(lowdist.entry.name, 'lowdist-reset.bin');
  assert.deepEqual(
    [...lowdist.content!],
    [...Array.from({ length: 40 }, (_, i) => i), 2, 3, 4, 5, 6, 7, 13, 14, 15, ...Array.from({ length: 15 }, (_, i) => 0x28 + i)],
  );

  const lzss = decodeAll(fixture('test_read_format_rar_multi_lzss_blocks.rar'))[0]!;
  assert.equal(lzss.content!.length, 20131111);
  assert.equal(text(lzss.content!.subarray(-39)), '-bottom: 0in"><BR>\n</P>\n</BODY>\n</HTML>');

  const best = decodeAll(fixture('test_read_format_rar_compress_best.rar'));
  assert.equal(text(best[0]!.content!.subarray(-50)), '<P STYLE="margin-bottom: 0in"><BR>\n</P>\n</BODY>\n</HTML>'.slice(-50));
  assert.equal(text(best[2]!.content), 'test text document\r\n');
});

test('directories, symlinks and stored entries', () => {
  const data = fixture('test_read_format_rar.rar');
  const [file, link, , dir] = decodeAll(data);
  assert.equal(text(file!.content), 'test text document\r\n');
  assert.equal(file!.entry.method, 0x30);
  assert.equal(text(link!.content), 'test.txt', 'a Unix symlink is stored as its target');
  assert.equal(dir!.entry.isDirectory, true);
  assert.equal(dir!.entry.dictionarySize, 0);
  assert.equal(text(decodeAll(fixture('test_read_format_rar_windows.rar'))[1]!.content), 'test text file\r\n');
});

test('archive comments: RAR 1.5 and 2.0 ones packed in the main header, RAR 3 ones in a CMT service header', () => {
  assert.equal(text(open(fixture('rarfile-rar15-comment.rar')).comment), 'RARcomment -----');
  assert.equal(text(open(fixture('rarfile-rar202-comment-nopsw.rar')).comment), 'RARcomment');
  assert.equal(text(open(fixture('rarfile-rar3-comment-plain.rar')).comment), 'RARcomment\n');
  assert.equal(text(open(fixture('test_read_format_rar_subblock.rar')).comment), 'test rar with archive comment');
  assert.equal(open(fixture('test_read_format_rar.rar')).comment, undefined);
  // The 2.0 comment's archive also has stored entries and file comments, skipped with their headers.
  assertCrcs(decodeAll(fixture('rarfile-rar202-comment-nopsw.rar')));
  assertCrcs(decodeAll(fixture('rarfile-rar3-comment-plain.rar')));
});

test('encryption: encrypted headers list nothing; encrypted entries are flagged, solid ones too', () => {
  const headers = open(fixture('test_read_format_rar_encryption_header.rar'));
  assert.equal(headers.headersEncrypted, true);
  assert.deepEqual([...headers.entries()], []);

  const data = open(fixture('test_read_format_rar_encryption_data.rar'));
  assert.equal(data.headersEncrypted, false);
  assert.deepEqual(
    [...data.entries()].map((e) => [e.name, e.encrypted]),
    [
      ['foo.txt', true],
      ['bar.txt', true],
    ],
  );
  const solid = [...open(fixture('test_read_format_rar4_solid_encrypted.rar')).entries()];
  assert.deepEqual(
    solid.map((e) => [e.encrypted, e.solid]),
    [
      [true, false],
      [true, true],
      [true, true],
      [true, true],
    ],
  );
});

// ---- Solid runs and the unpacker contract ----

test('a solid entry continues its predecessor: decoded alone it cannot come out right', () => {
  for (const file of ['rarfile-rar3-solid.rar', 'rarfile-unicode.rar', 'sharpcompress-Rar.solid-trimmed.rar']) {
    const data = fixture(file);
    const [first, second] = [...open(data).entries()];
    assert.equal(first!.solid, false);
    assert.equal(second!.solid, true);
    let wrong: boolean;
    try {
      const alone = new LegacyRarUnpacker().unpack(second!, packedData(data, second!), second!.unpackedSize);
      wrong = crc32(alone) !== second!.crc32;
    } catch (err) {
      wrong = isClamError(err);
    }
    assert.ok(wrong, `${file}: the second entry needs the first`);
  }
});

test('limit: only the first bytes are returned, yet the whole entry is decoded for its solid successor', () => {
  const data = fixture('sharpcompress-Rar.solid-trimmed.rar');
  const [first, second] = [...open(data).entries()];
  const full = decodeAll(data);
  const unpacker = new LegacyRarUnpacker();
  assert.deepEqual(unpacker.unpack(first!, packedData(data, first!), 0), new Uint8Array(0));
  const head = unpacker.unpack(second!, packedData(data, second!), 100);
  assert.deepEqual(head, full[1]!.content!.subarray(0, 100));
  assert.equal(text(head.subarray(0, 2)), 'MZ');
});

test('packed data cut short: RarDataError (EFORMAT) carrying the content decoded before the cut', () => {
  const files = ['sharpcompress-Rar15-trimmed.rar', 'sharpcompress-Rar2-trimmed.rar', 'sharpcompress-Rar.solid-trimmed.rar'];
  for (const file of [...files, 'test_read_format_rar_compress_best.rar']) {
    const data = fixture(file);
    const full = decodeAll(data);
    const unpacker = new LegacyRarUnpacker();
    for (const [i, { entry, content }] of full.entries()) {
      if (!content || entry.method === 0x30) continue;
      const packed = packedData(data, entry);
      // The previous entry's state is there (a solid run); this one's data is cut in half.
      if (i + 1 < full.length && full[i + 1]!.entry.solid) {
        unpacker.unpack(entry, packed, entry.unpackedSize);
        continue;
      }
      assert.throws(
        () => unpacker.unpack(entry, packed.subarray(0, packed.length >> 1), entry.unpackedSize),
        (err: unknown) => {
          assert.ok(err instanceof RarDataError, `${file} ${entry.name}: ${String(err)}`);
          assert.equal(err.code, 'EFORMAT');
          // An E8 filter waiting for the end of its block holds back all output from its start.
          const filtered = file.includes('solid');
          const length = err.partial.length;
          assert.ok((filtered || length > 0) && length < entry.unpackedSize, `${file} ${entry.name}: ${length}`);
          assert.deepEqual(err.partial, content.subarray(0, err.partial.length));
          return true;
        },
      );
      break;
    }
  }
});

test('unpack: stored entries come back as they are; unknown versions are EFORMAT', () => {
  const data = fixture('test_read_format_rar.rar');
  const stored = [...open(data).entries()][0]!;
  assert.deepEqual(new LegacyRarUnpacker().unpack(stored, packedData(data, stored), 4), packedData(data, stored).subarray(0, 4));
  const packed = [...open(fixture('rarfile-rar2-unix-owner.rar')).entries()][0]!;
  assert.throws(() => new LegacyRarUnpacker().unpack({ ...packed, unpackVersion: 21 }, new Uint8Array(17), 4), { code: 'EFORMAT' });
});

// ---- Hand-built archives: header fields from the format description ----

const MARKER = Uint8Array.of(0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00);

/** A block with its CRC16: type, flags, then the fields (a file header's first field is its data size). */
function block(type: number, flags: number, fields: Uint8Array): Uint8Array {
  const header = new Uint8Array(7 + fields.length);
  const view = new DataView(header.buffer);
  header[2] = type;
  view.setUint16(3, flags, true);
  view.setUint16(5, header.length, true);
  header.set(fields, 7);
  view.setUint16(0, crc32(header.subarray(2)) & 0xffff, true);
  return header;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

function mainHeader(flags = 0, extra = new Uint8Array(0)): Uint8Array {
  // The CRC covers the 13 bytes of the main header proper, not an old-style comment after them.
  const main = block(0x73, flags, new Uint8Array(6));
  if (extra.length === 0) return main;
  const whole = concat(main, extra);
  const view = new DataView(whole.buffer);
  view.setUint16(5, whole.length, true);
  view.setUint16(0, crc32(whole.subarray(2, 13)) & 0xffff, true);
  return whole;
}

const END = block(0x7b, 0x4000, new Uint8Array(0));

interface FileOptions {
  flags?: number;
  type?: number;
  nameField?: Uint8Array;
  /** Header bytes after the name (salt, extended times). */
  after?: Uint8Array;
  unpackedHigh?: number;
}

function fileBlock(name: string, data: Uint8Array, options: FileOptions = {}): Uint8Array {
  const nameField = options.nameField ?? Buffer.from(name, 'latin1');
  const large = options.unpackedHigh !== undefined;
  const after = options.after ?? new Uint8Array(0);
  const fields = new Uint8Array(25 + (large ? 8 : 0) + nameField.length + after.length);
  const view = new DataView(fields.buffer);
  view.setUint32(0, data.length, true);
  view.setUint32(4, data.length, true);
  fields[8] = 2; // Windows
  view.setUint32(9, crc32(data), true);
  fields[17] = 29;
  fields[18] = 0x30;
  view.setUint16(19, nameField.length, true);
  if (large) view.setUint32(29, options.unpackedHigh!, true);
  fields.set(nameField, large ? 33 : 25);
  fields.set(after, (large ? 33 : 25) + nameField.length);
  const flags = 0x8000 | 0x20 | (large ? 0x100 : 0) | (options.flags ?? 0);
  return concat(block(options.type ?? 0x74, flags, fields), data);
}

test('hand-built stored archive holding clam.exe', () => {
  const data = concat(MARKER, mainHeader(), fileBlock('clam.exe', CLAM_EXE), END);
  const [entry, ...rest] = [...open(data).entries()];
  assert.deepEqual(rest, []);
  assert.equal(entry!.name, 'clam.exe');
  assert.equal(entry!.dictionarySize, 128 * 1024);
  assert.equal(md5(new LegacyRarUnpacker().unpack(entry!, packedData(data, entry!), entry!.unpackedSize)), CLAM_MD5);
});

test("names in RAR's encoded Unicode form: all four operations, and separators", () => {
  const encoded = (oem: string, ...bytes: number[]) => concat(Buffer.from(oem, 'latin1'), Uint8Array.of(0, ...bytes));
  const cases: [Uint8Array, string][] = [
    // High byte 0x04; four "high byte + this byte" characters, then four "byte below 256" ones.
    [encoded('????.txt', 0x04, 0x55, 0x42, 0x35, 0x41, 0x42, 0x00, 0x2e, 0x74, 0x78, 0x74), 'тест.txt'],
    // A full 16-bit character (Ω, U+03A9), then 4 characters copied from the OEM name.
    [encoded('Omega', 0x00, 0xb0, 0xa9, 0x03, 0x02), 'Ωmega'],
    // 4 characters from the OEM name with 0xcf added to their low byte, in the high byte's page.
    [encoded('abcd', 0x04, 0xc0, 0x82, 0xcf), 'абвг'],
    // A backslash separator turns into '/'.
    [encoded('a\\b', 0x00, 0x00, 0x61, 0x5c, 0x62), 'a/b'],
  ];
  for (const [field, name] of cases) {
    const data = concat(MARKER, mainHeader(), fileBlock('', new Uint8Array(0), { flags: 0x200, nameField: field }), END);
    assert.equal([...open(data).entries()][0]!.name, name);
  }
  // The Unicode flag without a zero byte: the name is UTF-8.
  const utf8 = concat(MARKER, mainHeader(), fileBlock('', new Uint8Array(0), { flags: 0x200, nameField: Buffer.from('dir\\ü.txt') }), END);
  assert.equal([...open(utf8).entries()][0]!.name, 'dir/ü.txt');
});

test('header fields: 64-bit sizes, the directory window, split flags, salt', () => {
  const big = concat(MARKER, mainHeader(), fileBlock('big', new Uint8Array(0), { unpackedHigh: 1 }), END);
  assert.equal([...open(big).entries()][0]!.unpackedSize, 2 ** 32);
  const dir = concat(MARKER, mainHeader(), fileBlock('d', new Uint8Array(0), { flags: 0xe0 }), END);
  assert.equal([...open(dir).entries()][0]!.isDirectory, true);
  const split = concat(MARKER, mainHeader(), fileBlock('s', Uint8Array.of(1, 2), { flags: 0x03 }), END);
  const entry = [...open(split).entries()][0]!;
  assert.deepEqual([entry.continuesFromPreviousVolume, entry.continuesInNextVolume], [true, true]);
  const salted = concat(MARKER, mainHeader(), fileBlock('x', Uint8Array.of(9), { flags: 0x400 | 0x04, after: new Uint8Array(8) }), END);
  const encrypted = [...open(salted).entries()][0]!;
  assert.deepEqual([encrypted.name, encrypted.encrypted, packedData(salted, encrypted)], ['x', true, Uint8Array.of(9)]);
  // RAR 1.5 entries take solidity from the archive: all but the first of a solid archive.
  const v15 = (block: Uint8Array) => {
    block[24] = 15;
    new DataView(block.buffer, block.byteOffset).setUint16(0, crc32(block.subarray(2, 7 + 25 + 1)) & 0xffff, true);
    return block;
  };
  const solid = concat(MARKER, mainHeader(0x08), v15(fileBlock('a', new Uint8Array(0))), v15(fileBlock('b', new Uint8Array(0))), END);
  assert.deepEqual(
    [...open(solid).entries()].map((e) => [e.unpackVersion, e.solid]),
    [
      [15, false],
      [15, true],
    ],
  );
});

test('hand-built comments: old style in the main header (CRC16), CMT service header (CRC32, up to a zero byte)', () => {
  const oldComment = (comment: string, crc: number) => {
    const fields = new Uint8Array(6);
    const view = new DataView(fields.buffer);
    view.setUint16(0, comment.length, true);
    fields[2] = 15;
    fields[3] = 0x30;
    view.setUint16(4, crc, true);
    return block(0x75, 0, concat(fields, Buffer.from(comment, 'latin1')));
  };
  const good = concat(MARKER, mainHeader(0x02, oldComment('hello', crc32(Buffer.from('hello')) & 0xffff)), END);
  assert.equal(text(open(good).comment), 'hello');
  const debug: string[] = [];
  const bad = concat(MARKER, mainHeader(0x02, oldComment('hello', 0)), END);
  assert.equal(open(bad, debug).comment, undefined);
  assert.deepEqual(debug, ['RAR: archive comment CRC mismatch']);

  const cmt = (flags = 0) => fileBlock('CMT', Buffer.from('note\0tail'), { type: 0x7a, flags });
  const service = concat(MARKER, mainHeader(), cmt(), fileBlock('f', new Uint8Array(0)), END);
  assert.equal(text(open(service).comment), 'note');
  assert.deepEqual(
    [...open(service).entries()].map((e) => e.name),
    ['f'],
    'service headers are not entries',
  );
  assert.equal(open(concat(MARKER, mainHeader(), cmt(0x04), END)).comment, undefined, 'encrypted comment');
  const late = concat(MARKER, mainHeader(), fileBlock('f', new Uint8Array(0)), cmt(), END);
  assert.equal(open(late).comment, undefined, 'only before the first file');
});

test('encrypted headers, damage and the end of the list', () => {
  assert.equal(open(concat(MARKER, mainHeader(0x80), END)).headersEncrypted, true);
  assert.throws(() => open(fixture('test_read_format_rar_overflow.rar')), { code: 'EFORMAT', message: 'RAR: main archive header missing' });
  assert.throws(() => open(MARKER), { code: 'EFORMAT' });
  assert.throws(() => open(Uint8Array.of(1, 2, 3)), { code: 'EFORMAT' });

  const first = concat(MARKER, mainHeader(), fileBlock('one', Uint8Array.of(1)));
  const two = concat(first, fileBlock('two', Uint8Array.of(2)), END);
  const secondHeader = first.length;
  const damaged = Uint8Array.from(two);
  damaged[secondHeader + 32] ^= 1; // a letter of "two"
  const debug: string[] = [];
  assert.deepEqual(
    [...open(damaged, debug).entries()].map((e) => e.name),
    ['one'],
  );
  assert.deepEqual(debug, [`RAR: header CRC mismatch at offset ${secondHeader}`]);

  const unknown = Uint8Array.from(two);
  unknown[secondHeader + 2] = 0x70;
  const unknownDebug: string[] = [];
  assert.equal([...open(unknown, unknownDebug).entries()].length, 1);
  assert.deepEqual(unknownDebug, [`RAR: unknown block type 0x70 at offset ${secondHeader}`]);

  const truncatedDebug: string[] = [];
  assert.equal([...open(two.subarray(0, secondHeader + 20), truncatedDebug).entries()].length, 1);
  assert.deepEqual(truncatedDebug, [`RAR: block header truncated at offset ${secondHeader}`]);
});

test("libarchive's damaged archives: no content passes its CRC, and only ClamErrors are thrown", () => {
  for (const file of ['test_read_format_rar_invalid1.rar', 'test_read_format_rar_unbound_staticdata.rar']) {
    const data = fixture(file);
    const unpacker = new LegacyRarUnpacker();
    const entries = [...open(data).entries()];
    assert.equal(entries.length, 1, file);
    for (const entry of entries) {
      try {
        assert.notEqual(crc32(unpacker.unpack(entry, packedData(data, entry), entry.unpackedSize)), entry.crc32, file);
      } catch (err) {
        assert.ok(isClamError(err), `${file}: ${String(err)}`);
      }
    }
  }
});

// ---- RAR 2.9 standard filters, where no archive sample has them ----

test('RAR 2.9 filters: IA-64 branch targets, rejected parameters, programs UnRAR does not run', () => {
  // One bundle, template 0x10 (branch in slot 2): opcode 5 at bits 124-127, target at bits 100-119.
  const memory = new Uint8Array(VM_MEMORY_SIZE + 4);
  const bundle = 3;
  const target = 0x12345;
  const setBits = (bit: number, count: number, value: number) => {
    for (let i = 0; i < count; i++) if ((value >> i) & 1) memory[16 * bundle + ((bit + i) >> 3)]! |= 1 << ((bit + i) & 7);
  };
  memory[16 * bundle] = 0x10;
  setBits(87 + 37, 4, 5);
  setBits(87 + 13, 20, (target + bundle + 1) & 0xfffff); // absolute: plus the bundle number (file offset 16)
  const registers = new Uint32Array(7);
  registers[4] = 16 * (bundle + 2);
  registers[6] = 16;
  assert.deepEqual(runFilter(Filter.itanium, memory, registers), { start: 0, length: 16 * (bundle + 2) });
  const word = new DataView(memory.buffer).getUint32(16 * bundle + 12, true);
  assert.equal((word >>> 4) & 0xfffff, target);

  // Delta with no channels is rejected: UnRAR writes the block as it is.
  memory.set([1, 2, 3, 4]);
  registers.fill(0);
  registers[4] = 4;
  assert.deepEqual(runFilter(Filter.delta, memory, registers), { start: 0, length: 4 });
  registers[0] = 1;
  assert.deepEqual(runFilter(Filter.delta, memory, registers), { start: 4, length: 4 });
  assert.deepEqual([...memory.subarray(4, 8)], [255, 253, 250, 246]);
  // A program that is not one of the six standard filters: its block is not written at all.
  assert.deepEqual(runFilter(Filter.none, memory, registers), { start: 0, length: 0 });
});

// ---- Seeded mutation fuzzing: only ClamErrors, bounded time ----

function decodeQuietly(data: Uint8Array, entries: Iterable<RarEntry>, packed: (entry: RarEntry, index: number) => Uint8Array): void {
  const unpacker = new LegacyRarUnpacker();
  let index = 0;
  for (const entry of entries) {
    if (entry.isDirectory || entry.encrypted) continue;
    try {
      unpacker.unpack(entry, packed(entry, index++), 4 * 1024 * 1024);
    } catch (err) {
      if (!isClamError(err)) throw err;
    }
  }
  void data;
}

function timed(label: string, body: () => void): void {
  const started = Date.now();
  try {
    body();
  } catch (err) {
    if (!isClamError(err)) assert.fail(`${label}: ${String(err)}`);
  }
  const took = Date.now() - started;
  assert.ok(took < 3000, `${label} took ${took} ms`);
}

const FUZZ_SAMPLES = [
  'test_read_format_rar_compress_best.rar',
  'test_read_format_rar3_lowdist_reset.rar',
  'test_read_format_rar_unicode.rar',
  'rarfile-rar15-comment.rar',
  'rarfile-rar202-comment-nopsw.rar',
  'rarfile-rar3-comment-plain.rar',
  'rarfile-rar3-solid.rar',
  'rarfile-unicode.rar',
  'sharpcompress-Rar15-trimmed.rar',
  'sharpcompress-Rar2-trimmed.rar',
  'sharpcompress-Rar.solid-trimmed.rar',
].map(fixture);

test('fuzz: mutated archives (headers and data) never throw anything but ClamError, nor hang', () => {
  const random = prng(0x4a4);
  for (let i = 0; i < FUZZ_ITERATIONS; i++) {
    const input = mutate(FUZZ_SAMPLES[i % FUZZ_SAMPLES.length]!, random);
    timed(`iteration ${i}`, () => {
      const archive = open(input);
      void archive.comment;
      decodeQuietly(input, archive.entries(), (entry) => packedData(input, entry));
    });
  }
});

test('fuzz: mutated packed data behind intact headers reaches every decoder', () => {
  const random = prng(0x1529);
  const runs = FUZZ_SAMPLES.map((data) => ({ data, entries: [...open(data).entries()] }));
  for (let i = 0; i < FUZZ_ITERATIONS; i++) {
    const { data, entries } = runs[i % runs.length]!;
    const files = entries.filter((e) => !e.isDirectory && !e.encrypted);
    const victim = Math.floor(random() * files.length);
    timed(`iteration ${i}`, () =>
      decodeQuietly(data, files, (entry, index) => (index === victim ? mutate(packedData(data, entry), random) : packedData(data, entry))),
    );
  }
});
