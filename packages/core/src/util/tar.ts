/**
 * A small tar reader over bytes already in memory (ustar, GNU and old v7 headers).
 *
 * `readTar` walks an archive the way ClamAV's CVD loader does. The header primitives below it
 * (`TAR_FIELDS`, `cString`, `parseOctal`, `checksumMatches`) are shared with the scanner's tar
 * handler (formats/tar.ts), which walks differently because ClamAV's cli_untar does.
 *
 * Archives are untrusted: the reader never throws, never reads past the input and never trusts
 * a declared size. Entry data are views into the archive, not copies, and names are returned
 * verbatim (they may be absolute or contain `..`): callers must not turn them into paths.
 *
 * The walk stops at the first header block whose name starts with a NUL byte (the end-of-archive
 * marker, and how ClamAV's own reader decides it is done), at the end of the input, at a header
 * cut short, or at a header whose size field cannot be read. `end` says which.
 */

export const TAR_BLOCK_SIZE = 512;

export interface TarEntry {
  /** Offset of the entry's header block in the archive. */
  offset: number;
  /** The 100-byte name field alone, up to its first NUL byte. */
  nameField: string;
  /** The entry's path: a GNU long name, else the ustar prefix joined to the name field. */
  name: string;
  /** The type flag byte as a character; '\0' is an old-style regular file. */
  typeFlag: string;
  /** The size declared in the header. */
  size: number;
  /** The data present in the archive: shorter than `size` when the archive is cut. */
  data: Uint8Array;
  /** Whether the header checksum matches (entries are returned either way). */
  checksumValid: boolean;
}

export type TarEnd =
  /** A header block whose first byte is NUL. */
  | 'end-marker'
  /** The input ended at a block boundary or inside an entry's data. */
  | 'eof'
  /** Fewer than 512 bytes were left for a header block. */
  | 'truncated-header'
  /** A header's size field holds no number; see `TarListing.invalid`. */
  | 'invalid-size';

export interface TarListing {
  entries: TarEntry[];
  end: TarEnd;
  /** Offset of the block that ended the walk (the archive length for 'eof'). */
  endOffset: number;
  /** On 'invalid-size': the name field and type flag of the header that stopped the walk. */
  invalid?: { nameField: string; typeFlag: string };
}

export interface TarReadOptions {
  /** Resolve GNU long-name records ('L', 'K'); otherwise they are returned as plain entries. */
  gnuLongNames?: boolean;
  /** Accept GNU base-256 sizes (first byte with the high bit set). */
  base256Sizes?: boolean;
}

/** Header fields (offset and length) shared by every tar dialect. */
export const TAR_FIELDS = {
  name: { offset: 0, length: 100 },
  size: { offset: 124, length: 12 },
  checksum: { offset: 148, length: 8 },
  typeFlag: 156,
  magic: { offset: 257, length: 6 },
  prefix: { offset: 345, length: 155 },
} as const;
const { name: NAME, size: SIZE, checksum: CHECKSUM, typeFlag: TYPEFLAG, magic: MAGIC, prefix: PREFIX } = TAR_FIELDS;

/** Bytes up to the first NUL (or the whole field), as Latin-1 so every byte maps to one char. */
export function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return Buffer.from(bytes.buffer, bytes.byteOffset, nul < 0 ? bytes.length : nul).toString('latin1');
}

/** Bytes needed to round `size` up to whole blocks. */
export function blockPadding(size: number): number {
  const rest = size % TAR_BLOCK_SIZE;
  return rest === 0 ? 0 : TAR_BLOCK_SIZE - rest;
}

function field(block: Uint8Array, f: { offset: number; length: number }): Uint8Array {
  return block.subarray(f.offset, f.offset + f.length);
}

function isCSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/**
 * An octal numeric field read the way `sscanf("%o")` reads it (which is what ClamAV does):
 * leading white space is skipped, digits are taken up to the first non-octal byte, and the field
 * is invalid only when no digit is found.
 */
export function parseOctal(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length && isCSpace(bytes[i]!)) i++;
  const start = i;
  let value = 0;
  for (; i < bytes.length; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 7) break;
    value = value * 8 + digit;
  }
  return i === start ? undefined : value;
}

/** GNU base-256: big-endian two's complement after the marker bit; negative sizes are invalid. */
function parseBase256(bytes: Uint8Array): number | undefined {
  if (bytes[0]! & 0x40) return undefined;
  let value = bytes[0]! & 0x3f;
  for (let i = 1; i < bytes.length; i++) value = value * 256 + bytes[i]!;
  return value;
}

function parseSize(block: Uint8Array, base256: boolean): number | undefined {
  const bytes = field(block, SIZE);
  if (base256 && bytes[0]! & 0x80) return parseBase256(bytes);
  return parseOctal(bytes);
}

/** The header sum with the checksum field counted as spaces; old tars summed signed bytes. */
export function checksumMatches(block: Uint8Array): boolean {
  const stored = parseOctal(field(block, CHECKSUM));
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_BLOCK_SIZE; i++) {
    const inChecksum = i >= CHECKSUM.offset && i < CHECKSUM.offset + CHECKSUM.length;
    const byte = inChecksum ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

function headerPath(block: Uint8Array, nameField: string): string {
  // Only POSIX ustar headers ("ustar\0") have a prefix field; GNU headers reuse those bytes.
  const magic = field(block, MAGIC);
  const isUstar = cString(magic) === 'ustar' && magic[5] === 0;
  const prefix = isUstar ? cString(field(block, PREFIX)) : '';
  return prefix ? `${prefix}/${nameField}` : nameField;
}

export function readTar(archive: Uint8Array, options: TarReadOptions = {}): TarListing {
  const { gnuLongNames = true, base256Sizes = true } = options;
  const entries: TarEntry[] = [];
  let longName: string | undefined;
  let offset = 0;

  for (;;) {
    if (offset >= archive.length) return { entries, end: 'eof', endOffset: archive.length };
    if (archive.length - offset < TAR_BLOCK_SIZE) return { entries, end: 'truncated-header', endOffset: offset };

    const block = archive.subarray(offset, offset + TAR_BLOCK_SIZE);
    if (block[0] === 0) return { entries, end: 'end-marker', endOffset: offset };

    const nameField = cString(field(block, NAME));
    const typeFlag = String.fromCharCode(block[TYPEFLAG]!);
    const size = parseSize(block, base256Sizes);
    if (size === undefined) {
      return { entries, end: 'invalid-size', endOffset: offset, invalid: { nameField, typeFlag } };
    }

    const dataStart = offset + TAR_BLOCK_SIZE;
    const data = archive.subarray(dataStart, Math.min(archive.length, dataStart + size));
    // Adding a huge declared size can only move past the end, which ends the walk as 'eof'.
    offset = dataStart + size + blockPadding(size);

    if (gnuLongNames && (typeFlag === 'L' || typeFlag === 'K')) {
      if (typeFlag === 'L') longName = cString(data);
      continue;
    }
    entries.push({
      offset: dataStart - TAR_BLOCK_SIZE,
      nameField,
      name: longName ?? headerPath(block, nameField),
      typeFlag,
      size,
      data,
      checksumValid: checksumMatches(block),
    });
    longName = undefined;
  }
}
