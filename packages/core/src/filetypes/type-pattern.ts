import { choosePrefixLength, keyLengthAt } from '../matching/ac-key.js';
import { checkPrefilter } from '../matching/prefilter-check.js';
import { SignatureError, withContext } from '../matching/signature-error.js';
import {
  PLAIN_PART,
  SpecialKind,
  UNBOUNDED_GAP,
  parseGap,
  parsePart,
  splitPattern,
  SplitKind,
  type ParsedPart,
  type Special,
} from '../signatures/body-pattern.js';
import { isStoredSpecial, storedSpecialIndex } from '../signatures/pattern-elements.js';
import { GrowableShared } from '../util/shared-memory.js';
import { parseTypeOffset, type TypeOffset } from './type-offset.js';

/**
 * The body patterns in `.ftm` lines of magic type 1, in the pieces ClamAV's Aho-Corasick matcher
 * works with. They are parsed and refused by the body signatures' parser (split, parts, gaps,
 * offsets, prefilter, key), with ClamAV's messages.
 *
 * The type matcher supports hex bytes, `??`, nibble wildcards `a?`/`?a`, fixed-length
 * alternatives `(aa|bb)` (one or more bytes each, optionally negated `!(…)`), `*` and `{…}` gaps.
 * That covers ClamAV's built-in list and the official daily.ftm. Generic alternatives (of
 * different lengths, with wildcards or nested), `[n-m]` anchors and the `(B)`, `(L)`, `(W)`
 * classes are refused as malformed in type signatures (ClamAV accepts them; no type signature
 * uses them).
 *
 * A pattern element has the 16-bit stored form of every body pattern (signatures/
 * pattern-elements.ts): an exact byte is its value, and a special indexes the part's alternatives.
 */

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
    return [withContext('cli_add_content_match_pattern: Problem adding signature (3).', () => build(split.parts[0]!.hex!, 0, 0, 0))];
  }
  // A ranged split ends every refusal with "(1b)", after "(1)" for a refused part.
  const ranged = split.kind === SplitKind.Ranged;
  const inSplit = <T>(step: () => T): T => (ranged ? withContext(GAP_ERROR, step) : step());
  const partError = ranged ? 'cli_add_content_match_pattern: Problem adding signature (1).' : 'cli_add_content_match_pattern: Problem adding signature (2).';
  return inSplit(() =>
    split.parts.map(({ hex, gap: gapText }, i) => {
      const gap = gapText === null ? UNBOUNDED_GAP : parseGap(gapText);
      if (hex === null) throw new SignatureError(`cli_add_content_match_pattern: Can't extract part ${i + 1} of partial signature.`);
      return withContext(partError, () => build(hex, i + 1, gap.min, gap.max));
    }),
  );
}

const GAP_ERROR = 'cli_add_content_match_pattern: Problem adding signature (1b).';

/** Where parts are decoded; each part's elements are copied out at once. */
const ELEMENTS = new GrowableShared(Uint16Array, 256, 1 << 20);

/** libclamav's cli_ac_addsig for one part, in its order of checks. */
function buildPart(name: string, hex: string, offset: string, partNo: number, minGap: number, maxGap: number): PatternPart {
  const part = parsePart(hex, PLAIN_PART, name, ELEMENTS);
  const alternatives = typeAlternatives(part);
  checkPrefilter(part, name);
  const keyStart = choosePrefixLength(part);
  const keyLength = keyLengthAt(part, keyStart);
  parseTypeOffset(offset);
  const codes = part.elements.slice(part.start, part.start + part.length);
  const prefix = codes.subarray(0, keyStart);
  const body = codes.subarray(keyStart);
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

/** The part's alternatives as the type matcher takes them; refuses what it does not support. */
function typeAlternatives(part: ParsedPart): Alternative[] {
  if (part.left || part.right) throw new SignatureError('cli_ac_addsig: [n-m] anchors are not supported in type signatures');
  if (part.boundary !== 0) throw new SignatureError('cli_ac_addsig: character classes are not supported in type signatures');
  return part.specials.map(typeAlternative);
}

function typeAlternative(special: Special): Alternative {
  switch (special.kind) {
    case SpecialKind.AltByte:
      return { width: 1, negated: special.negative, choices: Array.from(special.bytes, (byte) => Uint8Array.of(byte)).sort(compareBytes) };
    case SpecialKind.AltFixed:
      return { width: special.length, negated: special.negative, choices: [...special.strings].sort(compareBytes) };
    case SpecialKind.AltGeneric:
      throw new SignatureError('cli_ac_addsig: variable-length alternatives are not supported in type signatures');
    default:
      throw new SignatureError('cli_ac_addsig: character classes are not supported in type signatures');
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
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
