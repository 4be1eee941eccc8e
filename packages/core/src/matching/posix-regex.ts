/**
 * POSIX extended regular expressions as ClamAV's own regex library (OpenBSD's regcomp) accepts
 * them, for the file-name field of container metadata signatures (.cdb). Only "does it match"
 * is needed (REG_NOSUB), so a pattern is validated with regcomp's rules and translated into an
 * equivalent JavaScript RegExp over latin1 strings (one character per byte). Case-insensitive
 * matching (ClamAV's `(?i)` prefix) folds ASCII letters only, as the C locale does.
 */

export class PosixRegexError extends Error {}

/** regcomp's bound on `{m,n}` counts. */
const DUP_MAX = 255;

const CLASSES: Record<string, string> = {
  alnum: 'A-Za-z0-9',
  alpha: 'A-Za-z',
  blank: ' \\t',
  cntrl: '\\x01-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  xdigit: '0-9A-Fa-f',
};

const WORD = '[A-Za-z0-9_]';

function hex(code: number): string {
  return `\\x${code.toString(16).padStart(2, '0')}`;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** A compiled pattern; `test` takes the name as a latin1 string. */
export class PosixRegex {
  private readonly regex: RegExp;

  constructor(
    /** The pattern as given to compilePosixRegex, `(?i)` included (to compile it again elsewhere). */
    readonly source: string,
  ) {
    const caseInsensitive = source.startsWith('(?i)');
    this.regex = new RegExp(new Translator(caseInsensitive ? source.slice(4) : source, caseInsensitive).translate(), 's');
  }

  test(subject: string): boolean {
    return this.regex.test(subject);
  }
}

/** Compiles like ClamAV's cli_regcomp (REG_EXTENDED, a leading `(?i)` meaning REG_ICASE). */
export function compilePosixRegex(pattern: string): PosixRegex {
  return new PosixRegex(pattern);
}

class Translator {
  private i = 0;

  constructor(
    private readonly p: string,
    private readonly icase: boolean,
  ) {}

  translate(): string {
    const out = this.alternation(null);
    if (this.i < this.p.length) throw new PosixRegexError('REG_EPAREN');
    return out;
  }

  private alternation(stop: string | null): string {
    const branches: string[] = [];
    for (;;) {
      let branch = '';
      let empty = true;
      while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== stop) {
        branch += this.expression();
        empty = false;
      }
      if (empty) throw new PosixRegexError('REG_EMPTY');
      branches.push(branch);
      if (this.p[this.i] !== '|') break;
      this.i++;
    }
    return branches.join('|');
  }

  /** One atom and its repetitions (p_ere_exp). */
  private expression(): string {
    const c = this.p[this.i++]!;
    let atom: string;
    let caret = false;
    switch (c) {
      case '(':
        if (this.i >= this.p.length) throw new PosixRegexError('REG_EPAREN');
        atom = this.p[this.i] === ')' ? '(?:)' : `(?:${this.alternation(')')})`;
        if (this.p[this.i] !== ')') throw new PosixRegexError('REG_EPAREN');
        this.i++;
        break;
      case '^':
        atom = '^';
        caret = true;
        break;
      case '$':
        atom = '$';
        break;
      case '|':
        throw new PosixRegexError('REG_EMPTY');
      case '*':
      case '+':
      case '?':
        throw new PosixRegexError('REG_BADRPT');
      case '.':
        atom = '[\\s\\S]';
        break;
      case '[':
        atom = this.bracket();
        break;
      case '\\': {
        if (this.i >= this.p.length) throw new PosixRegexError('REG_EESCAPE');
        const next = this.p[this.i++]!;
        if (next === '<') atom = `(?<!${WORD})(?=${WORD})`;
        else if (next === '>') atom = `(?<=${WORD})(?!${WORD})`;
        else atom = this.literal(next);
        break;
      }
      case '{':
        if (isDigit(this.p[this.i])) throw new PosixRegexError('REG_BADRPT');
        atom = this.literal(c);
        break;
      default:
        atom = this.literal(c);
    }
    const repeats = (): boolean => {
      const r = this.p[this.i];
      return r === '*' || r === '+' || r === '?' || (r === '{' && isDigit(this.p[this.i + 1]));
    };
    if (!repeats()) return atom;
    if (caret) throw new PosixRegexError('REG_BADRPT');
    const op = this.p[this.i++]!;
    let quantifier: string = op;
    if (op === '{') {
      const from = this.count();
      let to = from;
      let unbounded = false;
      if (this.p[this.i] === ',') {
        this.i++;
        if (isDigit(this.p[this.i])) {
          to = this.count();
          if (from > to) throw new PosixRegexError('REG_BADBR');
        } else unbounded = true;
      }
      if (this.p[this.i] !== '}') throw new PosixRegexError(this.p.includes('}', this.i) ? 'REG_BADBR' : 'REG_EBRACE');
      this.i++;
      quantifier = unbounded ? `{${from},}` : `{${from},${to}}`;
    }
    // A second repetition operator in a row is an error in regcomp.
    if (repeats()) throw new PosixRegexError('REG_BADRPT');
    return `(?:${atom})${quantifier}`;
  }

  private count(): number {
    let value = 0;
    let digits = 0;
    while (isDigit(this.p[this.i]) && value <= DUP_MAX) {
      value = value * 10 + (this.p.charCodeAt(this.i++) - 0x30);
      digits++;
    }
    if (digits === 0 || value > DUP_MAX) throw new PosixRegexError('REG_BADBR');
    return value;
  }

  private literal(c: string): string {
    const code = c.charCodeAt(0);
    const lower = c.toLowerCase();
    if (this.icase && /[a-z]/.test(lower)) return `[${lower}${lower.toUpperCase()}]`;
    return hex(code);
  }

  /** A bracket expression (p_bracket), as a JavaScript class of byte escapes. */
  private bracket(): string {
    if (this.p.startsWith('[:<:]]', this.i)) {
      this.i += 6;
      return `(?<!${WORD})(?=${WORD})`;
    }
    if (this.p.startsWith('[:>:]]', this.i)) {
      this.i += 6;
      return `(?<=${WORD})(?!${WORD})`;
    }
    let negate = false;
    const members: string[] = [];
    const add = (code: number) => {
      members.push(hex(code));
      const ch = String.fromCharCode(code);
      if (this.icase && /[A-Za-z]/.test(ch)) {
        const other = ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
        members.push(hex(other.charCodeAt(0)));
      }
    };
    if (this.p[this.i] === '^') {
      negate = true;
      this.i++;
    }
    if (this.p[this.i] === ']' || this.p[this.i] === '-') add(this.p.charCodeAt(this.i++));
    while (this.i < this.p.length && this.p[this.i] !== ']' && !(this.p[this.i] === '-' && this.p[this.i + 1] === ']')) {
      this.term(add, members);
    }
    if (this.p[this.i] === '-') add(this.p.charCodeAt(this.i++));
    if (this.p[this.i] !== ']') throw new PosixRegexError('REG_EBRACK');
    this.i++;
    if (members.length === 0) return negate ? '[\\s\\S]' : '[^\\s\\S]';
    return `[${negate ? '^' : ''}${members.join('')}]`;
  }

  private term(add: (code: number) => void, members: string[]): void {
    const c = this.p[this.i];
    if (c === '-') throw new PosixRegexError('REG_ERANGE');
    if (c === '[' && this.p[this.i + 1] === ':') {
      this.i += 2;
      const start = this.i;
      while (this.i < this.p.length && /[A-Za-z]/.test(this.p[this.i]!)) this.i++;
      const name = this.p.slice(start, this.i);
      if (!Object.hasOwn(CLASSES, name)) throw new PosixRegexError('REG_ECTYPE');
      if (!this.p.startsWith(':]', this.i)) throw new PosixRegexError('REG_ECTYPE');
      this.i += 2;
      members.push(this.icase && (name === 'lower' || name === 'upper') ? 'A-Za-z' : CLASSES[name]!);
      return;
    }
    if (c === '[' && this.p[this.i + 1] === '=') {
      this.i += 2;
      add(this.collatingElement('='));
      return;
    }
    const start = this.symbol();
    let finish = start;
    if (this.p[this.i] === '-' && this.i + 1 < this.p.length && this.p[this.i + 1] !== ']') {
      this.i++;
      finish = this.p[this.i] === '-' ? this.p.charCodeAt(this.i++) : this.symbol();
    }
    // regcomp compares plain (signed) chars, so a range may not cross from ASCII into 0x80-0xff.
    const signed = (code: number) => (code >= 0x80 ? code - 0x100 : code);
    if (signed(start) > signed(finish)) throw new PosixRegexError('REG_ERANGE');
    for (let code = signed(start); code <= signed(finish); code++) add(code & 0xff);
  }

  private symbol(): number {
    if (this.i >= this.p.length) throw new PosixRegexError('REG_EBRACK');
    if (this.p[this.i] === '[' && this.p[this.i + 1] === '.') {
      this.i += 2;
      return this.collatingElement('.');
    }
    return this.p.charCodeAt(this.i++);
  }

  /** `[.x.]` / `[=x=]` with a single character (named collating elements are not supported). */
  private collatingElement(delimiter: string): number {
    const end = this.p.indexOf(`${delimiter}]`, this.i);
    if (end < 0) throw new PosixRegexError('REG_EBRACK');
    const name = this.p.slice(this.i, end);
    if (name.length !== 1) throw new PosixRegexError('REG_ECOLLATE');
    this.i = end + 2;
    return name.charCodeAt(0);
  }
}
