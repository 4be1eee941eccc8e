/**
 * Parser for PCRE2 10.42 pattern syntax in 8-bit non-UTF mode (the mode ClamAV compiles in),
 * producing the tree in ast.ts. It accepts and rejects what PCRE2 accepts and rejects, with
 * PCRE2's error numbers, because a signature that PCRE2 refuses makes ClamAV refuse the whole
 * database.
 *
 * The pattern is a string of bytes: each character code is one pattern byte (0-255).
 */
import type {
  Branch,
  CondTest,
  GroupNode,
  GroupType,
  Node,
  ParsedPattern,
  StartSettings,
  VerbName,
} from './ast.js';
import { PcreCompileError, unsupported } from './compile-error.js';
import * as O from './opcodes.js';
import { hexValue } from '../../util/c-numbers.js';
import {
  type ByteSet,
  DIGIT_SET,
  HSPACE_SET,
  POSIX_CLASSES,
  SPACE_SET,
  VSPACE_SET,
  WORD_SET,
  emptySet,
  otherCase,
  setAdd,
  setAddRange,
  setUnion,
  setUnionNegated,
} from './tables.js';

export interface PatternOptions {
  caseless: boolean;
  multiline: boolean;
  dotall: boolean;
  extended: boolean;
  anchored: boolean;
  dollarEndOnly: boolean;
  ungreedy: boolean;
}

const MAX_REPEAT_COUNT = 65535;
const MAX_GROUP_NUMBER = 65535;
const MAX_NAME_SIZE = 32;
const MAX_NAME_COUNT = 10000;
const MAX_MARK = 255;
const PARENS_NEST_LIMIT = 250;

const CH_NL = 0x0a;
const CH_NEL = 0x85;

/* Escapes that stand for something other than a data character. */
type Escape =
  | 'A' | 'G' | 'K' | 'B' | 'b' | 'D' | 'd' | 'S' | 's' | 'W' | 'w' | 'N' | 'C' | 'P' | 'p'
  | 'R' | 'H' | 'h' | 'V' | 'v' | 'X' | 'Z' | 'z' | 'E' | 'Q' | 'g' | 'k';

/** Result of reading an escape: a data byte, a special escape, or a back reference number. */
type EscapeResult = { char: number } | { escape: Escape } | { backref: number };

/* Data characters for single-letter escapes (PCRE2's escapes[] table). */
const ESCAPE_CHARS: Record<string, number> = { a: 0x07, e: 0x1b, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09 };
const SPECIAL_ESCAPES = new Set('AGKBbDdSsWwNCPpRHhVvXZzEQgk');

/* Character-type escapes and the opcode each compiles to. */
const TYPE_ESCAPE_OPS: Partial<Record<Escape, number>> = {
  D: O.OP_NOT_DIGIT,
  d: O.OP_DIGIT,
  S: O.OP_NOT_WHITESPACE,
  s: O.OP_WHITESPACE,
  W: O.OP_NOT_WORDCHAR,
  w: O.OP_WORDCHAR,
  N: O.OP_ANY,
  C: O.OP_ALLANY, // \C is one code unit; without UTF that is one byte, like .
  R: O.OP_ANYNL,
  H: O.OP_NOT_HSPACE,
  h: O.OP_HSPACE,
  V: O.OP_NOT_VSPACE,
  v: O.OP_VSPACE,
};

const ANCHOR_ESCAPE_OPS: Partial<Record<Escape, number>> = {
  A: O.OP_SOD,
  G: O.OP_SOM,
  K: O.OP_SET_SOM,
  B: O.OP_NOT_WORD_BOUNDARY,
  b: O.OP_WORD_BOUNDARY,
  Z: O.OP_EODN,
  z: O.OP_EOD,
};

/* Sets for the type escapes allowed inside a class. */
const CLASS_ESCAPE_SETS: Partial<Record<Escape, [ByteSet, boolean]>> = {
  d: [DIGIT_SET, false],
  D: [DIGIT_SET, true],
  s: [SPACE_SET, false],
  S: [SPACE_SET, true],
  w: [WORD_SET, false],
  W: [WORD_SET, true],
  h: [HSPACE_SET, false],
  H: [HSPACE_SET, true],
  v: [VSPACE_SET, false],
  V: [VSPACE_SET, true],
};

const VERBS: ReadonlyMap<string, { verb: VerbName; arg: 'required' | 'optional' | 'mark' }> = new Map([
  ['', { verb: 'MARK', arg: 'required' }],
  ['MARK', { verb: 'MARK', arg: 'required' }],
  ['ACCEPT', { verb: 'ACCEPT', arg: 'mark' }],
  ['F', { verb: 'FAIL', arg: 'mark' }],
  ['FAIL', { verb: 'FAIL', arg: 'mark' }],
  ['COMMIT', { verb: 'COMMIT', arg: 'optional' }],
  ['PRUNE', { verb: 'PRUNE', arg: 'optional' }],
  ['SKIP', { verb: 'SKIP', arg: 'optional' }],
  ['THEN', { verb: 'THEN', arg: 'optional' }],
]);

/* String callout delimiters and their closing counterparts. */
const CALLOUT_DELIMITERS: ReadonlyMap<number, number> = new Map([
  [0x60, 0x60], [0x27, 0x27], [0x22, 0x22], [0x5e, 0x5e], [0x25, 0x25], [0x23, 0x23], [0x24, 0x24], [0x7b, 0x7d],
]);

const ALPHA_ASSERTIONS: ReadonlyMap<string, GroupType | 'script_run'> = new Map([
  ['pla', 'lookahead'],
  ['plb', 'lookbehind'],
  ['napla', 'lookahead_na'],
  ['naplb', 'lookbehind_na'],
  ['nla', 'neglookahead'],
  ['nlb', 'neglookbehind'],
  ['positive_lookahead', 'lookahead'],
  ['positive_lookbehind', 'lookbehind'],
  ['non_atomic_positive_lookahead', 'lookahead_na'],
  ['non_atomic_positive_lookbehind', 'lookbehind_na'],
  ['negative_lookahead', 'neglookahead'],
  ['negative_lookbehind', 'neglookbehind'],
  ['atomic', 'atomic'],
  ['sr', 'script_run'],
  ['asr', 'script_run'],
  ['script_run', 'script_run'],
  ['atomic_script_run', 'script_run'],
] as const);

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isWordChar = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
const isLowerLetter = (c: number) => c >= 0x61 && c <= 0x7a;
/* White space skipped in extended mode: the C-locale isspace() set plus NEL. */
const isPatternSpace = (c: number) => (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === CH_NEL;

interface Options {
  caseless: boolean;
  multiline: boolean;
  dotall: boolean;
  extended: boolean;
  extendedMore: boolean;
  ungreedy: boolean;
  noAutoCapture: boolean;
  dupNames: boolean;
}

/** A copy of `o`, its fields in the constructor's order: every options object has one shape (V8 map). */
function copyOptions(o: Options): Options {
  return {
    caseless: o.caseless,
    multiline: o.multiline,
    dotall: o.dotall,
    extended: o.extended,
    extendedMore: o.extendedMore,
    ungreedy: o.ungreedy,
    noAutoCapture: o.noAutoCapture,
    dupNames: o.dupNames,
  };
}

interface NamedGroup {
  name: string;
  number: number;
}

/** Branch-reset bookkeeping for an open (?| group. */
interface ResetScope {
  resetTo: number;
  maxGroup: number;
}

export function parsePattern(pattern: string, options: PatternOptions): ParsedPattern {
  return new Parser(pattern, options).parse();
}

class Parser {
  private readonly src: number[];
  private p = 0;
  private opts: Options;
  private captureCount = 0;
  private readonly namedGroups: NamedGroup[] = [];
  private dupCaptureUsed = false;
  private hasThen = false;
  private hasPruneOrSkip = false;
  private hasCommit = false;
  private inQuote = false;
  private depth = 0;
  private readonly settings: StartSettings = {
    notEmpty: false,
    notEmptyAtStart: false,
    noAutoPossess: false,
    noDotstarAnchor: false,
    noStartOptimize: false,
  };

  constructor(
    pattern: string,
    private readonly patternOptions: PatternOptions,
  ) {
    const src: number[] = [];
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern.charCodeAt(i);
      // ClamAV hands PCRE2 a NUL-terminated string: the pattern ends at the first NUL.
      if (c === 0) break;
      if (c > 0xff) throw unsupported('a pattern character above 0xFF', i);
      src.push(c);
    }
    this.src = src;
    this.opts = {
      caseless: patternOptions.caseless,
      multiline: patternOptions.multiline,
      dotall: patternOptions.dotall,
      extended: patternOptions.extended,
      extendedMore: false,
      ungreedy: patternOptions.ungreedy,
      noAutoCapture: false,
      dupNames: false,
    };
  }

  parse(): ParsedPattern {
    this.readStartSettings();
    const branches = this.parseAlternatives(false);
    if (this.p < this.src.length) {
      // Only an unmatched ')' stops the top level early.
      throw new PcreCompileError(22, this.p);
    }
    const names = new Map<string, number[]>();
    for (const g of this.namedGroups) {
      const list = names.get(g.name);
      if (list) list.push(g.number);
      else names.set(g.name, [g.number]);
    }
    return {
      branches,
      length: this.src.length,
      captureCount: this.captureCount,
      names,
      dupCaptureUsed: this.dupCaptureUsed,
      hasThen: this.hasThen,
      hasPruneOrSkip: this.hasPruneOrSkip,
      hasCommit: this.hasCommit,
      settings: this.settings,
      anchored: this.patternOptions.anchored,
      dollarEndOnly: this.patternOptions.dollarEndOnly,
    };
  }

  // ---------------------------------------------------------------------------------------
  // Low-level reading

  private at(i: number): number {
    return i < this.src.length ? this.src[i]! : -1;
  }

  private get end(): boolean {
    return this.p >= this.src.length;
  }

  private startsWith(text: string, at = this.p): boolean {
    if (at + text.length > this.src.length) return false;
    for (let i = 0; i < text.length; i++) if (this.src[at + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  private fail(code: number, offset = this.p): never {
    throw new PcreCompileError(code, offset);
  }

  // ---------------------------------------------------------------------------------------
  // (*...) settings at the start of the pattern

  private readStartSettings(): void {
    for (;;) {
      if (!this.startsWith('(*')) return;
      const close = this.src.indexOf(0x29, this.p);
      if (close < 0) return;
      const text = String.fromCharCode(...this.src.slice(this.p + 2, close));
      const limit = /^(LIMIT_MATCH|LIMIT_DEPTH|LIMIT_RECURSION|LIMIT_HEAP)=(\d+)$/.exec(text);
      if (limit) {
        const value = Number(limit[2]);
        if (value > 0xffffffff) this.fail(60, this.p);
        if (limit[1] === 'LIMIT_MATCH') this.settings.limitMatch = Math.min(value, this.settings.limitMatch ?? value);
        else if (limit[1] !== 'LIMIT_HEAP') this.settings.limitDepth = Math.min(value, this.settings.limitDepth ?? value);
      } else {
        switch (text) {
          case 'NOTEMPTY':
            this.settings.notEmpty = true;
            break;
          case 'NOTEMPTY_ATSTART':
            this.settings.notEmptyAtStart = true;
            break;
          case 'NO_AUTO_POSSESS':
            this.settings.noAutoPossess = true;
            break;
          case 'NO_DOTSTAR_ANCHOR':
            this.settings.noDotstarAnchor = true;
            break;
          case 'NO_START_OPT':
            this.settings.noStartOptimize = true;
            break;
          case 'NO_JIT':
          case 'LF':
          case 'BSR_UNICODE':
            break;
          case 'UTF':
          case 'UTF8':
          case 'UCP':
            throw unsupported(`(*${text})`, this.p);
          case 'CR':
          case 'CRLF':
          case 'ANY':
          case 'ANYCRLF':
          case 'NUL':
          case 'BSR_ANYCRLF':
            throw unsupported(`(*${text})`, this.p);
          default:
            return; // Not a start setting: parsed as a verb or an error later.
        }
      }
      this.p = close + 1;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Alternatives, branches and items

  /** Parses branches up to ')' (left unconsumed) or the end of the pattern. */
  private parseAlternatives(inGroup: boolean, reset?: ResetScope): Branch[] {
    const branches: Branch[] = [];
    for (;;) {
      branches.push(this.parseBranch());
      if (this.end) {
        if (inGroup) this.fail(14);
        return branches;
      }
      const c = this.src[this.p]!;
      if (c === 0x29) {
        if (!inGroup) this.fail(22);
        if (reset && this.captureCount > reset.maxGroup) reset.maxGroup = this.captureCount;
        return branches;
      }
      // c is '|'
      this.p++;
      if (reset) {
        if (this.captureCount > reset.maxGroup) reset.maxGroup = this.captureCount;
        this.captureCount = reset.resetTo;
      }
    }
  }

  /** Parses one branch; stops before '|' or ')' or at the end. */
  private parseBranch(): Branch {
    const items: Node[] = [];
    // Whether the previous significant item may take a quantifier, and whether the previous
    // item was a quantifier that a following + or ? modifies.
    let quantifiable = false;
    let lastQuant: Node | null = null;
    for (;;) {
      if (this.depth > PARENS_NEST_LIMIT) this.fail(19);
      if (this.skipIgnorable()) continue;
      if (this.end) return items;
      const start = this.p;
      const c = this.src[this.p]!;
      if (this.inQuote) {
        this.p++;
        items.push(this.literal(c));
        quantifiable = true;
        lastQuant = null;
        continue;
      }

      if (lastQuant && (c === 0x3f || c === 0x2b) && lastQuant.kind === 'quant') {
        this.p++;
        lastQuant.mode = c === 0x2b ? 'possessive' : this.opts.ungreedy ? 'greedy' : 'lazy';
        lastQuant = null;
        quantifiable = false;
        continue;
      }
      lastQuant = null;

      if (c === 0x7c || c === 0x29) return items;

      const quant = this.readQuantifier();
      if (quant) {
        if (!quantifiable) this.fail(9, this.p - 1);
        const item = items.pop()!;
        const node: Node = {
          kind: 'quant',
          item,
          min: quant.min,
          max: quant.max,
          mode: this.opts.ungreedy ? 'lazy' : 'greedy',
        };
        items.push(node);
        lastQuant = node;
        quantifiable = false;
        continue;
      }

      this.p++;
      const parsed = this.parseItem(c, start);
      if (parsed === null) {
        quantifiable = false;
        continue;
      }
      items.push(...parsed.nodes);
      quantifiable = parsed.quantifiable;
    }
  }

  /**
   * Skips what does not change the quantification state: \Q and \E, extended-mode white
   * space and # comments, and (?# comments. Returns true if something was skipped.
   */
  private skipIgnorable(): boolean {
    if (this.end) return false;
    const c = this.src[this.p]!;
    if (this.inQuote) {
      if (c === 0x5c && this.at(this.p + 1) === 0x45) {
        this.inQuote = false;
        this.p += 2;
        return true;
      }
      return false;
    }
    if (c === 0x5c && (this.at(this.p + 1) === 0x51 || this.at(this.p + 1) === 0x45)) {
      this.inQuote = this.at(this.p + 1) === 0x51;
      this.p += 2;
      return true;
    }
    if (this.opts.extended) {
      if (isPatternSpace(c)) {
        this.p++;
        return true;
      }
      if (c === 0x23) {
        while (!this.end && this.src[this.p] !== CH_NL) this.p++;
        if (!this.end) this.p++;
        return true;
      }
    }
    if (c === 0x28 && this.at(this.p + 1) === 0x3f && this.at(this.p + 2) === 0x23) {
      const close = this.src.indexOf(0x29, this.p + 3);
      if (close < 0) this.fail(18, this.src.length);
      this.p = close + 1;
      return true;
    }
    return false;
  }

  private literal(c: number): Node {
    return { kind: 'char', c, caseless: this.opts.caseless };
  }

  /** Reads *, +, ? or a {n,m} quantifier at the current position, if there is one. */
  private readQuantifier(): { min: number; max: number } | null {
    const c = this.src[this.p]!;
    if (c === 0x2a) {
      this.p++;
      return { min: 0, max: O.UNLIMITED };
    }
    if (c === 0x2b) {
      this.p++;
      return { min: 1, max: O.UNLIMITED };
    }
    if (c === 0x3f) {
      this.p++;
      return { min: 0, max: 1 };
    }
    if (c === 0x7b) {
      const counts = this.readRepeatCounts(this.p + 1);
      if (counts === null) return null;
      this.p = counts.next;
      return counts;
    }
    return null;
  }

  /** {n}, {n,} or {n,m} starting after the '{'; null if the braces are not a quantifier. */
  private readRepeatCounts(from: number): { min: number; max: number; next: number } | null {
    let q = from;
    let hadComma = false;
    for (;; q++) {
      const c = this.at(q);
      if (c < 0) return null;
      if (isDigit(c)) continue;
      if (c === 0x7d) break;
      if (c !== 0x2c || hadComma) return null;
      hadComma = true;
    }
    q = from;
    if (!isDigit(this.at(q))) return null; // "{,n}" is literal text in 10.42
    const min = this.readCount(q);
    q = min.next;
    let max = min.value;
    if (this.at(q) === 0x2c) {
      q++;
      if (this.at(q) !== 0x7d) {
        const m = this.readCount(q);
        max = m.value;
        q = m.next;
        if (max < min.value) this.fail(4, q);
      } else {
        max = O.UNLIMITED;
      }
    }
    return { min: min.value, max, next: q + 1 };
  }

  private readCount(from: number): { value: number; next: number } {
    let n = 0;
    let q = from;
    while (isDigit(this.at(q))) {
      n = n * 10 + this.at(q) - 0x30;
      q++;
      if (n > MAX_REPEAT_COUNT) this.fail(5, q);
    }
    return { value: n, next: q };
  }

  /**
   * Parses the item that starts with `c` (already consumed). Returns the nodes it adds (an
   * option setting adds none; [[:<:]] adds two) and whether a quantifier may follow.
   */
  private parseItem(c: number, start: number): { nodes: Node[]; quantifiable: boolean } | null {
    switch (c) {
      case 0x5c:
        return this.parseEscapeItem();
      case 0x5e:
        return { nodes: [{ kind: 'anchor', op: this.opts.multiline ? O.OP_CIRCM : O.OP_CIRC }], quantifiable: false };
      case 0x24:
        return { nodes: [{ kind: 'anchor', op: this.opts.multiline ? O.OP_DOLLM : O.OP_DOLL }], quantifiable: false };
      case 0x2e:
        return { nodes: [{ kind: 'type', op: this.opts.dotall ? O.OP_ALLANY : O.OP_ANY }], quantifiable: true };
      case 0x5b:
        return this.parseClassItem(start);
      case 0x28:
        return this.parseParenthesis(start);
      default:
        return { nodes: [this.literal(c)], quantifiable: true };
    }
  }

  // ---------------------------------------------------------------------------------------
  // Escapes

  private parseEscapeItem(): { nodes: Node[]; quantifiable: boolean } {
    const escOffset = this.p;
    const r = this.readEscape(false);
    if ('char' in r) return { nodes: [this.literal(r.char)], quantifiable: true };
    if ('backref' in r) {
      return {
        nodes: [{ kind: 'backref', number: r.backref, caseless: this.opts.caseless, offset: this.p - 1 }],
        quantifiable: true,
      };
    }
    const e = r.escape;
    const typeOp = TYPE_ESCAPE_OPS[e];
    if (typeOp !== undefined) return { nodes: [{ kind: 'type', op: typeOp }], quantifiable: true };
    const anchorOp = ANCHOR_ESCAPE_OPS[e];
    if (anchorOp !== undefined) return { nodes: [{ kind: 'anchor', op: anchorOp }], quantifiable: false };
    if (e === 'P' || e === 'p' || e === 'X') throw unsupported(`\\${e} (Unicode properties)`, escOffset);
    // \g and \k followed by a name or a <number>/'number' subroutine call.
    return { nodes: [this.parseNamedReference(e)], quantifiable: true };
  }

  /** \k<name> \k'name' \k{name} \g{name}: back references; \g<name> \g'name' \g<n>: calls. */
  private parseNamedReference(e: Escape): Node {
    const open = this.at(this.p);
    if (open !== 0x7b && open !== 0x3c && open !== 0x27) this.fail(e === 'g' ? 57 : 69);
    const terminator = open === 0x3c ? 0x3e : open === 0x27 ? 0x27 : 0x7d;
    if (e === 'g' && terminator !== 0x7d) {
      const q = this.p + 1;
      const n = this.readGroupNumber(q, this.captureCount, 61);
      if (n !== null) {
        if (this.at(n.next) !== terminator) this.fail(57, n.next);
        this.p = n.next + 1;
        if (n.value < 0) this.fail(15, q);
        return { kind: 'recurse', number: n.value, offset: n.next };
      }
    }
    const { name, offset } = this.readName(terminator, true);
    if (e === 'k' || terminator === 0x7d) {
      return { kind: 'backref', number: 0, name, caseless: this.opts.caseless, offset };
    }
    return { kind: 'recurse', number: -1, name, offset };
  }

  /**
   * Reads an optionally signed group number at `from`. `relativeBase` is the number of groups
   * opened so far (relative references count back from it); null if no number is there.
   * A negative value means "refers to a group before the first".
   */
  private readGroupNumber(
    from: number,
    relativeBase: number,
    tooBigError: number,
  ): { value: number; next: number } | null {
    let q = from;
    let sign = 0;
    if (this.at(q) === 0x2b) {
      sign = 1;
      q++;
    } else if (this.at(q) === 0x2d) {
      sign = -1;
      q++;
    }
    if (!isDigit(this.at(q))) return null;
    let n = 0;
    const max = sign > 0 ? MAX_GROUP_NUMBER - relativeBase : MAX_GROUP_NUMBER;
    while (isDigit(this.at(q))) {
      n = n * 10 + this.at(q) - 0x30;
      q++;
      if (n > max) this.fail(tooBigError, q);
    }
    if (sign !== 0) {
      if (n === 0) this.fail(26, q);
      if (sign > 0) n += relativeBase;
      else if (n > relativeBase) this.fail(15, q);
      else n = relativeBase + 1 - n;
    }
    return { value: n, next: q };
  }

  /**
   * Reads an escape after a backslash (this.p is just after the '\'). Inside a class, digits
   * are always octal and \g \k are letters; outside, \1-\9 and numbers up to the group count
   * are back references.
   */
  private readEscape(inClass: boolean): EscapeResult {
    if (this.end) this.fail(1);
    const c = this.src[this.p++]!;
    // Non-alphanumerics stand for themselves.
    if (!isWordChar(c) || c === 0x5f) return { char: c };
    const letter = String.fromCharCode(c);
    if (letter in ESCAPE_CHARS) return { char: ESCAPE_CHARS[letter]! };
    if (SPECIAL_ESCAPES.has(letter)) {
      const e = letter as Escape;
      if (e === 'N' && this.at(this.p) === 0x7b) {
        if (this.at(this.p + 1) === 0x55 && this.at(this.p + 2) === 0x2b) this.fail(93);
        if (this.readRepeatCounts(this.p + 1) === null) this.fail(37);
      }
      if (e === 'g') return inClass ? { char: c } : this.readGEscape();
      if (e === 'k' && inClass) return { escape: 'k' };
      return { escape: e };
    }
    switch (letter) {
      case 'F':
      case 'l':
      case 'L':
      case 'u':
      case 'U':
        this.fail(37);
        break;
      case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9': {
        if (!inClass) {
          const digitsStart = this.p - 1;
          let q = digitsStart;
          let n = 0;
          let overflow = false;
          while (isDigit(this.at(q))) {
            n = n * 10 + this.at(q) - 0x30;
            q++;
            if (n > 0x7fffffff / 10 - 1) {
              overflow = true;
              break;
            }
          }
          if (!overflow && (n < 10 || c >= 0x38 || n <= this.captureCount)) {
            this.p = q;
            if (n > MAX_GROUP_NUMBER) this.fail(61);
            return { backref: n };
          }
        }
        if (c >= 0x38) return { char: c }; // \8 and \9 that are not references are just "8" and "9"
        return this.readOctal(c - 0x30);
      }
      case '0':
        return this.readOctal(0);
      case 'o':
        return this.readBracedNumber(8);
      case 'x':
        if (this.at(this.p) === 0x7b) return this.readBracedNumber(16);
        {
          let value = 0;
          for (let i = 0; i < 2; i++) {
            const h = hexValue(this.at(this.p));
            if (h < 0) break;
            value = value * 16 + h;
            this.p++;
          }
          return { char: value };
        }
      case 'c': {
        if (this.end) this.fail(2);
        let x = this.src[this.p]!;
        if (isLowerLetter(x)) x -= 0x20;
        if (x < 32 || x > 126) this.fail(68);
        this.p++;
        return { char: x ^ 0x40 };
      }
    }
    this.p--;
    return this.fail(3);
  }

  /** Up to two more octal digits after the first one. */
  private readOctal(first: number): EscapeResult {
    let value = first;
    for (let i = 0; i < 2; i++) {
      const d = this.at(this.p);
      if (d < 0x30 || d > 0x37) break;
      value = value * 8 + d - 0x30;
      this.p++;
    }
    if (value > 0xff) this.fail(51);
    return { char: value };
  }

  /** \o{...} and \x{...}; the value must fit in a byte. */
  private readBracedNumber(base: 8 | 16): EscapeResult {
    if (base === 8 && this.at(this.p) !== 0x7b) this.fail(55, this.end ? this.p - 1 : this.p);
    this.p++; // '{'
    if (this.end || this.src[this.p] === 0x7d) this.fail(78);
    let value = 0;
    const digit = (ch: number) => (base === 16 ? hexValue(ch) : ch >= 0x30 && ch <= 0x37 ? ch - 0x30 : -1);
    while (!this.end && digit(this.src[this.p]!) >= 0) {
      value = value * base + digit(this.src[this.p]!);
      this.p++;
      if (value > 0xff) {
        while (!this.end && digit(this.src[this.p]!) >= 0) this.p++;
        this.fail(34);
      }
    }
    if (this.at(this.p) !== 0x7d) this.fail(base === 16 ? 67 : 64);
    this.p++;
    return { char: value };
  }

  /** \g: \gN, \g{N}, \g-N, \g{-N} are back references; \g{name} is handled as \k{name}. */
  private readGEscape(): EscapeResult {
    if (this.end) this.fail(57);
    const next = this.src[this.p]!;
    if (next === 0x3c || next === 0x27) return { escape: 'g' };
    let n: { value: number; next: number } | null;
    if (next === 0x7b) {
      n = this.readGroupNumber(this.p + 1, this.captureCount, 61);
      if (n === null) return { escape: 'k' }; // a name: same as \k{name}
      if (this.at(n.next) !== 0x7d) {
        this.p = n.next;
        this.fail(57);
      }
      this.p = n.next + 1;
    } else {
      n = this.readGroupNumber(this.p, this.captureCount, 61);
      if (n === null) this.fail(57);
      this.p = n.next;
    }
    if (n.value <= 0) this.fail(15);
    return { backref: n.value };
  }

  /**
   * Reads a group name after its opening delimiter (this.p at the first name character) up to
   * and including `terminator`.
   */
  private readName(terminator: number, skipOpen: boolean): { name: string; offset: number } {
    if (skipOpen) this.p++;
    if (this.end) this.fail(62);
    const offset = this.p;
    if (isDigit(this.src[this.p]!)) this.fail(44);
    while (!this.end && isWordChar(this.src[this.p]!)) this.p++;
    if (this.p - offset > MAX_NAME_SIZE) this.fail(48);
    if (this.p === offset) this.fail(62);
    if (this.at(this.p) !== terminator) this.fail(42);
    const name = String.fromCharCode(...this.src.slice(offset, this.p));
    this.p++;
    return { name, offset };
  }

  // ---------------------------------------------------------------------------------------
  // Character classes

  private parseClassItem(start: number): { nodes: Node[]; quantifiable: boolean } {
    // [[:<:]] and [[:>:]] are start and end of word: \b(?=\w) and \b(?<=\w).
    if (this.startsWith('[:<:]]') || this.startsWith('[:>:]]')) {
      const ahead = this.src[this.p + 2] === 0x3c;
      this.p += 6;
      const assertion: GroupNode = {
        kind: 'group',
        type: ahead ? 'lookahead' : 'lookbehind',
        number: 0,
        branches: [[{ kind: 'type', op: O.OP_WORDCHAR }]],
        offset: start,
      };
      return { nodes: [{ kind: 'anchor', op: O.OP_WORD_BOUNDARY }, assertion], quantifiable: true };
    }
    const first = this.at(this.p);
    if ((first === 0x3a || first === 0x2e || first === 0x3d) && this.posixEnd(this.p) >= 0) {
      this.fail(first === 0x3a ? 12 : 13, this.p - 1);
    }
    return { nodes: [this.parseClass()], quantifiable: true };
  }

  /**
   * If a POSIX-style [:name:] (or [.x.] [=x=]) starts at `from` (the ':' '.' or '='), returns
   * the index of the closing delimiter character before ']'; else -1.
   */
  private posixEnd(from: number): number {
    const terminator = this.src[from]!;
    for (let q = from + 1; this.src.length - q >= 2; q++) {
      const c = this.src[q]!;
      if (c === 0x5c && (this.src[q + 1] === 0x5d || this.src[q + 1] === 0x5c)) q++;
      else if ((c === 0x5b && this.src[q + 1] === terminator) || c === 0x5d) return -1;
      else if (c === terminator && this.src[q + 1] === 0x5d) return q;
    }
    return -1;
  }

  /** Parses a class after its '['. */
  private parseClass(): Node {
    let negate = false;
    let c: number;
    // Leading ^, and \E or \Q\E (and space/tab with xx) before the real contents.
    for (;;) {
      if (this.end) this.fail(6);
      c = this.src[this.p++]!;
      if (c === 0x5c) {
        if (this.at(this.p) === 0x45) {
          this.p++;
          continue;
        }
        if (this.startsWith('Q\\E')) {
          this.p += 3;
          continue;
        }
        break;
      }
      if (this.opts.extendedMore && (c === 0x20 || c === 0x09)) continue;
      if (!negate && c === 0x5e) {
        negate = true;
        continue;
      }
      break;
    }

    const set = emptySet();
    // Literal characters seen, to detect one-character classes; null once anything else is seen.
    let literals: number[] | null = [];
    let rangeStart = -1; // pending range start character, or -1
    let rangeState: 'none' | 'ok' | 'started' = 'none';
    let inQuote = false;
    const caseless = this.opts.caseless;
    const addChar = (ch: number) => {
      setAdd(set, ch);
      if (caseless) setAdd(set, otherCase(ch));
    };

    for (;;) {
      let isLiteral = false;
      let ch = -1;
      if (inQuote) {
        if (c === 0x5c && this.at(this.p) === 0x45) {
          inQuote = false;
          this.p++;
        } else {
          isLiteral = true;
          ch = c;
        }
      } else if (this.opts.extendedMore && (c === 0x20 || c === 0x09)) {
        // ignored
      } else if (c === 0x5b && this.src.length - this.p >= 3 && this.isPosixStart() && this.posixEnd(this.p) >= 0) {
        if (rangeState === 'started') this.fail(50);
        if (this.src[this.p] !== 0x3a) this.fail(13, this.p - 1);
        this.p++;
        let posixNegate = false;
        if (this.at(this.p) === 0x5e) {
          posixNegate = true;
          this.p++;
        }
        const endAt = this.posixEnd(this.p - (posixNegate ? 2 : 1));
        const name = String.fromCharCode(...this.src.slice(this.p, endAt));
        const posix = POSIX_CLASSES.get(name);
        if (!posix) this.fail(30);
        this.p = endAt + 2;
        if (this.p < this.src.length - 1 && this.src[this.p] === 0x2d && this.src[this.p + 1] !== 0x5d) this.fail(50);
        rangeState = 'none';
        literals = null;
        this.addPosixClass(set, name, posix, posixNegate, caseless);
      } else if (c === 0x2d && rangeState === 'ok') {
        rangeState = 'started';
      } else if (c !== 0x5c) {
        isLiteral = true;
        ch = c;
      } else {
        const r = this.readEscape(true);
        if ('char' in r) {
          isLiteral = true;
          ch = r.char;
        } else if ('backref' in r) {
          // Cannot happen inside a class: digits are octal there.
          this.fail(3);
        } else {
          const e = r.escape;
          if (e === 'b') {
            isLiteral = true;
            ch = 0x08;
          } else if (e === 'Q') {
            inQuote = true;
          } else if (e === 'E') {
            // orphan \E: ignored
          } else if (e === 'B' || e === 'R' || e === 'X') {
            this.fail(7, this.p - 1);
          } else {
            if (rangeState === 'started') this.fail(50);
            rangeState = 'none';
            if (e === 'N') this.fail(71);
            if (e === 'P' || e === 'p') throw unsupported(`\\${e} (Unicode properties)`, this.p);
            const entry = CLASS_ESCAPE_SETS[e];
            if (!entry) this.fail(7, this.p - 1);
            literals = null;
            if (entry[1]) setUnionNegated(set, entry[0]);
            else setUnion(set, entry[0]);
            if (this.p < this.src.length - 1 && this.src[this.p] === 0x2d && this.src[this.p + 1] !== 0x5d) this.fail(50);
          }
        }
      }

      if (isLiteral) {
        if (rangeState === 'started') {
          if (ch < rangeStart) this.fail(8, this.p - 1);
          if (literals !== null) {
            if (ch === rangeStart) {
              // A one-character range is just that character.
            } else {
              literals = null;
            }
          }
          setAddRange(set, rangeStart, ch);
          if (caseless) for (let x = rangeStart; x <= ch; x++) setAdd(set, otherCase(x));
          rangeState = 'none';
        } else {
          rangeStart = ch;
          rangeState = 'ok';
          if (literals !== null) literals.push(ch);
          addChar(ch);
        }
      }

      if (this.end) this.fail(6);
      c = this.src[this.p++]!;
      if (c === 0x5d && !inQuote) break;
    }
    if (rangeState === 'started') {
      // "-]" at the end: the hyphen is a literal.
      if (literals !== null) literals.push(0x2d);
      addChar(0x2d);
    }

    if (literals !== null && literals.length === 1) {
      const only = literals[0]!;
      return negate ? { kind: 'not', c: only, caseless } : { kind: 'char', c: only, caseless };
    }
    if (!negate && literals !== null && literals.length === 2) {
      // [aA] is a caseless 'a'.
      const [a, b] = literals as [number, number];
      if (otherCase(a) === b && a !== b) return { kind: 'char', c: a, caseless: true };
    }
    if (negate) {
      const out = emptySet();
      setUnionNegated(out, set);
      return { kind: 'class', set: out };
    }
    return { kind: 'class', set };
  }

  private isPosixStart(): boolean {
    const d = this.src[this.p];
    return d === 0x3a || d === 0x2e || d === 0x3d;
  }

  private addPosixClass(set: ByteSet, name: string, posix: ByteSet, negate: boolean, caseless: boolean): void {
    // Under caseless matching [:upper:] and [:lower:] match letters of either case.
    const base = caseless && (name === 'upper' || name === 'lower') ? POSIX_CLASSES.get('alpha')! : posix;
    if (negate) setUnionNegated(set, base);
    else setUnion(set, base);
  }

  // ---------------------------------------------------------------------------------------
  // Parenthesized items

  private parseParenthesis(start: number): { nodes: Node[]; quantifiable: boolean } | null {
    if (this.end) this.fail(14);
    const c = this.src[this.p]!;
    if (c === 0x2a) {
      const next = this.at(this.p + 1);
      if (next < 0 || next === 0x29) {
        // "(*" or "(*)": left for the quantifier check, like PCRE2 ("quantifier does not follow").
        return { nodes: [], quantifiable: false };
      }
      if (isLowerLetter(next)) return this.parseAlphaAssertion(start);
      return this.parseVerb();
    }
    if (c !== 0x3f) {
      return this.parseGroupBody(start, this.opts.noAutoCapture ? 'noncapture' : 'capture');
    }
    this.p++; // '?'
    if (this.end) this.fail(14);
    const d = this.src[this.p]!;
    switch (d) {
      case 0x50: // P
        return this.parsePythonSyntax(start);
      case 0x52: // R
        this.p++;
        if (this.at(this.p) !== 0x29) this.fail(58);
        this.p++;
        return { nodes: [{ kind: 'recurse', number: 0, offset: this.p - 2 }], quantifiable: true };
      case 0x2b: // +
        if (!isDigit(this.at(this.p + 1))) this.fail(29);
        return this.parseRecursionByNumber();
      case 0x26: // &
        return this.parseRecursionByName();
      case 0x43: // C
        // A callout: ClamAV installs no callout function, so it matches as if absent.
        this.p++;
        this.skipCallout();
        return { nodes: [], quantifiable: false };
      case 0x28: // (
        return this.parseConditional(start);
      case 0x3e: // >
        this.p++;
        return this.parseGroupBody(start, 'atomic');
      case 0x3d: // =
        this.p++;
        return this.parseGroupBody(start, 'lookahead');
      case 0x21: // !
        this.p++;
        return this.parseGroupBody(start, 'neglookahead');
      case 0x2a: // * : non-atomic lookahead
        this.p++;
        return this.parseGroupBody(start, 'lookahead_na');
      case 0x3c: { // <
        const e = this.at(this.p + 1);
        if (e === 0x3d || e === 0x21 || e === 0x2a) {
          this.p += 2;
          return this.parseGroupBody(start, e === 0x3d ? 'lookbehind' : e === 0x21 ? 'neglookbehind' : 'lookbehind_na');
        }
        return this.parseNamedGroup(start, 0x3e);
      }
      case 0x27: // '
        return this.parseNamedGroup(start, 0x27);
      default:
        if (isDigit(d) || (d === 0x2d && isDigit(this.at(this.p + 1)))) return this.parseRecursionByNumber();
        return this.parseOptionSetting(start);
    }
  }

  private parseGroupBody(
    start: number,
    type: GroupType,
    number = 0,
  ): { nodes: Node[]; quantifiable: boolean } {
    if (type === 'capture' && number === 0) {
      if (this.captureCount >= MAX_GROUP_NUMBER) this.fail(97);
      number = ++this.captureCount;
    }
    const branches = this.parseNested();
    const group: GroupNode = { kind: 'group', type, number, branches, offset: start };
    return { nodes: [group], quantifiable: true };
  }

  /** Parses alternatives up to and including the closing ')', restoring options afterwards. */
  private parseNested(reset?: ResetScope): Branch[] {
    const saved = copyOptions(this.opts);
    this.depth++;
    const branches = this.parseAlternatives(true, reset);
    this.depth--;
    this.p++; // ')'
    this.opts = saved;
    if (reset && reset.maxGroup > this.captureCount) this.captureCount = reset.maxGroup;
    return branches;
  }

  private parseNamedGroup(start: number, terminator: number): { nodes: Node[]; quantifiable: boolean } {
    const { name } = this.readName(terminator, true);
    if (this.captureCount >= MAX_GROUP_NUMBER) this.fail(97);
    const number = ++this.captureCount;
    if (this.namedGroups.length >= MAX_NAME_COUNT) this.fail(49);
    let duplicateOfSameNumber = false;
    for (const g of this.namedGroups) {
      if (g.name === name) {
        if (g.number === number) {
          duplicateOfSameNumber = true;
          break;
        }
        if (!this.opts.dupNames) this.fail(43);
      } else if (g.number === number) {
        this.fail(65);
      }
    }
    if (!duplicateOfSameNumber) this.namedGroups.push({ name, number });
    return this.parseGroupBody(start, 'capture', number);
  }

  private parsePythonSyntax(start: number): { nodes: Node[]; quantifiable: boolean } {
    this.p++; // 'P'
    if (this.end) this.fail(14);
    const c = this.src[this.p]!;
    if (c === 0x3c) return this.parseNamedGroup(start, 0x3e);
    if (c === 0x3e) return this.parseRecursionByName();
    if (c !== 0x3d) this.fail(41);
    const { name, offset } = this.readName(0x29, true);
    return {
      nodes: [{ kind: 'backref', number: 0, name, caseless: this.opts.caseless, offset }],
      quantifiable: true,
    };
  }

  private parseRecursionByNumber(): { nodes: Node[]; quantifiable: boolean } {
    const signed = !isDigit(this.src[this.p]!);
    const n = this.readGroupNumber(this.p, signed ? this.captureCount : 0, 61);
    if (n === null) this.fail(29);
    if (n.value < 0) this.fail(15, n.next - 1);
    this.p = n.next;
    if (this.at(this.p) !== 0x29) this.fail(14);
    this.p++;
    return { nodes: [{ kind: 'recurse', number: n.value, offset: this.p - 1 }], quantifiable: true };
  }

  private parseRecursionByName(): { nodes: Node[]; quantifiable: boolean } {
    const { name, offset } = this.readName(0x29, true);
    return { nodes: [{ kind: 'recurse', number: -1, name, offset }], quantifiable: true };
  }

  /** (?imnsxJU-imnsxJU) (?^) with optional ':' starting a group, and (?| branch reset. */
  private parseOptionSetting(start: number): { nodes: Node[]; quantifiable: boolean } | null {
    if (this.src[this.p] === 0x7c) {
      this.p++;
      this.dupCaptureUsed = true;
      const reset: ResetScope = { resetTo: this.captureCount, maxGroup: this.captureCount };
      const branches = this.parseNested(reset);
      return { nodes: [{ kind: 'group', type: 'noncapture', number: 0, branches, offset: start }], quantifiable: true };
    }
    const next = copyOptions(this.opts);
    let hyphenOk = true;
    let unsetting = false;
    if (this.at(this.p) === 0x5e) {
      next.caseless = next.multiline = next.noAutoCapture = next.dotall = next.extended = next.extendedMore = false;
      hyphenOk = false;
      this.p++;
    }
    let setExtended = false;
    let setExtendedMore = false;
    let unsetExtended = false;
    while (!this.end && this.src[this.p] !== 0x29 && this.src[this.p] !== 0x3a) {
      const o = this.src[this.p++]!;
      const value = !unsetting;
      switch (o) {
        case 0x2d:
          if (!hyphenOk) this.fail(94, this.p - 1);
          unsetting = true;
          hyphenOk = false;
          break;
        case 0x4a: next.dupNames = value; break; // J
        case 0x69: next.caseless = value; break; // i
        case 0x6d: next.multiline = value; break; // m
        case 0x6e: next.noAutoCapture = value; break; // n
        case 0x73: next.dotall = value; break; // s
        case 0x55: next.ungreedy = value; break; // U
        case 0x78: // x, xx
          if (this.at(this.p) === 0x78) {
            this.p++;
            if (value) setExtendedMore = true;
          }
          if (value) setExtended = true;
          else unsetExtended = true;
          next.extended = value;
          break;
        default:
          this.fail(11, this.p - 1);
      }
    }
    // Setting x without xx clears xx; unsetting x clears xx too.
    if (setExtendedMore) next.extendedMore = true;
    else if (setExtended || unsetExtended) next.extendedMore = false;
    if (this.end) this.fail(14);
    if (this.src[this.p++] === 0x29) {
      // Applies to the rest of the enclosing group.
      this.opts = next;
      return null;
    }
    const saved = this.opts;
    this.opts = next;
    const branches = this.parseNested();
    this.opts = saved;
    return { nodes: [{ kind: 'group', type: 'noncapture', number: 0, branches, offset: start }], quantifiable: true };
  }

  /** Skips the argument and ')' of a callout; this.p is just after "(?C". */
  private skipCallout(): void {
    if (this.end) this.fail(14);
    const c = this.src[this.p]!;
    if (c !== 0x29 && !isDigit(c)) {
      const close = CALLOUT_DELIMITERS.get(c);
      if (close === undefined) this.fail(82);
      const startDelimiter = this.p;
      for (;;) {
        if (++this.p >= this.src.length) this.fail(81, startDelimiter);
        if (this.src[this.p] === close && (++this.p >= this.src.length || this.src[this.p] !== close)) break;
      }
    } else {
      let n = 0;
      while (isDigit(this.at(this.p))) {
        n = n * 10 + this.src[this.p++]! - 0x30;
        if (n > 255) this.fail(38);
      }
    }
    if (this.at(this.p) !== 0x29) this.fail(39);
    this.p++;
  }

  private parseAlphaAssertion(start: number): { nodes: Node[]; quantifiable: boolean } {
    this.p++; // '*'
    const nameStart = this.p;
    while (!this.end && isWordChar(this.src[this.p]!)) this.p++;
    if (this.p - nameStart > MAX_NAME_SIZE) this.fail(48);
    if (this.at(this.p) !== 0x3a) this.fail(95);
    const type = ALPHA_ASSERTIONS.get(String.fromCharCode(...this.src.slice(nameStart, this.p)));
    if (type === undefined) this.fail(95);
    if (type === 'script_run') throw unsupported('script runs', start);
    this.p++; // ':'
    return this.parseGroupBody(start, type);
  }

  private parseVerb(): { nodes: Node[]; quantifiable: boolean } {
    this.p++; // '*'
    const nameStart = this.p;
    while (!this.end && isWordChar(this.src[this.p]!)) this.p++;
    if (this.p - nameStart > MAX_NAME_SIZE) this.fail(48);
    const c = this.at(this.p);
    if (c !== 0x3a && c !== 0x29) this.fail(60);
    const spec = VERBS.get(String.fromCharCode(...this.src.slice(nameStart, this.p)));
    if (!spec) this.fail(60);
    // "(*VERB:)" is the same as "(*VERB)".
    if (c === 0x3a && this.at(this.p + 1) === 0x29) this.p++;
    if (spec.arg === 'required' && this.src[this.p] !== 0x3a) this.fail(66);
    if (spec.verb === 'THEN') this.hasThen = true;
    if (spec.verb === 'PRUNE' || spec.verb === 'SKIP') this.hasPruneOrSkip = true;
    if (spec.verb === 'COMMIT') this.hasCommit = true;
    let name: string | undefined;
    if (this.src[this.p++] === 0x3a) {
      const close = this.src.indexOf(0x29, this.p);
      if (close < 0) this.fail(60, this.src.length);
      if (close - this.p > MAX_MARK) this.fail(76, close);
      name = String.fromCharCode(...this.src.slice(this.p, close));
      this.p = close + 1;
    }
    const quantifiable = spec.verb === 'ACCEPT';
    if (name !== undefined && spec.arg === 'mark') {
      // (*ACCEPT:NAME) and (*FAIL:NAME) are (*MARK:NAME) followed by the verb.
      return { nodes: [{ kind: 'verb', verb: 'MARK', name }, { kind: 'verb', verb: spec.verb }], quantifiable };
    }
    return { nodes: [{ kind: 'verb', verb: spec.verb, name }], quantifiable };
  }

  // ---------------------------------------------------------------------------------------
  // Conditional groups

  private parseConditional(start: number): { nodes: Node[]; quantifiable: boolean } {
    this.p++; // second '('
    if (this.end) this.fail(14);
    let test: CondTest;
    const c = this.src[this.p]!;
    if (c === 0x3f || c === 0x2a) {
      test = { type: 'assert', assertion: this.parseConditionAssertion() };
    } else {
      const n = this.readGroupNumber(this.p, this.captureCount, 61);
      if (n !== null) {
        if (n.value <= 0) this.fail(15, n.next);
        this.p = n.next;
        test = { type: 'group', number: n.value };
      } else if (this.startsWith('VERSION') && this.at(this.p + 7) !== 0x29 && this.src.length - this.p >= 10) {
        test = this.parseVersionCondition();
      } else {
        test = this.parseNamedCondition();
      }
      if (this.at(this.p) !== 0x29) this.fail(24);
      this.p++;
    }
    const branches = this.parseNested();
    if (test.type === 'define') {
      if (branches.length > 1) this.fail(54, start + 3);
    } else if (branches.length > 2) {
      this.fail(27, 'offset' in test ? test.offset : start);
    }
    return { nodes: [{ kind: 'cond', test, branches, offset: start }], quantifiable: true };
  }

  /**
   * The assertion that starts at this.p (at '?' or '*' after "(?("), possibly preceded by a
   * callout written as "(?(?C1)(?=...".
   */
  private parseConditionAssertion(): GroupNode {
    if (this.src[this.p] === 0x3f && this.at(this.p + 1) === 0x43) {
      this.p += 2;
      this.skipCallout();
      if (this.at(this.p) !== 0x28 || (this.at(this.p + 1) !== 0x3f && this.at(this.p + 1) !== 0x2a)) this.fail(28);
      this.p++;
    }
    const start = this.p - 1;
    const c = this.src[this.p]!;
    let type: GroupType | undefined;
    let skip = 0;
    if (c === 0x2a) {
      const nameStart = this.p + 1;
      let q = nameStart;
      while (isWordChar(this.at(q))) q++;
      const found = this.at(q) === 0x3a ? ALPHA_ASSERTIONS.get(String.fromCharCode(...this.src.slice(nameStart, q))) : undefined;
      if (!isLowerLetter(this.at(nameStart))) this.fail(28, start);
      if (found === undefined || found === 'script_run' || found === 'atomic') {
        this.p = q;
        this.fail(found === undefined ? 95 : 28);
      }
      if (found === 'lookahead_na' || found === 'lookbehind_na') {
        this.p = q + 1;
        this.fail(98);
      }
      type = found;
      skip = q + 1 - this.p;
    } else {
      const d = this.at(this.p + 1);
      const e = this.at(this.p + 2);
      if (d === 0x3d) type = 'lookahead';
      else if (d === 0x21) type = 'neglookahead';
      else if (d === 0x3c && e === 0x3d) type = 'lookbehind';
      else if (d === 0x3c && e === 0x21) type = 'neglookbehind';
      if (type === undefined) this.fail(28, start);
      skip = type === 'lookbehind' || type === 'neglookbehind' ? 3 : 2;
    }
    this.p += skip;
    return this.parseGroupBody(start, type).nodes[0] as GroupNode;
  }

  private parseVersionCondition(): CondTest {
    this.p += 7;
    let ge = false;
    if (this.at(this.p) === 0x3e) {
      ge = true;
      this.p++;
    }
    if (this.at(this.p) !== 0x3d) this.fail(79);
    if (!isDigit(this.at(this.p + 1))) this.fail(79, this.p + 1);
    this.p++;
    let major = 0;
    while (isDigit(this.at(this.p))) {
      major = major * 10 + this.src[this.p++]! - 0x30;
      if (major > 1000) this.fail(79);
    }
    let minor = 0;
    if (this.end) this.fail(79);
    if (this.src[this.p] === 0x2e) {
      this.p++;
      if (!isDigit(this.at(this.p))) this.fail(79);
      minor = (this.src[this.p++]! - 0x30) * 10;
      if (isDigit(this.at(this.p))) minor += this.src[this.p++]! - 0x30;
      if (this.at(this.p) !== 0x29) this.fail(79);
    }
    // This is PCRE2 10.42.
    const result = ge ? 10 > major || (major === 10 && 42 >= minor) : major === 10 && minor === 42;
    return { type: 'version', result };
  }

  /** (?(name) (?(<name>) (?('name') (?(R) (?(Rn) (?(R&name) (?(DEFINE) */
  private parseNamedCondition(): CondTest {
    const c = this.src[this.p]!;
    if (c === 0x52 && this.at(this.p + 1) === 0x26) {
      this.p++;
      const { name, offset } = this.readName(0x29, true);
      this.p--; // leave the ')' for the caller
      return { type: 'recursion_name', name, offset };
    }
    if (c === 0x3c || c === 0x27) {
      const { name, offset } = this.readName(c === 0x3c ? 0x3e : 0x27, true);
      return { type: 'name', name, offset };
    }
    const { name, offset } = this.readName(0x29, false);
    this.p--; // leave the ')' for the caller
    if (name === 'DEFINE') return { type: 'define' };
    if (/^R\d*$/.test(name)) {
      // Resolved after parsing: a group named like this wins over the recursion test.
      return { type: 'name', name, offset };
    }
    return { type: 'name', name, offset };
  }
}
