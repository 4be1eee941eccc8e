/**
 * ZIP archives (CL_TYPE_ZIP) and zip members embedded in other files (CL_TYPE_ZIPSFX), read the
 * way ClamAV 1.4's libclamav/unzip.c reads them, because which members get scanned — and with
 * which bytes — decides detection:
 *
 * - The end-of-central-directory record is searched backwards from 22 bytes before the end; the
 *   first one whose directory offset lies inside the file wins. Without one nothing is extracted
 *   (ClamAV's local-header walk only runs after a central directory was read).
 * - Every central entry is checked against its local header (magic, name and extra fields and
 *   data inside the file); the local header supplies method and flags, the central entry the sizes
 *   when a data descriptor is used. Empty entries are not extracted.
 * - Container metadata (.cdb): ClamAV matches each central header and then its local header while
 *   it reads the directory, before extracting anything; so the handler yields every header's
 *   metadata first (encrypted and empty entries included), then the members without metadata.
 * - Records are sorted by offset: exact duplicates are extracted once, and more than five
 *   overlapping entries (a non-recursive zip bomb) stop the archive with
 *   Heuristics.Zip.OverlappingFiles.
 * - Methods: stored, deflate, deflate64, bzip2 and implode. A member whose data is corrupt is not
 *   scanned at all; a truncated one is scanned as far as it decodes. A stored member whose
 *   compressed size is below its size is first tried as deflate (both results are scanned).
 * - Encrypted members raise Heuristics.Encrypted.Zip (for the scanner to report when enabled) and
 *   are decrypted (traditional PKWARE encryption) with the first `.pwdb` password that fits, then
 *   extracted as the others; without one they are skipped.
 * - If most central entries failed to extract, the local headers are walked from the start too.
 * - zip64 extra fields are ignored, as in ClamAV: sizes and offsets are the 32-bit fields.
 *
 * Limits: a member's output is cut at --max-filesize (`maxFileSize`), not skipped, as ClamAV
 * trims it; a member then too big for what is left of --max-scansize ends the extraction
 * (`endsAtRefusedMember`).
 */
import { constants as bufferConstants } from 'node:buffer';
import zlib from 'node:zlib';
import { cString } from '../util/tar.js';
import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { bunzip2Into } from './archive/bzip2-decoder.js';
import { explodeInto } from './archive/explode.js';
import { DEFLATE64_WINDOW, inflateRawInto, type DeflateVariant } from './archive/inflate.js';
import { OutputBuffer } from './archive/output-buffer.js';
import { decryptWithPassword, ENCRYPTION_HEADER_SIZE, type EncryptionCheck } from './archive/zip-crypto.js';
import { fileBackingAvailable, SPILL_THRESHOLD } from '../util/file-backed.js';

const LOCAL_MAGIC = 0x04034b50;
const CENTRAL_MAGIC = 0x02014b50;
const END_MAGIC = 0x06054b50;
const DESCRIPTOR_MAGIC = 0x08074b50;
const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const END_SIZE = 22;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_MASKED = 0x2000;
const METHOD_STORED = 0;
const METHOD_IMPLODE = 6;
const METHOD_DEFLATE = 8;
const METHOD_DEFLATE64 = 9;
const METHOD_BZIP2 = 12;
/** ClamAV keeps at most 255 bytes of a member name. */
const NAME_MAX = 255;
/** Tolerated overlap between neighbouring entries (seen in legitimate jars). */
const OVERLAP_FUDGE = 2;
const MAX_OVERLAPPING = 5;
/** unzip.c's output buffer (BUFSIZ): compressed members are trimmed in steps of this size. */
const WRITE_BUFFER = 8192;

/** One member as ClamAV catalogues it. */
interface ZipRecord extends EncryptionCheck {
  offset: number;
  /** Local header, name and extra field: the data starts at offset + headerSize. */
  headerSize: number;
  compressedSize: number;
  uncompressedSize: number;
  method: number;
  name: string;
}

/** What the local header at some offset says (see readLocalHeader). */
interface LocalHeader {
  size: number;
  record?: ZipRecord;
  metadata?: ExtractedObject;
}

const NO_DATA = new Uint8Array(0);

/** A header's metadata for container signatures: what ClamAV's cli_matchmeta gets from it. */
function headerMetadata(name: string, compressedSize: number, declaredSize: number, flags: number, position: number): ExtractedObject {
  return { data: NO_DATA, name, compressedSize, declaredSize, encrypted: (flags & FLAG_ENCRYPTED) !== 0, position };
}

/** Sizes a central entry lends a local header that uses a data descriptor. */
interface CentralSizes {
  compressedSize: number;
  uncompressedSize: number;
}

const u16 = (data: Uint8Array, pos: number): number => data[pos]! | (data[pos + 1]! << 8);
const u32 = (data: Uint8Array, pos: number): number =>
  (data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16) | (data[pos + 3]! << 24)) >>> 0;

export const zipHandler: FormatHandler = {
  name: 'zip',
  fileTypes: ['CL_TYPE_ZIP'],
  scanSwitch: 'archive',
  endsAtRefusedMember: true,
  extract: extractZip,
};

/**
 * A zip member found inside another file (ClamAV's cli_unzip_single): `data` starts at the
 * embedded local header. Only that one member is extracted, without the encryption heuristic.
 */
export const zipSfxHandler: FormatHandler = {
  name: 'zip-sfx',
  fileTypes: ['CL_TYPE_ZIPSFX'],
  scanSwitch: 'archive',
  *extract(data, ctx) {
    if (data.length < LOCAL_SIZE) return;
    const local = readLocalHeader(data, 0, undefined, false, 0, ctx);
    if (local.metadata) yield local.metadata;
    if (local.record) yield* unpack(data, local.record, ctx).objects;
  },
};

function* extractZip(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  if (data.length < CENTRAL_SIZE) return;
  const directory = findCentralDirectory(data);
  if (directory === 0) {
    ctx.debug('cli_unzip: central not found, using localhdrs');
    return;
  }
  const { records, metadata } = catalogue(data, directory, ctx);
  yield* metadata;
  if (!records) return;

  let unzipped = 0;
  let attempted = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const previous = records[i - 1];
    if (previous && sameEntry(previous, record)) continue;
    const result = unpack(data, record, ctx);
    unzipped += result.unzipped;
    attempted++;
    yield* result.objects;
  }

  // ClamAV's recovery for directories that point at little that extracts: walk the local headers.
  if (unzipped > 0 && unzipped <= Math.floor(attempted / 4)) {
    ctx.debug('cli_unzip: few entries extracted, walking the local headers');
    for (let offset = 0, position = 1; offset < data.length; position++) {
      const local = readLocalHeader(data, offset, undefined, true, position, ctx);
      if (local.metadata) yield local.metadata;
      if (local.record) yield* unpack(data, local.record, ctx).objects;
      if (local.size === 0) break;
      offset += local.size;
    }
  }
}

/** Offset of the central directory, or 0 when no end record points inside the file. */
function findCentralDirectory(data: Uint8Array): number {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(END_MAGIC);
  for (let at = bytes.lastIndexOf(magic, data.length - END_SIZE); at > 0; at = bytes.lastIndexOf(magic, at - 1)) {
    const directory = u32(data, at + 16);
    if (directory <= data.length - CENTRAL_SIZE) return directory;
  }
  return 0;
}

function sameEntry(a: ZipRecord, b: ZipRecord): boolean {
  return a.offset === b.offset && a.headerSize === b.headerSize && a.compressedSize === b.compressedSize;
}

/**
 * The records of the central directory that have a usable local header, sorted by offset (or
 * undefined when overlapping entries make ClamAV give up on the archive), and the metadata of
 * every central and local header read, in the order ClamAV matches it: all of it before any
 * member is extracted.
 */
function catalogue(data: Uint8Array, start: number, ctx: ExtractionContext): { records?: ZipRecord[]; metadata: ExtractedObject[] } {
  const records: ZipRecord[] = [];
  const metadata: ExtractedObject[] = [];
  const size = data.length;
  for (let offset = start, position = 1; ; position++) {
    if (offset > size - CENTRAL_SIZE || u32(data, offset) !== CENTRAL_MAGIC) break;
    const entry = offset;
    const nameLength = u16(data, entry + 28);
    const extraLength = u16(data, entry + 30);
    const commentLength = u16(data, entry + 32);
    offset += CENTRAL_SIZE;
    if (size - offset <= nameLength) break;
    const name = cString(data.subarray(offset, offset + Math.min(nameLength, NAME_MAX)));
    const flags = u16(data, entry + 8);
    metadata.push(headerMetadata(name, u32(data, entry + 20), u32(data, entry + 24), flags, position));
    offset += nameLength;
    // An extra field or comment running out of the file makes this entry the last one.
    let last = size - offset <= extraLength;
    offset += extraLength;
    if (!last && size - offset < commentLength) last = true;
    offset += commentLength;

    const localOffset = u32(data, entry + 42);
    if (localOffset < size - LOCAL_SIZE) {
      const sizes = { compressedSize: u32(data, entry + 20), uncompressedSize: u32(data, entry + 24) };
      const local = readLocalHeader(data, localOffset, sizes, true, position, ctx);
      if (local.metadata) metadata.push(local.metadata);
      if (local.record) records.push(local.record);
    }
    if (last) break;
  }

  records.sort((a, b) => a.offset - b.offset);
  let overlapping = 0;
  for (let i = 1; i < records.length; i++) {
    const previous = records[i - 1]!;
    const current = records[i]!;
    const previousEnd = previous.offset + previous.headerSize + previous.compressedSize;
    if (current.offset + OVERLAP_FUDGE >= previousEnd) continue;
    overlapping++;
    if (sameEntry(previous, current)) continue;
    if (overlapping > MAX_OVERLAPPING) {
      ctx.debug('cli_unzip: Overlapping files detected.');
      ctx.heuristic('heuristic', 'Heuristics.Zip.OverlappingFiles');
      return { metadata };
    }
  }
  return { records, metadata };
}

/**
 * Parses the local header at `offset` (ClamAV's parse_local_file_header). `size` is how far the
 * entry (header, data, data descriptor) extends, 0 when the walk cannot go on; `record` is set when
 * the entry has data to extract; `metadata`, once the header's name could be read.
 */
function readLocalHeader(
  data: Uint8Array,
  offset: number,
  central: CentralSizes | undefined,
  detectEncrypted: boolean,
  position: number,
  ctx: ExtractionContext,
): LocalHeader {
  if (data.length - offset < LOCAL_SIZE || u32(data, offset) !== LOCAL_MAGIC) return { size: 0 };
  const flags = u16(data, offset + 6);
  const method = u16(data, offset + 8);
  const nameLength = u16(data, offset + 26);
  const extraLength = u16(data, offset + 28);
  let remaining = data.length - offset - LOCAL_SIZE;
  if (remaining <= nameLength) return { size: 0 };
  const nameStart = offset + LOCAL_SIZE;
  const name = cString(data.subarray(nameStart, nameStart + Math.min(nameLength, NAME_MAX)));
  remaining -= nameLength;
  // ClamAV matches the header's metadata before it decides anything about the entry.
  const metadata = headerMetadata(name, u32(data, offset + 18), u32(data, offset + 22), flags, position);
  const stop = { size: 0, metadata };

  if (flags & FLAG_MASKED) return stop;
  if (detectEncrypted && flags & FLAG_ENCRYPTED) {
    ctx.debug('cli_unzip: Encrypted files found in archive.');
    ctx.heuristic('encrypted-archive', 'Heuristics.Encrypted.Zip');
  }
  let compressedSize: number;
  let uncompressedSize: number;
  if (flags & FLAG_DESCRIPTOR) {
    // The sizes follow the data; only a central entry can say where the data ends.
    if (!central) return stop;
    ({ compressedSize, uncompressedSize } = central);
  } else {
    compressedSize = u32(data, offset + 18);
    uncompressedSize = u32(data, offset + 22);
  }
  if (remaining <= extraLength) return stop;
  remaining -= extraLength;
  const headerSize = LOCAL_SIZE + nameLength + extraLength;

  let record: ZipRecord | undefined;
  if (compressedSize > 0) {
    if (remaining < compressedSize) return stop;
    remaining -= compressedSize;
    const version = u16(data, offset + 4);
    const modified = u32(data, offset + 10);
    const crc = u32(data, offset + 14);
    record = { offset, headerSize, compressedSize, uncompressedSize, method, flags, name, version, modified, crc };
  }
  let size = headerSize + compressedSize;
  if (flags & FLAG_DESCRIPTOR) {
    // The descriptor: CRC and sizes (12 bytes), maybe after its optional signature.
    if (remaining < 12) return { size: 0, record, metadata };
    remaining -= 12;
    if (u32(data, offset + size) === DESCRIPTOR_MAGIC) {
      if (remaining < 4) return { size: 0, record, metadata };
      size += 4;
    }
    size += 12;
  }
  return { size, record, metadata };
}

/**
 * Extracts one member (ClamAV's unz): the objects to scan, and how many extractions ClamAV would
 * count as successful (the recovery rule above depends on it).
 */
function unpack(data: Uint8Array, record: ZipRecord, ctx: ExtractionContext): { objects: ExtractedObject[]; unzipped: number } {
  const none = { objects: [], unzipped: 0 };
  const start = record.offset + record.headerSize;
  let compressed = data.subarray(start, start + record.compressedSize);
  if (record.flags & FLAG_ENCRYPTED) {
    const decrypted = decrypt(data, start, record, ctx);
    if (!decrypted) return none;
    compressed = decrypted;
  }
  // Its metadata was matched with its headers.
  const object = (bytes: Uint8Array, method = record.method): ExtractedObject => ({
    data: bytes,
    name: record.name,
    method,
    noMetadata: true,
  });

  if (record.method === METHOD_STORED) {
    const stored = compressed.subarray(0, Math.min(compressed.length, ctx.maxFileSize));
    if (compressed.length >= record.uncompressedSize) return { objects: [object(stored)], unzipped: 1 };
    // A "stored" member smaller than its size may really be deflated: ClamAV tries that first,
    // then scans the stored bytes too (or, when inflating fails, an empty file: nothing to yield).
    ctx.debug('cli_unzip: attempting to inflate stored file with inconsistent size');
    const inflated = decompress(compressed, METHOD_DEFLATE, record, ctx.maxFileSize);
    const objects = inflated ? [object(inflated, METHOD_DEFLATE), object(stored)] : [];
    return { objects, unzipped: 2 };
  }
  const output = decompress(compressed, record.method, record, ctx.maxFileSize);
  if (!output) {
    ctx.debug(`cli_unzip: extraction failed (method ${record.method})`);
    return none;
  }
  return { objects: [object(output)], unzipped: 1 };
}

/**
 * An encrypted member's data after its encryption header, decrypted with the first `.pwdb`
 * password that fits (ClamAV's zdecrypt), or undefined. Like ClamAV, the header is read even where
 * it runs past a member shorter than it; such a member has no data to decrypt.
 */
function decrypt(data: Uint8Array, start: number, record: ZipRecord, ctx: ExtractionContext): Uint8Array | undefined {
  if (!ctx.zipPasswords) {
    ctx.debug('cli_unzip: decrypt - skipping encrypted file');
    return undefined;
  }
  const encrypted = data.subarray(start, start + Math.max(record.compressedSize, ENCRYPTION_HEADER_SIZE));
  if (record.compressedSize > ENCRYPTION_HEADER_SIZE) {
    for (const { name, password } of ctx.zipPasswords) {
      const plain = decryptWithPassword(encrypted, password, record, (message) => ctx.debug(message));
      if (plain === undefined) continue;
      ctx.debug(`cli_unzip: decrypt - password [${name}] matches`);
      return plain;
    }
  }
  ctx.debug('cli_unzip: decrypt - skipping encrypted file, no valid passwords');
  return undefined;
}

/**
 * The decompressed member, cut at `limit` bytes as ClamAV cuts it; undefined when ClamAV
 * would not scan it (corrupt data or an unsupported method). Node's zlib inflates members
 * declared small enough to hold in memory; larger ones go through our decoder, which spills.
 */
function decompress(
  compressed: Uint8Array,
  method: number,
  { flags, uncompressedSize }: Pick<ZipRecord, 'flags' | 'uncompressedSize'>,
  limit: number,
): Uint8Array | undefined {
  if (method === METHOD_DEFLATE && (uncompressedSize <= SPILL_THRESHOLD || !fileBackingAvailable())) {
    const fast = inflateWithZlib(compressed, limit);
    if (fast !== 'too-large') return fast;
  }
  // Deflate64's window is the longest reach of the methods below (implode's is 8 KiB).
  const out = new OutputBuffer(limit, compressed.length * 4, DEFLATE64_WINDOW);
  let ok: boolean;
  if (method === METHOD_DEFLATE || method === METHOD_DEFLATE64) {
    const variant: DeflateVariant = method === METHOD_DEFLATE ? 'deflate' : 'deflate64';
    ok = inflateRawInto(compressed, out, variant).end !== 'error';
  } else if (method === METHOD_BZIP2) {
    ok = bunzip2Into(compressed, out).end !== 'error';
  } else if (method === METHOD_IMPLODE) {
    ok = explodeInto(compressed, flags, out) !== 'error';
  } else {
    return undefined;
  }
  if (!ok) return undefined;
  // ClamAV writes whole buffers and stops before the one that would pass the limit.
  if (out.truncated) out.cut(out.length - (out.length % WRITE_BUFFER));
  return out.result();
}

/**
 * Raw inflate with Node's zlib: the output (also of a truncated stream), undefined on a data
 * error, or 'too-large' when it passes `limit` and must be redone to cut it where ClamAV does.
 */
function inflateWithZlib(compressed: Uint8Array, limit: number): Uint8Array | undefined | 'too-large' {
  if (limit < 1) return 'too-large';
  try {
    return zlib.inflateRawSync(compressed, {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      maxOutputLength: Math.min(limit, bufferConstants.MAX_LENGTH),
    });
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : undefined;
  }
}
