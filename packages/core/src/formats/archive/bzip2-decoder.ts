/**
 * A bzip2 stream decoder (Burrows–Wheeler blocks, MTF/RLE2 + Huffman, RLE1), written from the
 * format as libbzip2 defines it, with libbzip2's validity checks: ClamAV decodes with libbzip2
 * and treats anything it calls BZ_DATA_ERROR as the end of usable data.
 *
 * Only the first stream is decoded (ClamAV stops at the first BZ_STREAM_END). A block's bytes
 * reach the output before its CRC is checked, as in libbzip2. Blocks marked "randomised"
 * (written only by bzip2 before 0.9.5) are reported as an error.
 */
import { ReleaseBehind } from '../../util/file-backed.js';
import { OutputBuffer } from './output-buffer.js';

export type Bzip2End = 'stream-end' | 'input-end' | 'limit' | 'error';

export interface Bzip2Result {
  end: Bzip2End;
  error?: string;
}

const BLOCK_MAGIC_HI = 0x314159;
const BLOCK_MAGIC_LO = 0x265359;
const END_MAGIC_HI = 0x177245;
const END_MAGIC_LO = 0x385090;
const MAX_GROUPS = 6;
const MAX_ALPHA_SIZE = 258;
const MAX_CODE_LENGTH = 20;
const GROUP_SIZE = 50;
/** libbzip2 1.0.8 reads any number of selectors but keeps only this many. */
const MAX_SELECTORS = 18002;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

export class Bzip2DataError extends Error {}
export class Bzip2InputEnd extends Error {}
/**
 * A block whose last four bytes are a run: libbzip2 reads the run's count past the block (the
 * first byte of the block again), writes that many more bytes and then fails the block, without
 * handing over what it wrote in that call. `runEnd` is where that run's output ends.
 */
export class Bzip2RunPastBlock extends Bzip2DataError {
  constructor(readonly runEnd: number) {
    super('block ends inside a run');
  }
}

/** MSB-first bit reader over the whole input. */
export class Bzip2Bits {
  pos = 0;
  private hold = 0;
  private count = 0;

  constructor(private readonly input: Uint8Array) {}

  /** Reads `n` ≤ 24 bits. */
  read(n: number): number {
    while (this.count < n) {
      if (this.pos >= this.input.length) throw new Bzip2InputEnd();
      this.hold = ((this.hold << 8) | this.input[this.pos++]!) >>> 0;
      this.count += 8;
    }
    this.count -= n;
    return (this.hold >>> this.count) & ((1 << n) - 1);
  }

  bit(): number {
    return this.read(1);
  }

  /** Bits read so far. */
  get bitPosition(): number {
    return this.pos * 8 - this.count;
  }
}

/** Canonical decoding tables of one Huffman group, as libbzip2 builds them. */
interface Group {
  minLen: number;
  limit: Int32Array;
  base: Int32Array;
  perm: Int32Array;
}

function makeGroup(lengths: Uint8Array, alphaSize: number): Group {
  let minLen = 32;
  let maxLen = 0;
  for (let i = 0; i < alphaSize; i++) {
    minLen = Math.min(minLen, lengths[i]!);
    maxLen = Math.max(maxLen, lengths[i]!);
  }
  const perm = new Int32Array(MAX_ALPHA_SIZE);
  let p = 0;
  for (let len = minLen; len <= maxLen; len++) {
    for (let j = 0; j < alphaSize; j++) if (lengths[j] === len) perm[p++] = j;
  }
  const base = new Int32Array(MAX_CODE_LENGTH + 3);
  for (let i = 0; i < alphaSize; i++) base[lengths[i]! + 1]!++;
  for (let i = 1; i < base.length; i++) base[i]! += base[i - 1]!;
  const limit = new Int32Array(MAX_CODE_LENGTH + 2);
  let vec = 0;
  for (let len = minLen; len <= maxLen; len++) {
    vec += base[len + 1]! - base[len]!;
    limit[len] = vec - 1;
    vec <<= 1;
  }
  for (let len = minLen + 1; len <= maxLen; len++) base[len] = ((limit[len - 1]! + 1) << 1) - base[len]!;
  // Lengths past maxLen never match, so a code that long is an error, as in libbzip2.
  for (let len = maxLen + 1; len <= MAX_CODE_LENGTH + 1; len++) limit[len] = -1;
  return { minLen, limit, base, perm };
}

/** Decodes the first bzip2 stream of `input` into `out`. */
export function bunzip2Into(input: Uint8Array, out: OutputBuffer): Bzip2Result {
  const bits = new Bzip2Bits(input);
  const inputRead = new ReleaseBehind(input);
  try {
    if (bits.read(8) !== 0x42 || bits.read(8) !== 0x5a || bits.read(8) !== 0x68) throw new Bzip2DataError('bad magic');
    const level = bits.read(8) - 0x30;
    if (level < 1 || level > 9) throw new Bzip2DataError('bad block size');
    const blockMax = level * 100000;
    const tt = new Uint32Array(blockMax);
    let combinedCrc = 0;
    for (;;) {
      inputRead.advance(bits.pos);
      const hi = bits.read(24);
      const lo = bits.read(24);
      if (hi === END_MAGIC_HI && lo === END_MAGIC_LO) {
        const stored = ((bits.read(16) << 16) | bits.read(16)) >>> 0;
        if (stored !== combinedCrc) throw new Bzip2DataError('stream CRC mismatch');
        return { end: 'stream-end' };
      }
      if (hi !== BLOCK_MAGIC_HI || lo !== BLOCK_MAGIC_LO) throw new Bzip2DataError('bad block magic');
      const storedCrc = ((bits.read(16) << 16) | bits.read(16)) >>> 0;
      if (bits.bit()) throw new Bzip2DataError('randomised blocks are not supported');
      const crc = decodeBlock(bits, tt, blockMax, out);
      if (crc === undefined) return { end: 'limit' };
      if (crc !== storedCrc) throw new Bzip2DataError('block CRC mismatch');
      combinedCrc = (((combinedCrc << 1) | (combinedCrc >>> 31)) ^ crc) >>> 0;
    }
  } catch (caught) {
    if (caught instanceof Bzip2InputEnd) return { end: 'input-end' };
    if (caught instanceof Bzip2DataError) return { end: 'error', error: caught.message };
    throw caught;
  }
}

/**
 * Decodes one block (from its origPtr field on) into `out`; returns its CRC, or undefined when
 * the output limit was hit. `tt` holds `blockMax` entries. With `selectorsCapped` (libbzip2
 * 1.0.8) more selectors than a block can use are read and ignored; without (older libbzip2, as
 * NSIS's copy) they are an error.
 */
export function decodeBlock(bits: Bzip2Bits, tt: Uint32Array, blockMax: number, out: OutputBuffer, selectorsCapped = true): number | undefined {
  const origPtr = bits.read(24);
  if (origPtr > blockMax + 10) throw new Bzip2DataError('bad origPtr');

  // Which byte values occur, as 16 ranges of 16.
  const seqToUnseq = new Uint8Array(256);
  let inUse = 0;
  const ranges = bits.read(16);
  for (let i = 0; i < 16; i++) {
    if (!(ranges & (0x8000 >>> i))) continue;
    const used = bits.read(16);
    for (let j = 0; j < 16; j++) if (used & (0x8000 >>> j)) seqToUnseq[inUse++] = i * 16 + j;
  }
  if (inUse === 0) throw new Bzip2DataError('no symbols in use');
  const alphaSize = inUse + 2;

  const groupCount = bits.read(3);
  if (groupCount < 2 || groupCount > MAX_GROUPS) throw new Bzip2DataError('bad group count');
  const selectorCount = bits.read(15);
  if (selectorCount < 1 || (!selectorsCapped && selectorCount > MAX_SELECTORS)) throw new Bzip2DataError('bad selector count');
  const selectors = new Uint8Array(Math.min(selectorCount, MAX_SELECTORS));
  const groupOrder = [0, 1, 2, 3, 4, 5];
  for (let i = 0; i < selectorCount; i++) {
    let j = 0;
    while (bits.bit()) if (++j >= groupCount) throw new Bzip2DataError('bad selector');
    if (i >= MAX_SELECTORS) continue;
    // Selectors are move-to-front coded.
    const group = groupOrder[j]!;
    groupOrder.splice(j, 1);
    groupOrder.unshift(group);
    selectors[i] = group;
  }

  const groups: Group[] = [];
  const lengths = new Uint8Array(MAX_ALPHA_SIZE);
  for (let t = 0; t < groupCount; t++) {
    let current = bits.read(5);
    for (let i = 0; i < alphaSize; i++) {
      for (;;) {
        if (current < 1 || current > MAX_CODE_LENGTH) throw new Bzip2DataError('bad code length');
        if (!bits.bit()) break;
        current += bits.bit() ? -1 : 1;
      }
      lengths[i] = current;
    }
    groups.push(makeGroup(lengths, alphaSize));
  }

  // MTF/RLE2 symbols back to the BWT block.
  const endOfBlock = inUse + 1;
  const mtf = new Uint8Array(256);
  for (let i = 0; i < 256; i++) mtf[i] = i;
  const counts = new Int32Array(256);
  let length = 0;
  let groupIndex = -1;
  let groupLeft = 0;
  let group = groups[0]!;
  const nextSymbol = (): number => {
    if (groupLeft === 0) {
      if (++groupIndex >= selectors.length) throw new Bzip2DataError('ran out of selectors');
      groupLeft = GROUP_SIZE;
      group = groups[selectors[groupIndex]!]!;
    }
    groupLeft--;
    let len = group.minLen;
    let vec = bits.read(len);
    while (vec > group.limit[len]!) {
      if (++len > MAX_CODE_LENGTH) throw new Bzip2DataError('bad Huffman code');
      vec = (vec << 1) | bits.bit();
    }
    const index = vec - group.base[len]!;
    if (index < 0 || index >= MAX_ALPHA_SIZE) throw new Bzip2DataError('bad Huffman code');
    return group.perm[index]!;
  };

  let symbol = nextSymbol();
  for (;;) {
    if (symbol === endOfBlock) break;
    if (symbol <= 1) {
      // RUNA/RUNB: a bijective base-2 count of repeats of the front byte.
      let run = 0;
      let weight = 1;
      do {
        if (weight >= 2 * 1024 * 1024) throw new Bzip2DataError('run too long');
        run += weight << symbol;
        weight <<= 1;
        symbol = nextSymbol();
      } while (symbol <= 1);
      const byte = seqToUnseq[mtf[0]!]!;
      if (length + run > blockMax) throw new Bzip2DataError('block too long');
      counts[byte]! += run;
      tt.fill(byte, length, length + run);
      length += run;
      continue;
    }
    if (length >= blockMax) throw new Bzip2DataError('block too long');
    const index = symbol - 1;
    const value = mtf[index]!;
    mtf.copyWithin(1, 0, index);
    mtf[0] = value;
    const byte = seqToUnseq[value]!;
    counts[byte]!++;
    tt[length++] = byte;
    symbol = nextSymbol();
  }
  if (origPtr >= length) throw new Bzip2DataError('bad origPtr');

  // Inverse BWT: link every position to the next one in the original order.
  const start = new Int32Array(256);
  for (let i = 0, sum = 0; i < 256; i++) {
    start[i] = sum;
    sum += counts[i]!;
  }
  for (let i = 0; i < length; i++) {
    const byte = tt[i]! & 0xff;
    tt[start[byte]!++]! |= i << 8;
  }
  return undoRunLengths(tt, length, tt[origPtr]! >>> 8, out);
}

/**
 * Walks the BWT links and undoes the initial run-length step (4 equal bytes, then a count of
 * further repeats), writing to `out` and computing the block CRC.
 */
function undoRunLengths(tt: Uint32Array, length: number, position: number, out: OutputBuffer): number | undefined {
  let crc = 0xffffffff;
  let previous = -1;
  let run = 0;
  let pos = position;
  for (let i = 0; i < length; i++) {
    const entry = tt[pos]!;
    const byte = entry & 0xff;
    pos = entry >>> 8;
    let repeat = 1;
    let value = byte;
    if (run === 4) {
      repeat = byte;
      value = previous;
      run = 0;
    } else if (byte === previous) {
      run++;
    } else {
      previous = byte;
      run = 1;
    }
    if (repeat === 0) continue;
    const count = out.room(repeat);
    out.bytes.fill(value, out.length, out.length + count);
    out.length += count;
    for (let k = 0; k < count; k++) crc = (crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ value) & 0xff]!;
    if (count < repeat) {
      out.truncated = true;
      return undefined;
    }
  }
  if (run === 4) throw new Bzip2RunPastBlock(out.length + (tt[position]! & 0xff));
  return ~crc >>> 0;
}
