/**
 * The C library number conventions that database fields go through in ClamAV, reproduced because
 * they decide which lines load and what odd values mean.
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
