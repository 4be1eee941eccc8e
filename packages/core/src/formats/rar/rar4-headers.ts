import { crc32 } from 'node:zlib';
import { ClamError } from '../../errors.js';
import { latin1, u16le, u32le } from '../compression/read.js';
import type { RarArchive, RarEntry } from './entry.js';
import { LegacyRarUnpacker } from './legacy-unpacker.js';

/**
 * RAR 1.5–4 archive headers: after the 7-byte marker "Rar!\x1a\x07\x00", a chain of blocks,
 * each starting with CRC16 u16, type u8, flags u16, header size u16 and, when flag 0x8000 is
 * set, a u32 count of data bytes following the header. The CRC16 is the low half of the CRC32
 * of the header from the type byte on.
 *
 * File headers (and the RAR 3 service headers laid out like them) continue with packed size
 * u32, unpacked size u32, host OS u8, file CRC32 u32, DOS time u32, unpack version u8, method
 * u8, name size u16, attributes u32, then the high halves of both sizes (flag 0x100), the name,
 * an 8-byte salt (0x400) and extended times (0x1000).
 */

const SIGNATURE = [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00];
const BLOCK_HEAD_SIZE = 7;

const MAIN_HEADER = 0x73;
const FILE_HEADER = 0x74;
const OLD_COMMENT = 0x75;
const OLD_AUTHENTICITY = 0x76;
const OLD_SUBBLOCK = 0x77;
const OLD_RECOVERY = 0x78;
const OLD_SIGNATURE = 0x79;
const SERVICE_HEADER = 0x7a;
const END_OF_ARCHIVE = 0x7b;

/** Block flag: a u32 data size follows the header. */
const HAS_DATA = 0x8000;

const MAIN_HEADER_SIZE = 13;
const MAIN_COMMENT = 0x0002;
const MAIN_SOLID = 0x0008;
const MAIN_ENCRYPTED_HEADERS = 0x0080;
const MAIN_ENCRYPT_VERSION = 0x0200;

const FILE_FIXED_SIZE = 25;
const FILE_SPLIT_BEFORE = 0x0001;
const FILE_SPLIT_AFTER = 0x0002;
const FILE_ENCRYPTED = 0x0004;
const FILE_COMMENT = 0x0008;
const FILE_SOLID = 0x0010;
const FILE_WINDOW_SHIFT = 5;
const FILE_WINDOW_MASK = 0x00e0;
const FILE_DIRECTORY = 0x00e0;
const FILE_LARGE = 0x0100;
const FILE_UNICODE = 0x0200;
const FILE_SALT = 0x0400;
const SALT_SIZE = 8;

const STORED = 0x30;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** Old-style comment block (inside the main header): the common head, unpacked size u16, version u8, method u8, CRC16 u16. */
const OLD_COMMENT_HEAD_SIZE = 13;
/** Comments are unpacked with a 64 KiB dictionary and at most this version (UnRAR's limits). */
const COMMENT_DICTIONARY = 0x10000;
const COMMENT_MAX_VERSION = 29;
const COMMENT_MAX_SIZE = 0x1000000;

/** What a file or service header says (service headers carry a name such as "CMT" and data). */
interface FileHeader {
  readonly flags: number;
  readonly name: string;
  readonly packedSize: number;
  readonly unpackedSize: number;
  readonly crc32: number;
  readonly unpackVersion: number;
  readonly method: number;
  readonly dataStart: number;
}

interface Block {
  readonly type: number;
  readonly flags: number;
  readonly start: number;
  readonly headerSize: number;
  /** Where the next block starts. */
  readonly next: number;
}

/** Whether `data` holds a RAR 1.5–4 marker at `at`. */
function isRar4Signature(data: Uint8Array, at: number): boolean {
  return at + SIGNATURE.length <= data.length && SIGNATURE.every((b, i) => data[at + i] === b);
}

/**
 * Opens the RAR 1.5–4 archive whose marker is at `start`. Throws ClamError('EFORMAT') when there
 * is no marker or no intact main header; damage further on ends the entry list (see `entries`).
 */
export function openRar4(data: Uint8Array, start: number, debug: (message: string) => void): RarArchive {
  if (!isRar4Signature(data, start)) throw new ClamError('EFORMAT', { message: 'RAR: no RAR 1.5-4 marker' });
  const mainAt = start + SIGNATURE.length;
  const main = readBlock(data, mainAt);
  if (typeof main === 'string' || main.type !== MAIN_HEADER || main.headerSize < MAIN_HEADER_SIZE) {
    throw new ClamError('EFORMAT', { message: 'RAR: main archive header missing' });
  }
  if (!headerCrcMatches(data, mainAt, MAIN_HEADER_SIZE)) {
    throw new ClamError('EFORMAT', { message: 'RAR: main archive header CRC mismatch' });
  }

  if (main.flags & MAIN_ENCRYPTED_HEADERS) {
    debug('RAR: the block headers are encrypted');
    return { headersEncrypted: true, entries: () => [] };
  }
  const solidArchive = (main.flags & MAIN_SOLID) !== 0;
  let comment: Uint8Array | undefined;
  if (main.flags & MAIN_COMMENT) {
    const at = mainAt + MAIN_HEADER_SIZE + (main.flags & MAIN_ENCRYPT_VERSION ? 1 : 0);
    comment = readOldComment(data, at, main.next, debug);
  } else {
    comment = findServiceComment(data, main.next, debug);
  }
  return {
    headersEncrypted: false,
    comment,
    entries: () => listEntries(data, main.next, solidArchive, debug),
  };
}

function* listEntries(data: Uint8Array, from: number, solidArchive: boolean, debug: (message: string) => void): Generator<RarEntry> {
  let index = 0;
  for (const header of fileHeaders(data, from, debug)) {
    if (header.type !== FILE_HEADER) continue;
    yield toEntry(header.file, solidArchive && index > 0);
    index++;
  }
}

function toEntry(header: FileHeader, afterFirstOfSolidArchive: boolean): RarEntry {
  const flags = header.flags;
  const isDirectory = (flags & FILE_WINDOW_MASK) === FILE_DIRECTORY;
  return {
    name: header.name,
    isDirectory,
    encrypted: (flags & FILE_ENCRYPTED) !== 0,
    packedSize: header.packedSize,
    unpackedSize: header.unpackedSize,
    method: header.method,
    unpackVersion: header.unpackVersion,
    // Entries packed by RAR 1.5 and older follow the archive's solid flag (UnRAR decides so by
    // version); later versions mark each entry.
    solid: header.unpackVersion <= 15 ? afterFirstOfSolidArchive : (flags & FILE_SOLID) !== 0,
    dictionarySize: isDirectory ? 0 : 0x10000 << ((flags & FILE_WINDOW_MASK) >> FILE_WINDOW_SHIFT),
    crc32: header.crc32,
    dataStart: header.dataStart,
    continuesInNextVolume: (flags & FILE_SPLIT_AFTER) !== 0,
    continuesFromPreviousVolume: (flags & FILE_SPLIT_BEFORE) !== 0,
  };
}

/** The file and service headers from `from` on, until the end block, the end of data or damage. */
function* fileHeaders(
  data: Uint8Array,
  from: number,
  debug: (message: string) => void,
): Generator<{ type: number; file: FileHeader }> {
  for (let at = from; at < data.length; ) {
    const block = readBlock(data, at);
    if (typeof block === 'string') {
      debug(`RAR: ${block} at offset ${at}`);
      return;
    }
    switch (block.type) {
      case FILE_HEADER:
      case SERVICE_HEADER: {
        const file = readFileHeader(data, block);
        if (typeof file === 'string') {
          debug(`RAR: ${file} at offset ${at}`);
          return;
        }
        if (file.dataStart + file.packedSize > data.length) debug(`RAR: the data of ${file.name} is truncated`);
        yield { type: block.type, file };
        break;
      }
      case END_OF_ARCHIVE:
        return;
      case OLD_COMMENT:
      case OLD_AUTHENTICITY:
      case OLD_SUBBLOCK:
      case OLD_RECOVERY:
      case OLD_SIGNATURE:
        break;
      default:
        debug(`RAR: unknown block type 0x${block.type.toString(16)} at offset ${at}`);
        return;
    }
    at = block.next;
  }
}

/** The block at `at`, or why there is none. */
function readBlock(data: Uint8Array, at: number): Block | string {
  if (at + BLOCK_HEAD_SIZE > data.length) return 'block header truncated';
  const flags = u16le(data, at + 3);
  const headerSize = u16le(data, at + 5);
  const minimum = flags & HAS_DATA ? BLOCK_HEAD_SIZE + 4 : BLOCK_HEAD_SIZE;
  if (headerSize < minimum) return 'block header too small';
  if (at + headerSize > data.length) return 'block header truncated';
  const dataSize = flags & HAS_DATA ? u32le(data, at + BLOCK_HEAD_SIZE) : 0;
  return { type: data[at + 2]!, flags, start: at, headerSize, next: at + headerSize + dataSize };
}

function headerCrcMatches(data: Uint8Array, at: number, length: number): boolean {
  return (crc32(data.subarray(at + 2, at + length)) & 0xffff) === u16le(data, at);
}

function readFileHeader(data: Uint8Array, block: Block): FileHeader | string {
  const flags = block.flags;
  const at = block.start + BLOCK_HEAD_SIZE;
  const end = block.start + block.headerSize;
  if (at + FILE_FIXED_SIZE > end) return 'file header too small';
  let packedSize = u32le(data, at);
  let unpackedSize = u32le(data, at + 4);
  const nameSize = u16le(data, at + 19);
  let pos = at + FILE_FIXED_SIZE;
  if (flags & FILE_LARGE) {
    if (pos + 8 > end) return 'file header too small';
    packedSize += u32le(data, pos) * 0x100000000;
    unpackedSize += u32le(data, pos + 4) * 0x100000000;
    pos += 8;
  }
  if (pos + nameSize > end) return 'file name runs past its header';
  const nameField = data.subarray(pos, pos + nameSize);
  pos += nameSize;
  if (flags & FILE_SALT) pos += SALT_SIZE;
  if (pos > end) return 'file header too small';
  // An old-style file comment fills the rest of the header and is left out of its CRC.
  if (!headerCrcMatches(data, block.start, flags & FILE_COMMENT ? pos - block.start : block.headerSize)) return 'header CRC mismatch';
  return {
    flags,
    name: decodeName(nameField, (flags & FILE_UNICODE) !== 0),
    packedSize,
    unpackedSize,
    crc32: u32le(data, at + 9),
    unpackVersion: data[at + 17]!,
    method: data[at + 18]!,
    dataStart: end,
  };
}

/**
 * The name as text: the archiver's own charset (see `localName`; with the Unicode flag but no
 * zero byte it is UTF-8), or, after the local form and a zero byte, RAR's compact encoding of
 * the UTF-16 name. RAR 1.5–4 separate directories with backslashes, which UnRAR turns into '/'.
 */
function decodeName(field: Uint8Array, unicode: boolean): string {
  const zero = field.indexOf(0);
  const name = unicode && zero >= 0 ? decodeEncodedUnicode(field, zero + 1) : localName(zero < 0 ? field : field.subarray(0, zero));
  return name.replace(/\\/g, '/');
}

/**
 * A name without RAR's Unicode form, in whatever charset the archiver used: UnRAR converts it
 * with the locale's (UTF-8 nowadays, and clamscan runs with the user's locale), so valid UTF-8
 * is read as such and anything else byte for byte.
 */
function localName(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    return latin1(bytes);
  }
}

/**
 * RAR's encoded Unicode name: a byte with the high half of most characters, then groups of four
 * 2-bit operations under a flags byte: 0 a character below 256, 1 a character in the common high
 * half, 2 a full 16-bit character, 3 a run copied from the OEM name at the same positions (with
 * an optional correction added to the low byte and the common high half).
 */
function decodeEncodedUnicode(field: Uint8Array, at: number): string {
  const units: number[] = [];
  const max = field.length;
  let pos = at;
  if (pos >= field.length) return '';
  const high = field[pos++]! << 8;
  let flags = 0;
  let flagBits = 0;
  while (pos < field.length && units.length < max) {
    if (flagBits === 0) {
      flags = field[pos++]!;
      flagBits = 8;
      if (pos >= field.length) break;
    }
    flagBits -= 2;
    const operation = (flags >> flagBits) & 3;
    if (operation === 0) {
      units.push(field[pos++]!);
    } else if (operation === 1) {
      units.push(high | field[pos++]!);
    } else if (operation === 2) {
      if (pos + 1 >= field.length) break;
      units.push(field[pos]! | (field[pos + 1]! << 8));
      pos += 2;
    } else {
      let count = field[pos++]!;
      if (count & 0x80) {
        if (pos >= field.length) break;
        const correction = field[pos++]!;
        for (count = (count & 0x7f) + 2; count > 0 && units.length < max; count--) {
          units.push(((field[units.length]! + correction) & 0xff) + high);
        }
      } else {
        for (count += 2; count > 0 && units.length < max; count--) units.push(field[units.length]!);
      }
    }
  }
  let name = '';
  for (let i = 0; i < units.length; i += 4096) name += String.fromCharCode(...units.slice(i, i + 4096));
  return name;
}

/** The RAR 2.x archive comment, a comment block inside the main header. */
function readOldComment(data: Uint8Array, at: number, mainEnd: number, debug: (message: string) => void): Uint8Array | undefined {
  const block = readBlock(data, at);
  const intact = typeof block !== 'string' && block.type === OLD_COMMENT && block.headerSize >= OLD_COMMENT_HEAD_SIZE;
  if (!intact || at + block.headerSize > mainEnd) {
    debug('RAR: archive comment block damaged');
    return undefined;
  }
  const unpackedSize = u16le(data, at + 7);
  const unpackVersion = data[at + 9]!;
  const method = data[at + 10]!;
  const packed = data.subarray(at + OLD_COMMENT_HEAD_SIZE, at + block.headerSize);
  const text = unpackComment(packed, method, unpackVersion, unpackedSize, COMMENT_DICTIONARY, debug);
  if (text && (crc32(text) & 0xffff) !== u16le(data, at + 11)) {
    debug('RAR: archive comment CRC mismatch');
    return undefined;
  }
  return text && untilZero(text);
}

/**
 * The RAR 3.x archive comment: the first "CMT" service header before the first file header
 * (UnRAR only looks for the comment that far).
 */
function findServiceComment(data: Uint8Array, from: number, debug: (message: string) => void): Uint8Array | undefined {
  for (const { type, file } of fileHeaders(data, from, () => {})) {
    if (type === FILE_HEADER) return undefined;
    if (file.name !== 'CMT') continue;
    if (file.flags & FILE_ENCRYPTED) {
      debug('RAR: the archive comment is encrypted');
      return undefined;
    }
    if (file.unpackedSize > COMMENT_MAX_SIZE || file.packedSize === 0) return undefined;
    const packed = data.subarray(file.dataStart, file.dataStart + file.packedSize);
    const dictionary = 0x10000 << ((file.flags & FILE_WINDOW_MASK) >> FILE_WINDOW_SHIFT);
    const text = unpackComment(packed, file.method, file.unpackVersion, file.unpackedSize, dictionary, debug);
    if (text && crc32(text) !== file.crc32) {
      debug('RAR: archive comment CRC mismatch');
      return undefined;
    }
    return text && untilZero(text);
  }
  return undefined;
}

function unpackComment(
  packed: Uint8Array,
  method: number,
  unpackVersion: number,
  unpackedSize: number,
  dictionarySize: number,
  debug: (message: string) => void,
): Uint8Array | undefined {
  if (method === STORED) return packed;
  if (unpackVersion < 15 || unpackVersion > COMMENT_MAX_VERSION || method > 0x35) {
    debug(`RAR: archive comment packed with unsupported version ${unpackVersion}`);
    return undefined;
  }
  const entry: RarEntry = {
    name: 'CMT',
    isDirectory: false,
    encrypted: false,
    packedSize: packed.length,
    unpackedSize,
    method,
    unpackVersion,
    solid: false,
    dictionarySize,
    dataStart: 0,
    continuesInNextVolume: false,
    continuesFromPreviousVolume: false,
  };
  try {
    return new LegacyRarUnpacker().unpack(entry, packed, unpackedSize);
  } catch (err) {
    debug(`RAR: archive comment cannot be unpacked: ${(err as Error).message}`);
    return undefined;
  }
}

/** UnRAR hands the comment on as a C string: it ends at the first zero byte. */
function untilZero(text: Uint8Array): Uint8Array | undefined {
  const zero = text.indexOf(0);
  const result = zero < 0 ? text : text.subarray(0, zero);
  return result.length > 0 ? result : undefined;
}
