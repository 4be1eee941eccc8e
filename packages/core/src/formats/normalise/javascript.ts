/**
 * ClamAV's JavaScript normaliser (libclamav/jsparse/js-norm.c), which produces the `javascript`
 * output of the HTML normaliser.
 *
 * Scripts are tokenised (chunk by chunk, as the HTML normaliser hands them over), declared
 * variables and functions are renamed `n000`, `n001`, … per scope, adjacent string literals
 * joined by `+` are folded, `unescape("…")` calls on literals are evaluated, and three packers are
 * undone: Dean Edwards' `eval(function(p,a,c,k,e,r){…})`, scriptasylum's `dF("…")`, and
 * `eval("…")` of a literal. The tokens are then printed lower-cased between `<script>` and
 * `</script>` with the minimum of spaces.
 *
 * The behaviour, quirks included (which names count as declared, how string escapes split over
 * chunks are decoded, the 32-bit arithmetic of the packer decoder), follows ClamAV so that
 * signatures written against its output match.
 */
import { isAlnum, isDigit, isSpace, toLower } from '../documents/bytes.js';
import { formatG } from '../../util/c-numbers.js';

/** Token kinds, numbered as libclamav's `enum token_type`. */
const enum Tok {
  FutureReservedWord = 1,
  Error,
  Identifier,
  True,
  False,
  Null,
  BracketOpen,
  BracketClose,
  Comma,
  CurlyOpen,
  CurlyClose,
  ParOpen,
  ParClose,
  Dot,
  Semicolon,
  Colon,
  New,
  NumericInt,
  NumericFloat,
  StringLiteral,
  RegularExpression,
  This,
  PlusPlus,
  MinusMinus,
  Delete,
  Void,
  Typeof,
  Minus,
  Tilde,
  Exclamation,
  Multiply,
  Divide,
  Percent,
  Plus,
  ShiftLeft,
  ShiftRight,
  DoubleShiftRight,
  Less,
  Greater,
  LessEqual,
  GreaterEqual,
  Instanceof,
  In,
  EqualEqual,
  NotEqual,
  TripleEqual,
  NotDoubleEqual,
  And,
  Xor,
  Or,
  AndAnd,
  OrOr,
  QuestionMark,
  Equal,
  AssignmentNoEqual,
  Var,
  If,
  Else,
  Do,
  While,
  For,
  Continue,
  Break,
  Return,
  With,
  Switch,
  Case,
  Default,
  Throw,
  Try,
  Catch,
  Finally,
  Function,
  UnnormalisedIdentifier,
}

const KEYWORDS = new Map<string, Tok>([
  ['break', Tok.Break], ['case', Tok.Case], ['catch', Tok.Catch], ['continue', Tok.Continue],
  ['default', Tok.Default], ['delete', Tok.Delete], ['do', Tok.Do], ['else', Tok.Else],
  ['finally', Tok.Finally], ['for', Tok.For], ['function', Tok.Function], ['if', Tok.If],
  ['in', Tok.In], ['instanceof', Tok.Instanceof], ['new', Tok.New], ['return', Tok.Return],
  ['switch', Tok.Switch], ['this', Tok.This], ['throw', Tok.Throw], ['try', Tok.Try],
  ['typeof', Tok.Typeof], ['var', Tok.Var], ['void', Tok.Void], ['while', Tok.While],
  ['with', Tok.With], ['null', Tok.Null], ['true', Tok.True], ['false', Tok.False],
  ...[
    'abstract', 'boolean', 'byte', 'char', 'class', 'const', 'debugger', 'double', 'enum', 'export',
    'extends', 'final', 'float', 'goto', 'implements', 'import', 'int', 'interface', 'long', 'native',
    'package', 'private', 'protected', 'public', 'short', 'static', 'super', 'synchronized', 'throws',
    'transient', 'volatile',
  ].map((word): [string, Tok] => [word, Tok.FutureReservedWord]),
]);

const OPERATORS = new Map<string, Tok>([
  ['=', Tok.Equal], ['+', Tok.Plus], ['===', Tok.TripleEqual], ['>>>', Tok.DoubleShiftRight],
  ['!==', Tok.NotDoubleEqual], ['<<', Tok.ShiftLeft], ['<=', Tok.LessEqual], ['==', Tok.EqualEqual],
  ['>=', Tok.GreaterEqual], ['>>', Tok.ShiftRight], ['||', Tok.OrOr], ['--', Tok.MinusMinus],
  ['!=', Tok.NotEqual], ['&&', Tok.AndAnd], ['++', Tok.PlusPlus],
  ...['*=', '/=', '%=', '+=', '-=', '<<=', '>>=', '>>>=', '&=', '^=', '|='].map((op): [string, Tok] => [op, Tok.AssignmentNoEqual]),
  ['&', Tok.And], [':', Tok.Colon], ['/', Tok.Divide], ['!', Tok.Exclamation], ['>', Tok.Greater],
  ['<', Tok.Less], ['-', Tok.Minus], ['*', Tok.Multiply], ['|', Tok.Or], ['%', Tok.Percent],
  ['?', Tok.QuestionMark], ['~', Tok.Tilde], ['^', Tok.Xor],
]);

/** Character classes of the tokenizer's initial state; values ≥ 100 are single-character tokens. */
const C_WS = 0, C_SLASH = 1, C_OP = 2, C_DQ = 3, C_SQ = 4, C_DIGIT = 5, C_ID = 6, C_NOP = 7, C_SINGLE = 100;
const CLASS = new Uint8Array(256).fill(C_NOP);
/** Characters that continue an identifier (the backslash is handled apart). */
const ID_CHAR = new Uint8Array(256);
{
  for (const c of [9, 10, 11, 13, 32]) CLASS[c] = C_WS;
  for (const c of '!%&*+-:<=>?^|~') CLASS[c.charCodeAt(0)] = C_OP;
  CLASS[0x2f] = C_SLASH;
  CLASS[0x22] = C_DQ;
  CLASS[0x27] = C_SQ;
  for (let c = 0x30; c <= 0x39; c++) CLASS[c] = C_DIGIT;
  const idStart = (c: number) => (CLASS[c] = C_ID);
  for (let c = 0x41; c <= 0x5a; c++) idStart(c);
  for (let c = 0x61; c <= 0x7a; c++) idStart(c);
  for (const c of '$_\\') idStart(c.charCodeAt(0));
  const singles: [string, Tok][] = [
    ['[', Tok.BracketOpen], [']', Tok.BracketClose], [',', Tok.Comma], ['{', Tok.CurlyOpen],
    ['}', Tok.CurlyClose], ['(', Tok.ParOpen], [')', Tok.ParClose], ['.', Tok.Dot], [';', Tok.Semicolon],
  ];
  for (const [c, tok] of singles) CLASS[c.charCodeAt(0)] = C_SINGLE + tok;
  for (let c = 0; c < 256; c++) if (CLASS[c] === C_ID || CLASS[c] === C_DIGIT) ID_CHAR[c] = 1;
  ID_CHAR[0x5c] = 0;
}

const enum ScanState {
  Initial,
  MultilineComment,
  SinglelineComment,
  Number,
  DoubleQString,
  SingleQString,
  Identifier,
  Dummy,
}

const enum Fsm {
  Base,
  InsideVar,
  InsideInitializer,
  WaitFunctionName,
  WaitParameterList,
  InsideFunctionDecl,
}

class Scope {
  /** Identifier → unique id, or -1 when used but not (yet) declared in this scope. */
  readonly ids = new Map<string, number>();
  fsm = Fsm.Base;
  lastToken = 0;
  brackets = 0;
  blocks = 0;
  constructor(readonly parent: Scope | undefined) {}
}

/**
 * A token. `text` is libclamav's string value (names, operators, string contents), `num` the
 * numeric value, and `scope` is set on `function` tokens that open a scope; a `function` token
 * without scope marks the end of a function body.
 */
interface Token {
  type: Tok;
  text?: string;
  isString?: boolean;
  num?: number;
  scope?: Scope;
}

/** Byte-string helpers: all text here holds one byte per code unit. */
function code(text: string, i: number): number {
  return text.charCodeAt(i);
}

/** The tokenizer (libclamav's hand-written yylex), resumable across input chunks. */
class Tokenizer {
  state = ScanState.Initial;
  private buf = '';
  private input = '';
  private pos = 0;
  private lastPos = -1;
  private lastState = ScanState.Dummy;

  feed(input: string): void {
    this.input = input;
    this.pos = 0;
    this.lastPos = -1;
    this.lastState = ScanState.Dummy;
  }

  /** The next token, or undefined at the end of the current chunk. */
  next(): Token | undefined {
    const input = this.input;
    if (this.pos === this.lastPos && this.lastState === this.state) this.pos++; // ClamAV's infinite-loop guard
    this.lastPos = this.pos;
    this.lastState = this.state;
    while (this.pos < input.length) {
      switch (this.state) {
        case ScanState.Initial: {
          this.buf = '';
          const cls = CLASS[code(input, this.pos++)]!;
          if (cls === C_WS || cls === C_NOP) continue;
          if (cls === C_SLASH) {
            if (this.pos < input.length) {
              const next = code(input, this.pos);
              if (next === 0x2a) {
                this.state = ScanState.MultilineComment;
                this.pos++;
                continue;
              }
              if (next === 0x2f) {
                this.state = ScanState.SinglelineComment;
                this.pos++;
                continue;
              }
            }
            this.pos--;
            return this.operator();
          }
          if (cls === C_OP) {
            this.pos--;
            return this.operator();
          }
          if (cls === C_DQ) return this.string(0x22, ScanState.DoubleQString);
          if (cls === C_SQ) return this.string(0x27, ScanState.SingleQString);
          if (cls === C_DIGIT) {
            this.pos--;
            return this.number();
          }
          if (cls === C_ID) {
            this.pos--;
            return this.identifier();
          }
          const single = (cls - C_SINGLE) as Tok;
          return { type: single, text: input[this.pos - 1]! };
        }
        case ScanState.DoubleQString:
          return this.string(0x22, ScanState.DoubleQString);
        case ScanState.SingleQString:
          return this.string(0x27, ScanState.SingleQString);
        case ScanState.Identifier:
          return this.identifier();
        case ScanState.Number:
          return this.number();
        case ScanState.MultilineComment:
          while (this.pos + 1 < input.length) {
            if (code(input, this.pos) === 0x2a && code(input, this.pos + 1) === 0x2f) {
              this.state = ScanState.Initial;
              this.pos++;
              break;
            }
            this.pos++;
          }
          this.pos++;
          break;
        case ScanState.SinglelineComment:
          // The HTML normaliser turns line feeds into spaces, so a space ends the comment too.
          while (this.pos < input.length) {
            const c = code(input, this.pos);
            if (c === 0x0a || c === 0x20) break;
            this.pos++;
          }
          this.state = ScanState.Initial;
          break;
        default:
          return undefined;
      }
    }
    return undefined;
  }

  private operator(): Token {
    const input = this.input;
    for (let len = Math.min(5, input.length - this.pos); len > 0; len--) {
      const candidate = input.slice(this.pos, this.pos + len);
      const type = OPERATORS.get(candidate);
      if (type !== undefined) {
        this.pos += len;
        return { type, text: candidate };
      }
    }
    this.pos++;
    return { type: Tok.Error };
  }

  private string(quote: number, state: ScanState): Token | undefined {
    const input = this.input;
    const start = this.pos;
    let end = input.indexOf(String.fromCharCode(quote), start);
    while (end > start && code(input, end - 1) === 0x5c) end = input.indexOf(String.fromCharCode(quote), end + 1);
    const length = end === -1 ? input.length - start : end - start;
    this.buf += unescapeStringSegment(input.slice(start, start + length));
    if (end === -1) {
      this.pos += length;
      this.state = state;
      return undefined;
    }
    this.pos += length + 1;
    this.state = ScanState.Initial;
    const text = this.buf;
    this.buf = '';
    return { type: Tok.StringLiteral, text, isString: true };
  }

  private number(): Token | undefined {
    const input = this.input;
    let isFloat = false;
    while (this.pos < input.length) {
      let c = code(input, this.pos++);
      if (isDigit(c)) {
        this.buf += input[this.pos - 1];
        continue;
      }
      if (c === 0x2e && !isFloat) {
        isFloat = true;
        this.buf += '.';
        continue;
      }
      if ((c === 0x65 || c === 0x45) && isFloat) {
        this.buf += input[this.pos - 1];
        if (this.pos < input.length) {
          c = code(input, this.pos++);
          if (c === 0x2b || c === 0x2d || isDigit(c)) {
            this.buf += input[this.pos - 1];
            continue;
          }
        }
      }
      this.pos--;
      this.state = ScanState.Initial;
      const text = this.buf;
      return isFloat ? { type: Tok.NumericFloat, num: atof(text) } : { type: Tok.NumericInt, num: atoi(text) };
    }
    this.state = ScanState.Number;
    return undefined;
  }

  private identifier(): Token | undefined {
    const input = this.input;
    this.state = ScanState.Initial;
    while (this.pos < input.length) {
      const c = code(input, this.pos++);
      if (ID_CHAR[c]) {
        this.buf += input[this.pos - 1];
        continue;
      }
      if (c === 0x5c) {
        // `\u` continues the name (the `u` itself is dropped); any other backslash ends it.
        if (this.pos < input.length && code(input, this.pos++) === 0x75) {
          this.buf += '\\';
          continue;
        }
        if (this.pos === input.length) this.pos++;
      }
      this.pos--;
      const name = this.buf;
      const keyword = KEYWORDS.get(name);
      if (keyword !== undefined) return { type: keyword, text: name };
      return { type: Tok.Identifier, text: name };
    }
    this.state = ScanState.Identifier;
    return undefined;
  }
}

/** glibc atoi: strtol clamped to the 64-bit range, then truncated to int. */
function atoi(digits: string): number {
  let value = BigInt(digits || '0');
  if (value > 0x7fffffffffffffffn) value = 0x7fffffffffffffffn;
  return Number(BigInt.asIntN(32, value));
}

function atof(text: string): number {
  const value = Number.parseFloat(text);
  return Number.isNaN(value) ? 0 : value;
}

/** The value of a hex digit, or -1 (cli_hex2int). */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** ClamAV combines hex digits with `|`, so an invalid digit (-1) turns the whole value to all ones. */
function hexPair(high: number, low: number): number {
  return ((Math.max(high, 0) << 4) | low) & 0xff;
}

function hexQuad(a: number, b: number, c: number, d: number): number {
  return ((Math.max(a, 0) << 12) | (Math.max(b, 0) << 8) | (Math.max(c, 0) << 4) | d) & 0xffff;
}

/** UTF-8 bytes of a UTF-16 unit, NUL written as 0x01 (libclamav's output_utf8). */
function utf8Unit(u: number): string {
  if (u === 0) return '\x01';
  if (u < 0x80) return String.fromCharCode(u);
  if (u < 0x800) return String.fromCharCode(0xc0 | (u >> 6), 0x80 | (u & 0x3f));
  return String.fromCharCode(0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f));
}

/** Backslash escapes of one string-literal segment (cli_textbuffer_append_normalize). */
function unescapeStringSegment(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    let c = code(text, i);
    if (c === 0x5c && i + 1 < text.length) {
      i++;
      switch (text[i]) {
        case '0': c = 0; break;
        case 'b': c = 8; break;
        case 't': c = 9; break;
        case 'n': c = 10; break;
        case 'v': c = 11; break;
        case 'f': c = 12; break;
        case 'r': c = 13; break;
        case 'x':
          if (i + 2 < text.length) c = hexPair(hexDigit(code(text, i + 1)), hexDigit(code(text, i + 2)));
          i += 2;
          break;
        case 'u':
          if (i + 4 < text.length) {
            out += utf8Unit(hexQuad(...([1, 2, 3, 4].map((k) => hexDigit(code(text, i + k))) as [number, number, number, number])));
            i += 4;
            continue;
          }
          break;
        default:
          c = code(text, i);
      }
    }
    out += String.fromCharCode(c === 0 ? 1 : c);
  }
  return out;
}

/** JavaScript's unescape() as ClamAV evaluates it (cli_unescape); stops at a NUL like a C string. */
function cUnescape(input: string): string {
  const nul = input.indexOf('\0');
  const text = nul === -1 ? input : input.slice(0, nul);
  let out = '';
  for (let k = 0; k < text.length; k++) {
    let c = code(text, k);
    if (c === 0x25) {
      const isUnicode =
        k + 5 < text.length && text[k + 1] === 'u' && [2, 3, 4, 5].every((d) => hexDigit(code(text, k + d)) !== -1);
      if (isUnicode) {
        out += utf8Unit(hexQuad(...([2, 3, 4, 5].map((d) => hexDigit(code(text, k + d))) as [number, number, number, number])));
        k += 5;
        continue;
      }
      if (k + 2 < text.length && hexDigit(code(text, k + 1)) !== -1 && hexDigit(code(text, k + 2)) !== -1) {
        c = hexPair(hexDigit(code(text, k + 1)), hexDigit(code(text, k + 2)));
        k += 2;
      }
    }
    out += String.fromCharCode(c === 0 ? 1 : c);
  }
  return out;
}

/** A C string view of a token's text: everything up to the first NUL. */
function cText(token: Token | undefined): string | undefined {
  if (token?.text === undefined) return undefined;
  const nul = token.text.indexOf('\0');
  return nul === -1 ? token.text : token.text.slice(0, nul);
}

interface DecodeResult {
  text: string;
  begin: number;
  end: number;
  /** Delete the range and append the decoded tokens at the end instead of replacing in place. */
  append: boolean;
}

const MAX_DECODER_RECURSION = 16;

/** One script (or the concatenation of the scripts of one `<script>` element) being normalised. */
export class JavaScriptNormaliser {
  private tokens: Token[] = [];
  private readonly global = new Scope(undefined);
  private current = this.global;
  private varUniq = 0;
  private recursion = 0;
  private readonly tokenizer = new Tokenizer();
  private finished = false;

  /** Tokenises the next chunk of the script (a binary string, one byte per code unit). */
  push(chunk: string): void {
    if (this.finished) return;
    this.processBuffer(chunk);
  }

  /**
   * Closes open strings and parentheses, runs the folders and decoders, and returns the output.
   * `separated`: another script was written before, so ClamAV starts this one with a line feed.
   */
  finish(separated = false): string {
    if (!this.finished) {
      this.finished = true;
      if (this.tokenizer.state === ScanState.DoubleQString) this.processBuffer('"');
      else if (this.tokenizer.state === ScanState.SingleQString) this.processBuffer("'");
      let balance = 0;
      for (const token of this.tokens) {
        if (token.type === Tok.ParOpen) balance++;
        else if (token.type === Tok.ParClose && balance > 0) balance--;
      }
      for (; balance > 0; balance--) this.tokens.push({ type: Tok.ParClose, text: ')' });
      this.runFolders();
      this.runDecoders();
    }
    return this.output(separated);
  }

  private declare(scope: Scope, name: string): string {
    scope.ids.set(name, this.varUniq++);
    return name;
  }

  private processBuffer(chunk: string): void {
    let current = this.current;
    this.tokenizer.feed(chunk);
    for (let token = this.tokenizer.next(); token; token = this.tokenizer.next()) {
      const type = token.type;
      switch (type) {
        case Tok.Var:
          current.fsm = Fsm.InsideVar;
          break;
        case Tok.Identifier: {
          const name = token.text!;
          if (current.lastToken === Tok.Dot) {
            // A member name is never renamed; libclamav stores it as an owned string.
            token.type = Tok.UnnormalisedIdentifier;
            token.isString = true;
            break;
          }
          switch (current.fsm) {
            case Fsm.WaitParameterList:
            case Fsm.Base:
            case Fsm.InsideInitializer:
              if (!current.ids.has(name)) current.ids.set(name, -1);
              break;
            case Fsm.InsideVar:
            case Fsm.InsideFunctionDecl:
              this.declare(current, name);
              current.fsm = Fsm.InsideInitializer;
              current.brackets = 0;
              break;
            case Fsm.WaitFunctionName:
              this.declare(current, name);
              current.fsm = Fsm.WaitParameterList;
              break;
          }
          break;
        }
        case Tok.ParOpen:
          if (current.fsm === Fsm.WaitFunctionName || current.fsm === Fsm.WaitParameterList) current.fsm = Fsm.InsideFunctionDecl;
          break;
        case Tok.ParClose:
          if (current.fsm === Fsm.WaitParameterList) current.fsm = Fsm.Base;
          break;
        case Tok.CurlyOpen:
          if (current.fsm === Fsm.WaitFunctionName || current.fsm === Fsm.WaitParameterList || current.fsm === Fsm.InsideFunctionDecl) {
            current.fsm = Fsm.Base;
          }
          current.blocks++;
          break;
        case Tok.CurlyClose:
          if (current.blocks > 0) current.blocks--;
          if (!current.blocks && current.parent) {
            // Keep the `}` and add a scope-less `function` token marking the end of the body.
            this.tokens.push({ type: Tok.CurlyClose, text: '}' });
            token.type = Tok.Function;
            token.text = undefined;
            this.current = current = current.parent;
          }
          break;
        case Tok.BracketOpen:
          current.brackets++;
          break;
        case Tok.BracketClose:
          if (current.brackets > 0) current.brackets--;
          break;
        case Tok.Comma:
          if (current.fsm === Fsm.InsideInitializer && current.brackets === 0 && current.blocks === 0) current.fsm = Fsm.InsideVar;
          break;
        case Tok.Semicolon:
          if (current.brackets === 0 && current.blocks === 0) current.fsm = Fsm.Base;
          break;
        case Tok.Function:
          current = new Scope(this.current);
          this.current = current;
          current.fsm = Fsm.WaitFunctionName;
          token.scope = current;
          token.text = undefined;
          break;
        case Tok.StringLiteral: {
          const count = this.tokens.length;
          if (count > 1 && this.tokens[count - 1]!.type === Tok.Plus && this.tokens[count - 2]!.type === Tok.StringLiteral) {
            const previous = this.tokens[count - 2]!;
            this.tokens.pop();
            previous.text = (cText(previous) ?? '') + token.text!;
            continue;
          }
          break;
        }
      }
      this.tokens.push(token);
      current.lastToken = type;
    }
  }

  private runFolders(): void {
    const tokens = this.tokens;
    for (let i = 0; i < tokens.length; i++) {
      if (i + 2 < tokens.length && tokens[i]!.type === Tok.Identifier && tokens[i]!.text === 'unescape' && tokens[i + 1]!.type === Tok.ParOpen) {
        const literal = tokens[i + 2]!;
        if (literal.type === Tok.StringLiteral && i + 4 <= tokens.length) {
          tokens.splice(i, 4, { type: Tok.StringLiteral, text: cUnescape(cText(literal)!), isString: true });
        }
      }
    }
  }

  private runDecoders(): void {
    for (let i = 0; i < this.tokens.length; i++) {
      const tokens = this.tokens;
      const token = tokens[i]!;
      let result: DecodeResult | undefined;
      if (token.type === Tok.Function && i + 13 < tokens.length) {
        i++;
        let name: string | undefined;
        if (tokens[i]!.type === Tok.Identifier) {
          name = cText(tokens[i]);
          i++;
        }
        if (matchesPackerParameters(tokens, i)) result = decodeDeanEdwards(tokens, i, name);
      } else if (i + 2 < tokens.length && token.type === Tok.Identifier && tokens[i + 1]!.type === Tok.ParOpen) {
        if (token.text === 'dF') result = decodeDf(tokens, i + 2);
        else if (token.text === 'eval') result = decodeEval(tokens, i + 2);
      }
      if (result && result.end > result.begin) this.applyDecoded(result);
      if (i < this.tokens.length) this.updateScope(this.tokens[i]!);
    }
  }

  /** Tokenises decoded text in its own token list and splices it into the script. */
  private applyDecoded(result: DecodeResult): void {
    const parent = this.tokens;
    if (result.end < parent.length && parent[result.end]!.type === Tok.Semicolon) result.end++;
    this.tokens = [];
    if (++this.recursion <= MAX_DECODER_RECURSION) {
      this.processBuffer(result.text);
      this.recursion--;
    }
    const decoded = this.tokens;
    this.tokens = parent;
    // An out-of-range span replaces nothing; appended decodings are appended regardless.
    const valid = result.begin < parent.length && result.end <= parent.length;
    if (result.append) {
      if (valid) parent.splice(result.begin, result.end - result.begin);
      parent.push(...decoded);
    } else if (valid) {
      parent.splice(result.begin, result.end - result.begin, ...decoded);
    }
  }

  /** Follows function scopes while walking the tokens; false for end-of-function markers. */
  private updateScope(token: Token): boolean {
    if (token.type !== Tok.Function) return true;
    if (token.scope) {
      this.current = token.scope;
      return true;
    }
    if (this.current.parent) this.current = this.current.parent;
    return false;
  }

  private output(separated: boolean): string {
    const out = new ScriptOutput();
    if (separated) out.char(0x0a);
    out.text('<script>');
    this.current = this.global;
    let last = 0;
    for (const token of this.tokens) {
      if (this.updateScope(token)) last = this.outputToken(token, out, last);
    }
    if (!out.bufferEndsWith('</script>')) out.text('</script>');
    return out.result();
  }

  private outputToken(token: Token, out: ScriptOutput, last: number): number {
    switch (token.type) {
      case Tok.StringLiteral:
        out.space(last, 0x22);
        out.char(0x22);
        out.text(cText(token) ?? '');
        out.char(0x22);
        return 0x22;
      case Tok.NumericInt:
        out.space(last, 0x30);
        out.text(String(token.num));
        return 0x30;
      case Tok.NumericFloat:
        out.space(last, 0x30);
        out.text(formatG(token.num!));
        return 0x30;
      case Tok.Identifier: {
        out.space(last, 0x61);
        const name = token.text!;
        const id = lookup(this.current, name);
        out.text(id === -1 ? name : `n${String(id).padStart(3, '0')}`);
        return 0x61;
      }
      case Tok.Function:
        out.space(last, 0x61);
        out.text('function');
        return 0x61;
      default: {
        const text = cText(token);
        if (text === undefined) return 0;
        out.space(last, text.length ? code(text, 0) : 0);
        out.text(text);
        return text.length ? code(text, text.length - 1) : 0;
      }
    }
  }
}

function lookup(scope: Scope | undefined, name: string): number {
  for (let s = scope; s; s = s.parent) {
    const id = s.ids.get(name);
    if (id !== undefined && id !== -1) return id;
  }
  return -1;
}

/**
 * `(p,a,c,` at `start`: ClamAV's parameter check of packed scripts stops after the third name
 * (its loop bound shrinks as it advances), so only these three and a following comma count.
 */
function matchesPackerParameters(tokens: Token[], start: number): boolean {
  if (tokens[start]?.type !== Tok.ParOpen) return false;
  let i = start + 1;
  for (const expected of ['p', 'a', 'c']) {
    const token = tokens[i++];
    if (token?.type !== Tok.Identifier || token.text !== expected) return false;
    if (tokens[i++]?.type !== Tok.Comma) return false;
  }
  return true;
}

/** The token indexes of the six arguments of a call starting at `i`, and the index after it. */
function callArguments(tokens: Token[], i: number): { args: number[]; next: number } {
  const args: number[] = [];
  for (let j = 0; j < 6 && i < tokens.length; j++) {
    args.push(i++);
    const stop = j !== 5 ? Tok.Comma : Tok.ParClose;
    while (i < tokens.length && tokens[i]!.type !== stop) i++;
    i++;
  }
  return { args, next: i };
}

/** Dean Edwards' packer: `eval(function(p,a,c,k,e,r){…}('…',62,…,'a|b|c'.split('|'),0,{}))`. */
function decodeDeanEdwards(tokens: Token[], start: number, name: string | undefined): DecodeResult | undefined {
  let nesting = 1;
  let i = start;
  for (; i < tokens.length; i++) {
    if (tokens[i]!.type === Tok.Function) {
      nesting += tokens[i]!.scope ? 1 : -1;
      if (!nesting) break;
    }
  }
  if (nesting) return undefined;
  let text = '';
  let first = -1;
  let last = -1;
  const decodeCall = (callStart: number): number => {
    const { args, next } = callArguments(tokens, callStart);
    if (args.length === 6) {
      if (first === -1) first = args[0]!;
      last = args[5]!;
      text += unpack(args.map((index) => tokens[index]!));
    }
    return next;
  };
  if (name !== undefined) {
    for (; i + 2 < tokens.length; i++) {
      const token = tokens[i]!;
      if (token.type === Tok.Identifier && cText(token) === name && tokens[i + 1]!.type === Tok.ParOpen) {
        i = decodeCall(i + 2);
      }
    }
  } else {
    while (i < tokens.length && tokens[i]!.type !== Tok.ParOpen) i++;
    i++;
    if (i >= tokens.length) return undefined;
    decodeCall(i);
  }
  if (first === -1 || last === -1) return undefined;
  let end = last + 1;
  if (end + 2 < tokens.length && tokens[end]!.type === Tok.BracketOpen && tokens[end + 1]!.type === Tok.BracketClose && tokens[end + 2]!.type === Tok.ParClose) {
    end += 3; // `{})`
  } else if (end < tokens.length) end++;
  return { text, begin: first, end, append: false };
}

/** The payload of one packed call: words of base `a` index the `k.split('|')` dictionary. */
function unpack(args: Token[]): string {
  const payload = cText(args[0]);
  const base = args[1]!.type === Tok.NumericInt ? BigInt(args[1]!.num!) : -1n;
  const dictionaryToken = args[3]!;
  if (payload === undefined || !dictionaryToken.isString || dictionaryToken.text === undefined) return '';
  const dictionary = cText(dictionaryToken)!.split('|');
  // ClamAV splits the dictionary string in place: the token keeps only its first word.
  dictionaryToken.text = dictionary[0];
  let out = '';
  let p = 0;
  while (p < payload.length) {
    while (p < payload.length && !isAlnum(code(payload, p))) {
      if (payload[p] === '\\' && (payload[p + 1] === "'" || payload[p + 1] === '"')) p++;
      else out += payload[p++];
    }
    if (p >= payload.length) break;
    let value = 0n;
    const wordStart = p;
    while (p < payload.length && isAlnum(code(payload, p))) {
      const v = code(payload, p++);
      const digit = v >= 0x61 ? 10 + v - 0x61 : v >= 0x41 ? 36 + v - 0x41 : v - 0x30;
      value = BigInt.asUintN(32, value * base + BigInt(digit));
    }
    const word = value < BigInt(dictionary.length) ? dictionary[Number(value)] : undefined;
    out += word ? word : payload.slice(wordStart, p);
  }
  return out;
}

/** scriptasylum's encoder: `dF('…N')`, unescape, subtract N from each byte, unescape again. */
function decodeDf(tokens: Token[], start: number): DecodeResult | undefined {
  const token = tokens[start]!;
  const text = cText(token);
  if (token.type !== Tok.StringLiteral || !text) return undefined;
  const shift = (code(text, text.length - 1) - 0x30) & 0xff;
  const once = cUnescape(text.slice(0, -1));
  let shifted = '';
  for (let i = 0; i < once.length; i++) shifted += String.fromCharCode((code(once, i) - shift) & 0xff);
  token.text = text.slice(0, -1);
  return { text: cUnescape(shifted), begin: start - 2, end: start + 2, append: true };
}

/** `eval("…")` of a literal. */
function decodeEval(tokens: Token[], start: number): DecodeResult | undefined {
  const token = tokens[start]!;
  if (start + 1 >= tokens.length || !token.isString || token.text === undefined) return undefined;
  if (tokens[start + 1]!.type !== Tok.ParClose) return undefined;
  const text = cText(token)!;
  token.text = undefined;
  token.isString = false;
  return { text, begin: start - 2, end: start + 2, append: false };
}

/**
 * The output writer. ClamAV writes through a 64 KiB buffer and looks for a closing `</script>`
 * only in that buffer, so the buffer position is tracked as it fills and is flushed: a single
 * character flushes a full buffer before writing, a string flushes as soon as it fills it.
 */
class ScriptOutput {
  private static readonly BUFFER = 65536;
  private readonly parts: string[] = [];
  private bufferPos = 0;

  char(c: number): void {
    if (this.bufferPos >= ScriptOutput.BUFFER) this.bufferPos = 0;
    this.parts.push(String.fromCharCode(c));
    this.bufferPos++;
  }

  /** Lower-cased, white space as spaces. */
  text(text: string): void {
    if (!text.length) return;
    let converted = '';
    for (let i = 0; i < text.length; i++) {
      const c = code(text, i);
      converted += String.fromCharCode(isSpace(c) ? 0x20 : toLower(c));
    }
    this.parts.push(converted);
    this.bufferPos = ((this.bufferPos + text.length - 1) % ScriptOutput.BUFFER) + 1;
    if (this.bufferPos === ScriptOutput.BUFFER) this.bufferPos = 0;
  }

  /** A space between two alphanumerics that would otherwise run together. */
  space(last: number, next: number): void {
    if (isAlnum(last) && isAlnum(next)) this.char(0x20);
  }

  bufferEndsWith(suffix: string): boolean {
    if (this.bufferPos < suffix.length) return false;
    let tail = '';
    for (let i = this.parts.length - 1; i >= 0 && tail.length < suffix.length; i--) tail = this.parts[i] + tail;
    return tail.endsWith(suffix);
  }

  result(): string {
    return this.parts.join('');
  }
}
