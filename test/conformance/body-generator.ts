/**
 * Conformance data for body (.ndb) and logical (.ldb) signatures: picks real signatures from
 * ClamAV's databases and writes, for each, a file meant to match it and a copy with one literal
 * byte changed (meant not to match). Which of them really match is for real clamscan to say: the
 * generator reads the pattern text on its own (it does not use ClamTS's parser), so a mistake
 * here costs coverage, never a wrong verdict.
 *
 * Covered: target 0 signatures in a binary-data file, and target 1 signatures in the overlay of
 * clamav-testfiles' clam.exe; offsets `*`, `n`, `n,m` and `EOF-n`; content subsignatures with
 * their modifiers. Signatures needing more (executable-relative offsets, PCRE, byte compares,
 * macros, container or size conditions…) are not picked.
 */
import type { Random } from '../../packages/core/test/fixtures/body/random-signatures.js';

/** Makes ClamAV type a file as CL_TYPE_BINARY_DATA (non-text bytes, no known magic). */
export const BINARY_HEADER = Uint8Array.from([0xc0, 0xc1, 0xf5, 0xf6, 0xf7, 0xf8, 0x00, 0x01, 0x02]);

export type SignatureKind = 'ndb' | 'ldb';

export interface GeneratedCase {
  readonly kind: SignatureKind;
  /** The database line. */
  readonly line: string;
  readonly target: 0 | 1;
  /** Bytes built to match the signature. */
  readonly matching: Uint8Array;
  /** The same bytes with one literal byte of the signature changed. */
  readonly nonMatching: Uint8Array;
}

/** Largest file the generator writes (patterns with huge gaps are left out). */
const MAX_SIZE = 1 << 18;

/**
 * Picks up to `count` signatures of `lines` the generator can build files for, at random, and
 * builds their cases. `executable` is the file that target 1 signatures are appended to.
 */
export function generateCases(
  kind: SignatureKind,
  lines: readonly string[],
  count: number,
  random: Random,
  executable: Uint8Array,
): GeneratedCase[] {
  const order = lines.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const cases: GeneratedCase[] = [];
  for (const index of order) {
    if (cases.length >= count) break;
    const line = lines[index]!;
    const generated = kind === 'ndb' ? generateNdb(line, random, executable) : generateLdb(line, random, executable);
    if (generated) cases.push(generated);
  }
  return cases;
}

/** One piece of content to place, already in bytes. */
interface Placement {
  readonly offset: Offset;
  readonly bytes: number[];
  /** Indexes in `bytes` that come from literal signature bytes (candidates for the mutation). */
  readonly literals: number[];
}

type Offset = { kind: 'any' } | { kind: 'at'; start: number; spread: number } | { kind: 'eof'; distance: number };

function generateNdb(line: string, random: Random, executable: Uint8Array): GeneratedCase | undefined {
  const fields = line.split(':');
  if (fields.length < 4 || fields.length > 6) return undefined;
  const [, target, offsetText, hex] = fields as [string, string, string, string];
  if (target !== '0' && target !== '1') return undefined;
  const offset = parseOffset(offsetText);
  const content = offset && generatePattern(hex, random);
  if (!content) return undefined;
  return layOut('ndb', line, Number(target) as 0 | 1, [{ offset, ...content }], random, executable);
}

const UNSUPPORTED_CONDITIONS = /(Container|Intermediates|FileSize|EntryPoint|NumberOfSections|IconGroup[12]|HandlerType):/;

function generateLdb(line: string, random: Random, executable: Uint8Array): GeneratedCase | undefined {
  const fields = line.split(';');
  if (fields.length < 4) return undefined;
  const [, description, expression] = fields as [string, string, string];
  const target = /(?:^|,)Target:(\d+)(?:,|$)/.exec(description)?.[1];
  if ((target !== '0' && target !== '1') || UNSUPPORTED_CONDITIONS.test(description)) return undefined;
  const repeats = repetitions(expression);
  const placements: Placement[] = [];
  for (const [id, subsignature] of fields.slice(3).entries()) {
    const content = generateSubsignature(subsignature, random);
    if (!content) return undefined;
    for (let n = repeats.get(id) ?? 1; n > 0; n--) {
      placements.push(content);
      if (content.offset.kind !== 'any') break; // a fixed offset holds one match
    }
  }
  return layOut('ldb', line, Number(target) as 0 | 1, placements, random, executable);
}

/**
 * How many times each subsignature should appear to satisfy a count condition written right
 * after its index (`3>2`, `0=0`, `1<3`); others appear once. Conditions on groups are left to
 * chance: the case then simply tests a likely non-match.
 */
function repetitions(expression: string): Map<number, number> {
  const repeats = new Map<number, number>();
  for (const [, id, op, value] of expression.matchAll(/(?<![\d)=<>,])(\d+)([=<>])(\d+)/g)) {
    const n = Number(value);
    repeats.set(Number(id), op === '=' ? n : op === '>' ? n + 1 : Math.min(1, n - 1));
  }
  return repeats;
}

/** `[offset:]pattern[::modifiers]` of a content subsignature; undefined for other kinds. */
function generateSubsignature(text: string, random: Random): Placement | undefined {
  const [body = '', modifiers = '', ...rest] = text.split('::');
  if (rest.length > 0 || !/^[iwaf]*$/.test(modifiers)) return undefined;
  const colon = body.lastIndexOf(':');
  const offset = colon < 0 ? { kind: 'any' as const } : parseOffset(body.slice(0, colon));
  const content = offset && generatePattern(body.slice(colon + 1), random);
  if (!content) return undefined;
  let { bytes, literals } = content;
  // ::w alone asks for the UTF-16LE form; ::a (with or without ::w) also accepts the plain one.
  if (modifiers.includes('w') && !modifiers.includes('a')) {
    bytes = bytes.flatMap((b) => [b, 0]);
    literals = literals.map((i) => 2 * i);
  }
  if (modifiers.includes('f')) {
    // Full word: the neighbours must not be word characters.
    bytes = [0x20, ...bytes, 0x20];
    literals = literals.map((i) => i + 1);
  }
  return { offset, bytes, literals };
}

function parseOffset(text: string): Offset | undefined {
  if (text === '*') return { kind: 'any' };
  let m = /^(\d+)(?:,(\d+))?$/.exec(text);
  if (m) return { kind: 'at', start: Number(m[1]), spread: Number(m[2] ?? 0) };
  m = /^EOF-(\d+)$/.exec(text);
  if (m) return { kind: 'eof', distance: Number(m[1]) };
  return undefined;
}

/**
 * Bytes for a hex pattern: wildcards and gaps filled at random, one alternative chosen, negated
 * alternatives given a first byte none of them allows, `(B)`/`(L)` given a space or a newline.
 */
function generatePattern(text: string, random: Random): { bytes: number[]; literals: number[] } | undefined {
  const bytes: number[] = [];
  const literals: number[] = [];
  let i = 0;
  const filler = (min: number, max: number) => {
    const n = min + random.below(Math.min(max - min, 8) + 1);
    for (let k = 0; k < n; k++) bytes.push(random.below(256));
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '*') {
      filler(0, 8);
      i++;
    } else if (c === '{' || c === '[') {
      const close = text.indexOf(c === '{' ? '}' : ']', i);
      const range = close < 0 ? null : /^(\d*)-?(\d*)$/.exec(text.slice(i + 1, close));
      if (!range || close < 0) return undefined;
      const [, low = '', high = ''] = range;
      const dash = text.slice(i + 1, close).includes('-');
      const min = Number(low || 0);
      const max = !dash ? min : high === '' ? min + 8 : Number(high);
      if (min > max || min > MAX_SIZE) return undefined;
      filler(min, max);
      i = close + 1;
    } else if (c === '(' || (c === '!' && text[i + 1] === '(')) {
      const negated = c === '!';
      const open = negated ? i + 1 : i;
      const close = text.indexOf(')', open);
      if (close < 0) return undefined;
      const inside = text.slice(open + 1, close);
      i = close + 1;
      if (inside === 'B') bytes.push(0x20);
      else if (inside === 'L') bytes.push(0x0a);
      else {
        const choices = inside.split('|');
        if (negated) {
          const first = choices.map((choice) => choice.slice(0, 2));
          let b: number;
          do b = random.below(256);
          while (first.some((pair) => nibblesMatch(pair, b)));
          const length = choices[0]!.length / 2;
          bytes.push(b);
          for (let k = 1; k < length; k++) bytes.push(random.below(256));
        } else {
          const chosen = generatePattern(choices[random.below(choices.length)]!, random);
          if (!chosen) return undefined;
          literals.push(...chosen.literals.map((k) => k + bytes.length));
          bytes.push(...chosen.bytes);
        }
      }
    } else if (/^[0-9a-fA-F?]{2}$/.test(text.slice(i, i + 2))) {
      const pair = text.slice(i, i + 2);
      if (!pair.includes('?')) literals.push(bytes.length);
      let b: number;
      do b = random.below(256);
      while (!nibblesMatch(pair, b));
      bytes.push(b);
      i += 2;
    } else return undefined;
  }
  return bytes.length > MAX_SIZE ? undefined : { bytes, literals };
}

/** Does byte `b` fit the two hex digits (or `?` nibbles) of `pair`? */
function nibblesMatch(pair: string, b: number): boolean {
  const high = pair[0]!;
  const low = pair[1]!;
  return (high === '?' || parseInt(high, 16) === b >> 4) && (low === '?' || parseInt(low, 16) === (b & 15));
}

/**
 * Places the content after the header (the binary-data prefix, or the executable), then
 * derives the non-matching copy by changing one literal byte.
 */
function layOut(
  kind: SignatureKind,
  line: string,
  target: 0 | 1,
  placements: readonly Placement[],
  random: Random,
  executable: Uint8Array,
): GeneratedCase | undefined {
  const header = target === 0 ? BINARY_HEADER : executable;
  const file = new Map<number, number>();
  const origin: { placement: number; index: number }[] = [];
  const put = (at: number, p: number) => {
    const { bytes } = placements[p]!;
    for (let k = 0; k < bytes.length; k++) {
      const old = file.get(at + k);
      if (old !== undefined && old !== bytes[k]) return false;
      file.set(at + k, bytes[k]!);
      origin[at + k] = { placement: p, index: k };
    }
    return true;
  };
  // Fixed offsets first, then floating content after them, then content placed from the end.
  let end = header.length;
  for (const [p, { offset, bytes }] of placements.entries()) {
    if (offset.kind !== 'at') continue;
    const at = offset.start + random.below(Math.min(offset.spread, 16) + 1);
    if (at < header.length || !put(at, p)) return undefined;
    end = Math.max(end, at + bytes.length);
  }
  for (const [p, { offset, bytes }] of placements.entries()) {
    if (offset.kind !== 'any') continue;
    const at = end + 1 + random.below(32);
    put(at, p);
    end = at + bytes.length;
  }
  const tail = Math.max(0, ...placements.map(({ offset }) => (offset.kind === 'eof' ? offset.distance : 0)));
  const size = end + tail + (tail === 0 ? 1 + random.below(32) : 0);
  for (const [p, { offset, bytes }] of placements.entries()) {
    if (offset.kind !== 'eof') continue;
    const at = size - offset.distance;
    if (at < end || at + bytes.length > size || !put(at, p)) return undefined;
  }
  if (size > MAX_SIZE) return undefined;

  const matching = new Uint8Array(size);
  matching.set(header);
  for (let at = header.length; at < size; at++) matching[at] = file.get(at) ?? random.below(256);

  const mutable = [...file.keys()].filter((at) => {
    const { placement, index } = origin[at]!;
    return placements[placement]!.literals.includes(index);
  });
  if (mutable.length === 0) return undefined;
  const nonMatching = matching.slice();
  const at = mutable[random.below(mutable.length)]!;
  // Flip a bit outside the ASCII case bit, so that case-insensitive patterns change too.
  nonMatching[at] = matching[at]! ^ 0x41;
  return { kind, line, target, matching, nonMatching };
}
