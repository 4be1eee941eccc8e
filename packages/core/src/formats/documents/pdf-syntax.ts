/**
 * The low-level PDF scanning primitives of libclamav's pdf.c, on byte offsets instead of C
 * pointers: ClamAV does not tokenise PDF, it searches and skips, and which bytes it looks at
 * decides what it extracts. Every function takes a buffer, a position and a length (the bytes
 * ClamAV allows itself to look at) and returns a position, or -1 for C's NULL.
 */
import { isDigit, isSpace } from './bytes.js';
import { indexOfBytes } from '../../util/byte-search.js';

/** cli_memstr: the first occurrence of `needle` in `buf[pos, pos + len)`, or -1. */
export function memstr(buf: Uint8Array, pos: number, len: number, needle: Uint8Array): number {
  if (len <= 0 || len < needle.length) return -1;
  return indexOfBytes(buf, needle, pos, Math.min(buf.length, pos + len));
}

/** memchr within `buf[pos, pos + len)`. */
export function memchr(buf: Uint8Array, pos: number, len: number, byte: number): number {
  if (len <= 0) return -1;
  const at = buf.indexOf(byte, pos);
  return at !== -1 && at < pos + len ? at : -1;
}

/** PDF white space as ClamAV's object finder sees it (NUL, TAB, LF, FF, CR, space). */
export function isPdfSpace(c: number | undefined): boolean {
  return c === 0 || c === 9 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

/** findNextNonWSBack: steps back over white space, stopping at `start`. */
export function nonSpaceBack(buf: Uint8Array, pos: number, start: number): number {
  while (pos > start && isPdfSpace(buf[pos])) pos--;
  return pos;
}

/** findNextNonWS: steps over white space, stopping at `end`. */
export function nonSpaceForward(buf: Uint8Array, pos: number, end: number): number {
  while (pos < end && isPdfSpace(buf[pos])) pos++;
  return pos;
}

export interface ParsedInt {
  /** The value (rounded beyond 2^53, which only matters for sizes nobody has). */
  readonly value: number;
  /** The low 32 bits of the magnitude, exact: object numbers are kept modulo 2^24. */
  readonly low32: number;
  /** Just after the last digit. */
  readonly end: number;
}

const LONG_MAX = 2n ** 63n - 1n;

/**
 * cli_strntol_wrap in base 10: optional white space and sign, then digits, within `len` bytes.
 * Undefined without digits or on overflow of a 64-bit long.
 */
export function parseLong(buf: Uint8Array, pos: number, len: number): ParsedInt | undefined {
  const end = Math.min(buf.length, pos + len);
  let s = pos;
  while (s < end && isSpace(buf[s]!)) s++;
  if (s >= end) return undefined;
  let negative = false;
  if (buf[s] === 0x2d || buf[s] === 0x2b) {
    negative = buf[s] === 0x2d;
    if (++s >= end) return undefined;
  }
  const digitsStart = s;
  while (s < end && isDigit(buf[s]!)) s++;
  if (s === digitsStart) return undefined;
  let value: number;
  let low32: number;
  if (s - digitsStart > 15) {
    let big = 0n;
    for (let i = digitsStart; i < s; i++) big = big * 10n + BigInt(buf[i]! - 0x30);
    if (big > LONG_MAX + (negative ? 1n : 0n)) return undefined;
    value = Number(big);
    low32 = Number(BigInt.asUintN(32, big));
  } else {
    value = 0;
    for (let i = digitsStart; i < s; i++) value = value * 10 + (buf[i]! - 0x30);
    low32 = value % 2 ** 32;
  }
  return { value: negative ? -value : value, low32, end: s };
}

/** ClamAV's 32-bit object key: the object number's low 24 bits and the generation's low byte. */
export function objectKey(objectNumber: ParsedInt, generation: number): number {
  return (((objectNumber.low32 & 0xffffff) << 8) | (generation & 0xff)) >>> 0;
}

/** A CR, LF or (through strchr's terminator) NUL byte. */
const isLineBreak = (c: number | undefined): boolean => c === 0x0d || c === 0x0a || c === 0 || c === undefined;

/** pdf_nextlinestart: the start of the next line, or -1 when the buffer ends first. */
export function nextLineStart(buf: Uint8Array, pos: number, len: number): number {
  if (len <= 0) return -1;
  while (!isLineBreak(buf[pos])) {
    if (--len === 0) return -1;
    pos++;
  }
  while (isLineBreak(buf[pos])) {
    if (--len === 0) return -1;
    pos++;
  }
  return pos;
}

/**
 * pdf_nextobject: from inside a token, the start of the next one (a name, string, number,
 * keyword…), skipping white space, comments, `[` and `<`; -1 if none.
 */
export function nextObject(buf: Uint8Array, pos: number, len: number): number {
  let inObject = true;
  while (len > 0) {
    const c = buf[pos];
    switch (c) {
      case 0x0a:
      case 0x0d:
      case 0x25: {
        const next = nextLineStart(buf, pos, len);
        if (next === -1) return -1;
        len -= next - pos;
        pos = next;
        inObject = false;
        break;
      }
      case 0x20:
      case 0x09:
      case 0x5b:
      case 0x0b:
      case 0x0c:
      case 0x3c:
        inObject = false;
        pos++;
        len--;
        break;
      case 0x2f:
      case 0x28:
        return pos;
      default:
        if (!inObject) return pos;
        pos++;
        len--;
    }
  }
  return -1;
}

export interface DictValue {
  /** Where the value starts (a dictionary value includes its `<<`). */
  readonly pos: number;
  /** The bytes left from there to the end of the searched range. */
  readonly len: number;
}

/** pdf_getdict: the value following `key` in `buf[pos, pos + len)`. */
export function dictValue(buf: Uint8Array, pos: number, len: number, key: Uint8Array): DictValue | undefined {
  if (len <= 0) return undefined;
  const found = memstr(buf, pos, len, key);
  if (found === -1) return undefined;
  len -= found - pos;
  let q = nextObject(buf, found + 1, len - 1);
  if (q === -1) return undefined;
  while (q > found && (buf[q - 1] === 0x3c || buf[q - 1] === 0x0a)) q--;
  return { pos: q, len: len - (q - found) };
}

/** pdf_readint: the integer value of `key`, -1 when absent or unreadable (C int conversion). */
export function dictInt(buf: Uint8Array, pos: number, len: number, key: Uint8Array): number {
  const value = dictValue(buf, pos, len, key);
  const parsed = value && parseLong(buf, value.pos, value.len);
  return parsed ? parsed.value | 0 : -1;
}

function hexNibble(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** cli_hex2str_to for one byte: the value of two hex digits at `pos`, or -1. */
export function hexByte(buf: Uint8Array, pos: number): number {
  const high = hexNibble(buf[pos]);
  const low = hexNibble(buf[pos + 1]);
  return high < 0 || low < 0 ? -1 : (high << 4) | low;
}

export interface PdfString {
  readonly bytes: Uint8Array;
  /** Where ClamAV's scan stopped (after the closing parenthesis, or at the `>`). */
  readonly end: number;
}

/**
 * pdf_readstring: the literal `(…)` or hex `<…>` string value of `key`, with escapes decoded
 * unless `noEscape`. Undefined (end left at `pos`) when absent, truncated or invalid.
 */
export function dictString(buf: Uint8Array, pos: number, len: number, key: Uint8Array, noEscape: boolean): PdfString | undefined {
  const value = dictValue(buf, pos, len, key);
  if (!value || value.len <= 0) return undefined;
  let q = value.pos;
  len = value.len;
  if (buf[q] === 0x28) {
    let depth = 1;
    const start = ++q;
    len--;
    for (; depth > 0 && len > 0; q++, len--) {
      const c = buf[q];
      if (c === 0x28) depth++;
      else if (c === 0x29) depth--;
      else if (c === 0x5c) {
        q++;
        len--;
      }
    }
    if (len <= 0) return undefined;
    const end = q;
    const raw = buf.subarray(start, q - 1);
    return { bytes: noEscape ? raw.slice() : unescapeLiteral(raw), end };
  }
  if (buf[q] === 0x3c && len >= 3) {
    let start = ++q;
    len--;
    while (len > 0 && buf[start] === 0x0a) {
      start = ++q;
      len--;
    }
    const close = memchr(buf, q + 1, len - 1, 0x3e);
    if (close === -1) return undefined;
    // An odd digit count pairs the last digit with the `>`, which fails.
    if ((close - start) & 1) return undefined;
    const bytes = new Uint8Array((close - start) >> 1);
    for (let i = 0; i < bytes.length; i++) {
      const byte = hexByte(buf, start + 2 * i);
      if (byte < 0) return undefined;
      bytes[i] = byte;
    }
    return { bytes, end: close };
  }
  return undefined;
}

const ESCAPES: Readonly<Record<number, number>> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x66: 0x0c };

/** The escapes of a literal string body as pdf_readstring decodes them. */
function unescapeLiteral(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(raw.length);
  let o = 0;
  const end = raw.length;
  for (let q = 0; q < end; q++) {
    if (raw[q] !== 0x5c) {
      out[o++] = raw[q]!;
      continue;
    }
    q++;
    const c = raw[q];
    if (c === undefined) break; // cannot happen: the closing parenthesis would have been escaped
    if (ESCAPES[c] !== undefined) out[o++] = ESCAPES[c]!;
    else if (c === 0x28 || c === 0x29 || c === 0x5c) out[o++] = c;
    else if (c === 0x0a) continue;
    else if (c === 0x0d) {
      if (q + 1 < end && raw[q + 1] === 0x0a) q++;
    } else if (c >= 0x30 && c <= 0x39) {
      if (q + 2 < end) {
        out[o++] = (64 * (c - 0x30) + 8 * (raw[q + 1]! - 0x30) + (raw[q + 2]! - 0x30)) & 0xff;
        q += 2;
      }
    } else {
      out[o++] = 0x5c;
      q--;
    }
  }
  return out.subarray(0, o);
}
