/**
 * The C library number and field conventions that database fields go through in ClamAV
 * (atoi, sscanf("%u") and "%zu", cli_strtok, cli_isnumber, the hex table), reproduced because they decide
 * which lines load and what odd values mean.
 */

/** libclamav's cli_isnumber: only decimal digits, and the empty string counts as a number. */
export function isDigits(text: string): boolean {
  return /^[0-9]*$/.test(text);
}

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

/**
 * glibc's atoi: strtol (leading blanks, sign, digits, saturating at the 64-bit limits) truncated
 * to a 32-bit signed int. Callers that store the value unsigned use `>>> 0` on the result.
 */
export function atoi(text: string): number {
  const match = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(text)!;
  if (match[2] === '') return 0;
  let value = BigInt(match[2]);
  if (match[1] === '-') value = -value;
  if (value > LONG_MAX) value = LONG_MAX;
  if (value < LONG_MIN) value = LONG_MIN;
  return Number(BigInt.asIntN(32, value));
}

/**
 * libclamav's cli_strtok: field `index` of `text` split on any of `delimiters`, where runs of
 * delimiters count as one; undefined when the field is missing or empty.
 */
export function strtokField(text: string, index: number, delimiters: string): string | undefined {
  let i = 0;
  let counter = 0;
  for (; i < text.length && counter !== index; i++) {
    if (delimiters.includes(text[i])) {
      counter++;
      while (i + 1 < text.length && delimiters.includes(text[i + 1])) i++;
    }
  }
  if (i >= text.length) return undefined;
  let end = i;
  while (end < text.length && !delimiters.includes(text[end])) end++;
  return end === i ? undefined : text.slice(i, end);
}

/** `sscanf("%u")`-style scanning and ClamAV's hex digit table. */
export interface ScannedNumber {
  readonly value: number;
  /** Index just after the last digit. */
  readonly end: number;
}

function isBlank(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * `sscanf(text + from, "%u")`: skips blanks, takes an optional sign and at least one digit, reads
 * them as glibc does (see scanSize) and keeps the low 32 bits. Null when no digit follows.
 */
export function scanUnsigned(text: string, from = 0): ScannedNumber | null {
  return scanCUnsigned(text, from, 32);
}

/**
 * `sscanf(text + from, "%zu")` with glibc's 64-bit size_t: skips blanks, takes an optional sign
 * and at least one digit. Like strtoull, a value past 2^64 - 1 saturates there, and a minus sign
 * negates the value modulo 2^64. Values past 2^53 come back rounded. Null when no digit follows.
 */
export function scanSize(text: string, from = 0): ScannedNumber | null {
  return scanCUnsigned(text, from, 64);
}

const MAX_64 = (1n << 64n) - 1n;
/** Up to this many digits a double holds the value exactly. */
const EXACT_DIGITS = 15;

/** glibc's unsigned scan conversions: strtoull's value, then the low `bits` of it. */
function scanCUnsigned(text: string, from: number, bits: 32 | 64): ScannedNumber | null {
  let i = from;
  while (i < text.length && isBlank(text.charCodeAt(i))) i++;
  const negative = text[i] === '-';
  if (negative || text[i] === '+') i++;
  const digitsStart = i;
  let value = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
  }
  if (i === digitsStart) return null;
  if (!negative && i - digitsStart <= EXACT_DIGITS) return { value: bits === 32 ? value % 2 ** 32 : value, end: i };
  let exact = BigInt(text.slice(digitsStart, i));
  if (exact > MAX_64) exact = MAX_64;
  else if (negative) exact = -exact;
  return { value: Number(BigInt.asUintN(bits, exact)), end: i };
}

/** Hex digit value of a character code, -1 when it is not one (ClamAV's hex table). */
export function hexValue(c: number): number {
  return c < 0x80 ? HEX_VALUES[c]! : -1;
}

const HEX_VALUES = new Int8Array(0x80).map((_, c) => {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
});
