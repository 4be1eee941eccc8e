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

/**
 * A 256-entry 0/1 table, 1 for the members (for the others when `negated`): the fastest
 * membership test on the matcher's hot path. Only the set bits are visited: the tables are
 * built when the module loads, in code that has not been optimized yet.
 */
export function setToLookup(set: ByteSet, negated = false): Uint8Array {
  const table = new Uint8Array(256);
  if (negated) table.fill(1);
  const member = negated ? 0 : 1;
  for (let i = 0; i < 32; i++) {
    for (let bits = set[i]!, c = i << 3; bits !== 0; bits >>= 1, c++) if (bits & 1) table[c] = member;
  }
  return table;
}

/** The set of the bytes in the inclusive ranges `[from, to]`. */
function setOfRanges(...ranges: readonly (readonly [number, number])[]): ByteSet {
  const set = emptySet();
  for (const [from, to] of ranges) setAddRange(set, from, to);
  return set;
}

const UPPER: readonly [number, number] = [0x41, 0x5a];
const LOWER: readonly [number, number] = [0x61, 0x7a];
const DIGIT: readonly [number, number] = [0x30, 0x39];
const isUpper = (c: number) => c >= UPPER[0] && c <= UPPER[1];
const isLower = (c: number) => c >= LOWER[0] && c <= LOWER[1];

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

export const DIGIT_SET = setOfRanges(DIGIT);
/** \s: HT, LF, VT, FF, CR and space (VT has been white space since PCRE2 10.0). */
export const SPACE_SET = setOfRanges([0x09, 0x0d], [0x20, 0x20]);
export const WORD_SET = setOfRanges(DIGIT, UPPER, [0x5f, 0x5f], LOWER);
/** \h in non-UTF 8-bit mode: HT, space and NBSP. */
export const HSPACE_SET = setOfRanges([0x09, 0x09], [0x20, 0x20], [0xa0, 0xa0]);
/** \v in non-UTF 8-bit mode: LF, VT, FF, CR and NEL. */
export const VSPACE_SET = setOfRanges([0x0a, 0x0d], [0x85, 0x85]);

/**
 * POSIX classes by name, as PCRE2 defines them from its C-locale bitmaps: [:alpha:] and
 * [:alnum:] are "word without digits/underscore", [:blank:] is space and tab, [:ascii:] is
 * 0-127, [:word:] is \w.
 */
export const POSIX_CLASSES: ReadonlyMap<string, ByteSet> = new Map([
  ['alpha', setOfRanges(UPPER, LOWER)],
  ['lower', setOfRanges(LOWER)],
  ['upper', setOfRanges(UPPER)],
  ['alnum', setOfRanges(DIGIT, UPPER, LOWER)],
  ['ascii', setOfRanges([0x00, 0x7f])],
  ['blank', setOfRanges([0x09, 0x09], [0x20, 0x20])],
  ['cntrl', setOfRanges([0x00, 0x1f], [0x7f, 0x7f])],
  ['digit', DIGIT_SET],
  ['graph', setOfRanges([0x21, 0x7e])],
  ['print', setOfRanges([0x20, 0x7e])],
  // graph without alnum
  ['punct', setOfRanges([0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e])],
  ['space', SPACE_SET],
  ['word', WORD_SET],
  ['xdigit', setOfRanges(DIGIT, [0x41, 0x46], [0x61, 0x66])],
]);
