import {
  STORED_ANY,
  STORED_HIGH_NIBBLE,
  STORED_LOW_NIBBLE,
  STORED_SPECIAL,
  isStoredSpecial,
  isStoredStatic,
  storedSpecialIndex,
} from '../signatures/pattern-elements.js';
import { parseGap, splitPattern, SplitKind, UNBOUNDED_GAP } from '../signatures/body-pattern.js';
import { hexValue } from '../util/c-numbers.js';
import { SignatureError } from '../matching/signature-error.js';
import { parseTypeOffset, type TypeOffset } from './type-offset.js';

/**
 * Parsing of the body patterns in `.ftm` lines of magic type 1, into the pieces ClamAV's
 * Aho-Corasick matcher works with.
 *
 * Supported: hex bytes, `??`, nibble wildcards `a?`/`?a`, fixed-length alternatives `(aa|bb)`
 * (one or more bytes each, optionally negated `!(…)`), `*`, `{n}`, `{n-m}`, `{-m}`, `{n-}` (offsets:
 * type-offset.ts). That covers ClamAV's built-in list and the official daily.ftm. Variable-length
 * or nested alternatives, `[n-m]` anchors and the `(B)`, `(L)`, `(W)` classes are refused as
 * malformed (ClamAV accepts them; no type signature uses them). Everything else is refused or
 * accepted exactly as ClamAV does, with its messages, including the limits of its prefilter.
 *
 * A pattern element has the 16-bit stored form of every body pattern (signatures/
 * pattern-elements.ts): an exact byte is its value, and a special indexes the part's alternatives.
 */

/** The AC trie indexes 2 or 3 static bytes of every pattern part. */
export const MIN_KEY = 2;
export const MAX_KEY = 3;
const MAX_NESTING = 15;

/** An alternative `(aa|bb|…)`: fixed-length byte strings, sorted. */
export interface Alternative {
  readonly width: number;
  readonly negated: boolean;
  readonly choices: readonly Uint8Array[];
}

/** One part of a signature, as one AC pattern: prefix (matched backwards) + key + rest. */
export interface PatternPart {
  /** 1-based position among the parts of a split signature; 0 when the signature is one piece. */
  readonly partNo: number;
  /** Gap from the end of the previous part to this one (0 = no bound), as for ClamAV's `{n-m}`. */
  readonly minGap: number;
  readonly maxGap: number;
  /** Elements before the key, matched backwards from the key. */
  readonly prefix: Uint16Array;
  /** The key (first `keyLength` elements, all literal bytes) and the elements after it. */
  readonly body: Uint16Array;
  readonly keyLength: number;
  /** Alternatives referenced by the special elements. */
  readonly alternatives: readonly Alternative[];
  /** Byte length of the prefix and of the body. */
  readonly prefixBytes: number;
  readonly bodyBytes: number;
  /** Equal for parts that ClamAV considers the same pattern (they share a trie entry). */
  readonly identity: string;
}

export interface TypePattern {
  readonly offset: TypeOffset;
  readonly parts: readonly PatternPart[];
}

/**
 * Parses the pattern and offset of a type signature named `name` (the name is only used in
 * ClamAV's messages). Throws SignatureError for what ClamAV refuses.
 */
export function parseTypePattern(name: string, hex: string, offset: string): TypePattern {
  const parts = splitParts(hex, (part, partNo, minGap, maxGap) => buildPart(name, part, offset, partNo, minGap, maxGap));
  return { offset: parseTypeOffset(offset), parts };
}

type PartBuilder = (hex: string, partNo: number, minGap: number, maxGap: number) => PatternPart;

/**
 * libclamav's cli_add_content_match_pattern: the body signatures' split into parts (small `{n}`
 * expanded, cut at `*` and `{…}`), each part built in turn and a refusal followed by ClamAV's
 * messages for the kind of split.
 */
function splitParts(pattern: string, build: PartBuilder): PatternPart[] {
  const split = splitPattern(pattern);
  if (split.kind === SplitKind.Single) {
    return [withTrailer(() => build(split.parts[0]!.hex!, 0, 0, 0), 'cli_add_content_match_pattern: Problem adding signature (3).')];
  }
  const ranged = split.kind === SplitKind.Ranged;
  const trailer = ranged ? [PART_ERROR_RANGED, GAP_ERROR] : [PART_ERROR_STARRED];
  return split.parts.map(({ hex, gap: gapText }, i) => {
    const gap = gapText === null ? UNBOUNDED_GAP : withTrailer(() => parseGap(gapText), GAP_ERROR);
    if (hex === null) throw new SignatureError(`cli_add_content_match_pattern: Can't extract part ${i + 1} of partial signature.`);
    return withTrailer(() => build(hex, i + 1, gap.min, gap.max), ...trailer);
  });
}

const PART_ERROR_RANGED = 'cli_add_content_match_pattern: Problem adding signature (1).';
const PART_ERROR_STARRED = 'cli_add_content_match_pattern: Problem adding signature (2).';
const GAP_ERROR = 'cli_add_content_match_pattern: Problem adding signature (1b).';

function withTrailer<T>(build: () => T, ...trailer: string[]): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof SignatureError) for (const message of trailer) error.because(message);
    throw error;
  }
}

/** libclamav's cli_ac_addsig for one part, in its order of checks. */
function buildPart(name: string, hex: string, offset: string, partNo: number, minGap: number, maxGap: number): PatternPart {
  if (Math.floor(hex.length / 2) < MIN_KEY) throw new SignatureError(`cli_ac_addsig: Signature for ${name} is too short`);
  if (hex.includes('[')) throw new SignatureError('cli_ac_addsig: [n-m] anchors are not supported in type signatures');
  const { text, alternatives } = extractAlternatives(hex);
  const codes = decodeHex(text);
  if (codes.length < MIN_KEY) {
    throw new SignatureError(`cli_ac_addsig: Subpattern in signature is shorter than the minimum depth of the AC trie. (${codes.length} < ${MIN_KEY})`);
  }
  checkPrefilter(name, codes, alternatives);
  const keyStart = chooseKeyStart(codes);
  parseTypeOffset(offset);
  const body = codes.subarray(keyStart);
  // At least MIN_KEY long: chooseKeyStart only stops on such a run.
  const keyLength = staticRunLength(body);
  const prefix = codes.subarray(0, keyStart);
  return {
    partNo,
    minGap,
    maxGap,
    prefix,
    body,
    keyLength,
    alternatives,
    prefixBytes: byteLength(prefix, alternatives),
    bodyBytes: byteLength(body, alternatives),
    identity: identityOf(codes, keyStart, alternatives),
  };
}

/**
 * The generic signatures' prefilter (on by default in ClamAV) must be able to index every pattern,
 * and ClamAV refuses the signature when it cannot: the filter needs two elements before the first
 * multi-byte alternative (leading ones are skipped), and a pair of them that is not `????`.
 */
function checkPrefilter(name: string, codes: Uint16Array, alternatives: readonly Alternative[]): void {
  const isMultiByte = (code: number) => isStoredSpecial(code) && alternatives[storedSpecialIndex(code, 0)]!.width > 1;
  if (codes.every(isStoredStatic)) return;
  let start = 0;
  while (start < codes.length && isMultiByte(codes[start])) start++;
  let end = start;
  while (end < codes.length && end < MAX_FILTERED && !isMultiByte(codes[end])) end++;
  const stopped = end < codes.length && end < MAX_FILTERED;
  const warn = (text: string) => SignatureError.warned(text, 'cli_ac_addsig: cannot use filter for trie');
  if (end - start < 2) throw warn(stopped ? `Don't know how to create filter for: ${name}` : `Subpattern too short: ${name}`);
  let usablePair = false;
  for (let i = start; i + 1 < end; i++) if (codes[i] !== STORED_ANY || codes[i + 1] !== STORED_ANY) usablePair = true;
  if (!usablePair) throw warn(`filter rejecting ${name} because there are no viable choices`);
}

/** The prefilter looks at no more than this many elements of a pattern. */
const MAX_FILTERED = 255;

/** Replaces every `(…)` group by the placeholder `()` and parses the group into an Alternative. */
function extractAlternatives(hex: string): { text: string; alternatives: Alternative[] } {
  const alternatives: Alternative[] = [];
  let text = '';
  let rest = hex;
  for (;;) {
    const open = rest.indexOf('(');
    if (open < 0) break;
    const negated = open > 0 && rest[open - 1] === '!';
    text += rest.slice(0, negated ? open - 1 : open);
    const { end, nesting } = findClosing(rest, open + 1);
    if (end < 0) throw new SignatureError('cli_ac_addsig: Missing closing parenthesis');
    const inner = rest.slice(open + 1, end);
    if (inner === '') throw new SignatureError('cli_ac_addsig: Empty block');
    if (nesting > MAX_NESTING) throw new SignatureError('ac_addspecial: Expression exceeds maximum alternate nesting limit');
    if (inner === 'B' || inner === 'L' || inner === 'W') {
      throw new SignatureError(`cli_ac_addsig: character class (${inner}) is not supported in type signatures`);
    }
    // Element codes keep the alternative's index in their low byte.
    if (alternatives.length > 0xff) throw new SignatureError('cli_ac_addsig: too many alternatives in one type signature');
    alternatives.push(parseAlternative(inner, negated));
    text += '()';
    rest = rest.slice(end + 1);
  }
  return { text: text + rest, alternatives };
}

/** Index of the parenthesis closing the group whose content starts at `from`, and how many groups open inside. */
function findClosing(text: string, from: number): { end: number; nesting: number } {
  let level = 0;
  let nesting = 0;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '(') {
      nesting++;
      level++;
    } else if (text[i] === ')') {
      if (level === 0) return { end: i, nesting };
      level--;
    }
  }
  return { end: -1, nesting };
}

function parseAlternative(inner: string, negated: boolean): Alternative {
  const choices = inner.split('|');
  const width = choices[0].length;
  const fixed = !/[(?]/.test(inner) && choices.every((choice) => choice.length === width) && width > 0;
  if (!fixed) {
    if (negated) throw new SignatureError("ac_special_altstr: Can't apply negation operation to generic alternate strings");
    throw new SignatureError('cli_ac_addsig: variable-length alternatives are not supported in type signatures');
  }
  const bytes = choices.map((choice) => {
    const decoded = decodeBytes(choice);
    if (decoded === undefined) throw malformedHex('cli_mpool_hex2str', choice);
    return decoded;
  });
  bytes.sort(compareBytes);
  return { width: width >> 1, negated, choices: bytes };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** Plain hex to bytes; undefined for odd length or a non-hex character. */
export function decodeBytes(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0) return undefined;
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const high = hexValue(hex.charCodeAt(2 * i));
    const low = hexValue(hex.charCodeAt(2 * i + 1));
    if (high < 0 || low < 0) return undefined;
    out[i] = (high << 4) | low;
  }
  return out;
}

/** libclamav's cli_realhex2ui on the rewritten pattern (with `()` placeholders). */
function decodeHex(text: string): Uint16Array {
  if (text.length % 2 !== 0) throw malformedHex('cli_mpool_hex2ui', text);
  const codes = new Uint16Array(text.length / 2);
  let alternative = 0;
  for (let i = 0; i < text.length; i += 2) {
    const hi = text[i];
    const lo = text[i + 1];
    let code: number;
    if (hi === '?' && lo === '?') code = STORED_ANY;
    else if (lo === '?') code = STORED_HIGH_NIBBLE | (digitValue(hi) << 4);
    else if (hi === '?') code = STORED_LOW_NIBBLE | digitValue(lo);
    else if (hi === '(') code = STORED_SPECIAL | alternative++;
    else code = (digitValue(hi) << 4) | digitValue(lo);
    codes[i / 2] = code;
  }
  return codes;
}

function digitValue(digit: string): number {
  const value = hexValue(digit.charCodeAt(0));
  if (value < 0) throw malformedHex('', digit);
  return value;
}

/** ClamAV's hex decoders complain about odd lengths only; bad characters fail silently. */
function malformedHex(decoder: string, hex: string): SignatureError {
  if (hex.length % 2 === 0 || !decoder) return new SignatureError();
  return new SignatureError(`${decoder}(): Malformed hexstring: ${hex} (length: ${hex.length})`);
}

const isWildcard = (code: number) => !isStoredStatic(code);

/**
 * ClamAV's choice of the bytes that go into the trie: normally the start of the pattern, but when
 * the first bytes hold a wildcard or are all zero it slides right to a run of static bytes,
 * preferring runs that do not start with two zero bytes. The bytes before it become the prefix.
 */
function chooseKeyStart(codes: Uint16Array): number {
  const length = codes.length;
  const at = (i: number) => (i < length ? codes[i] : 0);
  let hasWildcard = false;
  let allZero = true;
  for (let i = 0; i < MAX_KEY && i < length; i++) {
    if (isWildcard(codes[i])) {
      hasWildcard = true;
      break;
    }
    if (codes[i] !== 0) allZero = false;
  }
  if (!hasWildcard && !allZero) return 0;

  let runLength = 0;
  let runStart = 0;
  let nonZeroLength = 0;
  let nonZeroStart = 0;
  const lastStart = length - MIN_KEY + 1;
  for (let i = 0; i < lastStart; i++) {
    for (let j = i; j < i + MAX_KEY && j < length; j++) {
      if (isWildcard(codes[j])) break;
      if (j - i + 1 >= runLength) {
        runLength = j - i + 1;
        runStart = i;
      }
      if (at(runStart) !== 0 || (length > runStart + 1 && at(runStart + 1) !== 0)) {
        if (runLength >= MAX_KEY) break;
        if (runLength >= MIN_KEY && runLength > nonZeroLength) {
          nonZeroLength = runLength;
          nonZeroStart = runStart;
        }
      }
    }
    if (runLength >= MAX_KEY && (at(runStart) !== 0 || at(runStart + 1) !== 0)) break;
  }
  if (nonZeroLength !== 0 && length > runStart + 1 && at(runStart) === 0 && at(runStart + 1) === 0) {
    runLength = nonZeroLength;
    runStart = nonZeroStart;
  }
  if (runLength < MIN_KEY) throw new SignatureError(`cli_ac_addsig: Can't find a static subpattern of length ${MIN_KEY}`);
  return runStart;
}

/** Length of the literal run at the start of `codes`, capped at the trie depth. */
function staticRunLength(codes: Uint16Array): number {
  let length = 0;
  while (length < MAX_KEY && length < codes.length && !isWildcard(codes[length])) length++;
  return length;
}

function byteLength(codes: Uint16Array, alternatives: readonly Alternative[]): number {
  let bytes = 0;
  for (const code of codes) bytes += isStoredSpecial(code) ? alternatives[storedSpecialIndex(code, 0)]!.width : 1;
  return bytes;
}

function identityOf(codes: Uint16Array, keyStart: number, alternatives: readonly Alternative[]): string {
  const described = alternatives.map((alt) => `${alt.negated ? '!' : ''}${alt.choices.map((c) => Buffer.from(c).toString('hex')).join('|')}`);
  return `${keyStart}:${Array.from(codes).join(',')}:${described.join(';')}`;
}
