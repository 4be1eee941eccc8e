/**
 * NSIS's deflate variant, decoded as the inflater ClamAV carries for it (libclamav/nsis/
 * infblock.c, NSIS's trimmed copy of zlib 1.1's inflate). It differs from RFC 1951 and from
 * today's zlib where streams are damaged or NSIS-made:
 *
 * - a stored block has a 16-bit length and no complement, and bits left in the bit buffer
 *   after the length (whole bytes read ahead) are dropped;
 * - a back reference is not checked against the output: it reads the 32 KiB window, which
 *   keeps what earlier files of the same archive left in it (zeros at first);
 * - an incomplete Huffman code is refused unless it is a single code of length 1 (then the
 *   missing code is invalid, except in the code-length code, where it repeats the one symbol);
 * - the decoder looks up a whole first-level table index (9 bits for literals, at most the
 *   longest code) before it decodes a symbol, so at the end of the input a short last code is
 *   left undecoded.
 *
 * Output goes through the window and reaches the reader's buffer when the window is flushed:
 * on corrupt data what was still in the window beyond the room left in the current call's
 * buffer is lost, which `WindowFlow` reproduces.
 */
import type { OutputBuffer } from '../archive/output-buffer.js';
import { type CallSize, INPUT_LEFT_AT_END, type NsisStreamResult } from './nsis-stream.js';

const WINDOW_SIZE = 32 * 1024;

/** The inflater's window, which lives as long as the archive's reader (see the module comment). */
export class NsisInflateWindow {
  readonly bytes = new Uint8Array(WINDOW_SIZE);
}

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const END_OF_BLOCK = 256;
/** A table entry with no symbol: an invalid code. */
const INVALID = 0xffff;

class DataError extends Error {}
class InputEnd extends Error {}

/**
 * A Huffman code as one flat table indexed by `maxBits` input bits (LSB first): `symbols` and
 * `lengths` per index. `rootBits` is the first-level index width of zlib 1.1's tables: what the
 * decoder must have in its bit buffer before it looks a code up.
 */
interface Code {
  readonly symbols: Uint16Array;
  readonly lengths: Uint8Array;
  readonly maxBits: number;
  readonly rootBits: number;
}

type CodeKind = 'code-lengths' | 'literals' | 'distances';
/** zlib 1.1's first-level table widths. */
const ROOT_BITS: Record<CodeKind, number> = { 'code-lengths': 7, literals: 9, distances: 6 };

/** Builds a code; undefined when zlib 1.1 refuses it, 'empty' when no symbol has a length. */
function buildCode(lengths: Uint8Array, kind: CodeKind, rootBits = ROOT_BITS[kind]): Code | 'empty' | undefined {
  const counts = new Uint16Array(16);
  for (const length of lengths) counts[length]!++;
  let maxBits = 15;
  while (maxBits > 0 && counts[maxBits] === 0) maxBits--;
  if (maxBits === 0) return 'empty';
  let minBits = 1;
  while (counts[minBits] === 0) minBits++;
  let left = 1;
  for (let len = 1; len <= 15; len++) {
    left = left * 2 - counts[len]!;
    if (left < 0) return undefined;
  }
  if (left > 0 && maxBits !== 1) return undefined;

  const size = 1 << maxBits;
  const symbols = new Uint16Array(size).fill(INVALID);
  // zlib 1.1 gives the missing code of a single-code table a length of 1.
  const codeLengths = new Uint8Array(size).fill(1);
  const next = new Uint16Array(16);
  counts[0] = 0;
  for (let len = 1, code = 0; len <= maxBits; len++) {
    code = (code + counts[len - 1]!) << 1;
    next[len] = code;
  }
  for (let symbol = 0; symbol < lengths.length; symbol++) {
    const len = lengths[symbol]!;
    if (len === 0) continue;
    let code = next[len]!++;
    let reversed = 0;
    for (let i = 0; i < len; i++, code >>>= 1) reversed = (reversed << 1) | (code & 1);
    for (let i = reversed; i < size; i += 1 << len) {
      symbols[i] = symbol;
      codeLengths[i] = len;
    }
  }
  // The one missing code of a single-code table repeats the symbol in the code-length code.
  if (left > 0 && kind === 'code-lengths') symbols.fill(symbols[0]!);
  return { symbols, lengths: codeLengths, maxBits, rootBits: Math.max(minBits, Math.min(rootBits, maxBits)) };
}

let fixedCodes: { literals: Code; distances: Code } | undefined;

function fixed(): { literals: Code; distances: Code } {
  if (!fixedCodes) {
    const literals = new Uint8Array(288).fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
    fixedCodes = {
      literals: buildCode(literals, 'literals') as Code,
      // 30 distance codes of 5 bits leave two codes (30, 31) invalid; the first level is 5 bits.
      distances: buildCode(new Uint8Array(32).fill(5), 'distances', 5) as Code,
    };
  }
  return fixedCodes;
}

/**
 * How output moves from the window to the reader's buffers: zlib 1.1's read and write pointers
 * and the room left in the current call's buffer. `delivered` counts what reached the buffers.
 */
class WindowFlow {
  delivered = 0;
  /** Where the current call began. */
  callStart = 0;
  private read = 0;
  private write = 0;
  /** Bytes the decoder may write before it must flush. */
  private room = WINDOW_SIZE;
  private callRoom: number;

  constructor(
    private readonly callSize: CallSize,
    private readonly out: OutputBuffer,
    private readonly base: number,
  ) {
    this.callRoom = callSize(0, out.bytes.subarray(base, base));
  }

  /** Where the next byte goes in the window, once there is room for it. */
  next(): number {
    if (this.room === 0) this.makeRoom();
    this.room--;
    return this.write++;
  }

  /** Window bytes the decoder may write in one go (at least 1). */
  span(): number {
    if (this.room === 0) this.makeRoom();
    return this.room;
  }

  advance(count: number): void {
    this.room -= count;
    this.write += count;
  }

  get position(): number {
    return this.write;
  }

  /** zlib 1.1's inflate_flush: hands over what fits in the current call's buffer. */
  flush(): void {
    let from = this.read;
    for (;;) {
      const count = Math.min((from <= this.write ? this.write : WINDOW_SIZE) - from, this.callRoom);
      this.callRoom -= count;
      this.delivered += count;
      from += count;
      if (from !== WINDOW_SIZE) break;
      from = 0;
      if (this.write === WINDOW_SIZE) this.write = 0;
    }
    this.read = from;
  }

  private available(): number {
    return this.write < this.read ? this.read - this.write - 1 : WINDOW_SIZE - this.write;
  }

  private wrap(): void {
    if (this.write === WINDOW_SIZE && this.read !== 0) this.write = 0;
    this.room = this.available();
  }

  private makeRoom(): void {
    for (;;) {
      this.wrap();
      if (this.room > 0) return;
      this.flush();
      this.wrap();
      if (this.room > 0) return;
      this.nextCall();
    }
  }

  /** The call's buffer is full: the reader takes it and calls again with a new one. */
  private nextCall(): void {
    this.callStart = this.delivered;
    this.callRoom = this.callSize(this.delivered, this.out.bytes.subarray(this.base, this.base + this.delivered));
  }
}

/** LSB-first bits, loaded a byte at a time only when needed, as zlib 1.1's NEEDBITS. */
class BitBuffer {
  pos: number;
  bits = 0;
  count = 0;
  /** Where the input counts as used up (see NsisStreamResult.inputUsedUpAfter). */
  private readonly usedUpFrom: number;

  constructor(
    readonly input: Uint8Array,
    start: number,
    private readonly onUsedUp: () => void,
  ) {
    this.pos = start;
    this.usedUpFrom = input.length - INPUT_LEFT_AT_END;
    if (this.pos >= this.usedUpFrom) onUsedUp();
  }

  need(count: number): void {
    while (this.count < count) {
      if (this.pos >= this.input.length) throw new InputEnd();
      this.bits |= this.input[this.pos++]! << this.count;
      this.count += 8;
      if (this.pos === this.usedUpFrom) this.onUsedUp();
    }
  }

  /** Takes `count` whole bytes (stored data). */
  skipBytes(count: number): void {
    const before = this.pos;
    this.pos += count;
    if (before < this.usedUpFrom && this.pos >= this.usedUpFrom) this.onUsedUp();
  }

  take(count: number): number {
    this.need(count);
    const value = this.bits & ((1 << count) - 1);
    this.drop(count);
    return value;
  }

  drop(count: number): void {
    this.bits >>>= count;
    this.count -= count;
  }

  /**
   * Decodes a symbol of `code` (INVALID for a code that does not exist). The first-level index
   * must be loaded; a longer code then needs its own length (see the module comment).
   */
  symbol(code: Code): number {
    this.need(code.rootBits);
    const mask = (1 << code.maxBits) - 1;
    let length = code.lengths[this.bits & mask]!;
    while (length > this.count) {
      this.need(length);
      length = code.lengths[this.bits & mask]!;
    }
    const symbol = code.symbols[this.bits & mask]!;
    this.drop(length);
    return symbol;
  }
}

/**
 * Decodes NSIS's deflate variant from `input[start]` into `out` (whose limit stops it), through
 * `window`. On corrupt data `out` is cut to what the reader received.
 */
export function nsisInflateInto(input: Uint8Array, start: number, out: OutputBuffer, window: NsisInflateWindow, callSize: CallSize): NsisStreamResult {
  const base = out.length;
  const flow = new WindowFlow(callSize, out, base);
  let inputUsedUpAfter = Number.POSITIVE_INFINITY;
  const bits = new BitBuffer(input, start, () => {
    inputUsedUpAfter = Math.min(inputUsedUpAfter, flow.callStart);
  });
  const stopped = (end: NsisStreamResult['end'], error?: string): NsisStreamResult => ({ end, inputUsedUpAfter, error });
  try {
    // At the end of the stream or of the input the reader's later calls drain the window.
    return stopped(decodeBlocks(bits, out, window.bytes, flow));
  } catch (caught) {
    if (caught instanceof InputEnd) return stopped('input-end');
    if (!(caught instanceof DataError)) throw caught;
    flow.flush();
    out.cut(base + flow.delivered);
    return stopped('error', caught.message);
  }
}

type BlocksEnd = 'end' | 'limit';

function decodeBlocks(bits: BitBuffer, out: OutputBuffer, window: Uint8Array, flow: WindowFlow): BlocksEnd {
  for (;;) {
    const header = bits.take(3);
    const last = (header & 1) === 1;
    const type = header >>> 1;
    let ended: boolean;
    if (type === 0) ended = storedBlock(bits, out, window, flow);
    else if (type === 1) ended = codedBlock(bits, fixed().literals, fixed().distances, out, window, flow);
    else if (type === 2) ended = dynamicBlock(bits, out, window, flow);
    else throw new DataError('invalid block type');
    if (!ended) return 'limit';
    if (last) return 'end';
  }
}

/** Appends `byte` to the window and the output; false when the output limit is reached. */
function emit(byte: number, out: OutputBuffer, window: Uint8Array, flow: WindowFlow): boolean {
  if (out.room(1) === 0) {
    out.truncated = true;
    return false;
  }
  window[flow.next()] = byte;
  out.bytes[out.length++] = byte;
  return true;
}

function storedBlock(bits: BitBuffer, out: OutputBuffer, window: Uint8Array, flow: WindowFlow): boolean {
  bits.drop(bits.count & 7);
  let left = bits.take(16);
  // zlib 1.1 empties its bit buffer here: whole bytes read ahead are lost.
  bits.bits = 0;
  bits.count = 0;
  const input = bits.input;
  while (left > 0) {
    if (bits.pos >= input.length) throw new InputEnd();
    const count = Math.min(left, input.length - bits.pos, flow.span());
    const allowed = out.room(count);
    const chunk = input.subarray(bits.pos, bits.pos + allowed);
    window.set(chunk, flow.position);
    flow.advance(allowed);
    out.bytes.set(chunk, out.length);
    out.length += allowed;
    bits.skipBytes(allowed);
    left -= allowed;
    if (allowed < count) {
      out.truncated = true;
      return false;
    }
  }
  return true;
}

function dynamicBlock(bits: BitBuffer, out: OutputBuffer, window: Uint8Array, flow: WindowFlow): boolean {
  const sizes = bits.take(14);
  const literalCount = 257 + (sizes & 0x1f);
  const distanceCount = 1 + ((sizes >>> 5) & 0x1f);
  if ((sizes & 0x1f) > 29 || ((sizes >>> 5) & 0x1f) > 29) throw new DataError('too many length or distance symbols');
  const codeLengthCount = 4 + (sizes >>> 10);
  const codeLengthLengths = new Uint8Array(19);
  for (let i = 0; i < codeLengthCount; i++) codeLengthLengths[CODE_LENGTH_ORDER[i]!] = bits.take(3);
  const codeLengthCode = buildCode(codeLengthLengths, 'code-lengths');
  if (codeLengthCode === undefined || codeLengthCode === 'empty') throw new DataError('invalid bit length code');

  const total = literalCount + distanceCount;
  const lengths = new Uint8Array(total);
  for (let i = 0; i < total; ) {
    const symbol = bits.symbol(codeLengthCode);
    if (symbol < 16) {
      lengths[i++] = symbol;
      continue;
    }
    const [extraBits, minimum] = symbol === 18 ? [7, 11] : [symbol - 14, 3];
    const repeat = minimum + bits.take(extraBits);
    if (i + repeat > total || (symbol === 16 && i < 1)) throw new DataError('invalid bit length repeat');
    lengths.fill(symbol === 16 ? lengths[i - 1]! : 0, i, i + repeat);
    i += repeat;
  }
  const literals = buildCode(lengths.subarray(0, literalCount), 'literals');
  if (literals === undefined || literals === 'empty') throw new DataError('invalid literal/length code');
  const distances = buildCode(lengths.subarray(literalCount), 'distances');
  if (distances === undefined || (distances === 'empty' && literalCount > 257)) throw new DataError('invalid distance code');
  return codedBlock(bits, literals, distances === 'empty' ? undefined : distances, out, window, flow);
}

function codedBlock(bits: BitBuffer, literals: Code, distances: Code | undefined, out: OutputBuffer, window: Uint8Array, flow: WindowFlow): boolean {
  for (;;) {
    const symbol = bits.symbol(literals);
    if (symbol < END_OF_BLOCK) {
      if (!emit(symbol, out, window, flow)) return false;
      continue;
    }
    if (symbol === END_OF_BLOCK) {
      // zlib 1.1 gives back one whole byte it had read ahead.
      if (bits.count > 7) {
        bits.count -= 8;
        bits.pos--;
        bits.bits &= (1 << bits.count) - 1;
      }
      return true;
    }
    const lengthCode = symbol - 257;
    if (symbol === INVALID || lengthCode >= LENGTH_BASE.length || !distances) throw new DataError('invalid literal/length code');
    const length = LENGTH_BASE[lengthCode]! + bits.take(LENGTH_EXTRA[lengthCode]!);
    const distanceCode = bits.symbol(distances);
    if (distanceCode >= DIST_BASE.length) throw new DataError('invalid distance code');
    const distance = DIST_BASE[distanceCode]! + bits.take(DIST_EXTRA[distanceCode]!);
    if (!copy(distance, length, out, window, flow)) return false;
  }
}

/** A back reference: read from the window whatever it holds, wrapping at its end. */
function copy(distance: number, length: number, out: OutputBuffer, window: Uint8Array, flow: WindowFlow): boolean {
  const at = flow.position;
  let from = at < distance ? WINDOW_SIZE - (distance - at) : at - distance;
  for (let i = 0; i < length; i++) {
    if (!emit(window[from]!, out, window, flow)) return false;
    if (++from === WINDOW_SIZE) from = 0;
  }
  return true;
}
