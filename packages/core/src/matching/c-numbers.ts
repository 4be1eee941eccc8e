/**
 * C library parsing rules that signature acceptance depends on and that filetypes/c-numbers.ts
 * does not already provide: `sscanf("%u")` (leading blanks, a sign, wrapping to 32 bits) and
 * ClamAV's hex digit table.
 */

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
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
