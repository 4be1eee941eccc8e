import { SignatureError } from './signature-error.js';

/**
 * Byte-compare subsignatures, `subsig(offset#options#comparisons)`: read a number near the last
 * match of another subsignature and compare it, as ClamAV's matcher-byte-comp does. Numbers are
 * 64-bit in ClamAV, so BigInt is used (this path is rare and cold).
 */

const enum Option {
  Hex = 0x0001,
  Decimal = 0x0002,
  Binary = 0x0004,
  Auto = 0x0008,
  Little = 0x0010,
  Big = 0x0020,
  Exact = 0x0100,
}

const MAX_BINARY_LENGTH = 8n;
const MAX_HEX_LENGTH = 18n;
const LONG_MAX = 0x7fff_ffff_ffff_ffffn;
const LONG_MIN = -0x8000_0000_0000_0000n;

export interface ByteCompare {
  /** The subsignature whose last match position the offset is counted from. */
  readonly reference: number;
  readonly offset: number;
  readonly options: number;
  readonly length: number;
  readonly comparisons: readonly { readonly symbol: '<' | '>' | '='; readonly value: bigint }[];
}

/** Does the subsignature text have byte-compare form (ClamAV: a `(` and two distinct `#`)? */
export function isByteCompareSyntax(text: string): boolean {
  return text.includes('(') && text.indexOf('#') !== text.lastIndexOf('#');
}

function isSpaceByte(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isDigitCode(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** C's strtol/strtoll on a string: value and the index where conversion stopped. */
function strtol(text: string, from: number, base: number): { value: bigint; end: number } {
  const codes = Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
  const result = strntol(codes, from, codes.length - from, base, true);
  return { value: result.value, end: result.end };
}

/**
 * ClamAV's cli_strntol over `bytes[from, from + n)`, including its quirk that after a sign the
 * `0x` prefix is not recognised. `clib` selects the C library behaviour instead (which does).
 */
function strntol(
  bytes: Uint8Array,
  from: number,
  n: number,
  base: number,
  clib = false,
): { value: bigint; end: number; overflow: boolean } {
  const limit = from + n;
  const none = { value: 0n, end: from, overflow: false };
  if (n === 0) return none;
  let s = from;
  while (s < limit && isSpaceByte(bytes[s]!)) s++;
  if (s >= limit) return none;
  let c = bytes[s]!;
  let negative = false;
  if (c === 0x2d || c === 0x2b) {
    negative = c === 0x2d;
    s++;
    if (s >= limit) return none;
    if (clib) c = bytes[s]!;
  }
  if ((base === 0 || base === 16) && c === 0x30 && s + 1 < limit && (bytes[s + 1]! | 0x20) === 0x78) {
    if (s + 2 >= limit) return none;
    s += 2;
    base = 16;
  }
  if (base === 0) base = c === 0x30 ? 8 : 10;
  const cutoff = negative ? -LONG_MIN : LONG_MAX;
  let acc = 0n;
  let any = 0;
  const bigBase = BigInt(base);
  for (; s < limit; s++) {
    const b = bytes[s]!;
    let digit: number;
    if (b >= 0x30 && b <= 0x39) digit = b - 0x30;
    else if (b >= 0x41 && b <= 0x5a) digit = b - 0x37;
    else if (b >= 0x61 && b <= 0x7a) digit = b - 0x57;
    else break;
    if (digit >= base) break;
    if (any < 0 || acc * bigBase + BigInt(digit) > cutoff) any = -1;
    else {
      any = 1;
      acc = acc * bigBase + BigInt(digit);
    }
  }
  if (any < 0) return { value: negative ? LONG_MIN : LONG_MAX, end: s, overflow: true };
  return { value: negative ? -acc : acc, end: any ? s : from, overflow: false };
}

/** Parses the byte-compare subsignature text, refusing what ClamAV's cli_bcomp_addpatt refuses. */
export function parseByteCompare(text: string): ByteCompare {
  const idEnd = strtol(text, 0, 10);
  if (text[idEnd.end] !== '(') {
    throw new SignatureError(
      'cli_bcomp_addpatt: while byte compare subsig parsing, reference subsig id was invalid or included non-decimal character',
    );
  }
  const reference = Number(BigInt.asIntN(16, idEnd.value));
  if (reference > 64) {
    throw new SignatureError(
      'cli_bcomp_addpatt: while byte compare subsig parsing, reference subigid exceeded limits on max LDB subsigs',
    );
  }
  const close = text.indexOf(')', idEnd.end);
  if (close < 0) throw new SignatureError('cli_bcomp_addpatt: ending paren not found');
  const params = text.slice(idEnd.end + 1, close);
  const tokens = splitParams(params);
  if (tokens.length !== 3) {
    throw new SignatureError(`cli_bcomp_addpatt: ${tokens.length} (or more) params provided, 3 expected`);
  }
  const [offsetText, optionText, comparisonText] = tokens as [string, string, string];
  const where = `(${offsetText}#${optionText}#${comparisonText})`;
  const fail = (what: string): SignatureError => new SignatureError(`cli_bcomp_addpatt: while parsing ${where}, ${what}`);

  let offset = 0n;
  switch (offsetText[0]) {
    case '<':
    case '>': {
      if (offsetText[1] !== offsetText[0]) {
        throw fail(offsetText[0] === '<' ? 'shift operator not valid' : 'shift operator and/or offset not valid');
      }
      const number = strtol(offsetText, 2, 0);
      if (number.end !== offsetText.length) throw fail('offset parameter included invalid characters');
      offset = offsetText[0] === '<' ? -number.value : number.value;
      break;
    }
    case '0':
    case undefined:
      break;
    default:
      throw fail('shift operator included invalid characters');
  }

  let options = 0;
  let i = 0;
  for (; !isDigitCode(optionText.charCodeAt(i) || undefined); i++) {
    const set = OPTION_LETTERS[optionText[i] ?? ''];
    if (set === undefined || (options & set.conflicts) !== 0) throw fail('option parameter was found invalid');
    options |= set.adds;
  }
  const lengthNumber = strtol(optionText, i, 0);
  if (lengthNumber.end !== optionText.length || lengthNumber.value === 0n) {
    throw fail('byte length parameter included invalid characters');
  }
  const length = lengthNumber.value;
  if (options & Option.Binary && (length > MAX_BINARY_LENGTH || length < 0n || MAX_BINARY_LENGTH % length !== 0n)) {
    throw fail('byte length was either too long or not a valid number of bytes');
  }
  if (options & Option.Hex && length > MAX_HEX_LENGTH) throw fail('byte length was too long');

  const parts = comparisonText.split(',');
  if (parts.length > 2) throw fail('too many commas found in comparison string');
  const comparisons = parts.map((part) => {
    const symbol = part[0];
    if (symbol !== '<' && symbol !== '>' && symbol !== '=') {
      throw fail(`byte comparison symbol was invalid (>, <, = are supported operators) ${part}`);
    }
    const value = strtol(part, 1, 0);
    if (value.end !== part.length) throw fail('comparison value contained invalid input');
    return { symbol: symbol as '<' | '>' | '=', value: value.value };
  });
  return { reference, offset: Number(offset), options, length: Number(BigInt.asUintN(32, length)), comparisons };
}

/** ClamAV's cli_strtokenize with at most 4 tokens (the 4th, if any, cut at the next `#`). */
function splitParams(params: string): string[] {
  const all = params.split('#');
  return all.length > 4 ? all.slice(0, 4) : all;
}

const OPTION_LETTERS: Record<string, { adds: number; conflicts: number }> = {
  h: { adds: Option.Hex, conflicts: Option.Decimal | Option.Binary | Option.Auto },
  d: { adds: Option.Decimal | Option.Big, conflicts: Option.Hex | Option.Binary | Option.Auto | Option.Little },
  i: { adds: Option.Binary, conflicts: Option.Hex | Option.Decimal | Option.Auto },
  a: { adds: Option.Auto, conflicts: Option.Hex | Option.Decimal | Option.Binary },
  l: { adds: Option.Little, conflicts: Option.Big | Option.Decimal },
  b: { adds: Option.Big, conflicts: Option.Little },
  e: { adds: Option.Exact, conflicts: 0 },
};

function isHexDigitOrX(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) || (c | 0x20) === 0x78;
}

function startsWithHexPrefix(bytes: Uint8Array, length: number): boolean {
  return length >= 3 && bytes[0] === 0x30 && (bytes[1]! | 0x20) === 0x78;
}

/** ClamAV's little-endian hex normalisation: reverses the hex digit pairs ("0000BA" → "BA0000"). */
function reverseHexPairs(text: Uint8Array, length: number): Uint8Array {
  const normLength = length % 2 === 0 ? length : length + 1;
  const ZERO = 0x30;
  const out = new Uint8Array(normLength).fill(ZERO);
  if (length === 1) {
    out[0] = text[0]!;
    return out;
  }
  const padded = new Uint8Array(normLength + 1).fill(ZERO);
  const prefixed = startsWithHexPrefix(text, length);
  if (normLength === length + 1) {
    if (prefixed) {
      padded.set(text.subarray(2, length), 3);
      padded[0] = 0x78;
    } else {
      padded.set(text.subarray(0, length), 1);
    }
  } else {
    padded.set(text.subarray(0, length));
    if (prefixed) padded[0] = 0x78;
  }
  for (let i = 0; i < normLength; i += 2) {
    const high = padded[normLength - i - 2]!;
    if (isHexDigitOrX(high)) out[i] = high;
    else {
      out.fill(ZERO);
      continue;
    }
    const low = padded[normLength - i - 1]!;
    if (isHexDigitOrX(low)) out[i + 1] = low;
    else out.fill(ZERO);
  }
  return out;
}

/**
 * Does the comparison hold for the number read at `position` (the last match of the reference
 * subsignature) plus the signature's offset, in `buffer`? (ClamAV's cli_bcomp_compare_check.)
 */
export function byteCompareMatches(buffer: Uint8Array, position: number, bc: ByteCompare): boolean {
  let length = bc.length;
  const at = position + bc.offset;
  if (!(at + length <= buffer.length)) return false;
  if (!(at > 0)) return false;
  const raw = buffer.subarray(at, at + length);
  let options = bc.options;
  let pad = 0;
  let text = raw;
  if (!(options & Option.Binary)) {
    while (pad < length && isSpaceByte(raw[pad]!)) pad++;
    text = raw.subarray(pad);
    length -= pad;
  }
  const little = (options & 0xf0) === Option.Little;
  const reversed = little && !(options & Option.Binary) ? reverseHexPairs(text, length) : null;
  if (options & Option.Auto) {
    // With fewer than 3 characters ClamAV leaves the type undecided, which then never matches.
    if (length >= 3) options = (options | (startsWithHexPrefix(text, length) ? Option.Hex : Option.Decimal)) ^ Option.Auto;
  }
  const exact = (options & Option.Exact) !== 0;
  let value: bigint;
  switch (options & 0xff) {
    case Option.Hex | Option.Little: {
      const normLength = length !== 1 ? (length % 2 === 0 ? length : length + 1) : 1;
      const result = strntol(reversed!, 0, normLength, 16);
      if (result.overflow) return false;
      if (exact && (result.end !== length || pad !== 0)) return false;
      value = result.value;
      break;
    }
    case Option.Hex | Option.Big:
    case Option.Decimal | Option.Big: {
      const result = strntol(text, 0, length, options & Option.Hex ? 16 : 10);
      if (result.overflow) return false;
      if (exact && (result.end !== length || pad !== 0)) return false;
      value = result.value;
      break;
    }
    case Option.Binary | Option.Little:
    case Option.Binary | Option.Big: {
      if (length !== 1 && length !== 2 && length !== 4 && length !== 8) return false;
      let unsigned = 0n;
      for (let k = 0; k < length; k++) {
        const b = BigInt(raw[options & Option.Little ? length - 1 - k : k]!);
        unsigned = (unsigned << 8n) | b;
      }
      value = BigInt.asIntN(64, unsigned);
      break;
    }
    default:
      return false;
  }
  return bc.comparisons.every(({ symbol, value: expected }) =>
    symbol === '<' ? value < expected : symbol === '>' ? value > expected : value === expected,
  );
}
