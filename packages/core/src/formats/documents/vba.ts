/**
 * VBA macro storage as libclamav's vba_extract.c reads it: the MS-OVBA decompressor ClamAV
 * uses for module source and the `dir` stream (cli_vba_inflate), its source normaliser
 * (vba_normalize), and the pre-Office-2000 `_VBA_PROJECT` reader (cli_vba_readdir) that locates
 * module streams by name.
 */
import { FileCursor } from './file-cursor.js';
import { isPrint, toLower } from './bytes.js';

const WINDOW = 4096;
const MAX_VBA_COUNT = 1000;
const VBA56_HEADER_SIZE = 34;
const VBA56_MAGIC = [0xcc, 0x61];
const MIDDLE_SIZE = 20;
/** The fixed bytes that may follow the project strings (Mac Office and Windows Office). */
const MIDDLES = [
  [0x00, 0x01, 0x0d, 0x45, 0x2e, 0xe1, 0xe0, 0x8f, 0x10, 0x1a, 0x85, 0x2e, 0x02, 0x60, 0x8c, 0x4d, 0x0b, 0xb4, 0x00, 0x00],
  [0x00, 0x00, 0xe1, 0x2e, 0x45, 0x0d, 0x8f, 0xe0, 0x1a, 0x10, 0x85, 0x2e, 0x02, 0x60, 0x8c, 0x4d, 0x0b, 0xb4, 0x00, 0x00],
];

/**
 * Decompresses a VBA compressed container starting at `offset` (cli_vba_inflate). ClamAV's
 * decoder skips the signature byte and first chunk header, then runs one 4096-byte window
 * across all chunks: a window is emitted only when a literal is due at a window boundary (the
 * two bytes there are taken for the next chunk header), and the last window is emitted only as
 * far as `pos % 4096` — so a stream ending exactly on a boundary loses its last 4 KiB.
 * Undefined when a copy token or chunk header is cut short, or nothing was produced.
 * Output (and work) stop at `limit` bytes.
 */
export function inflateVba(data: Uint8Array, offset: number, limit: number): Uint8Array | undefined {
  const window = new Uint8Array(WINDOW);
  const parts: Uint8Array[] = [];
  let emitted = 0;
  let pos = 0;
  let clean = true;
  let at = offset + 3;
  const length = data.length;
  const emit = (size: number): void => {
    const take = Math.min(size, limit - emitted);
    if (take > 0) parts.push(window.slice(0, take));
    emitted += Math.max(take, 0);
  };
  decode: while (at < length && pos < limit) {
    const flag = data[at++]!;
    for (let mask = 1; mask < 0x100; mask <<= 1) {
      const winpos = pos & (WINDOW - 1);
      if (flag & mask) {
        if (at + 2 > length) return undefined;
        const token = data[at]! | (data[at + 1]! << 8);
        at += 2;
        // The length/offset split of a copy token depends on the position in the window.
        let shift = 12;
        for (const bound of [0x10, 0x20, 0x40, 0x80, 0x100, 0x200, 0x400, 0x800]) if (winpos > bound) shift--;
        let count = (token & ((1 << shift) - 1)) + 3;
        const distance = token >>> shift;
        while (count-- > 0) {
          window[pos & (WINDOW - 1)] = window[(pos - distance - 1) & (WINDOW - 1)]!;
          pos++;
        }
      } else {
        if (pos !== 0 && winpos === 0 && clean) {
          if (at + 2 > length) return undefined;
          at += 2;
          emit(WINDOW);
          clean = false;
          continue decode;
        }
        if (at < length) {
          window[winpos] = data[at++]!;
          pos++;
        }
      }
      clean = true;
    }
  }
  emit(pos & (WINDOW - 1));
  if (!emitted) return undefined;
  return parts.length === 1 ? parts[0]! : concat(parts, emitted);
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * ClamAV's VBA source normaliser (vba_normalize), in place: outside string literals letters
 * are lower-cased and runs of blanks become one space; line continuations (`_` then a line
 * break after a blank) are joined.
 */
export function normaliseVba(buffer: Uint8Array): Uint8Array {
  const NORMAL = 0;
  const IN_STRING = 1;
  const UNDERSCORE = 2;
  const UNDERSCORE_CR = 3;
  const SPACE = 5;
  let state = NORMAL;
  let o = 0;
  for (let i = 0; i < buffer.length; i++) {
    const c = buffer[i]!;
    switch (c) {
      case 0x22: // "
        if (state === IN_STRING) state = NORMAL;
        else if (state === NORMAL || state === UNDERSCORE || state === SPACE) state = IN_STRING;
        buffer[o++] = c;
        break;
      case 0x5f: // _
        if (state === SPACE) state = UNDERSCORE;
        buffer[o++] = c;
        break;
      case 0x0d:
        if (state === UNDERSCORE) state = UNDERSCORE_CR;
        buffer[o++] = c;
        break;
      case 0x0a:
        if (state === UNDERSCORE) {
          o -= 1;
          state = SPACE;
        } else if (state === UNDERSCORE_CR) {
          o -= 2;
          state = SPACE;
        } else buffer[o++] = c;
        break;
      case 0x09:
      case 0x20:
        if (state !== SPACE) buffer[o++] = 0x20;
        if (state === NORMAL || state === UNDERSCORE) state = SPACE;
        break;
      default:
        if (state === NORMAL || state === UNDERSCORE || state === SPACE) {
          buffer[o++] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
          state = NORMAL;
        } else buffer[o++] = c;
    }
  }
  return buffer.subarray(0, o);
}

const signed = (b: number): number => (b >= 0x80 ? b - 256 : b);

/**
 * The printable, lower-cased form ClamAV gives a `_VBA_PROJECT` string (get_unicode_name):
 * the same scheme as stream names, so module names can be looked up among the streams.
 * Big-endian strings are read a byte at a time.
 */
export function vbaUnicodeName(name: Uint8Array, bigEndian: boolean): string | undefined {
  let size = name.length;
  if (!size || name[0] === 0) return undefined;
  if (!bigEndian && size & 1) size--;
  let out = '';
  for (let i = 0; i < size; i += bigEndian ? 1 : 2) {
    const c = signed(name[i]!);
    if (c >= 0 && isPrint(c)) {
      out += String.fromCharCode(toLower(c));
      continue;
    }
    if (c >= 0 && c < 10) out += `_${c}`;
    else {
      if (i + 1 >= size) break;
      const x = ((c < 0 ? 0 : c << 8) | signed(name[i + 1]!)) & 0xffff;
      out += `_${String.fromCharCode(0x61 + (x & 0xf), 0x61 + ((x >> 4) & 0xf), 0x61 + ((x >> 8) & 0xf))}aa`;
    }
    out += '_';
  }
  return out;
}

/** A module of an old-style project: its stream name and the source offset in that stream. */
export interface VbaModule {
  readonly name: string;
  readonly offset: number;
}

/**
 * Counts the project strings (`*\G…`, `*\H…`, `*\C…`, `*\D…` references) at the cursor
 * (vba_read_project_strings), leaving the cursor after them; 0 when they cannot be read.
 * Run once per byte order, the larger count tells the project's endianness.
 */
function countProjectStrings(cursor: FileCursor, bigEndian: boolean): number {
  let count = 0;
  let readLength = true;
  let length = 0;
  for (;;) {
    if (readLength) {
      const value = cursor.readUint16(bigEndian);
      if (value === undefined) return 0;
      length = value;
    }
    readLength = false;
    if (length < 6) {
      cursor.skip(-2);
      break;
    }
    const offset = cursor.pos;
    const bytes = cursor.read(length);
    if (!bytes) {
      cursor.seek(offset);
      break;
    }
    const name = vbaUnicodeName(bytes, bigEndian);
    if (name === undefined || !name.startsWith('*\\') || !(name.length === 2 || 'ghcd'.includes(name[2]!))) {
      cursor.skip(-(length + 2));
      break;
    }
    const next = cursor.readUint16(bigEndian);
    if (next === undefined) break;
    length = next;
    count++;
    if (length !== 0 && length !== 0xffff) continue;
    cursor.skip(10);
    skipMiddle(cursor);
    readLength = true;
  }
  return count;
}

/** Steps over the fixed "middle" block when it is there (vba56_test_middle). */
function skipMiddle(cursor: FileCursor): void {
  const bytes = cursor.read(MIDDLE_SIZE);
  if (!bytes) return;
  if (!MIDDLES.some((middle) => middle.every((b, i) => bytes[i] === b))) cursor.skip(-MIDDLE_SIZE);
}

/**
 * The modules listed in a `_VBA_PROJECT` stream (cli_vba_readdir). `streamCount(name)` is the
 * number of streams of that name in the document: a module name no stream has, or any record
 * that cannot be read, rejects the whole project (undefined), as in ClamAV.
 */
export function readVbaProject(stream: Uint8Array, streamCount: (name: string) => number): VbaModule[] | undefined {
  const cursor = new FileCursor(stream);
  const header = cursor.read(VBA56_HEADER_SIZE);
  if (!header || header[0] !== VBA56_MAGIC[0] || header[1] !== VBA56_MAGIC[1]) return undefined;
  const bigCount = countProjectStrings(cursor, true);
  const afterBig = cursor.pos;
  cursor.seek(VBA56_HEADER_SIZE);
  const littleCount = countProjectStrings(cursor, false);
  if (!bigCount && !littleCount) return undefined;
  const bigEndian = bigCount > littleCount;
  if (bigEndian) cursor.seek(afterBig);

  // Skip to the end of the references: a 0xFFFF marker, possibly one byte out of alignment.
  let marker: number | undefined;
  do {
    marker = cursor.readUint16();
    if (marker === undefined) return undefined;
  } while (marker !== 0xffff);
  cursor.skip(-3);
  marker = cursor.readUint16();
  if (marker === undefined) return undefined;
  if (marker !== 0xffff) cursor.skip(1);
  let skip = cursor.readUint16(bigEndian);
  if (skip === undefined) return undefined;
  if (skip !== 0xffff) cursor.skip(skip);
  skip = cursor.readUint16(bigEndian);
  if (skip === undefined) return undefined;
  if (skip === 0xffff) skip = 0;
  cursor.skip(skip + 100);

  const recordCount = cursor.readUint16(bigEndian);
  if (!recordCount || recordCount > MAX_VBA_COUNT) return undefined;
  const modules: VbaModule[] = [];
  for (let i = 0; i < recordCount; i++) {
    const length = cursor.readUint16(bigEndian);
    if (!length) return undefined;
    const bytes = cursor.read(length);
    if (!bytes) return undefined;
    const name = vbaUnicodeName(bytes, bigEndian);
    if (name === undefined || !streamCount(name)) return undefined;
    const extra = cursor.readUint16(bigEndian);
    if (extra === undefined) return undefined;
    cursor.skip(extra);
    let field = cursor.readUint16(bigEndian);
    if (field === undefined) return undefined;
    if (field === 0xffff) {
      cursor.skip(2);
      field = cursor.readUint16(bigEndian);
      if (field === undefined) return undefined;
      cursor.skip(field + 8);
    } else cursor.skip(field + 10);
    const byteCount = cursor.readUint16(bigEndian);
    if (byteCount === undefined) return undefined;
    cursor.skip(8 * byteCount + 5);
    const offset = cursor.readUint32(bigEndian);
    if (offset === undefined) return undefined;
    modules.push({ name, offset });
    cursor.skip(2);
  }
  return modules;
}
