import { crc32 } from 'node:zlib';
import { ClamError } from '../../errors.js';
import { u32le } from '../compression/read.js';
import type { RarArchive, RarEntry } from './entry.js';
import { Rar5Unpacker } from './rar5-decoder.js';

/**
 * RAR 5 archive headers (RARLAB's "RAR 5.0 archive format" technote), read the way UnRAR 6.24 —
 * the library ClamAV 1.4 extracts RAR with — reads them through its DLL interface:
 *
 * - every block is `CRC32, size (vint), type, flags [, extra size] [, data size]`, fields and
 *   extra records follow; a field past the end of its header reads as 0, as in UnRAR;
 * - a header CRC mismatch is reported but the header is still used (UnRAR "attempts to process"
 *   it); only a block that cannot be delimited ends the archive;
 * - nothing before the main header is listed; an archive encryption header hides everything after
 *   it (ClamAV has no password to give);
 * - the archive comment is the first `CMT` service header found before the first file header,
 *   refused like UnRAR refuses it (a broken header so far, encrypted, over 16 MiB, bad CRC).
 */

export const RAR5_SIGNATURE = Uint8Array.of(0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00);

const enum BlockType {
  Main = 1,
  File = 2,
  Service = 3,
  Crypt = 4,
  End = 5,
}

const enum BlockFlag {
  Extra = 0x0001,
  Data = 0x0002,
  SplitBefore = 0x0008,
  SplitAfter = 0x0010,
}

const enum FileFlag {
  Directory = 0x0001,
  UnixTime = 0x0002,
  Crc32 = 0x0004,
  UnknownSize = 0x0008,
}

const enum ExtraRecord {
  Crypt = 0x01,
  Version = 0x04,
}

/** The smallest block: CRC32, one size byte, type and flags. */
const SMALLEST_BLOCK = 7;
/** UnRAR reads the header size from the three bytes after the CRC at most (2 MiB headers). */
const MAX_SIZE_BYTES = 3;
/** UnRAR's name buffer holds 8191 bytes of UTF-8 (NM * 4 - 1). */
const MAX_NAME_BYTES = 8191;
/** UnRAR refuses to read service data (the comment) over 16 MiB into memory. */
const MAX_COMMENT_SIZE = 0x1000000;
/** What UnRAR reports as the size of a file whose size the header says is unknown (INT64NDF). */
const UNKNOWN_SIZE = 0x7fffffff7fffffff;
/** RAR 5 dictionaries are 128 KiB shifted left by a 4-bit field (UnRAR 6.24 reads no more bits). */
const BASE_DICTIONARY = 0x20000;
const HOST_WINDOWS = 0;

/** Reads the fields of one header, as UnRAR's RawRead does: past the end, numbers read as 0. */
class FieldReader {
  constructor(
    private readonly data: Uint8Array,
    public pos: number,
    public end: number,
  ) {}

  get left(): number {
    return this.end - this.pos;
  }

  /** Variable-length integer: 7 bits a byte, low first; unterminated within the header → 0. */
  vint(): number {
    let value = 0;
    for (let shift = 0; this.pos < this.end && shift < 70; shift += 7) {
      const byte = this.data[this.pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    return 0;
  }

  u32(): number {
    const value = this.pos + 4 <= this.end ? u32le(this.data, this.pos) : 0;
    this.pos = Math.min(this.end, this.pos + 4);
    return value;
  }

  /** Up to `length` bytes: fewer when the header ends first. */
  bytes(length: number): Uint8Array {
    const start = this.pos;
    this.pos = Math.min(this.end, this.pos + length);
    return this.data.subarray(start, this.pos);
  }
}

interface Block {
  readonly type: number;
  readonly flags: number;
  /** The header CRC32 matched. */
  readonly crcOk: boolean;
  /** The type-specific fields, then the extra area (`extraStart` .. end). */
  readonly fields: FieldReader;
  readonly extraStart: number;
  readonly dataStart: number;
  readonly dataSize: number;
  readonly next: number;
}

/** The block at `pos`, or why there is none (UnRAR then ends the archive). */
function readBlock(data: Uint8Array, pos: number): Block | string {
  if (pos + SMALLEST_BLOCK > data.length) return 'unexpected end of archive';
  let sizeBytes = 0;
  while (sizeBytes < MAX_SIZE_BYTES && data[pos + 4 + sizeBytes]! & 0x80) sizeBytes++;
  if (sizeBytes === MAX_SIZE_BYTES) return 'header size field too long';
  sizeBytes++;
  const head = new FieldReader(data, pos + 4, pos + 4 + sizeBytes);
  const blockSize = head.vint();
  if (blockSize === 0) return 'empty header';
  const headerEnd = pos + 4 + sizeBytes + blockSize;
  if (headerEnd > data.length) return 'unexpected end of archive';
  const fields = new FieldReader(data, head.end, headerEnd);
  const type = fields.vint();
  const flags = fields.vint();
  const crcOk = crc32(data.subarray(pos + 4, headerEnd)) === u32le(data, pos);
  const extraSize = flags & BlockFlag.Extra ? fields.vint() : 0;
  if (extraSize >= 4 + sizeBytes + blockSize) return 'extra area larger than the header';
  const dataSize = flags & BlockFlag.Data ? fields.vint() : 0;
  const next = headerEnd + dataSize;
  if (!Number.isSafeInteger(next) || next <= pos) return 'data size out of range';
  return { type, flags, crcOk, fields, extraStart: headerEnd - extraSize, dataStart: headerEnd, dataSize, next };
}

const utf8 = new TextDecoder('utf-8');

/** A file or service header: its type-specific fields and the extra records that matter. */
function readFileHeader(data: Uint8Array, block: Block, fileBlock: boolean): RarEntry {
  const r = block.fields;
  const fileFlags = r.vint();
  const size = r.vint();
  r.vint(); // attributes
  if (fileFlags & FileFlag.UnixTime) r.u32();
  const crc = fileFlags & FileFlag.Crc32 ? r.u32() : undefined;
  const compression = r.vint();
  const host = r.vint();
  const nameBytes = r.bytes(Math.min(r.vint(), MAX_NAME_BYTES));
  const nul = nameBytes.indexOf(0);
  let name = utf8.decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul));
  // UnRAR on Unix: a backslash is not a separator in RAR 5 and cannot come from Windows.
  if (fileBlock && host === HOST_WINDOWS) name = name.replaceAll('\\', '_');
  const isDirectory = (fileFlags & FileFlag.Directory) !== 0;
  const version = compression & 0x3f;
  const extras = readExtras(data, block);
  return {
    name: extras.fileVersion ? `${name};${extras.fileVersion}` : name,
    isDirectory,
    encrypted: extras.encrypted,
    packedSize: block.dataSize,
    unpackedSize: fileFlags & FileFlag.UnknownSize ? UNKNOWN_SIZE : size,
    method: (compression >> 7) & 7,
    unpackVersion: version === 0 ? 50 : version === 1 ? 70 : 70 + version,
    solid: fileBlock && (compression & 0x40) !== 0,
    dictionarySize: isDirectory ? 0 : BASE_DICTIONARY * 2 ** ((compression >> 10) & 0xf),
    crc32: crc,
    dataStart: block.dataStart,
    continuesInNextVolume: (block.flags & BlockFlag.SplitAfter) !== 0,
    continuesFromPreviousVolume: (block.flags & BlockFlag.SplitBefore) !== 0,
  };
}

interface Extras {
  encrypted: boolean;
  /** The file version number UnRAR appends to the name as `;N`, or 0. */
  fileVersion: number;
}

/** The extra records of a file or service header that change what ClamAV sees. */
function readExtras(data: Uint8Array, block: Block): Extras {
  const extras: Extras = { encrypted: false, fileVersion: 0 };
  const r = block.fields;
  if (block.extraStart < r.pos) return extras; // fields overlap the extra area: UnRAR ignores it
  r.pos = block.extraStart;
  while (r.left >= 2) {
    const recordSize = r.vint();
    if (recordSize <= 0 || r.left === 0 || recordSize > r.left) break;
    const next = r.pos + recordSize;
    const type = r.vint();
    if (r.pos > next) break;
    const record = new FieldReader(data, r.pos, next);
    if (type === ExtraRecord.Crypt) {
      // Only encryption version 0 (AES-256) is known; UnRAR leaves others "not encrypted".
      if (record.vint() === 0) extras.encrypted = true;
    } else if (type === ExtraRecord.Version && record.left >= 1) {
      record.vint(); // flags
      extras.fileVersion = record.vint();
    }
    r.pos = next;
  }
  return extras;
}

/** The comment's data, unpacked, when UnRAR would hand it out; undefined otherwise. */
function readComment(data: Uint8Array, entry: RarEntry, debug: (m: string) => void): Uint8Array | undefined {
  if (entry.encrypted || entry.method > 5 || entry.unpackVersion !== 50 || entry.unpackedSize > MAX_COMMENT_SIZE) {
    debug('RAR5: archive comment cannot be read');
    return undefined;
  }
  if (entry.continuesInNextVolume || entry.packedSize === 0) return undefined;
  const packed = data.subarray(entry.dataStart, entry.dataStart + entry.packedSize);
  let comment: Uint8Array;
  try {
    comment = entry.method === 0 ? packed.subarray(0, entry.unpackedSize) : new Rar5Unpacker().unpack(entry, packed, entry.unpackedSize);
  } catch (err) {
    debug(`RAR5: archive comment is broken: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  if (entry.crc32 !== undefined && crc32(comment) !== entry.crc32) {
    debug('RAR5: archive comment CRC mismatch');
    return undefined;
  }
  return comment;
}

class Rar5Archive implements RarArchive {
  private encryptedHeaders = false;
  comment?: Uint8Array;
  /** Where the entries start: the block after the main header; undefined without one. */
  private readonly firstEntryBlock?: number;

  constructor(
    private readonly data: Uint8Array,
    start: number,
    private readonly debug: (m: string) => void,
  ) {
    let pos = start + RAR5_SIGNATURE.length;
    // UnRAR's archive check reads up to the main header (or the encryption header)...
    for (;;) {
      const block = readBlock(data, pos);
      if (typeof block === 'string') {
        debug(`RAR5: no main archive header: ${block}`);
        return;
      }
      pos = block.next;
      if (block.type === BlockType.Crypt) {
        this.encryptedHeaders = true;
        debug('RAR5: archive headers are encrypted');
        return;
      }
      if (block.type === BlockType.Main) {
        if (!block.crcOk) debug('RAR5: main archive header CRC mismatch');
        this.firstEntryBlock = pos;
        this.comment = this.findComment(pos, !block.crcOk);
        return;
      }
    }
  }

  get headersEncrypted(): boolean {
    return this.encryptedHeaders;
  }

  /**
   * ...then on to the first file header, noting the comment: readable only when no header so
   * far (that first file header included) failed its CRC.
   */
  private findComment(pos: number, broken: boolean): Uint8Array | undefined {
    let comment: RarEntry | undefined;
    for (;;) {
      const block = readBlock(this.data, pos);
      if (typeof block === 'string') break;
      broken ||= !block.crcOk;
      if (block.type === BlockType.Crypt) {
        this.encryptedHeaders = true;
        return undefined;
      }
      if (block.type === BlockType.File || block.type === BlockType.End) break;
      if (block.type === BlockType.Service && !comment) {
        const header = readFileHeader(this.data, block, false);
        if (header.name === 'CMT') comment = header;
      }
      pos = block.next;
    }
    if (!comment) return undefined;
    if (broken) {
      this.debug('RAR5: broken header: archive comment not read');
      return undefined;
    }
    return readComment(this.data, comment, this.debug);
  }

  *entries(): Generator<RarEntry> {
    if (this.firstEntryBlock === undefined || this.encryptedHeaders) return;
    let pos = this.firstEntryBlock;
    for (;;) {
      const block = readBlock(this.data, pos);
      if (typeof block === 'string') {
        this.debug(`RAR5: ${block}`);
        return;
      }
      if (block.type === BlockType.End) return;
      if (block.type === BlockType.Crypt) {
        this.encryptedHeaders = true;
        this.debug('RAR5: the headers that follow are encrypted');
        return;
      }
      if (block.type === BlockType.File) {
        if (!block.crcOk) this.debug('RAR5: file header CRC mismatch');
        yield readFileHeader(this.data, block, true);
      }
      pos = block.next;
    }
  }
}

/** Opens the RAR 5 archive whose signature is at `start`; throws EFORMAT when there is none. */
export function openRar5(data: Uint8Array, start: number, debug: (m: string) => void): RarArchive {
  if (start < 0 || start + RAR5_SIGNATURE.length > data.length || RAR5_SIGNATURE.some((b, i) => data[start + i] !== b)) {
    throw new ClamError('EFORMAT', { message: 'RAR5: no signature' });
  }
  return new Rar5Archive(data, start, debug);
}
