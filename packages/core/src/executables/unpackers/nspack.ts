import { LZMA_PROBABILITIES } from '../../formats/compression/lzma.js';
import { u32le } from '../../formats/compression/read.js';
import { contained } from '../pe-arithmetic.js';
import { rawAddress } from '../pe-file.js';
import { rebuildPe } from './rebuild-pe.js';
import { MAX_ALLOCATION, NEXT, STOP, unpacked, type UnpackContext, type UnpackOutcome } from './unpacker.js';
import { hex, hex8 } from '../../util/c-numbers.js';

/**
 * NsPack unpacking: cli_scanpe's `NsPack` block (libclamav pe.c) and unsp.c (unspack and
 * very_real_unpack with its range-decoder helpers).
 *
 * NsPack's entry code (`pushf; pusha; call $+5; pop ebp; mov eax, 7`, possibly behind a jump)
 * finds its data through a pointer stored before it. The data starts with a header — an LZMA
 * properties byte, the packed size at +5 and the unpacked size at +9 — and the packed stream at
 * +13, which unpacks to the first section. The stream is LZMA in all but the details of its
 * decoder, which ClamAV has its own copy of (distinct from its 7z/xz LZMA): no check of the
 * first range-coder byte, running out of input noticed only between symbols (bytes past the
 * end read as 0xff), a match may not run past the output, and a distance of 0 (the end marker)
 * ends it successfully whatever is left. The output is rebuilt as a one-section PE file whose
 * entry point is the target of a jump in the entry code.
 */

const ENTRY_SIGNATURE = [0x9c, 0x60, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x5d, 0xb8, 0x07, 0x00, 0x00, 0x00];
const JUMP = 0xe9;
/** Where the entry code's jump to the original entry point is. */
const ORIGINAL_ENTRY_JUMP = 0x27a;

/** The NsPack block of cli_scanpe. */
export function unpackNspack(ctx: UnpackContext): UnpackOutcome {
  const { pe, data } = ctx;
  /** fmap_need_off_once: whether the file has `size` bytes at `at`. */
  const has = (at: number, size: number) => at + size <= data.length;
  const findRaw = (rva: number) => rawAddress(rva, pe.sections, data.length, pe.headersSize);

  let entryRva = pe.entryRva;
  let entryAt = pe.entryPoint;
  let code = ctx.entry;
  if (ctx.entry[0] === JUMP) {
    // An entry point that jumps to the real one.
    entryRva = (u32le(ctx.entry, 1) + pe.entryRva + 5) >>> 0;
    const at = findRaw(entryRva);
    if (at === undefined || !has(at, 24)) return NEXT;
    entryAt = at;
    code = data.subarray(at, at + 24);
  }
  if (!ENTRY_SIGNATURE.every((value, k) => code[k] === value)) return NEXT;

  const delta = (0x54 - u32le(code, 17)) >>> 0;
  ctx.debug(`cli_scanpe: NsPack: Found *start_of_stuff @delta-${hex(delta)}`);
  const pointerAt = (entryAt - delta) >>> 0;
  if (!has(pointerAt, 4)) return NEXT;
  let start = (entryAt + u32le(data, pointerAt)) >>> 0;
  if (!has(start, 20)) return NEXT;
  // A zero first word is skipped.
  if (u32le(data, start) === 0) start = (start + 4) >>> 0;
  const packedSize = (u32le(data, start + 5) | 0xff) >>> 0;
  const unpackedSize = u32le(data, start + 9);

  if (!ctx.withinLimits(Math.max(packedSize, unpackedSize))) return STOP;
  if (unpackedSize === 0 || unpackedSize !== pe.sections[0]!.virtualSize) return NEXT;
  if (unpackedSize > MAX_ALLOCATION) return NEXT;
  if (!has(start, packedSize)) return NEXT;

  const jumpRva = (entryRva + ORIGINAL_ENTRY_JUMP) >>> 0;
  const jumpAt = findRaw(jumpRva);
  if (jumpAt === undefined || !has(jumpAt, 5)) return NEXT;
  const originalEntry = (jumpRva + 5 + u32le(data, jumpAt + 1)) >>> 0;
  ctx.debug(`cli_scanpe: NsPack: OEP = ${hex8(originalEntry)}`);

  const file = unspack(ctx, data.subarray(start, start + packedSize), pe.sections[0]!.rva, pe.imageBase, originalEntry);
  if (file === undefined) {
    ctx.debug('cli_scanpe: NsPack: Unpacking failed');
    return NEXT;
  }
  return unpacked(file);
}

/**
 * unspack: the NsPack data (from its header on) unpacked and rebuilt as a PE file with one
 * section at `rva`; undefined where ClamAV's fails.
 */
function unspack(ctx: UnpackContext, packed: Uint8Array, rva: number, imageBase: number, entryRva: number): Uint8Array | undefined {
  const properties = packed[0]!;
  if (properties >= 9 * 5 * 5) return undefined;
  const positionBits = Math.floor(properties / 45);
  const literalPositionBits = Math.floor((properties % 45) / 9);
  const literalContextBits = properties % 9;
  const tableSize = probabilityCount(literalContextBits, literalPositionBits) * 2;
  if (!ctx.withinLimits(tableSize)) return undefined;
  ctx.debug(`unsp: table size = ${tableSize}`);

  const size = u32le(packed, 9);
  const streamSize = u32le(packed, 5);
  if (streamSize <= 13) return undefined;
  const output = new Uint8Array(size);
  const stream = packed.subarray(13, streamSize);
  const decoded = unspDecode(stream, output, literalContextBits, literalPositionBits, positionBits, (message) => ctx.debug(message));
  if (!decoded) return undefined;
  return rebuildPe(output, [{ rva, virtualSize: size, rawOffset: 0, rawSize: size }], imageBase, entryRva, 0, 0);
}

/** The probabilities LZMA needs for these literal context and position bits. */
function probabilityCount(literalContextBits: number, literalPositionBits: number): number {
  return (0x300 << (literalContextBits + literalPositionBits)) + LITERALS;
}

// Where each group of probabilities is: LZMA's classic layout.
const {
  isMatch: IS_MATCH,
  isRep: IS_REP,
  isRepG0: IS_REP_G0,
  isRepG1: IS_REP_G1,
  isRepG2: IS_REP_G2,
  isRep0Long: IS_REP0_LONG,
  positionSlots: POSITION_SLOTS,
  specialPositions: SPECIAL_POSITIONS,
  align: ALIGN,
  matchLengths: MATCH_LENGTHS,
  repLengths: REP_LENGTHS,
  literals: LITERALS,
} = LZMA_PROBABILITIES;

/** What getbit_from_table returns for a probability outside the table: decoding goes on with it as a "bit". */
const BAD_BIT = 0xff;

/**
 * very_real_unpack: decodes `input` into the whole of `output`. True where ClamAV's returns 0
 * (the output is full, or an end marker was met: the rest stays zero here, uninitialised memory
 * in ClamAV).
 */
export function unspDecode(
  input: Uint8Array,
  output: Uint8Array,
  literalContextBits: number,
  literalPositionBits: number,
  positionBits: number,
  debug: (message: string) => void,
): boolean {
  const size = output.length;
  const rc = new UnspRangeDecoder(input, probabilityCount(literalContextBits, literalPositionBits));
  const positionMask = (1 << positionBits) - 1;
  const literalPositionMask = (1 << literalPositionBits) - 1;
  let state = 0;
  let previous = 0;
  let afterMatch = false;
  let done = 0;
  let rep0 = 1;
  let rep1 = 1;
  let rep2 = 1;
  let rep3 = 1;

  rc.start();
  if (rc.error) return false;
  for (;;) {
    if (rc.error) return false;
    const positionState = positionMask & done;
    if (!rc.bit(IS_MATCH + (state << 4) + positionState)) {
      const literals = LITERALS + 0x300 * ((previous >>> (8 - literalContextBits)) + ((literalPositionMask & done) << literalContextBits));
      state = state >= 10 ? state - 6 : state >= 4 ? state - 3 : 0;
      if (afterMatch) {
        const from = (done - rep0) >>> 0;
        if (!contained(0, size, from, 1)) return false;
        previous = rc.matchedLiteral(literals, output[from]!);
        afterMatch = false;
      } else {
        previous = rc.literal(literals);
      }
      if (done >= size) return false;
      output[done++] = previous;
      if (done >= size) return true;
      continue;
    }

    afterMatch = true;
    let length: number;
    if (rc.bit(IS_REP + state)) {
      if (!rc.bit(IS_REP_G0 + state)) {
        if (!rc.bit(IS_REP0_LONG + (state << 4) + positionState)) {
          // One byte from the last distance.
          if (done === 0) return false;
          state = state >= 7 ? 11 : 9;
          const from = (done - rep0) >>> 0;
          if (!contained(0, size, from, 1)) return false;
          previous = output[from]!;
          output[done++] = previous;
          if (done >= size) return true;
          continue;
        }
      } else {
        let distance: number;
        if (!rc.bit(IS_REP_G1 + state)) {
          distance = rep1;
        } else {
          if (!rc.bit(IS_REP_G2 + state)) {
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
      length = rc.length(REP_LENGTHS, positionState);
      state = state >= 7 ? 11 : 8;
    } else {
      rep3 = rep2;
      rep2 = rep1;
      rep1 = rep0;
      state = state >= 7 ? 10 : 7;
      length = rc.length(MATCH_LENGTHS, positionState);
      const lengthState = (length | 0) >= 4 ? 3 : length;
      const slot = rc.tree(POSITION_SLOTS + ((lengthState << 6) >>> 0), 6);
      let distance = slot;
      if (slot >= 4) {
        const bits = ((slot >>> 1) - 1) >>> 0;
        distance = (((slot & 1) | 2) << (bits & 0xff)) >>> 0;
        if ((slot | 0) < 14) {
          distance = (distance + rc.reverseTree((SPECIAL_POSITIONS - 1 + distance - slot) >>> 0, bits)) >>> 0;
        } else {
          distance = (distance + ((rc.direct((bits - 4) >>> 0) << 4) >>> 0)) >>> 0;
          distance = (distance + rc.reverseTree(ALIGN, 4)) >>> 0;
        }
      }
      rep0 = (distance + 1) >>> 0;
    }

    // The copy; distance 0 (0xffffffff + 1) is the end marker.
    if (rep0 === 0) return true;
    if (rep0 > done) return false;
    length = (length + 2) >>> 0;
    if (!contained(0, size, done, length) || !contained(0, size, done - rep0, length)) {
      // ClamAV prints pointers here; this prints them as offsets into the output.
      debug(`0x0 ${hex(size)} 0x${hex(done)} ${hex(length)}`);
      return false;
    }
    for (let k = 0; k < length; k++, done++) output[done] = output[done - rep0]!;
    previous = output[done - 1]!;
    if (done >= size) return true;
  }
}

/**
 * unsp.c's range decoder (struct UNSP with get_byte, getbit_from_table and the bit-tree
 * helpers): LZMA's, over 11-bit probabilities that start at one half. Past the end of the
 * input, bytes read as 0xff and `error` is set; a probability outside the table (which valid
 * indices never reach) sets it too and reads as the bit 0xff.
 */
class UnspRangeDecoder {
  error = false;
  private readonly probabilities: Uint16Array;
  private at = 0;
  /** bitmap and oldval. */
  private range = 0xffffffff;
  private code = 0;

  constructor(
    private readonly input: Uint8Array,
    probabilityCount: number,
  ) {
    this.probabilities = new Uint16Array(probabilityCount).fill(0x400);
  }

  /** The code from the first five bytes (the first falls out of the 32 bits). */
  start(): void {
    for (let k = 0; k < 5; k++) this.code = ((this.code << 8) | this.byte()) >>> 0;
  }

  /** getbit_from_table. */
  bit(index: number): number {
    const { probabilities } = this;
    if (index >= probabilities.length) {
      this.error = true;
      return BAD_BIT;
    }
    const probability = probabilities[index]!;
    const bound = Math.imul(probability, this.range >>> 11) >>> 0;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probabilities[index] = probability + ((0x800 - probability) >> 5);
      bit = 0;
    } else {
      this.range = (this.range - bound) >>> 0;
      this.code = (this.code - bound) >>> 0;
      probabilities[index] = probability - (probability >>> 5);
      bit = 1;
    }
    this.normalize();
    return bit;
  }

  /** get_100_bits_from_table: a literal, eight bits down a tree. */
  literal(base: number): number {
    let symbol = 1;
    while (symbol < 0x100) symbol = ((symbol * 2) | this.bit(base + symbol)) >>> 0;
    return symbol & 0xff;
  }

  /** get_100_bits_from_tablesize: a literal after a match, guided by the byte at the match distance until they differ. */
  matchedLiteral(base: number, matchByte: number): number {
    let symbol = 1;
    let match = matchByte;
    while (symbol < 0x100) {
      const matchBit = match >>> 7;
      match = (match << 1) & 0xff;
      const bit = this.bit(base + ((matchBit + 1) << 8) + symbol);
      symbol = ((symbol * 2) | bit) >>> 0;
      if (matchBit !== bit) {
        while (symbol < 0x100) symbol = ((symbol * 2) | this.bit(base + symbol)) >>> 0;
      }
    }
    return symbol & 0xff;
  }

  /** get_n_bits_from_table: `count` bits down a tree, most significant first. */
  tree(base: number, count: number): number {
    let symbol = 1;
    for (let k = 0; k < count; k++) symbol = (symbol * 2 + this.bit(base + symbol)) >>> 0;
    return (symbol - (1 << count)) >>> 0;
  }

  /** get_n_bits_from_tablesize: a match length less 2 (3, 3 or 8 bits after one or two choice bits). */
  length(base: number, positionState: number): number {
    if (!this.bit(base)) return this.tree(base + 2 + positionState * 8, 3);
    if (!this.bit(base + 1)) return 8 + this.tree(base + 0x82 + positionState * 8, 3);
    return 0x10 + this.tree(base + 0x102, 8);
  }

  /** get_bb: `count` bits down a tree, least significant first. */
  reverseTree(base: number, count: number): number {
    if ((count | 0) <= 0) return 0;
    let node = 1;
    let value = 0;
    for (let k = 0; k < count; k++) {
      const bit = this.bit(base + node);
      node = (node * 2 + bit) >>> 0;
      value = (value | (bit << k)) >>> 0;
    }
    return value;
  }

  /** get_bitmap: `count` bits at probability one half. */
  direct(count: number): number {
    if ((count | 0) <= 0) return 0;
    let value = 0;
    for (let k = 0; k < count; k++) {
      this.range >>>= 1;
      value = (value << 1) >>> 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        value = (value | 1) >>> 0;
      }
      this.normalize();
    }
    return value;
  }

  private normalize(): void {
    if (this.range < 0x1000000) {
      this.code = ((this.code << 8) | this.byte()) >>> 0;
      this.range = (this.range << 8) >>> 0;
    }
  }

  /** get_byte. */
  private byte(): number {
    if (this.at >= this.input.length) {
      this.error = true;
      return 0xff;
    }
    return this.input[this.at++]!;
  }
}
