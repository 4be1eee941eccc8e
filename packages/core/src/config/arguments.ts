import type { OptionSpec } from './types.js';

/**
 * Checking and converting option arguments, with the exact arithmetic of ClamAV's parser
 * (atoi() for numbers, strtoll() with base 0 for sizes), because the results are visible:
 * clamconf prints them and the daemons use them.
 */

/** LLONG_MAX: what a size of 0 or an overflowing size becomes. */
export const SIZE_LIMIT = 2n ** 63n - 1n;

const LONG_MIN = -(2n ** 63n);

// ClamAV compiles these without REG_NEWLINE and matches them ignoring case (none of its options
// asks for case-sensitive matching), so `$` is the end of the argument and "1k" is a valid size.
const TYPE_PATTERNS = {
  bool: /^(yes|true|1|no|false|0)$/i,
  number: /^[0-9]+$/,
  size: /^[0-9]+[KMG]?$/i,
} as const;

/** Whether ClamAV accepts `text` as an argument of this option at all. */
export function isWellFormed(spec: OptionSpec, text: string): boolean {
  if (spec.type === 'string') {
    const lower = text.toLowerCase();
    return spec.choices === undefined || spec.choices.some((c) => c.toLowerCase() === lower);
  }
  return TYPE_PATTERNS[spec.type].test(text);
}

/** A converted argument: ClamAV's pair of string and number (the number -1 meaning "none"). */
export interface StoredArgument {
  readonly text: string | undefined;
  readonly number: bigint;
}

export type Conversion =
  | { readonly ok: true; readonly value: StoredArgument; readonly tooHigh: boolean }
  | { readonly ok: false };

/** Converts a well-formed argument. Only sizes can fail (a leading 0 followed by 8 or 9). */
export function convertArgument(spec: OptionSpec, text: string): Conversion {
  switch (spec.type) {
    case 'string':
      return { ok: true, value: { text, number: -1n }, tooHigh: false };
    case 'bool':
      return { ok: true, value: { text: undefined, number: isTrue(text) ? 1n : 0n }, tooHigh: false };
    case 'number':
      return { ok: true, value: { text: undefined, number: atoi(text) }, tooHigh: false };
    case 'size':
      return parseSize(text);
  }
}

function isTrue(text: string): boolean {
  const lower = text.toLowerCase();
  return lower === 'yes' || lower === 'true' || text === '1';
}

/**
 * glibc's atoi(): strtol() clamps to the range of `long`, and the result is then truncated to a
 * 32-bit `int`, so 4294967297 becomes 1 and 2147483648 becomes -2147483648.
 */
function atoi(text: string): bigint {
  const digits = /^[\t\n\v\f\r ]*([+-]?[0-9]+)/.exec(text);
  if (!digits) return 0n;
  let value = BigInt(digits[1] as string);
  if (value > SIZE_LIMIT) value = SIZE_LIMIT;
  else if (value < LONG_MIN) value = LONG_MIN;
  return BigInt.asIntN(32, value);
}

const SUFFIX_FACTORS: Readonly<Record<string, bigint>> = {
  k: 1024n,
  m: 1024n ** 2n,
  g: 1024n ** 3n,
};

/**
 * strtoll(text, &end, 0) followed by ClamAV's suffix handling. Well-formed sizes are digits and an
 * optional suffix, so only decimal and octal (leading 0) numbers occur. On overflow, strtoll's
 * ERANGE skips the suffix check entirely; ClamAV then warns and uses the limit.
 */
function parseSize(text: string): Conversion {
  const octal = text.startsWith('0');
  const digits = (octal ? /^[0-7]+/ : /^[0-9]+/).exec(text)?.[0] ?? '';
  let value = BigInt(octal ? `0o${digits}` : digits);
  let tooHigh = value > SIZE_LIMIT;
  if (tooHigh) {
    value = SIZE_LIMIT;
  } else {
    const rest = text.slice(digits.length);
    if (rest !== '') {
      const factor = SUFFIX_FACTORS[(rest[0] as string).toLowerCase()];
      if (factor === undefined) return { ok: false };
      if (value <= SIZE_LIMIT / factor) value *= factor;
      else {
        tooHigh = true;
        value = SIZE_LIMIT;
      }
    }
  }
  // A size of 0 means "no limit", which ClamAV stores as the largest value.
  return { ok: true, value: { text: undefined, number: value === 0n ? SIZE_LIMIT : value }, tooHigh };
}
