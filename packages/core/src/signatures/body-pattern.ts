import { atoi, hexValue, isDigits, scanUnsigned, strtokField } from '../util/c-numbers.js';
import { SignatureError } from '../matching/signature-error.js';
import { expandShortGaps } from './short-gaps.js';
import { GrowableShared } from '../util/shared-memory.js';
import {
  MAX_STORED_SPECIALS,
  STORED_ANY,
  STORED_HIGH_NIBBLE,
  STORED_LOW_NIBBLE,
  STORED_NOCASE,
  STORED_SPECIAL,
  elementMask,
  lowerByte,
  wideElement,
} from './pattern-elements.js';

/**
 * ClamAV's body-pattern language (the hex signatures of .ndb, .ldb, .db, .ftm): parsing into
 * parts, elements and specials, with ClamAV 1.4's acceptance rules and error messages.
 *
 * A pattern is split at `*` and `{n-m}` into parts matched one after the other; `{n}` with
 * 0 < n < 128 is just n `??`. Each part is a sequence of elements (a byte, a byte with a nibble or
 * the whole byte unknown, or a "special": an alternative set or a boundary class), plus optional
 * single-byte anchors `aa[x-y]` / `[x-y]aa` and word/line boundary conditions at its ends.
 */

// ---- Specials ---------------------------------------------------------------------------------

export const enum SpecialKind {
  /** `(aa|bb|..)` / `!(aa|bb|..)`: one byte from (or not from) a set. */
  AltByte,
  /** `(aabb|ccdd|..)` / `!(..)`: one of (or none of) equal-length byte strings. */
  AltFixed,
  /** Generic alternatives: strings of any lengths, with wildcards; never negated. */
  AltGeneric,
  /** `(B)` inside a part: one byte that is (or with `!`, is not) a word boundary character. */
  Boundary,
  /** `(L)` inside a part: a line end, LF or CRLF. */
  LineMarker,
  /** `(W)` inside a part: one non-alphanumeric byte. */
  WordMarker,
}

export interface GenericAlternative {
  readonly elements: Uint32Array;
  /**
   * False when another alternative is a prefix of this one (or this one of another): matching
   * then has to try the rest of the pattern after each such alternative.
   */
  unique: boolean;
}

export type Special =
  | { readonly kind: SpecialKind.AltByte; readonly negative: boolean; readonly bytes: Uint8Array }
  | {
      readonly kind: SpecialKind.AltFixed;
      readonly negative: boolean;
      readonly length: number;
      readonly strings: readonly Uint8Array[];
    }
  | {
      readonly kind: SpecialKind.AltGeneric;
      readonly negative: false;
      readonly alternatives: readonly GenericAlternative[];
    }
  | { readonly kind: SpecialKind.Boundary | SpecialKind.LineMarker | SpecialKind.WordMarker; readonly negative: boolean };

/**
 * The byte lengths ClamAV accounts a special with when it checks whether a pattern fits in the
 * data. Boundary classes count as 0 even though they consume a byte; ClamAV's pre-checks have
 * that quirk, and the matcher reproduces it.
 */
export function specialLengths(special: Special): [min: number, max: number] {
  switch (special.kind) {
    case SpecialKind.AltByte:
      return [1, 1];
    case SpecialKind.AltFixed:
      return [special.length, special.length];
    case SpecialKind.AltGeneric: {
      let min = Infinity;
      let max = 0;
      for (const alternative of special.alternatives) {
        min = Math.min(min, alternative.elements.length);
        max = Math.max(max, alternative.elements.length);
      }
      return [min, max];
    }
    default:
      return [0, 0];
  }
}

// ---- Boundary conditions at the ends of a part ------------------------------------------------

export const BOUNDARY_LEFT = 0x0001;
export const BOUNDARY_LEFT_NEGATIVE = 0x0002;
export const BOUNDARY_RIGHT = 0x0004;
export const BOUNDARY_RIGHT_NEGATIVE = 0x0008;
export const LINE_MARKER_LEFT = 0x0010;
export const LINE_MARKER_LEFT_NEGATIVE = 0x0020;
export const LINE_MARKER_RIGHT = 0x0040;
export const LINE_MARKER_RIGHT_NEGATIVE = 0x0080;
export const WORD_MARKER_LEFT = 0x0100;
export const WORD_MARKER_LEFT_NEGATIVE = 0x0200;
export const WORD_MARKER_RIGHT = 0x0400;
export const WORD_MARKER_RIGHT_NEGATIVE = 0x0800;

/** `aa[x-y]` before or `[x-y]aa` after a part: one byte at a distance of x to y bytes. */
export interface ByteAnchor {
  readonly element: number;
  readonly min: number;
  readonly max: number;
}

/**
 * One part of a pattern after parsing: what ClamAV's cli_ac_addsig builds. Its elements are
 * stored (pattern-elements.ts; a special indexes `specials`) in `elements`, from entry `start`
 * on, where parsePart wrote them.
 */
export interface ParsedPart {
  readonly elements: Uint16Array;
  readonly start: number;
  readonly length: number;
  readonly specials: readonly Special[];
  readonly left: ByteAnchor | null;
  readonly right: ByteAnchor | null;
  /** BOUNDARY_* / LINE_MARKER_* / WORD_MARKER_* flags. */
  readonly boundary: number;
  /** Parsed with the `w` modifier: `(W)` markers then also look at the zero bytes around. */
  readonly wide: boolean;
}

/** How a subsignature's `::` modifiers affect the parsing of its parts. */
export interface PartOptions {
  readonly nocase: boolean;
  /** The `w` modifier: changes what a `(W)` word marker accepts around the pattern. */
  readonly wide: boolean;
  /**
   * Any modifier present: ClamAV then parses every alternative set as generic alternatives
   * (so negated sets are refused).
   */
  readonly modified: boolean;
}

// Frozen like the modified parts' options, so that all of them share one shape (V8 map).
export const PLAIN_PART: PartOptions = Object.freeze({ nocase: false, wide: false, modified: false });

/** The minimum number of static bytes ClamAV's automaton needs in each part. */
export const MIN_STATIC_BYTES = 2;
/** Alternatives may nest at most this deep. */
const MAX_ALTERNATIVE_NESTING = 15;
/** `[x-y]` anchors reach at most this far. */
const MAX_ANCHOR_DISTANCE = 32;

// ---- Splitting into parts ----------------------------------------------------------------------

/** How a pattern separates its parts, which decides ClamAV's error numbering. */
export const enum SplitKind {
  /** No `{}` or `*`: one part. */
  Single,
  /** Has a `{n-m}` range (and maybe `*`). */
  Ranged,
  /** Only `*` separators. */
  Starred,
}

export interface PatternPartText {
  /** Null when ClamAV cannot extract this part (reported when the part's turn comes). */
  readonly hex: string | null;
  /**
   * The separator before this part, as text: null for the first part, `*` for `*`, else the
   * contents of `{...}`, parsed with `parseGap` when the part is compiled (ClamAV reports a bad
   * range only after the part before it was accepted).
   */
  readonly gap: string | null;
}

export interface SplitPattern {
  readonly kind: SplitKind;
  readonly parts: readonly PatternPartText[];
}

/** Distance allowed between the end of a part and the start of the next; max 0 means no limit. */
export interface Gap {
  readonly min: number;
  readonly max: number;
}

export const UNBOUNDED_GAP: Gap = { min: 0, max: 0 };

/**
 * Splits a pattern into parts like ClamAV's cli_add_content_match_pattern: expands `{n}` gaps
 * into `??` (see short-gaps.ts), then cuts at `{..}` and `*`.
 */
export function splitPattern(pattern: string): SplitPattern {
  const hex = expandShortGaps(pattern);
  if (hex.includes('{')) {
    checkNoSeparatorInAlternatives(hex, true);
    return { kind: SplitKind.Ranged, parts: cutAtSeparators(hex) };
  }
  if (hex.includes('*')) {
    checkNoSeparatorInAlternatives(hex, false);
    const count = countSeparators(hex);
    const parts: PatternPartText[] = [];
    for (let i = 0; i <= count; i++) {
      // ClamAV extracts part i with cli_strtok, which merges adjacent `*` and skips leading ones.
      parts.push({ hex: strtokField(hex, i, '*') ?? null, gap: i === 0 ? null : '*' });
    }
    return { kind: SplitKind.Starred, parts };
  }
  return { kind: SplitKind.Single, parts: [{ hex, gap: null }] };
}

function countSeparators(hex: string): number {
  let count = 0;
  for (let i = 0; i < hex.length; i++) if (hex[i] === '*' || hex[i] === '{') count++;
  return count;
}

/** ClamAV refuses `*` and ranges inside `( )`, counting nesting with a counter that may go negative. */
function checkNoSeparatorInAlternatives(hex: string, rangesToo: boolean): void {
  let nest = 0;
  for (let i = 0; i < hex.length; i++) {
    const c = hex[i];
    if (c === '(') nest++;
    else if (c === ')') nest--;
    else if (nest !== 0 && c === '{' && rangesToo) {
      throw new SignatureError('cli_add_content_match_pattern: Alternative match contains unsupported ranged wildcard');
    } else if (nest !== 0 && c === '*') {
      throw new SignatureError('cli_add_content_match_pattern: Alternative match cannot contain unbounded wildcards');
    }
  }
}

function cutAtSeparators(hex: string): PatternPartText[] {
  const parts: PatternPartText[] = [];
  let gap: string | null = null;
  let rest = hex;
  const count = countSeparators(hex);
  for (let i = 0; i <= count; i++) {
    if (i === count) {
      parts.push({ hex: rest, gap });
      break;
    }
    const star = rest.indexOf('*');
    const open = rest.indexOf('{');
    const at = star >= 0 && (open < 0 || star < open) ? star : open;
    parts.push({ hex: rest.slice(0, at), gap });
    if (rest[at] === '*') {
      gap = '*';
      rest = rest.slice(at + 1);
    } else {
      const close = rest.indexOf('}', at);
      // A missing `}` is reported when the following part is compiled (ClamAV's error "1b").
      gap = close < 0 ? '}' : rest.slice(at + 1, close);
      rest = close < 0 ? '' : rest.slice(close + 1);
    }
  }
  return parts;
}

/**
 * Parses the inside of `{...}`: `n`, `n-`, `-m`, `n-m` (and ClamAV also takes `{}` and `{-}` as
 * "any distance"). The caller turns a refusal into ClamAV's "(1b)" message.
 */
export function parseGap(text: string): Gap {
  if (text === '*') return UNBOUNDED_GAP;
  const refuse = () => new SignatureError();
  const toInt = (digits: string): number => {
    // ClamAV refuses the values that atoi turns negative.
    const value = isDigits(digits) ? atoi(digits) : -1;
    if (value < 0) throw refuse();
    return value;
  };
  if (text === '}') throw refuse();
  if (!text.includes('-')) {
    const n = toInt(text);
    return { min: n, max: n };
  }
  const from = strtokField(text, 0, '-');
  const to = strtokField(text, 1, '-');
  if (strtokField(text, 2, '-') !== undefined) throw refuse();
  return { min: from === undefined ? 0 : toInt(from), max: to === undefined ? 0 : toInt(to) };
}

// ---- Subsignature modifiers --------------------------------------------------------------------

export interface Modifiers {
  readonly nocase: boolean;
  readonly fullword: boolean;
  readonly wide: boolean;
  readonly ascii: boolean;
}

export interface ModifiedPattern {
  readonly hex: string;
  readonly options: PartOptions;
}

/**
 * Applies `::i`, `::f`, `::w`, `::a` to a hex subsignature the way ClamAV's cli_sigopts_handler
 * rewrites it: fullword wraps it in `(W)` markers, wide interleaves a zero after every hex byte
 * (wildcard ranges stay as they are), and wide+ascii yields both variants.
 */
export function applyModifiers(hex: string, modifiers: Modifiers, rawName: string): ModifiedPattern[] {
  let text = hex;
  if (modifiers.fullword) {
    text = `(W)${text}(W)`;
    // The anchors `[x-y]` become ranges `{x-y}`: the markers make both sides longer than a byte.
    let out = '';
    let i = 0;
    while (i < text.length) {
      const open = text.indexOf('[', i);
      if (open < 0) break;
      const close = text.indexOf(']', open);
      if (close < 0) throw new SignatureError(`cli_sigopts_handler: unmatched '[' in signature ${rawName}`);
      out += text.slice(i, open) + '{' + text.slice(open + 1, close) + '}';
      i = close + 1;
    }
    text = out + text.slice(i);
  }
  const nocase = modifiers.nocase ? 1 : 0;
  const variants: ModifiedPattern[] = [];
  if (modifiers.wide) {
    variants.push({ hex: widen(text), options: MODIFIED_PART[nocase]![1]! });
    if (!modifiers.ascii) return variants;
  }
  variants.push({ hex: text, options: MODIFIED_PART[nocase]![0]! });
  return variants;
}

/** The options of a part with modifiers, by nocase and wide (0 or 1). */
const MODIFIED_PART: readonly (readonly PartOptions[])[] = [0, 1].map((nocase) =>
  [0, 1].map((wide) => Object.freeze({ nocase: nocase === 1, wide: wide === 1, modified: true })),
);

const STAR = 0x2a;
const PIPE = 0x7c;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const BANG = 0x21;
const ZERO = 0x30;

/** The output buffer of the widening functions, grown as needed (a widened pattern is at most twice as long). */
let widened = Buffer.alloc(1024);

function widenedBuffer(hex: string): Buffer {
  if (widened.length < 2 * hex.length + 2) widened = Buffer.alloc(4 * hex.length + 2);
  return widened;
}

/** Characters of the pattern syntax that widening does not treat as a byte. */
const WIDENING_SYNTAX = /[*|)[{!(]/;

/**
 * The wide form of a subsignature's hex. Nearly all wide patterns are plain bytes (19,767 of
 * main.ldb's 19,781): they take a loop of their own, without the syntax's branches, which V8
 * would otherwise compile without feedback and discard at the first pattern that takes them.
 */
function widen(hex: string): string {
  return WIDENING_SYNTAX.test(hex) ? widenSyntax(hex) : widenBytes(hex);
}

/** Each pair of characters followed by `00`; a lone last one is kept as it is (see widenSyntax). */
function widenBytes(hex: string): string {
  const out = widenedBuffer(hex);
  let n = 0;
  let i = 0;
  for (; i + 1 < hex.length; i += 2) {
    out[n++] = hex.charCodeAt(i);
    out[n++] = hex.charCodeAt(i + 1);
    out[n++] = ZERO;
    out[n++] = ZERO;
  }
  if (i < hex.length) out[n++] = hex.charCodeAt(i);
  return out.toString('latin1', 0, n);
}

/** Widening through the syntax: markers and ranges as they are, `[n-m]` as `{n-m}`, bytes as in widenBytes. */
function widenSyntax(hex: string): string {
  const out = widenedBuffer(hex);
  let n = 0;
  for (let i = 0; i < hex.length; i++) {
    const c = hex.charCodeAt(i);
    if (c === STAR || c === PIPE || c === CLOSE_PAREN) {
      out[n++] = c;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      const close = hex.indexOf(c === OPEN_BRACKET ? ']' : '}', i + 1);
      const end = close < 0 ? hex.length : close;
      out[n++] = OPEN_BRACE;
      for (let k = i + 1; k < end; k++) out[n++] = hex.charCodeAt(k);
      out[n++] = CLOSE_BRACE;
      i = end;
    } else if (c === BANG || c === OPEN_PAREN) {
      if (c === BANG) {
        out[n++] = BANG;
        i++;
      }
      if (i + 2 >= hex.length) throw new SignatureError();
      out[n++] = hex.charCodeAt(i);
      const next = hex[i + 1];
      if (next === 'B' || next === 'L' || next === 'W') {
        if (hex[i + 2] !== ')') throw new SignatureError();
        out[n++] = hex.charCodeAt(i + 1);
        out[n++] = CLOSE_PAREN;
        i += 2;
      }
    } else {
      // A lone last hex digit ends the string (ClamAV writes it, then a NUL).
      out[n++] = c;
      if (i + 1 >= hex.length) break;
      out[n++] = hex.charCodeAt(i + 1);
      out[n++] = ZERO;
      out[n++] = ZERO;
      i++;
    }
  }
  return out.toString('latin1', 0, n);
}

// ---- Parsing one part ----------------------------------------------------------------------------

const NO_SPECIALS: readonly Special[] = Object.freeze([]);

/**
 * Parses one part like ClamAV's cli_ac_addsig: single-byte anchors, specials, then the elements.
 * The elements are written to `into` after its used entries, without counting them in: a caller
 * that keeps the part adds its length. `rawName` appears in ClamAV's "too short" message.
 */
export function parsePart(hex: string, options: PartOptions, rawName: string, into: GrowableShared<Uint16Array>): ParsedPart {
  if (hex.length >> 1 < MIN_STATIC_BYTES) throw new SignatureError(`cli_ac_addsig: Signature for ${rawName} is too short`);
  let text = hex;
  let left: ByteAnchor | null = null;
  let right: ByteAnchor | null = null;
  if (hex.includes('[')) ({ text, left, right } = parseAnchors(hex, options.nocase));

  let specials: readonly Special[] = NO_SPECIALS;
  let boundary = 0;
  let placeholders = text;
  if (hex.includes('(')) ({ placeholders, boundary, specials } = parseSpecials(text, options));

  const start = into.length;
  const length = decodeElements(placeholders, specials.length, options.nocase, into, start);
  if (length < MIN_STATIC_BYTES) {
    throw new SignatureError(
      `cli_ac_addsig: Subpattern in signature is shorter than the minimum depth of the AC trie. (${length} < ${MIN_STATIC_BYTES})`,
    );
  }
  return { elements: into.array, start, length, specials, left, right, boundary, wide: options.wide };
}

function parseAnchors(hex: string, nocase: boolean): { text: string; left: ByteAnchor | null; right: ByteAnchor | null } {
  let text = hex;
  let left: ByteAnchor | null = null;
  let right: ByteAnchor | null = null;
  let sawRight = false;
  for (let round = 0; round < 2 && !sawRight; round++) {
    const open = text.indexOf('[');
    if (open < 0) break;
    const close = text.indexOf(']', open);
    // ClamAV refuses bad anchors with debug messages only.
    if (close < 0) throw new SignatureError();
    const range = text.slice(open + 1, close);
    const first = scanUnsigned(range);
    if (!first) throw new SignatureError();
    let min = first.value;
    let max = min;
    if (range[first.end] === '-') {
      const second = scanUnsigned(range, first.end + 1);
      if (second) max = second.value;
    }
    if (min > max || max > MAX_ANCHOR_DISTANCE) throw new SignatureError();
    const before = text.slice(0, open);
    const after = text.slice(close + 1);
    if (before.length === 2) {
      if (round > 0) throw new SignatureError();
      left = anchor(anchorElement(before, nocase), min, max);
      text = after;
    } else if (after.length === 2) {
      right = anchor(anchorElement(after, nocase), min, max);
      sawRight = true;
      text = before;
    } else {
      throw new SignatureError();
    }
  }
  return { text, left, right };
}

/** A `??` anchor byte makes ClamAV ignore the anchor altogether. */
function anchor(element: number, min: number, max: number): ByteAnchor | null {
  return elementMask(element) === 0 ? null : { element, min, max };
}

function anchorElement(hex: string, nocase: boolean): number {
  return decodeWideElements(hex, nocase)[0]!;
}

/**
 * Replaces each `( )` group by a `()` placeholder element and records its special; `(B)`, `(L)`,
 * `(W)` at the very start or end become boundary conditions of the part instead.
 */
function parseSpecials(text: string, options: PartOptions): { placeholders: string; boundary: number; specials: Special[] } {
  const specials: Special[] = [];
  let out = '';
  let boundary = 0;
  let start = 0;
  for (let open = text.indexOf('('); open >= 0; open = text.indexOf('(', start)) {
    const negative = open >= 1 && text[open - 1] === '!';
    out += text.slice(start, negative ? open - 1 : open);
    const { end, nest } = findClosingParen(text, open + 1);
    if (end < 0) throw new SignatureError('cli_ac_addsig: Missing closing parenthesis');
    const content = text.slice(open + 1, end);
    start = end + 1;
    if (content.length === 0) throw new SignatureError('cli_ac_addsig: Empty block');
    if (nest > MAX_ALTERNATIVE_NESTING) {
      throw new SignatureError('ac_addspecial: Expression exceeds maximum alternate nesting limit');
    }
    const classFlags = CLASS_FLAGS[content];
    if (classFlags) {
      if (start === text.length) {
        boundary |= classFlags.right | (negative ? classFlags.right << 1 : 0);
        continue;
      }
      if (open === 0) {
        boundary |= classFlags.left | (negative ? classFlags.left << 1 : 0);
        continue;
      }
    }
    out += '()';
    specials.push(classFlags ? { kind: classFlags.kind, negative } : parseAlternatives(content, negative, options));
  }
  return { placeholders: out + text.slice(start), boundary, specials };
}

const CLASS_FLAGS: Record<string, { kind: SpecialKind.Boundary | SpecialKind.LineMarker | SpecialKind.WordMarker; left: number; right: number }> = {
  B: { kind: SpecialKind.Boundary, left: BOUNDARY_LEFT, right: BOUNDARY_RIGHT },
  L: { kind: SpecialKind.LineMarker, left: LINE_MARKER_LEFT, right: LINE_MARKER_RIGHT },
  W: { kind: SpecialKind.WordMarker, left: WORD_MARKER_LEFT, right: WORD_MARKER_RIGHT },
};

/** Index of the `)` closing the group that starts before `from`, and how many `(` lie before it. */
function findClosingParen(text: string, from: number): { end: number; nest: number } {
  let nest = 0;
  let level = 0;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '(') {
      nest++;
      level++;
    } else if (text[i] === ')') {
      if (level === 0) return { end: i, nest };
      level--;
    }
  }
  return { end: -1, nest };
}

const QUESTION_MARK = 0x3f;

/** In PAIR_ELEMENTS: a pair that is not a byte element (a special's `()`, or an error). */
const NOT_A_BYTE = 0xffff;

/** The index of a pair of characters in PAIR_ELEMENTS; each counts by its low byte (text is latin1). */
function pairIndex(first: number, second: number): number {
  return ((first & 0xff) << 8) | (second & 0xff);
}

/**
 * The stored element of every pair of characters that is a byte element (`4a`, `??`, `4?`,
 * `?a`), by `pairIndex`, NOT_A_BYTE for the others: as written in PAIR_ELEMENTS, and for a
 * case-insensitive pattern (exact bytes folded to lower case and marked) in NOCASE_PAIR_ELEMENTS.
 */
const [PAIR_ELEMENTS, NOCASE_PAIR_ELEMENTS] = (() => {
  const table = new Uint16Array(0x10000).fill(NOT_A_BYTE);
  const nocaseTable = new Uint16Array(0x10000).fill(NOT_A_BYTE);
  const set = (a: number, b: number, element: number) => {
    table[pairIndex(a, b)] = element;
    nocaseTable[pairIndex(a, b)] = element < 0x100 ? lowerByte(element) | STORED_NOCASE : element;
  };
  const digits = [...'0123456789abcdefABCDEF'].map((c) => c.charCodeAt(0));
  for (const a of digits) {
    for (const b of digits) set(a, b, (hexValue(a) << 4) | hexValue(b));
    set(a, QUESTION_MARK, STORED_HIGH_NIBBLE | (hexValue(a) << 4));
    set(QUESTION_MARK, a, STORED_LOW_NIBBLE | hexValue(a));
  }
  set(QUESTION_MARK, QUESTION_MARK, STORED_ANY);
  return [table, nocaseTable] as const;
})();

/**
 * Decodes hex pairs into stored elements, written to `out` from entry `at`, and returns how many:
 * `??`, `a?`, `?a`, `()` (the next of `specialCount` specials) and exact bytes, folded to lower
 * case with `nocase`. Odd length is reported like ClamAV's mpool hex decoder; other bad
 * characters silently.
 */
function decodeElements(text: string, specialCount: number, nocase: boolean, out: GrowableShared<Uint16Array>, at: number): number {
  if (text.length % 2 !== 0) {
    throw new SignatureError(`cli_mpool_hex2ui(): Malformed hexstring: ${text} (length: ${text.length})`);
  }
  const count = text.length >> 1;
  const stored = out.ensure(at + count);
  const pairElements = nocase ? NOCASE_PAIR_ELEMENTS : PAIR_ELEMENTS;
  let special = 0;
  for (let i = 0; i < count; i++) {
    const first = text.charCodeAt(2 * i) & 0xff;
    let element = pairElements[pairIndex(first, text.charCodeAt(2 * i + 1))]!;
    if (element === NOT_A_BYTE) {
      // The placeholder of a special; anything else is refused.
      if (first !== OPEN_PAREN || special >= specialCount) throw new SignatureError();
      // A line of ClamAV's databases is too short to hold this many specials in one part.
      if (special === MAX_STORED_SPECIALS) throw new SignatureError('pattern has too many alternatives');
      element = STORED_SPECIAL | special++;
    }
    stored[at + i] = element;
  }
  return count;
}

/** Where anchors and generic alternatives are decoded, before they are widened. */
const wideScratch = new GrowableShared(Uint16Array, 256, 1024 * 1024);

/** Decodes hex pairs without specials into 32-bit elements. */
function decodeWideElements(text: string, nocase: boolean): Uint32Array {
  const count = decodeElements(text, 0, nocase, wideScratch, 0);
  return Uint32Array.from(wideScratch.array.subarray(0, count), (stored) => wideElement(stored, 0));
}

// ---- Alternatives ------------------------------------------------------------------------------

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

/** Counts what ClamAV's ac_analyze_expr reports about an alternative list. */
function analyzeAlternatives(text: string): { count: number; fixed: boolean; longest: number } {
  let level = 0;
  let length = 0;
  let count = 1;
  let fixed = true;
  let longest = 0;
  const close = (): void => {
    if (longest === 0) longest = length;
    else if (length !== longest) {
      fixed = false;
      if (length > longest) longest = length;
    }
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') {
      fixed = false;
      level++;
    } else if (c === ')') {
      level--;
    }
    if (level === 0 && c === '|') {
      close();
      length = 0;
      count++;
    } else {
      if (c === '?') fixed = false;
      length++;
    }
  }
  close();
  return { count, fixed, longest };
}

function parseAlternatives(content: string, negative: boolean, options: PartOptions): Special {
  const { count, fixed, longest } = analyzeAlternatives(content);
  if (!options.modified && fixed) {
    const strings: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const text = count === 1 ? content : strtokField(content, i, '|');
      if (text === undefined) throw new SignatureError(undefined, 'EMEM');
      strings.push(decodePlainHex(text));
    }
    if (longest === 2) return { kind: SpecialKind.AltByte, negative, bytes: Uint8Array.from(strings, (s) => s[0]!) };
    return { kind: SpecialKind.AltFixed, negative, length: longest >> 1, strings };
  }
  if (negative) {
    throw new SignatureError('ac_special_altstr: Can\'t apply negation operation to generic alternate strings');
  }
  const alternatives: GenericAlternative[] = [];
  for (const text of expandAlternatives(content)) addGenericAlternative(alternatives, text, options.nocase);
  return { kind: SpecialKind.AltGeneric, negative: false, alternatives };
}

/**
 * Every string a (possibly nested) alternative list stands for, in ClamAV's order: nested groups
 * expand depth-first, left to right, e.g. `aa(bb|cc)|dd` gives aabb, aacc, dd.
 */
function expandAlternatives(content: string): string[] {
  let position = 0;
  const parseList = (): string[] => {
    const results: string[] = [];
    for (;;) {
      let sequence = [''];
      while (position < content.length && content[position] !== '|' && content[position] !== ')') {
        if (content[position] === '(') {
          if (position > 0 && content[position - 1] === '!') {
            throw new SignatureError('ac_special_altexpand: Generic alternates cannot contain negations');
          }
          position++;
          const inner = parseList();
          position++; // the `)`
          sequence = sequence.flatMap((head) => inner.map((tail) => head + tail));
        } else {
          let end = position;
          while (end < content.length && !'(|)'.includes(content[end]!)) end++;
          const literal = content.slice(position, end);
          sequence = sequence.map((head) => head + literal);
          position = end;
        }
      }
      results.push(...sequence);
      if (content[position] !== '|') return results;
      position++;
    }
  };
  return parseList();
}

/** Adds one expanded alternative, dropping exact duplicates and marking prefix relations. */
function addGenericAlternative(list: GenericAlternative[], text: string, nocase: boolean): void {
  const elements = decodeWideElements(text, nocase);
  const candidate: GenericAlternative = { elements, unique: true };
  for (const existing of list) {
    const relation = compareAlternatives(existing.elements, elements);
    if (relation === null) continue;
    if (existing.elements.length !== elements.length) {
      candidate.unique = false;
      existing.unique = false;
    } else if (relation === 0) {
      return;
    }
  }
  list.push(candidate);
}

const enum ElementClass {
  Exact,
  Any,
  High,
  Low,
}

function classOf(element: number): ElementClass {
  switch (elementMask(element)) {
    case 0xff:
      return ElementClass.Exact;
    case 0:
      return ElementClass.Any;
    case 0xf0:
      return ElementClass.High;
    default:
      return ElementClass.Low;
  }
}

/**
 * ClamAV's ac_uicmp: can the two alternatives agree on their common length? Null when they
 * cannot (or when each side has a wildcard the other lacks); otherwise 0 for identical wildcard
 * use, non-zero when one side is wilder.
 */
function compareAlternatives(a: Uint32Array, b: Uint32Array): number | null {
  let sides = 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const ca = classOf(a[i]!);
    const cb = classOf(b[i]!);
    const va = a[i]! & 0xff;
    const vb = b[i]! & 0xff;
    if (ca === cb) {
      if (ca === ElementClass.Exact && va !== vb) return null;
      if (ca === ElementClass.High && (va & 0xf0) !== (vb & 0xf0)) return null;
      if (ca === ElementClass.Low && (va & 0x0f) !== (vb & 0x0f)) return null;
    } else if (ca === ElementClass.Exact || cb === ElementClass.Exact) {
      const [exact, wild, wildClass, side] = ca === ElementClass.Exact ? [va, vb, cb, 2] : [vb, va, ca, 1];
      if (wildClass === ElementClass.High && (exact & 0xf0) !== (wild & 0xf0)) return null;
      if (wildClass === ElementClass.Low && (exact & 0x0f) !== (wild & 0x0f)) return null;
      sides |= side;
    } else if (ca === ElementClass.Any || cb === ElementClass.Any) {
      sides |= ca === ElementClass.Any ? 1 : 2;
    } else {
      sides |= 3;
    }
    if (sides === 3) return null;
  }
  return sides;
}

/** Plain hex (no wildcards at all), as ClamAV's Boyer-Moore matcher takes it. */
export function decodePlainHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) {
    throw new SignatureError(`cli_mpool_hex2str(): Malformed hexstring: ${hex} (length: ${hex.length})`);
  }
  const bytes = decodeBytes(hex);
  if (!bytes) throw new SignatureError();
  return bytes;
}

/** The characters that force ClamAV's Aho-Corasick matcher for a single-part pattern. */
export function hasWildcardSyntax(hex: string): boolean {
  return /[?([]/.test(hex);
}


