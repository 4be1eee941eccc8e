import { contained } from '../pe-arithmetic.js';
import { hex } from '../../util/c-numbers.js';

/**
 * ASPack's block decompressor (libclamav aspack.c: decomp_block, build_decrypt_dictionaries,
 * build_decrypt_array, getdec, getbits, decrypt). Each packed block is a big-endian bit stream
 * of LZ77 tokens under four canonical Huffman codes:
 *
 * - code 0 (721 symbols): literals (< 256), matches (256..719: a distance slot and a length
 *   code), and from 720 up "read new code tables";
 * - code 1 (28 symbols): long match lengths;
 * - code 2 (8 symbols): the low three bits of far distances (used unless all eight of its
 *   lengths are 3);
 * - code 3 (19 symbols): codes the lengths of the other three, deflate-like (0..15 a delta on
 *   the previous lengths, 16 repeat, 17/18 runs of zeros).
 *
 * The length and distance tables (base values and extra-bit counts) are not in the stream but
 * in the unpacker's own code, next to the entry point (`tables`); their values are read from
 * the image while it is being written, as ClamAV does.
 *
 * ClamAV's arithmetic is kept: 32-bit wrapping sums and shift counts taken modulo 32 (what its
 * x86 build does with the shifts the C leaves undefined). The code tables and the lengths
 * persist from one block to the next, and so must they here: a damaged stream may decode
 * through stale entries.
 */

/** One Huffman code: ClamAV's DICT_HELPER with its rows of decarray3/decarray4. */
class HuffmanCode {
  /** starts: the symbols in code order. */
  readonly symbols: Uint32Array;
  /** ends: for the top 8 bits of a code of up to 8 bits, its length. */
  readonly shortLengths = new Uint8Array(0x100);
  /** decarray3: the first code (left-aligned to 24 bits) of each length after the last. */
  readonly limits = new Uint32Array(24);
  /** decarray4: where each length's symbols start in `symbols`. */
  readonly offsets = new Uint32Array(24);

  constructor(readonly size: number) {
    this.symbols = new Uint32Array(size);
  }
}

/** Literal/match/table-change code, length code, distance-low-bits code, code-length code. */
const MAIN = 0;
const LENGTH = 1;
const DISTANCE = 2;
const CODE_LENGTHS = 3;

/** How many code lengths the code-length code describes: 721 + 28 + 8. */
const LENGTH_COUNT = 757;
/** Where each code's lengths start in the lengths array (array2, which keeps a 0 before them). */
const LENGTHS_AT = [1, 722, 750] as const;
/** The bits the reader starts a block with: the first four bytes are loaded at once. */
const START_BITS = 0x20;
/** Sentinel for "the input ran out" or "no such code" (ClamAV's err/oob). */
const FAILED = -1;

/** The unpacker's tables, at `tables` in the image: length bases, length extra bits, distance extra bits. */
const LENGTH_EXTRA_BITS = 0x1c;
const DISTANCE_EXTRA_BITS = 0x38;
/** Length symbols index the tables (0x1c + symbol) below this. */
const LENGTH_SYMBOLS = 0x56;

/** A match length code of 7 (length 9) takes its length from the length code instead. */
const LONG_MATCH = 9;

export class AspackDecoder {
  private readonly codes = [new HuffmanCode(721), new HuffmanCode(28), new HuffmanCode(8), new HuffmanCode(19)];
  /** decrypt_dict: the previous lengths, which the next table is coded against. */
  private readonly previousLengths = new Uint8Array(LENGTH_COUNT);
  /** array1: the code-length code's own lengths. */
  private readonly codeLengthLengths = new Uint8Array(19);
  /** array2: the lengths of the three other codes, after a slot that stays 0. */
  private readonly lengths = new Uint8Array(LENGTH_COUNT + 1);
  /** dict_ok: far distances take their low bits from the distance code. */
  private distanceCodeUsed = false;
  /** hash and bitpos: the last bytes read, and how many of its leading bits are used. */
  private window = 0x10000;
  private used = 0;
  private input = new Uint8Array(0);
  private inputAt = 0;

  /**
   * @param image the image being unpacked, which blocks are decoded into
   * @param tables where the unpacker's length and distance tables are in it
   * @param distanceBases init_array: the first distance of each of the 58 slots
   * @param debug ClamAV's debug output
   */
  constructor(
    private readonly image: Uint8Array,
    private readonly tables: number,
    private readonly distanceBases: Uint32Array,
    private readonly debug: (message: string) => void,
  ) {}

  /**
   * decomp_block: decodes `input` (the packed block, with ClamAV's zero padding) into `size`
   * bytes of the image at `outputAt`. False where ClamAV's fails; what was written stays.
   */
  decompressBlock(input: Uint8Array, outputAt: number, size: number): boolean {
    for (const code of this.codes) {
      code.limits.fill(0);
      code.offsets.fill(0);
    }
    this.previousLengths.fill(0);
    this.used = START_BITS;
    this.input = input;
    this.inputAt = 0;
    if (!this.readTables()) return false;
    return this.decode(outputAt, size);
  }

  /** decrypt: the LZ77 tokens, until `size` bytes are out. */
  private decode(outputAt: number, size: number): boolean {
    const { image } = this;
    this.debug(`Aspack: decrypt size:${hex(size)}`);
    const recent = [0, 0, 0];
    let done = 0;
    while (done < size) {
      const symbol = this.symbol(MAIN);
      if (symbol === FAILED) return false;
      if (symbol < 0x100) {
        image[outputAt + done++] = symbol;
        continue;
      }
      if (symbol >= 720) {
        if (!this.readTables()) return false;
        continue;
      }
      const slot = (symbol - 0x100) >>> 3;
      let length = ((symbol - 0x100) & 7) + 2;
      if (length === LONG_MATCH) {
        const lengthSymbol = this.symbol(LENGTH);
        if (lengthSymbol === FAILED || lengthSymbol >= LENGTH_SYMBOLS) return false;
        const extraBits = this.table(lengthSymbol + LENGTH_EXTRA_BITS);
        if (!this.fill()) return false;
        length = (length + this.table(lengthSymbol) + (this.peek() >>> ((24 - extraBits) & 31))) >>> 0;
        this.used += extraBits;
      }

      let distance = this.distanceBases[slot]!;
      const extraBits = this.table(slot + DISTANCE_EXTRA_BITS);
      if (!this.distanceCodeUsed || extraBits < 3) {
        if (!this.fill()) return false;
        distance = (distance + (this.peek() >>> ((24 - extraBits) & 31))) >>> 0;
        this.used += extraBits;
      } else {
        const highBits = extraBits - 3;
        if (!this.fill()) return false;
        distance = (distance + (this.peek() >>> ((24 - highBits) & 31)) * 8) >>> 0;
        this.used += highBits;
        const low = this.symbol(DISTANCE);
        if (low === FAILED) return false;
        distance = (distance + low) >>> 0;
      }

      // 0..2 pick one of the last three distances (moving it to the front), larger values are new ones.
      let back: number;
      if (distance < 3) {
        back = recent[distance]!;
        if (distance !== 0) {
          recent[distance] = recent[0]!;
          recent[0] = back;
        }
      } else {
        recent[2] = recent[1]!;
        recent[1] = recent[0]!;
        back = recent[0] = distance - 3;
      }
      back = (back + 1) >>> 0;
      if (back === 0 || back > done || length > size - done) return false;
      for (let k = 0; k < length; k++, done++) image[outputAt + done] = image[outputAt + done - back]!;
    }
    return true;
  }

  /** build_decrypt_dictionaries: a new set of codes, their lengths coded against the last ones. */
  private readTables(): boolean {
    const fresh = this.bits(1);
    if (fresh === 0 || fresh === FAILED) this.previousLengths.fill(0);
    if (fresh === FAILED) return false;
    for (let n = 0; n < this.codeLengthLengths.length; n++) {
      const length = this.bits(4);
      if (length === FAILED) return false;
      this.codeLengthLengths[n] = length;
    }
    if (!this.build(this.codeLengthLengths, CODE_LENGTHS)) return false;

    const { lengths } = this;
    let n = 0;
    while (n < LENGTH_COUNT) {
      const symbol = this.symbol(CODE_LENGTHS);
      if (symbol === FAILED) return false;
      if (symbol < 16) {
        lengths[1 + n] = (this.previousLengths[n]! + symbol) & 0xf;
        n++;
        continue;
      }
      // 16 repeats the last length 3-6 times, 17 and 18 put 3-10 or 11-138 zeros.
      const extra = symbol === 16 ? this.bits(2) : this.bits(symbol === 17 ? 3 : 7);
      if (extra === FAILED) return false;
      let run = extra + (symbol >= 18 ? 11 : 3);
      for (; run > 0 && n < LENGTH_COUNT; run--, n++) lengths[1 + n] = symbol === 16 ? lengths[n]! : 0;
    }

    const built = LENGTHS_AT.every((at, code) => this.build(lengths.subarray(at, at + this.codes[code]!.size), code));
    if (!built) return false;
    this.distanceCodeUsed = lengths.subarray(LENGTHS_AT[DISTANCE], LENGTHS_AT[DISTANCE] + 8).some((length) => length !== 3);
    this.previousLengths.set(lengths.subarray(1));
    return true;
  }

  /**
   * build_decrypt_array: code `which` from its symbols' lengths (0 = unused, at most 17; only
   * lengths 1..15 get codes). False where the lengths do not make a complete code, as ClamAV
   * sums it (in 32 bits, wrapping).
   */
  private build(lengths: Uint8Array, which: number): boolean {
    const code = this.codes[which]!;
    const counts = new Uint32Array(18);
    const next = new Uint32Array(18);
    for (const length of lengths) {
      if (length > 17) return false;
      counts[length]!++;
    }
    const { limits, offsets } = code;
    limits[0] = 0;
    offsets[0] = 0;
    let sum = 0;
    let filled = 0;
    for (let length = 1, shift = 23; shift >= 9; length++, shift--) {
      sum = (sum + (counts[length]! << shift)) >>> 0;
      if (sum > 0x1000000) return false;
      limits[length] = sum;
      offsets[length] = next[length] = (counts[length - 1]! + offsets[length - 1]!) >>> 0;
      // Codes of up to 8 bits are looked up by their top byte.
      if (shift >= 16) {
        const from = filled;
        filled = sum >>> 16;
        const count = (filled - from) >>> 0;
        if (count !== 0) {
          if (!contained(0, 0x100, from, count)) return false;
          code.shortLengths.fill(length, from, filled);
        }
      }
    }
    if (sum !== 0x1000000) return false;
    for (let symbol = 0; symbol < lengths.length; symbol++) {
      const length = lengths[symbol]!;
      if (length === 0) continue;
      const at = next[length]!;
      if (at >= code.size) return false;
      code.symbols[at] = symbol;
      next[length] = at + 1;
    }
    return true;
  }

  /** getdec: the next symbol of code `which`, or FAILED. */
  private symbol(which: number): number {
    const code = this.codes[which]!;
    if (!this.fill()) return FAILED;
    const bits = this.peek() & 0xfffe00;
    const { limits } = code;
    let length: number;
    if (bits < limits[8]!) {
      length = code.shortLengths[bits >>> 16]!;
      if (length === 0) return FAILED;
    } else if (bits < limits[10]!) {
      length = bits < limits[9]! ? 9 : 10;
    } else {
      length = 11;
      while (length < 15 && bits >= limits[length]!) length++;
    }
    this.used += length;
    const index = ((((bits - limits[length - 1]!) >>> 0) >>> (24 - length)) + code.offsets[length]!) >>> 0;
    if (index >= code.size) return FAILED;
    return code.symbols[index]!;
  }

  /** getbits: the next `count` bits (at most 8), or FAILED. */
  private bits(count: number): number {
    if (!this.fill()) return FAILED;
    const value = (this.peek() >>> (24 - count)) & 0xff;
    this.used += count;
    return value;
  }

  /** readstream: loads bytes until fewer than 8 bits of the window are used; false at the end of the input. */
  private fill(): boolean {
    while (this.used >= 8) {
      if (this.inputAt >= this.input.length) return false;
      this.window = ((this.window << 8) | this.input[this.inputAt++]!) >>> 0;
      this.used -= 8;
    }
    return true;
  }

  /** The next 24 bits of the stream (after `fill`). */
  private peek(): number {
    return (this.window >>> (8 - this.used)) & 0xffffff;
  }

  /** A byte of the unpacker's tables; past the image, 0 (ClamAV reads beyond its buffer there). */
  private table(offset: number): number {
    return this.image[this.tables + offset] ?? 0;
  }
}
