/**
 * The elements of ClamAV's body patterns, in the two forms ClamTS uses: the 32-bit element the
 * matcher works with, and the 16-bit stored form of parsed parts and the pattern table.
 */

// ---- Elements (32 bits) -----------------------------------------------------------------------

/**
 * An element is a 32-bit number. A byte element matches data byte `b` when
 * `((nocase ? lower(b) : b) & mask) === value`: exact bytes have mask 0xff, `a?` 0xf0, `?a`
 * 0x0f and `??` 0. A special element carries SPECIAL_FLAG and the index of its special.
 */
export const SPECIAL_FLAG = 0x0100_0000;
export const NOCASE_FLAG = 0x0001_0000;
export const ANY_BYTE = 0;

export function byteElement(value: number, mask = 0xff, nocase = false): number {
  return (value & mask) | (mask << 8) | (nocase ? NOCASE_FLAG : 0);
}

export function isSpecialElement(element: number): boolean {
  return (element & SPECIAL_FLAG) !== 0;
}

export function specialIndex(element: number): number {
  return element & 0xff_ffff;
}

export function elementMask(element: number): number {
  return (element >>> 8) & 0xff;
}

/** Whether the element is a wildcard in ClamAV's sense: a special, `??` or a nibble. */
export function isWildcardElement(element: number): boolean {
  return isSpecialElement(element) || elementMask(element) !== 0xff;
}

const LOWER = new Uint8Array(256).map((_, b) => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b));

/** C's tolower in the "C" locale, as a table. */
export function lowerByte(b: number): number {
  return LOWER[b]!;
}

export function byteMatches(element: number, b: number): boolean {
  const input = (element & NOCASE_FLAG) !== 0 ? LOWER[b]! : b;
  return (input & (element >>> 8) & 0xff) === (element & 0xff);
}

// ---- Stored elements (16 bits) ----------------------------------------------------------------

/**
 * The 16-bit form in which parsed parts and the pattern table keep body-pattern elements (a real
 * database has millions of them). The parser writes this form directly; `wideElement` gives back
 * the 32-bit element above, which the matcher works with.
 *
 * - An exact byte is its value, so plain hex is stored as its bytes and an exact 0x00 as 0.
 * - Other byte elements add a 2-bit code of their mask in bits 8-9 (STORED_HIGH_NIBBLE `a?`,
 *   STORED_LOW_NIBBLE `?a`, STORED_ANY `??`); a case-insensitive exact byte (`::i`) is its
 *   lower-case value with STORED_NOCASE.
 * - A special is STORED_SPECIAL and its index among the pattern's own specials.
 */
export const STORED_SPECIAL = 0x8000;
export const STORED_NOCASE = 0x0400;
export const STORED_HIGH_NIBBLE = 0x0100;
export const STORED_LOW_NIBBLE = 0x0200;
export const STORED_ANY = 0x0300;
/** The mask code bits: zero for an exact byte. */
const STORED_MASK_CODE = 0x0300;
/** The most specials one pattern can have. */
export const MAX_STORED_SPECIALS = 0x8000;

const MASK_OF_CODE = [0xff, 0xf0, 0x0f, 0x00];
/** The element of each stored byte element (the low 11 bits). */
const WIDE_BYTE_ELEMENTS = Uint32Array.from({ length: 0x800 }, (_, stored) =>
  byteElement(stored & 0xff, MASK_OF_CODE[(stored >> 8) & 3], (stored & STORED_NOCASE) !== 0),
);

/** Whether a stored element is a special (whose index is `storedSpecialIndex`). */
export function isStoredSpecial(stored: number): boolean {
  return (stored & STORED_SPECIAL) !== 0;
}

/** Whether a stored element is an exact byte, case-insensitive or not: ClamAV's static byte. */
export function isStoredStatic(stored: number): boolean {
  return (stored & (STORED_SPECIAL | STORED_MASK_CODE)) === 0;
}

/** The index in `specials` of a stored special, for a pattern whose specials start at `specialStart`. */
export function storedSpecialIndex(stored: number, specialStart: number): number {
  return specialStart + (stored & (MAX_STORED_SPECIALS - 1));
}

/** The element a stored element stands for, for a pattern whose specials start at `specialStart`. */
export function wideElement(stored: number, specialStart: number): number {
  return isStoredSpecial(stored) ? SPECIAL_FLAG | storedSpecialIndex(stored, specialStart) : WIDE_BYTE_ELEMENTS[stored]!;
}

/** A run of static bytes read as a search key (see staticBytesKey). */
export interface StaticKey {
  /** The bytes as a big-endian number. */
  key: number;
  /** Which bytes are case-insensitive, one bit each, the first byte highest. */
  nocase: number;
}

/**
 * Reads the `length` (at most 4) stored static bytes at `elements[from..]` into `out`: a stored
 * static byte is its value, with STORED_NOCASE when case-insensitive.
 */
export function staticBytesKey(elements: Uint16Array, from: number, length: number, out: StaticKey): void {
  let key = 0;
  let nocase = 0;
  for (let k = from; k < from + length; k++) {
    const e = elements[k]!;
    key = ((key << 8) | (e & 0xff)) >>> 0;
    nocase = (nocase << 1) | ((e & STORED_NOCASE) !== 0 ? 1 : 0);
  }
  out.key = key;
  out.nocase = nocase;
}
