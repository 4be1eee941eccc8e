import { contained } from '../pe-arithmetic.js';
import { hex8 } from '../../util/c-numbers.js';

/**
 * MEW's LZMA stage (libclamav mew.c: mew_lzma and its lzma_* helpers, which follow MEW's own
 * decoder instruction by instruction). The coding is plain LZMA with lc=4, lp=0, pb=2, but
 * everything lives in the one buffer that holds the image: the compressed stream, the output
 * and the probability model (at an address the packed data chooses), each access checked
 * against the buffer as ClamAV checks it. The regions may overlap, and a write to one changes
 * what is read from another, as in ClamAV; so the usual LZMA decoder (formats/compression/lzma.ts),
 * with its own model and window, cannot stand in for it.
 *
 * The data at `at` lists blocks: `[output size][output address][stream length][1 byte][range
 * coder's 5 bytes…]`, addresses absolute (the image is at `vma`). The plain form starts with the
 * model's address and repeats blocks up to a zero output size; the "special" form (MEW's code
 * starts with `push eax`) starts with the length of code whose call and jump targets are to be
 * made relative again, then the model's address, and has one block.
 */

/** The model as each block starts it: 0x1b9b 32-bit words, each two probabilities of 0x400 (one half). */
const MODEL_SIZE = 0x6e6c;
const INITIAL_MODEL = new Uint8Array(MODEL_SIZE).map((_, n) => (n & 1 ? 0x04 : 0x00));
/** Byte offsets of the model's parts (each probability takes 2 bytes). */
const IS_REP = 0x180;
const IS_REP_G0 = 0x198;
const IS_REP_G1 = 0x1b0;
const IS_REP_G2 = 0x1c8;
const POS_SLOT = 0x360;
/** SpecPos, less the 2 bytes its first distance does not use. */
const SPEC_POS = 0x55e;
const ALIGN = 0x644;
const LENGTH = 0x664;
const REP_LENGTH = 0xa68;
const LITERAL = 0xe6c;
const TOP = 0x1000000;

/** A failed check: ClamAV's mew_lzma returns -1 and the unpacking fails. */
class Refused extends Error {}

/**
 * MEW's range decoder (struct lzmastate and lzma_486248 & co.), reading its input and updating
 * its probabilities in `buf`.
 */
class RangeDecoder {
  /** The next input byte (p0), the range (p1) and the code (p2). */
  private at: number;
  private range = 0xffffffff;
  private code: number;
  /**
   * What the tree decoders leave in EDX (lzma_4862e0: 1 << bits; lzma_48631a: the final tree
   * index), which the call fixup's debug line shows.
   */
  edx = 0;

  /** lzma_bswap_4861dc: the first byte is skipped, the next four are the code, big-endian. */
  constructor(
    private readonly buf: Uint8Array,
    start: number,
  ) {
    this.code = ((buf[start + 1]! << 24) | (buf[start + 2]! << 16) | (buf[start + 3]! << 8) | buf[start + 4]!) >>> 0;
    this.at = start + 5;
  }

  /** lzma_486248: one bit with the 16-bit probability at `prob`. */
  bit(prob: number): number {
    const { buf } = this;
    if (!contained(0, buf.length, prob, 4) || !contained(0, buf.length, this.at, 1)) throw new Refused();
    const p = buf[prob]! | (buf[prob + 1]! << 8);
    const bound = Math.imul(this.range >>> 11, p) >>> 0;
    let bit: number;
    let updated: number;
    if (this.code < bound) {
      this.range = bound;
      // An arithmetic shift: a probability past 0x800 (the buffer is writable) moves down.
      updated = p + (((0x800 - p) | 0) >> 5);
      bit = 0;
    } else {
      this.range = (this.range - bound) >>> 0;
      this.code = (this.code - bound) >>> 0;
      updated = p - (p >>> 5);
      bit = 1;
    }
    buf[prob] = updated & 0xff;
    buf[prob + 1] = (updated >> 8) & 0xff;
    if (this.range < TOP) this.shiftIn();
    return bit;
  }

  /** lzma_486204: `count` bits at a fixed probability of one half, most significant first. */
  directBits(count: number): number {
    let result = 0;
    for (let n = count; n > 0; n--) {
      this.range >>>= 1;
      result = (result << 1) >>> 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        result |= 1;
      }
      if (this.range < TOP) {
        if (!contained(0, this.buf.length, this.at, 1)) throw new Refused();
        this.shiftIn();
      }
    }
    return result >>> 0;
  }

  /** lzma_4862e0: a `bits`-bit value from the binary tree of probabilities at `tree`. */
  bitTree(tree: number, bits: number): number {
    let index = 1;
    for (let n = 0; n < bits; n++) {
      const doubled = index * 2;
      index = doubled + this.bit(tree + doubled);
    }
    this.edx = 1 << bits;
    return index - (1 << bits);
  }

  /** lzma_48631a: the same, least significant bit first. */
  reverseBitTree(tree: number, bits: number): number {
    let index = 1;
    let result = 0;
    for (let n = 0; n < bits; n++) {
      const doubled = index * 2;
      const bit = this.bit(tree + doubled);
      index = doubled + bit;
      result |= bit << n;
    }
    this.edx = index;
    return result >>> 0;
  }

  /** lzma_4863da: a match length less 2, from the length coder at `coder`. */
  length(coder: number, posState: number): number {
    if (this.bit(coder) === 0) return this.bitTree(coder + 4 + (posState << 4), 3);
    if (this.bit(coder + 2) === 0) return this.bitTree(coder + 0x104 + (posState << 4), 3) + 8;
    return this.bitTree(coder + 0x204, 8) + 0x10;
  }

  /** lzma_48635C: a literal coded against the byte at the last match distance. */
  matchedLiteral(probs: number, matchByte: number): number {
    let match = matchByte & 0xff;
    let matchBit = match >> 7;
    match = (match << 1) & 0xff;
    let bit = this.bit(probs + (matchBit << 9) + 0x202);
    let symbol = bit | 2;
    while (matchBit === bit) {
      if (symbol >= 0x100) return symbol & 0xff;
      matchBit = match >> 7;
      match = (match << 1) & 0xff;
      bit = this.bit(probs + (((matchBit + 1) << 8) + symbol) * 2);
      symbol = symbol * 2 + bit;
    }
    while (symbol < 0x100) {
      symbol *= 2;
      symbol |= this.bit(probs + symbol);
    }
    return symbol & 0xff;
  }

  /** Range below 2^24: one more input byte (checked by the caller). */
  private shiftIn(): void {
    this.code = ((this.code << 8) | this.buf[this.at]!) >>> 0;
    this.range = (this.range << 8) >>> 0;
    this.at++;
  }
}

/**
 * mew_lzma: decodes the blocks listed at `at` into `buf` (the image at `vma`); false where ClamAV's
 * fails.
 */
export function mewLzma(buf: Uint8Array, at: number, vma: number, special: boolean, debug: (message: string) => void): boolean {
  try {
    decodeBlocks(buf, at, vma, special, debug);
    return true;
  } catch (error) {
    if (error instanceof Refused) return false;
    throw error;
  }
}

function decodeBlocks(buf: Uint8Array, at: number, vma: number, special: boolean, debug: (message: string) => void): void {
  const size = buf.length;
  const u32 = (offset: number) => (buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16) | (buf[offset + 3]! << 24)) >>> 0;
  let source = at;
  let callsLength = 0;
  if (special) {
    callsLength = u32(source);
    source += 4;
  }
  const probs = (u32(source) - vma) >>> 0;
  source += 4;
  for (;;) {
    let outSize: number;
    let out: number;
    let rc: RangeDecoder;
    do {
      if (!special) {
        if (!contained(0, size, source, 16)) throw new Refused();
        if (u32(source) === 0) return;
      } else if (!contained(0, size, source, 12)) throw new Refused();
      outSize = u32(source);
      out = (u32(source + 4) - vma) >>> 0;
      const streamLength = u32(source + 8);
      const stream = source + 13;
      source = stream + streamLength;
      if (!contained(0, size, probs, MODEL_SIZE)) throw new Refused();
      buf.set(INITIAL_MODEL, probs);
      if (!contained(0, size, stream, 5)) throw new Refused();
      rc = new RangeDecoder(buf, stream);
    } while (outSize === 0);
    debug('MEWlzma: entering do while loop');
    const edx = decodeBlock(buf, rc, probs, out, outSize);
    if (special) {
      debug(`MEWlen: ${hex8(edx)} ? ${hex8(callsLength)}`);
      fixCalls(buf, out, callsLength);
      return;
    }
  }
}

/**
 * One block's LZMA data into `outSize` bytes at `out`; returns what EDX holds at its end (for
 * the special form's debug line).
 */
function decodeBlock(buf: Uint8Array, rc: RangeDecoder, probs: number, out: number, outSize: number): number {
  const size = buf.length;
  const write = (offset: number, value: number) => {
    if (!contained(0, size, out + offset, 1)) throw new Refused();
    buf[out + offset] = value;
  };
  const read = (offset: number) => {
    if (!contained(0, size, out + offset, 1)) throw new Refused();
    return buf[out + offset]!;
  };
  let pos = 0;
  let state = 0;
  let rep0 = 1;
  let rep1 = 1;
  let rep2 = 1;
  let rep3 = 1;
  let previous = 0;
  let afterMatch = false;
  let edx = 0;
  do {
    const posState = pos & 3;
    if (rc.bit(probs + ((state << 4) + posState) * 2) === 0) {
      // A literal.
      const coder = probs + (((previous >> 4) * 3) << 9) + LITERAL;
      state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
      if (!afterMatch) {
        let symbol = 1;
        while (symbol < 0x100) {
          symbol *= 2;
          symbol |= rc.bit(coder + symbol);
        }
        previous = symbol & 0xff;
      } else {
        previous = rc.matchedLiteral(coder, read((pos - rep0) >>> 0));
        afterMatch = false;
      }
      edx = pos++;
      write(edx, previous);
      continue;
    }
    afterMatch = true;
    let length: number;
    if (rc.bit(probs + state * 2 + IS_REP) === 0) {
      // A match at a new distance.
      rep3 = rep2;
      rep2 = rep1;
      rep1 = rep0;
      state = state >= 7 ? 10 : 7;
      length = rc.length(probs + LENGTH, posState);
      const slot = rc.bitTree(probs + POS_SLOT + (Math.min(length, 3) << 7), 6);
      edx = rc.edx;
      if (slot < 4) {
        rep0 = slot;
      } else {
        const bits = (slot >> 1) - 1;
        rep0 = (((slot & 1) | 2) << bits) >>> 0;
        if (slot >= 0xe) {
          rep0 = (rep0 + (rc.directBits(bits - 4) << 4)) >>> 0;
          rep0 = (rep0 + rc.reverseBitTree(probs + ALIGN, 4)) >>> 0;
        } else {
          rep0 = (rep0 + rc.reverseBitTree(probs + ((rep0 - slot) >>> 0) * 2 + SPEC_POS, bits)) >>> 0;
        }
        edx = rc.edx;
      }
      rep0 = (rep0 + 1) >>> 0;
    } else {
      // A match at one of the last four distances, or a single byte at the last.
      if (rc.bit(probs + state * 2 + IS_REP_G0) === 0) {
        if (rc.bit(probs + (((state + 0xf) << 4) + posState) * 2) === 0) {
          state = state >= 7 ? 11 : 9;
          previous = read((pos - rep0) >>> 0);
          edx = pos++;
          write(edx, previous);
          continue;
        }
      } else {
        let distance: number;
        if (rc.bit(probs + state * 2 + IS_REP_G1) === 0) {
          distance = rep1;
        } else {
          if (rc.bit(probs + state * 2 + IS_REP_G2) === 0) {
            distance = rep2;
          } else {
            distance = rep3;
            rep3 = rep2;
          }
          rep2 = rep1;
        }
        rep1 = rep0;
        rep0 = distance;
      }
      length = rc.length(probs + REP_LENGTH, posState);
      edx = rc.edx;
      state = state >= 7 ? 11 : 8;
    }
    // Distance 0 (2^32 wrapped): the end marker.
    if (rep0 === 0) break;
    length += 2;
    let to = pos;
    let from = (pos - rep0) >>> 0;
    // ClamAV checks the rest of the block from both ends, whatever the match's length.
    const rest = (outSize - to) >>> 0;
    if (
      (length < rest && (!contained(0, size, out + from, length) || !contained(0, size, out + to, length))) ||
      !contained(0, size, out + from, rest) ||
      !contained(0, size, out + to, rest)
    ) {
      throw new Refused();
    }
    do {
      previous = buf[out + from++]!;
      buf[out + to++] = previous;
      length--;
    } while (length > 0 && to < outSize);
    pos = to;
    edx = to;
  } while (pos < outSize);
  return edx;
}

/**
 * The special form's last step: in `length` bytes of code at `at`, each E8/E9 (call, jmp) is
 * followed by a big-endian absolute target, made little-endian and relative again. Nothing is
 * done (and nothing fails) when the code is not in the buffer.
 */
function fixCalls(buf: Uint8Array, at: number, length: number): void {
  if (length < 5 || !contained(0, buf.length, at, length)) return;
  for (let n = 0; n < length - 5; n++) {
    const opcode = buf[at + n];
    if (opcode !== 0xe8 && opcode !== 0xe9) continue;
    const field = at + n + 1;
    const target = ((buf[field]! << 24) | (buf[field + 1]! << 16) | (buf[field + 2]! << 8) | buf[field + 3]!) >>> 0;
    const relative = (target - n - 1) >>> 0;
    for (let k = 0; k < 4; k++) buf[field + k] = (relative >>> (8 * k)) & 0xff;
    n += 4;
  }
}
