/**
 * The POSIX extended regular expressions of libclamav's cli_regcomp (Henry Spencer's regcomp, with
 * ClamAV's `(?i)` prefix for case-insensitive matching), checked as it checks them and translated
 * to an equivalent JavaScript RegExp. Only whether a regex matches somewhere is ever asked (ClamAV
 * compiles them without sub-matches), which leftmost-longest and JavaScript's backtracking answer
 * alike.
 *
 * Spencer's dialect, as opposed to other EREs: `\` before any other character than `<` and `>`
 * (word start and end) makes it ordinary (`\d` is `d`); `)` without `(` and `{` not followed by a
 * digit are ordinary; `()` is allowed; counts go up to 255; `[[:<:]]` and `[[:>:]]` are word
 * start and end; collating elements are single characters or their names (`[[.hyphen.]]`).
 * Case-insensitive matching folds ASCII letters only, as in the C locale. Used for the file
 * names of container metadata signatures (.cdb) and the phishing URL lists (.pdb, .wdb).
 */

/** regerror's texts for the errors regcomp reports. */
const MESSAGES = {
  collate: 'invalid collating element',
  ctype: 'invalid character class',
  escape: 'trailing backslash (\\)',
  brack: 'brackets ([ ]) not balanced',
  paren: 'parentheses not balanced',
  brace: 'braces not balanced',
  badbr: 'invalid repetition count(s)',
  range: 'invalid character range',
  badrpt: 'repetition-operator operand invalid',
  empty: 'empty (sub)expression',
} as const;

type RegexError = keyof typeof MESSAGES;

export type CompiledRegex = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly message: string };

/** RE_DUP_MAX: the largest repetition count. */
const DUP_MAX = 255;

const WORD = '[A-Za-z0-9_]';
const WORD_START = `(?<!${WORD})(?=${WORD})`;
const WORD_END = `(?<=${WORD})(?!${WORD})`;

/** The POSIX character classes, by the characters regcomp puts in them. */
const CLASSES: Readonly<Record<string, string>> = {
  alnum: 'A-Za-z0-9',
  alpha: 'A-Za-z',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  xdigit: '0-9A-Fa-f',
};

/** The collating element names regcomp knows (cname.h), those ClamAV lists may plausibly use. */
const COLLATING_NAMES: Readonly<Record<string, string>> = {
  NUL: '\0', tab: '\t', newline: '\n', 'carriage-return': '\r', space: ' ', 'exclamation-mark': '!',
  'quotation-mark': '"', 'number-sign': '#', 'dollar-sign': '$', 'percent-sign': '%', ampersand: '&',
  apostrophe: "'", 'left-parenthesis': '(', 'right-parenthesis': ')', asterisk: '*', 'plus-sign': '+',
  comma: ',', hyphen: '-', 'hyphen-minus': '-', period: '.', 'full-stop': '.', slash: '/', solidus: '/',
  zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9',
  colon: ':', semicolon: ';', 'less-than-sign': '<', 'equals-sign': '=', 'greater-than-sign': '>',
  'question-mark': '?', 'commercial-at': '@', 'left-square-bracket': '[', backslash: '\\',
  'reverse-solidus': '\\', 'right-square-bracket': ']', circumflex: '^', 'circumflex-accent': '^',
  underscore: '_', 'low-line': '_', 'grave-accent': '`', 'left-brace': '{', 'left-curly-bracket': '{',
  'vertical-line': '|', 'right-brace': '}', 'right-curly-bracket': '}', tilde: '~', DEL: '\x7f',
};

class RegexSyntaxError extends Error {
  constructor(readonly code: RegexError) {
    super(MESSAGES[code]);
  }
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined) => c !== undefined && /^[A-Za-z]$/.test(c);

/** A character as it stands in a JavaScript pattern (inside or outside a class). */
function literal(c: string): string {
  const code = c.charCodeAt(0);
  if (/[A-Za-z0-9 ]/.test(c)) return c;
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Compiles `pattern` as cli_regcomp(REG_EXTENDED) does: the RegExp, or regerror's message. */
export function compilePosixRegex(pattern: string): CompiledRegex {
  const caseless = pattern.startsWith('(?i)');
  try {
    const source = new EreTranslator(caseless ? pattern.slice(4) : pattern, caseless).translate();
    return { ok: true, regex: new RegExp(source) };
  } catch (error) {
    if (error instanceof RegexSyntaxError) return { ok: false, message: error.message };
    throw error;
  }
}

/** Spencer's p_ere / p_ere_exp / p_bracket, emitting JavaScript instead of a program. */
class EreTranslator {
  private pos = 0;

  constructor(
    private readonly pattern: string,
    private readonly caseless: boolean,
  ) {}

  translate(): string {
    return this.alternatives(undefined);
  }

  private more(): boolean {
    return this.pos < this.pattern.length;
  }

  private peek(offset = 0): string | undefined {
    return this.pattern[this.pos + offset];
  }

  private next(): string {
    return this.pattern[this.pos++]!;
  }

  private eat(c: string): boolean {
    if (this.peek() !== c) return false;
    this.pos++;
    return true;
  }

  private require(condition: boolean, code: RegexError): void {
    if (!condition) throw new RegexSyntaxError(code);
  }

  /** p_ere: branches separated by `|`, each non-empty, up to `stop`. */
  private alternatives(stop: string | undefined): string {
    const branches: string[] = [];
    for (;;) {
      let branch = '';
      let atoms = 0;
      while (this.more() && this.peek() !== '|' && this.peek() !== stop) {
        branch += this.repeated();
        atoms++;
      }
      this.require(atoms > 0, 'empty');
      branches.push(branch);
      if (!this.eat('|')) break;
    }
    return branches.length > 1 ? `(?:${branches.join('|')})` : branches[0]!;
  }

  private isRepetitionAhead(): boolean {
    const c = this.peek();
    return c === '*' || c === '+' || c === '?' || (c === '{' && isDigit(this.peek(1)));
  }

  /** p_ere_exp: one atom and at most one repetition operator. */
  private repeated(): string {
    const { atom, caret } = this.atom();
    if (!this.isRepetitionAhead()) return atom;
    const operator = this.next();
    this.require(!caret, 'badrpt');
    const quantified = `(?:${atom})${operator === '{' ? this.count() : operator}`;
    this.require(!this.isRepetitionAhead(), 'badrpt');
    return quantified;
  }

  private atom(): { atom: string; caret: boolean } {
    const c = this.next();
    switch (c) {
      case '(': {
        this.require(this.more(), 'paren');
        const inner = this.peek() === ')' ? '' : this.alternatives(')');
        this.require(this.more() && this.next() === ')', 'paren');
        return { atom: `(?:${inner})`, caret: false };
      }
      case '^':
        return { atom: '^', caret: true };
      case '$':
        return { atom: '$', caret: false };
      case '|':
        throw new RegexSyntaxError('empty');
      case '*':
      case '+':
      case '?':
        throw new RegexSyntaxError('badrpt');
      case '.':
        return { atom: '[^]', caret: false };
      case '[':
        return { atom: this.bracket(), caret: false };
      case '\\': {
        this.require(this.more(), 'escape');
        const escaped = this.next();
        if (escaped === '<') return { atom: WORD_START, caret: false };
        if (escaped === '>') return { atom: WORD_END, caret: false };
        return { atom: this.ordinary(escaped), caret: false };
      }
      case '{':
        this.require(!isDigit(this.peek()), 'badrpt');
        return { atom: literal(c), caret: false };
      default:
        return { atom: this.ordinary(c), caret: false };
    }
  }

  /** A `{m}`, `{m,}` or `{m,n}` count (the `{` eaten). */
  private count(): string {
    const min = this.number();
    let max: number | undefined = min;
    if (this.eat(',')) max = isDigit(this.peek()) ? this.number() : undefined;
    this.require(max === undefined || min <= max, 'badbr');
    if (!this.eat('}')) {
      while (this.more() && this.peek() !== '}') this.pos++;
      this.require(this.more(), 'brace');
      throw new RegexSyntaxError('badbr');
    }
    return max === min ? `{${min}}` : `{${min},${max ?? ''}}`;
  }

  /** p_count. */
  private number(): number {
    let value = 0;
    let digits = 0;
    while (this.more() && isDigit(this.peek()) && value <= DUP_MAX) {
      value = value * 10 + Number(this.next());
      digits++;
    }
    this.require(digits > 0 && value <= DUP_MAX, 'badbr');
    return value;
  }

  /** p_bracket (the `[` eaten): a character set. */
  private bracket(): string {
    if (this.pattern.startsWith('[:<:]]', this.pos) || this.pattern.startsWith('[:>:]]', this.pos)) {
      const start = this.pattern[this.pos + 2] === '<';
      this.pos += 6;
      return start ? WORD_START : WORD_END;
    }
    const invert = this.eat('^');
    let members = '';
    if (this.eat(']')) members += literal(']');
    else if (this.eat('-')) members += literal('-');
    while (this.more() && this.peek() !== ']' && !(this.peek() === '-' && this.peek(1) === ']')) members += this.bracketTerm();
    if (this.eat('-')) members += literal('-');
    this.require(this.more() && this.next() === ']', 'brack');
    if (members === '') return invert ? '[^]' : '[]';
    return invert ? `[^${members}]` : `[${members}]`;
  }

  /** p_b_term: a class, an equivalence class, a character or a range. */
  private bracketTerm(): string {
    const c = this.peek();
    if (c === '-') throw new RegexSyntaxError('range');
    const kind = c === '[' ? this.peek(1) : undefined;
    if (kind === ':') {
      this.pos += 2;
      this.require(this.more(), 'brack');
      this.require(this.peek() !== '-' && this.peek() !== ']', 'ctype');
      const start = this.pos;
      while (this.more() && isAlpha(this.peek())) this.pos++;
      const name = this.pattern.slice(start, this.pos);
      const members = CLASSES[name];
      this.require(members !== undefined, 'ctype');
      this.require(this.more(), 'brack');
      this.require(this.peek() === ':' && this.peek(1) === ']', 'ctype');
      this.pos += 2;
      // Folded, either case's class holds every letter.
      return this.caseless && (name === 'lower' || name === 'upper') ? CLASSES.alpha! : members!;
    }
    if (kind === '=') {
      this.pos += 2;
      this.require(this.more(), 'brack');
      this.require(this.peek() !== '-' && this.peek() !== ']', 'collate');
      const member = this.collatingElement('=');
      this.require(this.more(), 'brack');
      this.require(this.peek() === '=' && this.peek(1) === ']', 'collate');
      this.pos += 2;
      return literal(member) + this.otherCases(member, member);
    }
    const start = this.symbol();
    let finish = start;
    if (this.peek() === '-' && this.peek(1) !== undefined && this.peek(1) !== ']') {
      this.pos++;
      finish = this.eat('-') ? '-' : this.symbol();
    }
    this.require(signedByte(start) <= signedByte(finish), 'range');
    return range(start, finish) + this.otherCases(start, finish);
  }

  /** An ordinary character outside brackets: with case folding, a letter stands for both cases. */
  private ordinary(c: string): string {
    const other = this.caseless ? otherCase(c.charCodeAt(0)) : undefined;
    return other === undefined ? literal(c) : `[${literal(c)}${literal(String.fromCharCode(other))}]`;
  }

  /** With case folding, the other case of the ASCII letters from `start` to `finish` (a set's members). */
  private otherCases(start: string, finish: string): string {
    if (!this.caseless) return '';
    let members = '';
    for (let code = signedByte(start); code <= signedByte(finish); code++) {
      const other = otherCase(code & 0xff);
      if (other !== undefined) members += literal(String.fromCharCode(other));
    }
    return members;
  }

  /** p_b_symbol: a character or a `[.name.]` collating symbol. */
  private symbol(): string {
    this.require(this.more(), 'brack');
    if (!(this.peek() === '[' && this.peek(1) === '.')) return this.next();
    this.pos += 2;
    const value = this.collatingElement('.');
    this.require(this.peek() === '.' && this.peek(1) === ']', 'collate');
    this.pos += 2;
    return value;
  }

  /** p_b_coll_elem: a name ended by `end` `]`, known or of one character. */
  private collatingElement(end: string): string {
    const start = this.pos;
    while (this.more() && !(this.peek() === end && this.peek(1) === ']')) this.pos++;
    this.require(this.more(), 'brack');
    const name = this.pattern.slice(start, this.pos);
    const known = COLLATING_NAMES[name];
    if (known !== undefined) return known;
    this.require(name.length === 1, 'collate');
    return name;
  }
}

/** The other case of an ASCII letter. */
function otherCase(code: number): number | undefined {
  if (code >= 0x41 && code <= 0x5a) return code + 0x20;
  if (code >= 0x61 && code <= 0x7a) return code - 0x20;
  return undefined;
}

/** A range of a set; regcomp walks it as signed chars, so a high start may wrap round to a low end. */
function range(start: string, finish: string): string {
  if (start === finish) return literal(start);
  if (signedByte(start) < 0 && signedByte(finish) >= 0) return `${literal(start)}-\\xff\\x00-${literal(finish)}`;
  return `${literal(start)}-${literal(finish)}`;
}

/** regcomp compares range ends as (signed) chars. */
function signedByte(c: string): number {
  const code = c.charCodeAt(0) & 0xff;
  return code >= 0x80 ? code - 0x100 : code;
}
