import { crc32 } from 'node:zlib';
import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { guarded } from './compression/guard.js';
import { RarDataError, type RarArchive, type RarEntry, type RarUnpacker } from './rar/entry.js';
import { LegacyRarUnpacker } from './rar/legacy-unpacker.js';
import { openRar4 } from './rar/rar4-headers.js';
import { Rar5Unpacker } from './rar/rar5-decoder.js';
import { openRar5, RAR5_SIGNATURE } from './rar/rar5-headers.js';

/**
 * RAR archives (CL_TYPE_RAR, and RAR archives found inside other files through the RAR-SFX type),
 * scanned in the order of ClamAV 1.4's cli_scanrar_file over UnRAR 6.24's DLL interface:
 *
 * 1. the archive comment, as one object (UnRAR's 64 KiB comment buffer: text up to its first NUL,
 *    then a NUL);
 * 2. every file header, numbered from 1 (directories included): its metadata for container
 *    signatures, then — unless it is a directory, over the size limit, encrypted, split across
 *    volumes or compressed with an unknown version — its extracted data. A CRC mismatch or data
 *    that ends early does not stop the scan: ClamAV asks UnRAR to keep broken files and scans what
 *    was extracted (up to the damage, when the data is corrupt); the next entry is then tried.
 *
 * Skipping an entry (too large, encrypted) does not decode it, as UnRAR's RAR_SKIP does not: in a
 * solid archive the entries after it are then decoded from an incomplete dictionary, as in ClamAV.
 * Encrypted headers or entries raise Heuristics.Encrypted.RAR at the end; when that alert is on,
 * ClamAV's metadata scan returns "encrypted", which ends the archive after the first such entry.
 */

const ENCRYPTED_NAME = 'Heuristics.Encrypted.RAR';
/** The comment buffer ClamAV gives UnRAR (CMTBUFSIZE); UnRAR ends the text with a NUL inside it. */
const COMMENT_BUFFER = 64 * 1024;
/** UnRAR's DLL gives names as at most 1023 bytes of the locale's multibyte form (UTF-8 here). */
const MAX_NAME_BYTES = 1023;
/** UnRAR reports stored data as method 0x30 in both header formats. */
const STORED = 0x30;

/** One of the two header formats, with what decodes its entries. */
interface RarFormat {
  readonly name: string;
  readonly signature: Uint8Array;
  open(data: Uint8Array, start: number, debug: (m: string) => void): RarArchive;
  newUnpacker(): RarUnpacker;
  /** What UnRAR adds to the header's method to report it (RAR 5 stores 0-5, RAR 1.5-4 0x30-0x35). */
  readonly methodBase: number;
  /** UnRAR 6.24's CheckUnpVer: the versions it can decompress. */
  knownVersion(unpackVersion: number): boolean;
}

const RAR5: RarFormat = {
  name: 'RAR5',
  signature: RAR5_SIGNATURE,
  open: openRar5,
  newUnpacker: () => new Rar5Unpacker(),
  methodBase: 0x30,
  knownVersion: (version) => version === 50,
};

const RAR4: RarFormat = {
  name: 'RAR',
  signature: Uint8Array.of(0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00),
  open: openRar4,
  newUnpacker: () => new LegacyRarUnpacker(),
  methodBase: 0,
  // RAR 1.3 to 2.9 algorithms (UnRAR's VER_UNPACK is 29).
  knownVersion: (version) => version >= 13 && version <= 29,
};

const FORMATS: readonly RarFormat[] = [RAR4, RAR5];

/** UnRAR looks for a signature in the first 2 MiB when the file does not start with one (MAXSFXSIZE). */
const SFX_SEARCH = 0x200000;
const MARKER = [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07];

/**
 * Where UnRAR finds the archive: the signature at the start, else the first one in the first
 * 2 MiB (a self-extractor's stub before it). A signature of a later RAR version ends the search.
 */
function locate(data: Uint8Array): { format: RarFormat; start: number } | undefined {
  const end = Math.min(data.length, MARKER.length + 1 + SFX_SEARCH - 16);
  for (let at = 0; at + 7 <= end; at = at === 0 ? 7 : at + 1) {
    const version = data[at + 6]!;
    if (version > 4 || !MARKER.every((byte, i) => data[at + i] === byte)) continue;
    // Versions 2-4 are RAR formats yet to come; a RAR 5 marker needs its eighth byte 0.
    const format = FORMATS.find((f) => f.signature[6] === version);
    return format?.signature.every((byte, i) => data[at + i] === byte) ? { format, start: at } : undefined;
  }
  return undefined;
}

export interface RarOptions {
  /**
   * The encrypted-archive alert is on (`--alert-encrypted-archive`): ClamAV's metadata scan then
   * reports the first encrypted entry as an error, which ends the archive there.
   */
  readonly alertEncrypted: boolean;
}

/** The comment as ClamAV scans it: UnRAR's C string in ClamAV's buffer, NUL terminator included. */
function commentObject(comment: Uint8Array): Uint8Array | undefined {
  const nul = comment.indexOf(0);
  const text = comment.subarray(0, Math.min(nul < 0 ? comment.length : nul, COMMENT_BUFFER - 1));
  if (text.length === 0) return undefined;
  const object = new Uint8Array(text.length + 1);
  object.set(text);
  return object;
}

/** The name UnRAR's DLL hands ClamAV: UTF-8, cut to whole characters within 1023 bytes. */
function clamavName(name: string): string {
  let bytes = Buffer.from(name, 'utf8');
  if (bytes.length > MAX_NAME_BYTES) {
    let end = MAX_NAME_BYTES;
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  return bytes.toString('latin1');
}

/** Why an entry's data is not extracted, or undefined when it is. */
function notExtracted(entry: RarEntry, format: RarFormat, ctx: ExtractionContext): string | undefined {
  if (entry.isDirectory) return 'Found directory. Skipping to next file.';
  if (entry.unpackedSize > ctx.maxObjectSize) {
    ctx.heuristic('exceeds-max', 'Heuristics.Limits.Exceeded.MaxFileSize');
    return `Next file is too large (${entry.unpackedSize} bytes); it would exceed max scansize.  Skipping to next file.`;
  }
  if (entry.encrypted) return 'Encrypted file, unable to extract file contents. Skipping file...';
  // UnRAR copies stored data whatever the version field says.
  if (entry.method + format.methodBase !== STORED && !format.knownVersion(entry.unpackVersion)) {
    return `Unknown compression version ${entry.unpackVersion}: file not extracted`;
  }
  if (entry.continuesFromPreviousVolume) return 'File starts in a previous volume: not extracted';
  if (entry.continuesInNextVolume) return 'File continues in the next volume, which ClamAV cannot open: not extracted';
  return undefined;
}

function* extractRar(data: Uint8Array, ctx: ExtractionContext, options: RarOptions): Generator<ExtractedObject> {
  ctx.debug('in scanrar()');
  const found = locate(data);
  if (!found) {
    ctx.debug('RAR: not a RAR 1.5-5 archive');
    return;
  }
  const { format } = found;
  const archive = format.open(data, found.start, ctx.debug);
  let encryptedFound = archive.headersEncrypted;
  if (encryptedFound) {
    ctx.debug('RAR: Encrypted main header');
  } else {
    const comment = archive.comment && commentObject(archive.comment);
    // ClamAV scans the comment without matching container metadata on it.
    if (comment) yield { data: comment, noMetadata: true };
    let fileCount = 0;
    let unpacker: RarUnpacker | undefined;
    for (const entry of archive.entries()) {
      fileCount++;
      const method = entry.method + format.methodBase;
      const name = clamavName(entry.name);
      const ratio = entry.packedSize > 0 ? Math.floor(entry.unpackedSize / entry.packedSize) : 0;
      ctx.debug(
        `RAR: ${name}, crc32: 0x${(entry.crc32 ?? 0).toString(16)}, encrypted: ${Number(entry.encrypted)}, ` +
          `compressed: ${entry.packedSize}, normal: ${entry.unpackedSize}, method: ${method}, ratio: ${ratio}`,
      );
      const metadata = {
        name,
        compressedSize: entry.packedSize,
        declaredSize: entry.unpackedSize,
        encrypted: entry.encrypted,
        position: fileCount,
        method,
      };
      const skipped = notExtracted(entry, format, ctx);
      if (skipped !== undefined) {
        ctx.debug(`RAR: ${skipped}`);
        yield { data: new Uint8Array(0), ...metadata };
      } else if (method === STORED) {
        // Stored data does not pass through the decoder: a solid run's state is left as it was.
        yield { data: extractEntry(data, entry, undefined, ctx), ...metadata };
      } else {
        // One unpacker per archive: its window and tables are reused, and reset for non-solid entries.
        unpacker ??= format.newUnpacker();
        yield { data: extractEntry(data, entry, unpacker, ctx), ...metadata };
      }
      if (entry.encrypted) {
        encryptedFound = true;
        if (options.alertEncrypted) break;
      }
    }
    if (archive.headersEncrypted) {
      ctx.debug('RAR: Encrypted file header, unable to reading file metadata and file contents.');
      encryptedFound = true;
    }
  }
  if (encryptedFound) ctx.heuristic('encrypted-archive', ENCRYPTED_NAME);
}

/**
 * An entry's data as UnRAR leaves it on disk for ClamAV: all of it, or — when it is broken (bad
 * CRC, packed data cut short, corrupt data) — what was extracted before the damage.
 */
function extractEntry(data: Uint8Array, entry: RarEntry, unpacker: RarUnpacker | undefined, ctx: ExtractionContext): Uint8Array {
  const packed = data.subarray(entry.dataStart, Math.min(data.length, entry.dataStart + entry.packedSize));
  let content: Uint8Array;
  try {
    content = unpacker ? unpacker.unpack(entry, packed, entry.unpackedSize) : packed.subarray(0, entry.unpackedSize);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof RarDataError && err.partial.length > 0) {
      ctx.debug(`RAR: ${entry.name}: bad data (${message}); scanning what was extracted`);
      return err.partial;
    }
    ctx.debug(`RAR: Error extracting file: ${entry.name} (${message})`);
    return new Uint8Array(0);
  }
  if (content.length !== entry.unpackedSize || (entry.crc32 !== undefined && crc32(content) !== entry.crc32)) {
    ctx.debug(`RAR: ${entry.name}: bad data or CRC mismatch; scanning it anyway`);
  }
  return content;
}

/** The RAR handler; `options` come from the scan options (see `formats/registry.ts`). */
export function createRarHandler(options: RarOptions): FormatHandler {
  return {
    name: 'rar',
    fileTypes: ['CL_TYPE_RAR'],
    scanSwitch: 'archive',
    extract: (data, ctx) => guarded('cli_scanrar', extractRar(data, ctx, options), ctx),
  };
}
