/**
 * The C library number and field conventions that database fields go through in ClamAV
 * (atoi, sscanf("%u"), cli_strtok, cli_isnumber, the hex table), reproduced because they decide
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
 * `sscanf(text + from, "%u")`: skips blanks, takes an optional sign and at least one digit; a
 * minus sign wraps the value modulo 2^32 like C's unsigned conversion. Null when no digit follows.
 */
export function scanUnsigned(text: string, from = 0): ScannedNumber | null {
  let i = from;
  while (i < text.length && isBlank(text.charCodeAt(i))) i++;
  let negative = false;
  if (text[i] === '+' || text[i] === '-') {
    negative = text[i] === '-';
    i++;
  }
  const digitsStart = i;
  let value = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    value = (value * 10 + (c - 0x30)) % 0x1_0000_0000;
    i++;
  }
  if (i === digitsStart) return null;
  if (negative && value !== 0) value = 0x1_0000_0000 - value;
  return { value, end: i };
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
