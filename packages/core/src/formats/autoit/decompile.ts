/**
 * ClamAV's decompiler for compiled AutoIt v3 (EA06) scripts (libclamav/autoit.c): it turns the
 * token stream back into text close to the source, which is what ClamAV scans.
 *
 * The stream starts with the number of lines (32-bit little endian); decoding stops after that
 * many end-of-line tokens, at the end of the data, or at the first token it cannot decode, keeping
 * what was written before. Each token is written followed by a space (user function names
 * excepted):
 *
 * - 0x00 keyword, 0x01 built-in function: a 32-bit index into the name tables;
 * - 0x05 int32 as `0x%08x`, 0x10 int64 as `0x%016lx` (ClamAV adds its low word sign-extended),
 *   0x20 double as `%g`;
 * - 0x30…0x37 names and strings: a 32-bit character count, then UTF-16 text XORed with the
 *   count, written after a prefix (`@` macro, `$` variable, `.` object member, `"` string, which
 *   also gets a closing `"`);
 * - 0x40…0x58 operators; 0x7f end of line.
 */
import { formatG } from '../../util/c-numbers.js';
import { GrowableBytes } from '../../util/growable.js';
import { u32le } from '../compression/read.js';
import { FUNCTIONS, KEYWORDS, OPERATORS } from './tokens.js';
import { utf16ToSingleBytes } from './utf16.js';

const enum Token {
  Keyword = 0x00,
  Function = 0x01,
  Int32 = 0x05,
  Int64 = 0x10,
  Double = 0x20,
  FirstText = 0x30,
  UserFunction = 0x34,
  String = 0x36,
  LastText = 0x37,
  FirstOperator = 0x40,
  LastOperator = 0x58,
  EndOfLine = 0x7f,
}

/** What ClamAV writes before each kind of text token (0x30…0x37); 0 for nothing. */
const TEXT_PREFIXES = [0, 0, 0x40, 0x24, 0, 0x2e, 0x22, 0];
const SPACE = 0x20;
const QUOTE = 0x22;
const NEWLINE = 0x0a;
/** libclamav's CLI_MAX_ALLOCATION: ClamAV gives up when its output buffer would grow past it. */
const MAX_ALLOCATION = 1024 * 1024 * 1024;

export interface Decompiled {
  readonly text: Uint8Array;
  readonly aborted: boolean;
}

/** Writes the text, tracking the buffer size ClamAV would allocate for it. */
class ScriptWriter {
  private readonly out = new GrowableBytes();
  private capacity: number;

  constructor(initialCapacity: number) {
    this.capacity = initialCapacity;
  }

  get length(): number {
    return this.out.length;
  }

  /**
   * ClamAV grows its buffer by `increment` when `needed` more bytes would reach its end; false
   * when that growth is refused (past CLI_MAX_ALLOCATION).
   */
  roomFor(needed: number, increment = 512): boolean {
    if (((this.out.length + needed) >>> 0) < this.capacity) return true;
    this.capacity = (this.capacity + increment) >>> 0;
    return this.capacity !== 0 && this.capacity <= MAX_ALLOCATION;
  }

  text(text: string): void {
    for (let i = 0; i < text.length; i++) this.out.push(text.charCodeAt(i));
  }

  byte(byte: number): void {
    this.out.push(byte);
  }

  bytes(source: Uint8Array): void {
    this.out.append(source);
  }

  finish(): Uint8Array {
    return this.out.finish();
  }
}

class Decompiler {
  private readonly out: ScriptWriter;
  private position = 4;
  private linesLeft: number;
  private aborted = false;

  constructor(
    /** The decompressed script; text tokens are decoded in place. */
    private readonly script: Uint8Array,
    private readonly debug: (message: string) => void,
  ) {
    this.out = new ScriptWriter(script.length);
    this.linesLeft = u32le(script, 0);
    debug(`autoit: script has got ${this.linesLeft} lines`);
  }

  run(): Decompiled {
    while (!this.aborted && this.linesLeft !== 0 && this.position < this.script.length) this.token(this.script[this.position++]!);
    if (this.aborted) this.debug('autoit: decompilation aborted - partial script may exist');
    return { text: this.out.finish(), aborted: this.aborted };
  }

  private token(op: number): void {
    if (op === Token.Keyword) this.name(KEYWORDS, 'keyword');
    else if (op === Token.Function) this.name(FUNCTIONS, 'function');
    else if (op === Token.Int32) this.int32();
    else if (op === Token.Int64) this.int64();
    else if (op === Token.Double) this.double();
    else if (op >= Token.FirstText && op <= Token.LastText) this.textToken(op);
    else if (op >= Token.FirstOperator && op <= Token.LastOperator) this.operator(op);
    else if (op === Token.EndOfLine) this.endOfLine();
    else this.abort(`found unknown op (0x${op.toString(16)})`);
  }

  private abort(reason: string): void {
    this.aborted = true;
    this.debug(`autoit: ${reason}`);
  }

  /** Room in ClamAV's output buffer for `needed` more bytes; when it cannot grow, decoding ends. */
  private room(needed: number, increment?: number): boolean {
    if (this.out.roomFor(needed, increment)) return true;
    this.aborted = true;
    return false;
  }

  /** Whether `size` more bytes of operand are there (ClamAV's strict `<` test). */
  private hasOperand(size: number): boolean {
    return this.script.length >= size && this.position < this.script.length - size;
  }

  private name(table: readonly string[], kind: 'keyword' | 'function'): void {
    if (!this.hasOperand(4)) return this.abort(`too few bytes present - expected enough for a ${kind} ID`);
    const id = u32le(this.script, this.position);
    if (id >= table.length) return this.abort(`unknown AutoIT ${kind} ID: 0x${id.toString(16)}`);
    this.position += 4;
    const name = table[id]!;
    if (!this.room(name.length + 2)) return;
    if (name.startsWith('UNKNOWN')) this.debug(`autoit: encountered use of unknown ${kind} ID: ${name}`);
    this.out.text(`${name} `);
  }

  private int32(): void {
    if (!this.hasOperand(4)) return this.abort('not enough space for an int');
    if (!this.room(12)) return;
    this.out.text(`0x${hex(u32le(this.script, this.position), 8)} `);
    this.position += 4;
  }

  private int64(): void {
    if (!this.hasOperand(8)) return this.abort('not enough space for an int64');
    if (!this.room(20)) return;
    // ClamAV adds the low word as a signed 32-bit number: a negative one borrows from the high word.
    const high = BigInt(u32le(this.script, this.position + 4)) << 32n;
    const low = BigInt(u32le(this.script, this.position) | 0);
    const value = BigInt.asUintN(64, high + low);
    this.out.text(`0x${value.toString(16).padStart(16, '0')} `);
    this.position += 8;
  }

  private double(): void {
    if (!this.hasOperand(8)) return this.abort('not enough space for a double');
    if (!this.room(40)) return;
    const view = new DataView(this.script.buffer, this.script.byteOffset + this.position, 8);
    const value = view.getFloat64(0, true);
    const negative = (view.getUint8(7) & 0x80) !== 0;
    this.out.text(`${Number.isNaN(value) && negative ? '-nan' : formatG(value)} `);
    this.position += 8;
  }

  private textToken(op: number): void {
    if (!this.hasOperand(4)) return this.abort('not enough space for size');
    const characters = u32le(this.script, this.position);
    const size = (characters * 2) >>> 0;
    this.position += 4;
    if (this.script.length < size || this.position >= this.script.length - size) {
      const available = this.script.length - this.position;
      return this.abort(`size too big - needed ${size | 0}, total ${this.script.length | 0}, avail ${available | 0}`);
    }
    if (!this.room(characters + 3, characters + 512)) return;
    const prefix = TEXT_PREFIXES[op - Token.FirstText]!;
    if (prefix) this.out.byte(prefix);
    if (characters) {
      const text = this.script.subarray(this.position, this.position + size);
      for (let i = 0; i < size; i += 2) {
        text[i]! ^= characters & 0xff;
        text[i + 1]! ^= (characters >>> 8) & 0xff;
      }
      utf16ToSingleBytes(text);
      this.out.bytes(text.subarray(0, characters));
      this.position += size;
    }
    if (op === Token.String) this.out.byte(QUOTE);
    if (op !== Token.UserFunction) this.out.byte(SPACE);
  }

  private operator(op: number): void {
    if (!this.room(4)) return;
    this.out.text(`${OPERATORS[op - Token.FirstOperator]!} `);
  }

  private endOfLine(): void {
    this.linesLeft--;
    if (!this.room(1)) return;
    this.out.byte(NEWLINE);
  }
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/** Decompiles an EA06 script (the decompressed member, at least 4 bytes); decodes it in place. */
export function decompileScript(script: Uint8Array, debug: (message: string) => void): Decompiled {
  return new Decompiler(script, debug).run();
}
