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

/**
 * `sscanf(text + from, "%x")`: skips blanks, takes an optional sign, an optional `0x`/`0X` and
 * at least one hex digit; like strtoul, a value past 2^64 - 1 saturates there and a minus sign
 * negates it modulo 2^64; the low 32 bits are kept. Null when no digit follows.
 */
export function scanHex(text: string, from = 0): ScannedNumber | null {
  return scanCUnsigned(text, from, 32, 16);
}

/** glibc's unsigned scan conversions: strtoull's value, then the low `bits` of it. */
function scanCUnsigned(text: string, from: number, bits: 32 | 64, radix: 10 | 16 = 10): ScannedNumber | null {
  let i = from;
  while (i < text.length && isBlank(text.charCodeAt(i))) i++;
  const negative = text[i] === '-';
  if (negative || text[i] === '+') i++;
  if (radix === 16 && text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X') && isDigitOf(text.charCodeAt(i + 2), 16)) i += 2;
  const digitsStart = i;
  let value = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isDigitOf(c, radix)) break;
    value = value * radix + hexValue(c);
  }
  if (i === digitsStart) return null;
  if (!negative && value <= Number.MAX_SAFE_INTEGER) return { value: bits === 32 ? value % 2 ** 32 : value, end: i };
  let exact = BigInt(`${radix === 16 ? '0x' : ''}${text.slice(digitsStart, i)}`);
  if (exact > MAX_64) exact = MAX_64;
  else if (negative) exact = -exact;
  return { value: Number(BigInt.asUintN(bits, exact)), end: i };
}

function isDigitOf(c: number, radix: 10 | 16): boolean {
  return radix === 16 ? hexValue(c) >= 0 : c >= 0x30 && c <= 0x39;
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

/** The significant digits of glibc's printf("%g"), whose default precision is 6. */
const G_PRECISION = 6;

/**
 * glibc's printf("%g") for a number: 6 significant digits, rounded from the exact binary value
 * half to even, trailing zeros dropped, in exponent form (at least two exponent digits) when the
 * rounded exponent is below -4 or 6 and over. A NaN prints as "nan" (glibc prints "-nan" when
 * its sign bit is set, which a JavaScript number does not keep: callers that read the bits add
 * the sign).
 */
export function formatG(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const magnitude = Math.abs(value);
  if (magnitude === Infinity) return `${sign}inf`;
  if (magnitude === 0) return `${sign}0`;
  const { digits, exponent } = roundedDecimal(magnitude, G_PRECISION);
  if (exponent < -4 || exponent >= G_PRECISION) {
    const mantissa = withoutTrailingZeros(`${digits[0]}.${digits.slice(1)}`);
    const power = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${power}`;
  }
  const point = exponent + 1;
  const fixed = point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return sign + withoutTrailingZeros(fixed);
}

/**
 * A positive finite number rounded to `precision` significant decimal digits, half to even on
 * its exact value: the digits, and the decimal exponent of the first one.
 */
function roundedDecimal(magnitude: number, precision: number): { digits: string; exponent: number } {
  const { mantissa, binaryExponent } = splitDouble(magnitude);
  // The exact value is `exact` × 10^-scale.
  const scale = Math.max(0, -binaryExponent);
  const exact = binaryExponent >= 0 ? mantissa << BigInt(binaryExponent) : mantissa * 5n ** BigInt(scale);
  const text = exact.toString();
  const exponent = text.length - 1 - scale;
  if (text.length <= precision) return { digits: text.padEnd(precision, '0'), exponent };
  const dropped = BigInt(text.length - precision);
  const unit = 10n ** dropped;
  let kept = exact / unit;
  const rest = exact % unit;
  const half = unit / 2n;
  if (rest > half || (rest === half && kept % 2n === 1n)) kept++;
  const digits = kept.toString();
  // Rounding up 999999… adds a digit: the exponent grows by one.
  return digits.length > precision ? { digits: digits.slice(0, precision), exponent: exponent + 1 } : { digits, exponent };
}

/** A positive finite double as mantissa × 2^binaryExponent, exactly. */
function splitDouble(magnitude: number): { mantissa: bigint; binaryExponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, magnitude);
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { mantissa: fraction, binaryExponent: -1074 } : { mantissa: fraction | (1n << 52n), binaryExponent: biased - 1075 };
}

function withoutTrailingZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/** A 32-bit value as ClamAV's debug lines print `%x`. */
export function hex(value: number): string {
  return (value >>> 0).toString(16);
}

/** A 32-bit value as ClamAV's debug lines print `%08x`. */
export function hex8(value: number): string {
  return hex(value).padStart(8, '0');
}
