import { corrupt } from './corrupt.js';
import { buildHuffman, EMPTY, type HuffmanTable } from './huffman.js';

/**
 * LZX decoder (Microsoft's LZ77 + Huffman format used by CAB folders and CHM content sections),
 * written from the published format description. Output is produced one frame (32 KiB) at a
 * time; the caller says how long each frame is (a CAB data block's uncompressed size, or 32 KiB
 * until the end of a CHM section) and, for CHM, after how many frames the state is reset.
 */

export const LZX_FRAME_SIZE = 32768;

const NUM_CHARS = 256;
const PRETREE_SYMBOLS = 20;
const LENGTH_SYMBOLS = 249;
const ALIGNED_SYMBOLS = 8;
const MIN_MATCH = 2;
const NUM_PRIMARY_LENGTHS = 7;

const BLOCK_VERBATIM = 1;
const BLOCK_ALIGNED = 2;
const BLOCK_UNCOMPRESSED = 3;

/** Position slots per window size (2^15 .. 2^21). */
const POSITION_SLOTS: Record<number, number> = { 15: 30, 16: 32, 17: 34, 18: 36, 19: 38, 20: 42, 21: 50 };

const EXTRA_BITS = new Uint8Array(51);
const POSITION_BASE = new Uint32Array(51);
for (let i = 0, j = 0; i < 51; i += 2) {
  EXTRA_BITS[i] = j;
  if (i + 1 < 51) EXTRA_BITS[i + 1] = j;
  if (i !== 0 && j < 17) j++;
}
for (let i = 0, base = 0; i < 51; i++) {
  POSITION_BASE[i] = base;
  base += 1 << EXTRA_BITS[i]!;
}

/**
 * LZX's bit source: 16-bit little-endian words read most significant bit first. Reading past
 * the end supplies a few zero words (an encoder may end a stream mid-word) before failing.
 */
class WordBitReader {
  private buf = 0;
  private count = 0;
  private pos: number;
  private overrun = 0;

  constructor(
    readonly data: Uint8Array,
    start = 0,
  ) {
    this.pos = start;
  }

  private refill(): void {
    let word: number;
    if (this.pos + 1 < this.data.length) {
      word = this.data[this.pos]! | (this.data[this.pos + 1]! << 8);
      this.pos += 2;
    } else {
      if (++this.overrun > 4) throw corrupt('LZX input ended early');
      this.pos = this.data.length;
      word = 0;
    }
    this.buf = ((this.buf << 16) | word) >>> 0;
    this.count += 16;
  }

  peek(n: number): number {
    while (this.count < n) this.refill();
    return (this.buf >>> (this.count - n)) & ((1 << n) - 1);
  }

  skip(n: number): void {
    this.count -= n;
    this.buf &= this.count === 0 ? 0 : (2 ** this.count - 1) >>> 0;
  }

  read(n: number): number {
    if (n === 0) return 0;
    if (n > 16) return this.read(n - 16) * 65536 + this.read(16);
    const v = this.peek(n);
    this.skip(n);
    return v;
  }

  decode(table: HuffmanTable): number {
    if (table.bits === 0) throw corrupt('LZX: decoding from an empty Huffman table');
    const sym = table.symbols[this.peek(table.bits)]!;
    if (sym === EMPTY) throw corrupt('LZX: invalid Huffman code');
    this.skip(table.lengths[sym]!);
    return sym;
  }

  /** Drops the bits left in the current 16-bit word (frame boundary). */
  alignToWord(): void {
    this.skip(this.count & 15);
  }

  /**
   * Start of an uncompressed block: the rest of the current word is padding, or a whole word
   * when already aligned. Returns the byte position where the raw data starts.
   */
  alignForRawBytes(): number {
    if ((this.count & 15) === 0) {
      if (this.count === 0) this.refill();
      this.skip(16);
    } else {
      this.skip(this.count & 15);
    }
    // Whole words still buffered were read ahead from the input: give them back.
    const bufferedBytes = this.count >>> 3;
    this.count = 0;
    this.buf = 0;
    return this.pos - bufferedBytes;
  }

  /** Continues reading words at byte position `pos` (after raw bytes). */
  seek(pos: number): void {
    this.pos = pos;
    this.buf = 0;
    this.count = 0;
  }
}

export class LzxDecoder {
  private readonly window: Uint8Array;
  private readonly windowSize: number;
  private readonly mainSymbols: number;
  private readonly mainLengths: Uint8Array;
  private readonly lengthLengths = new Uint8Array(LENGTH_SYMBOLS);
  private mainTable!: HuffmanTable;
  private lengthTable!: HuffmanTable;
  private alignedTable!: HuffmanTable;
  private readonly input: WordBitReader;

  private windowPos = 0;
  /** Total bytes output so far (offset of the next frame). */
  private produced = 0;
  private frame = 0;
  private r0 = 1;
  private r1 = 1;
  private r2 = 1;
  private headerRead = false;
  private intelFileSize = 0;
  private intelStarted = false;
  private blockType = 0;
  private blockRemaining = 0;
  private blockLength = 0;
  /** Window position where the current frame starts. */
  private frameStart = 0;
  /** Byte position in the input of an uncompressed block's next raw byte. */
  private rawPos = 0;

  /**
   * @param windowBits 15..21
   * @param resetInterval frames between full state resets (CHM), 0 for none (CAB)
   */
  constructor(
    input: Uint8Array,
    windowBits: number,
    private readonly resetInterval = 0,
  ) {
    const slots = POSITION_SLOTS[windowBits];
    if (slots === undefined) throw corrupt(`LZX: unsupported window size 2^${windowBits}`);
    this.windowSize = 1 << windowBits;
    this.window = new Uint8Array(this.windowSize);
    this.mainSymbols = NUM_CHARS + slots * 8;
    this.mainLengths = new Uint8Array(this.mainSymbols);
    this.input = new WordBitReader(input);
  }

  private resetState(): void {
    this.r0 = this.r1 = this.r2 = 1;
    this.headerRead = false;
    this.blockRemaining = 0;
    this.blockType = 0;
    this.mainLengths.fill(0);
    this.lengthLengths.fill(0);
  }

  /**
   * Decodes the next frame of `frameSize` bytes (at most 32 KiB) into `out` at `outOffset`.
   * Throws a ClamError('EFORMAT') on corrupt data; bytes of earlier frames stay valid.
   */
  decodeFrame(frameSize: number, out: Uint8Array, outOffset: number): void {
    if (frameSize <= 0 || frameSize > LZX_FRAME_SIZE) throw corrupt('LZX: bad frame size');
    // A block still open at a reset point is a format error libmspack decodes past: so do we.
    if (this.resetInterval && this.frame % this.resetInterval === 0) this.resetState();
    const bits = this.input;
    if (!this.headerRead) {
      if (bits.read(1)) this.intelFileSize = ((bits.read(16) << 16) | bits.read(16)) | 0;
      else this.intelFileSize = 0;
      this.headerRead = true;
    }
    const frameStart = this.windowPos;
    this.frameStart = frameStart;
    if (frameStart + frameSize > this.windowSize) throw corrupt('LZX: frame crosses the window end');
    let todo = frameSize;
    while (todo > 0) {
      if (this.blockRemaining === 0) this.readBlockHeader();
      let run = Math.min(this.blockRemaining, todo);
      todo -= run;
      this.blockRemaining -= run;
      if (this.blockType === BLOCK_UNCOMPRESSED) {
        this.copyRaw(run);
        run = 0;
        if (this.blockRemaining === 0) {
          if (this.blockLength & 1) this.rawPos++; // odd-length raw blocks are padded to a word
          bits.seek(this.rawPos);
        }
      } else {
        run = this.decodeMatches(run);
      }
      if (run < 0) {
        // The last match ran past this stretch: it used bytes of the rest of the block.
        if (-run > this.blockRemaining) throw corrupt('LZX: match overruns the block');
        this.blockRemaining += run;
        todo += run;
        if (todo < 0) throw corrupt('LZX: match overruns the frame');
      }
    }
    if (this.windowPos - frameStart !== frameSize) throw corrupt('LZX: frame size mismatch');
    out.set(this.window.subarray(frameStart, frameStart + frameSize), outOffset);
    if (this.intelStarted && this.intelFileSize !== 0 && this.frame < 32768 && frameSize > 10) {
      translateE8(out, outOffset, frameSize, this.produced, this.intelFileSize);
    }
    this.produced += frameSize;
    this.frame++;
    if (this.windowPos === this.windowSize) this.windowPos = 0;
    if (this.blockType !== BLOCK_UNCOMPRESSED || this.blockRemaining === 0) bits.alignToWord();
  }

  private readBlockHeader(): void {
    const bits = this.input;
    this.blockType = bits.read(3);
    this.blockLength = bits.read(16) * 256 + bits.read(8);
    this.blockRemaining = this.blockLength;
    switch (this.blockType) {
      case BLOCK_ALIGNED: {
        const aligned = new Uint8Array(ALIGNED_SYMBOLS);
        for (let i = 0; i < ALIGNED_SYMBOLS; i++) aligned[i] = bits.read(3);
        this.alignedTable = buildHuffman(aligned);
        this.readMainAndLengthTrees();
        break;
      }
      case BLOCK_VERBATIM:
        this.readMainAndLengthTrees();
        break;
      case BLOCK_UNCOMPRESSED: {
        this.intelStarted = true;
        const pos = bits.alignForRawBytes();
        const data = bits.data;
        if (pos + 12 > data.length) throw corrupt('LZX: truncated uncompressed block');
        const u32 = (p: number) => (data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24)) >>> 0;
        this.r0 = u32(pos);
        this.r1 = u32(pos + 4);
        this.r2 = u32(pos + 8);
        this.rawPos = pos + 12;
        break;
      }
      default:
        throw corrupt(`LZX: bad block type ${this.blockType}`);
    }
  }

  private readMainAndLengthTrees(): void {
    this.readLengths(this.mainLengths, 0, NUM_CHARS);
    this.readLengths(this.mainLengths, NUM_CHARS, this.mainSymbols);
    this.mainTable = buildHuffman(this.mainLengths);
    if (this.mainLengths[0xe8] !== 0) this.intelStarted = true;
    this.readLengths(this.lengthLengths, 0, LENGTH_SYMBOLS);
    this.lengthTable = buildHuffman(this.lengthLengths);
  }

  /** Reads code lengths [first, last) as deltas from the previous block's, via a pretree. */
  private readLengths(lengths: Uint8Array, first: number, last: number): void {
    const bits = this.input;
    const pre = new Uint8Array(PRETREE_SYMBOLS);
    for (let i = 0; i < PRETREE_SYMBOLS; i++) pre[i] = bits.read(4);
    const pretree = buildHuffman(pre);
    for (let x = first; x < last; ) {
      const z = bits.decode(pretree);
      if (z === 17) {
        for (let run = 4 + bits.read(4); run > 0 && x < last; run--) lengths[x++] = 0;
      } else if (z === 18) {
        for (let run = 20 + bits.read(5); run > 0 && x < last; run--) lengths[x++] = 0;
      } else if (z === 19) {
        let run = 4 + bits.read(1);
        const d = bits.decode(pretree);
        if (d > 16) throw corrupt('LZX: bad pretree code');
        const value = (lengths[x]! - d + 17) % 17;
        for (; run > 0 && x < last; run--) lengths[x++] = value;
      } else {
        lengths[x] = (lengths[x]! - z + 17) % 17;
        x++;
      }
    }
  }

  private copyRaw(run: number): void {
    const data = this.input.data;
    if (this.rawPos + run > data.length) throw corrupt('LZX: truncated uncompressed block');
    this.window.set(data.subarray(this.rawPos, this.rawPos + run), this.windowPos);
    this.windowPos += run;
    this.rawPos += run;
  }

  /** Decodes literals and matches for `run` output bytes; returns run minus bytes produced. */
  private decodeMatches(run: number): number {
    const bits = this.input;
    const window = this.window;
    const aligned = this.blockType === BLOCK_ALIGNED;
    let pos = this.windowPos;
    let { r0, r1, r2 } = this;
    while (run > 0) {
      let sym = bits.decode(this.mainTable);
      if (sym < NUM_CHARS) {
        window[pos++] = sym;
        run--;
        continue;
      }
      sym -= NUM_CHARS;
      let length = sym & NUM_PRIMARY_LENGTHS;
      if (length === NUM_PRIMARY_LENGTHS) length += bits.decode(this.lengthTable);
      length += MIN_MATCH;
      const slot = sym >>> 3;
      let offset: number;
      if (slot === 0) {
        offset = r0;
      } else if (slot === 1) {
        offset = r1;
        r1 = r0;
        r0 = offset;
      } else if (slot === 2) {
        offset = r2;
        r2 = r0;
        r0 = offset;
      } else {
        const extra = EXTRA_BITS[slot]!;
        offset = POSITION_BASE[slot]! - 2;
        if (aligned && extra >= 3) {
          if (extra > 3) offset += bits.read(extra - 3) * 8;
          offset += bits.decode(this.alignedTable);
        } else if (extra > 0) {
          offset += bits.read(extra);
        }
        r2 = r1;
        r1 = r0;
        r0 = offset;
      }
      if (pos + length > this.windowSize) throw corrupt('LZX: match runs over the window end');
      if (offset > this.windowSize || (offset > pos && offset > this.produced + pos - this.frameStart)) {
        throw corrupt('LZX: match offset before the start of the stream');
      }
      let src = pos - offset;
      if (src < 0) src += this.windowSize;
      if (src + length <= pos) {
        window.copyWithin(pos, src, src + length);
      } else if (src > pos) {
        for (let i = 0; i < length; i++) {
          window[pos + i] = window[src + i >= this.windowSize ? src + i - this.windowSize : src + i]!;
        }
      } else {
        for (let i = 0; i < length; i++) window[pos + i] = window[src + i]!;
      }
      pos += length;
      run -= length;
    }
    this.windowPos = pos;
    this.r0 = r0;
    this.r1 = r1;
    this.r2 = r2;
    return run;
  }
}

/**
 * Undoes the x86 CALL (0xE8) translation the encoder applied: absolute targets back to
 * relative ones, for the first 1 GiB of output.
 */
function translateE8(out: Uint8Array, start: number, size: number, streamPos: number, fileSize: number): void {
  const end = start + size - 10;
  let curpos = streamPos;
  for (let i = start; i < end; ) {
    if (out[i++] !== 0xe8) {
      curpos++;
      continue;
    }
    const abs = out[i]! | (out[i + 1]! << 8) | (out[i + 2]! << 16) | (out[i + 3]! << 24);
    if (abs >= -curpos && abs < fileSize) {
      const rel = abs >= 0 ? abs - curpos : abs + fileSize;
      out[i] = rel & 0xff;
      out[i + 1] = (rel >>> 8) & 0xff;
      out[i + 2] = (rel >>> 16) & 0xff;
      out[i + 3] = (rel >>> 24) & 0xff;
    }
    i += 4;
    curpos += 5;
  }
}
