/**
 * Character tables for PCRE2's 8-bit, non-UTF mode with the tables PCRE2 builds in the "C"
 * locale (the ones ClamAV gets, since it never passes its own). Only ASCII letters have a
 * case partner, and the character types are the ASCII ones: bytes 0x80-0xFF are never
 * letters, digits, word characters or white space.
 *
 * Sets are 32-byte bitmaps (bit `c & 7` of byte `c >> 3`), the layout PCRE2 uses for
 * classes, so set algebra is a byte loop and a membership test is one shift.
 */

export type ByteSet = Uint8Array;

export function emptySet(): ByteSet {
  return new Uint8Array(32);
}

export function setHas(set: ByteSet, c: number): boolean {
  return (set[c >> 3]! & (1 << (c & 7))) !== 0;
}

export function setAdd(set: ByteSet, c: number): void {
  set[c >> 3]! |= 1 << (c & 7);
}

export function setAddRange(set: ByteSet, from: number, to: number): void {
  for (let c = from; c <= to; c++) setAdd(set, c);
}

export function setUnion(into: ByteSet, other: ByteSet): void {
  for (let i = 0; i < 32; i++) into[i]! |= other[i]!;
}

export function setUnionNegated(into: ByteSet, other: ByteSet): void {
  for (let i = 0; i < 32; i++) into[i]! |= ~other[i]! & 0xff;
}

/** A 256-entry 0/1 table: the fastest membership test on the matcher's hot path. */
export function setToLookup(set: ByteSet): Uint8Array {
  const table = new Uint8Array(256);
  for (let c = 0; c < 256; c++) if (setHas(set, c)) table[c] = 1;
  return table;
}

function setOf(pred: (c: number) => boolean): ByteSet {
  const set = emptySet();
  for (let c = 0; c < 256; c++) if (pred(c)) setAdd(set, c);
  return set;
}

const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
const isLower = (c: number) => c >= 0x61 && c <= 0x7a;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** The other case of an ASCII letter; every other byte is its own partner (PCRE2's fcc table). */
export function otherCase(c: number): number {
  if (isUpper(c)) return c + 0x20;
  if (isLower(c)) return c - 0x20;
  return c;
}

/** Lower-cases ASCII letters only (PCRE2's lcc table). */
export function lowerCase(c: number): number {
  return isUpper(c) ? c + 0x20 : c;
}

export const DIGIT_SET = setOf(isDigit);
/** \s: HT, LF, VT, FF, CR and space (VT has been white space since PCRE2 10.0). */
export const SPACE_SET = setOf((c) => (c >= 0x09 && c <= 0x0d) || c === 0x20);
export const WORD_SET = setOf((c) => isUpper(c) || isLower(c) || isDigit(c) || c === 0x5f);
/** \h in non-UTF 8-bit mode: HT, space and NBSP. */
export const HSPACE_SET = setOf((c) => c === 0x09 || c === 0x20 || c === 0xa0);
/** \v in non-UTF 8-bit mode: LF, VT, FF, CR and NEL. */
export const VSPACE_SET = setOf((c) => (c >= 0x0a && c <= 0x0d) || c === 0x85);

/**
 * POSIX classes by name, as PCRE2 defines them from its C-locale bitmaps: [:alpha:] and
 * [:alnum:] are "word without digits/underscore", [:blank:] is space and tab, [:ascii:] is
 * 0-127, [:word:] is \w.
 */
const cntrl = (c: number) => c < 0x20 || c === 0x7f;
const print = (c: number) => c >= 0x20 && c <= 0x7e;
const graph = (c: number) => c >= 0x21 && c <= 0x7e;
const alnum = (c: number) => isUpper(c) || isLower(c) || isDigit(c);

export const POSIX_CLASSES: ReadonlyMap<string, ByteSet> = new Map([
  ['alpha', setOf((c) => isUpper(c) || isLower(c))],
  ['lower', setOf(isLower)],
  ['upper', setOf(isUpper)],
  ['alnum', setOf(alnum)],
  ['ascii', setOf((c) => c < 0x80)],
  ['blank', setOf((c) => c === 0x09 || c === 0x20)],
  ['cntrl', setOf(cntrl)],
  ['digit', setOf(isDigit)],
  ['graph', setOf(graph)],
  ['print', setOf(print)],
  ['punct', setOf((c) => graph(c) && !alnum(c))],
  ['space', SPACE_SET],
  ['word', WORD_SET],
  ['xdigit', setOf((c) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))],
]);
