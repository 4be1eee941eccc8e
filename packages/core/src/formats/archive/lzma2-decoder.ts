/**
 * The LZMA2 decoder used inside .xz blocks, written from the LZMA and xz specifications.
 *
 * The dictionary is the output itself (the whole decompressed object is kept in memory anyway,
 * bounded by the output limit), so no separate window is allocated whatever the header claims.
 * Validity follows the LZMA SDK decoder that ClamAV embeds (libclamav/7z): the first range-coder
 * byte must be 0, a distance may not reach before the last dictionary reset or past the
 * dictionary size, every LZMA chunk must end exactly at its declared packed and unpacked sizes
 * with the range coder's code at 0, and an end-of-payload marker inside a chunk is an error.
 */
import { OutputBuffer } from './output-buffer.js';

export type Lzma2End = 'end' | 'input-end' | 'limit' | 'error';

export interface Lzma2Result {
  end: Lzma2End;
  /** Offset in the input just after the last byte read (after the end marker on 'end'). */
  offset: number;
  error?: string;
}

const TOP = 2 ** 24;
const PROB_INIT = 1024;
const STATES = 12;
const POS_STATES_MAX = 16;
const LEN_LOW = 8;
const LEN_MID = 8;
const LEN_HIGH = 256;
const END_POS_MODEL_INDEX = 14;
const FULL_DISTANCES = 128;
const ALIGN_BITS = 4;
const MATCH_MIN = 2;

class DataError extends Error {}
class InputEnd extends Error {}

/** A length decoder's probabilities: choice, choice2, then low/mid tables per posState and high. */
function lengthProbs(): Uint16Array {
  return new Uint16Array(2 + POS_STATES_MAX * (LEN_LOW + LEN_MID) + LEN_HIGH);
}

/** The LZMA2 dictionary size for the one-byte property of the filter (0..40). */
export function lzma2DictionarySize(prop: number): number {
  return prop === 40 ? 0xffffffff : (2 | (prop & 1)) * 2 ** (Math.floor(prop / 2) + 11);
}

/**
 * Decodes one LZMA2 stream (the data of an xz block) starting at `start`, appending to `out`.
 * `dictionarySize` comes from the filter properties.
 */
export function lzma2Into(input: Uint8Array, start: number, dictionarySize: number, out: OutputBuffer): Lzma2Result {
  const decoder = new LzmaState(input, out, dictionarySize);
  let pos = start;
  let needDictReset = true;
  let needState = true;
  let needProps = true;
  try {
    for (;;) {
      if (pos >= input.length) throw new InputEnd();
      const control = input[pos++]!;
      if (control === 0x00) return { end: 'end', offset: pos };
      if (control === 0x01 || control === 0x02) {
        if (input.length - pos < 2) throw new InputEnd();
        const size = ((input[pos]! << 8) | input[pos + 1]!) + 1;
        pos += 2;
        if (control === 0x01) {
          decoder.resetDictionary();
          needProps = needState = true;
        } else if (needDictReset) {
          throw new DataError('uncompressed chunk without dictionary reset');
        }
        needDictReset = false;
        const available = Math.min(size, input.length - pos);
        decoder.copyUncompressed(input.subarray(pos, pos + available));
        pos += available;
        if (out.truncated) return { end: 'limit', offset: pos };
        if (available < size) throw new InputEnd();
        continue;
      }
      if (control < 0x80) throw new DataError('invalid LZMA2 control byte');

      if (input.length - pos < 4) throw new InputEnd();
      const unpacked = (((control & 0x1f) << 16) | (input[pos]! << 8) | input[pos + 1]!) + 1;
      const packed = ((input[pos + 2]! << 8) | input[pos + 3]!) + 1;
      pos += 4;
      const mode = (control >>> 5) & 3;
      if (mode === 3) decoder.resetDictionary();
      else if (needDictReset) throw new DataError('LZMA chunk without dictionary reset');
      if (mode >= 2) {
        if (pos >= input.length) throw new InputEnd();
        decoder.setProperties(input[pos++]!);
        needProps = false;
      } else if (needProps) {
        throw new DataError('LZMA chunk without properties');
      }
      if (mode >= 1) decoder.resetState();
      else if (needState) throw new DataError('LZMA chunk without state reset');
      needDictReset = needState = false;

      const complete = decoder.decodeChunk(pos, packed, unpacked);
      if (!complete) return { end: 'limit', offset: pos };
      pos += packed;
    }
  } catch (caught) {
    if (caught instanceof InputEnd) return { end: 'input-end', offset: input.length };
    if (caught instanceof DataError) return { end: 'error', offset: pos, error: caught.message };
    throw caught;
  }
}

/** Probabilities, repeat distances and range coder of an LZMA decoder that writes into `out`. */
class LzmaState {
  private lc = 0;
  private lp = 0;
  private pb = 0;
  private literal = new Uint16Array(0x300);
  private readonly isMatch = new Uint16Array(STATES * POS_STATES_MAX);
  private readonly isRep = new Uint16Array(STATES);
  private readonly isRepG0 = new Uint16Array(STATES);
  private readonly isRepG1 = new Uint16Array(STATES);
  private readonly isRepG2 = new Uint16Array(STATES);
  private readonly isRep0Long = new Uint16Array(STATES * POS_STATES_MAX);
  private readonly posSlot = new Uint16Array(4 * 64);
  private readonly posSpecial = new Uint16Array(FULL_DISTANCES - END_POS_MODEL_INDEX);
  private readonly align = new Uint16Array(1 << ALIGN_BITS);
  private readonly matchLength = lengthProbs();
  private readonly repLength = lengthProbs();
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  /** Output position of the last dictionary reset: matches may not reach before it. */
  private dictionaryStart = 0;
  private range = 0;
  private code = 0;
  private pos = 0;
  private end = 0;

  constructor(
    private readonly input: Uint8Array,
    private readonly out: OutputBuffer,
    private readonly dictionarySize: number,
  ) {}

  resetDictionary(): void {
    this.dictionaryStart = this.out.length;
  }

  copyUncompressed(bytes: Uint8Array): void {
    this.out.append(bytes);
  }

  setProperties(byte: number): void {
    if (byte >= 9 * 5 * 5) throw new DataError('invalid LZMA properties');
    this.lc = byte % 9;
    const rest = Math.floor(byte / 9);
    this.lp = rest % 5;
    this.pb = Math.floor(rest / 5);
    if (this.lc + this.lp > 4) throw new DataError('invalid LZMA2 properties');
    this.literal = new Uint16Array(0x300 << (this.lc + this.lp));
  }

  resetState(): void {
    for (const probs of [
      this.literal, this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long,
      this.posSlot, this.posSpecial, this.align, this.matchLength, this.repLength,
    ]) {
      probs.fill(PROB_INIT);
    }
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  private next(): number {
    if (this.pos >= this.end) throw new DataError('LZMA chunk overruns its packed size');
    if (this.pos >= this.input.length) throw new InputEnd();
    return this.input[this.pos++]!;
  }

  /** Shifts in the next byte; 32-bit wrap-around as in the SDK, so corrupt input stays bounded. */
  private normalize(): void {
    this.range = (this.range << 8) >>> 0;
    this.code = ((this.code << 8) | this.next()) >>> 0;
  }

  private bit(probs: Uint16Array, index: number): number {
    if (this.range < TOP) this.normalize();
    const prob = probs[index]!;
    const bound = (this.range >>> 11) * prob;
    if (this.code < bound) {
      this.range = bound;
      probs[index] = prob + ((2048 - prob) >>> 5);
      return 0;
    }
    this.range -= bound;
    this.code -= bound;
    probs[index] = prob - (prob >>> 5);
    return 1;
  }

  private tree(probs: Uint16Array, offset: number, bits: number): number {
    let symbol = 1;
    for (let i = 0; i < bits; i++) symbol = (symbol << 1) | this.bit(probs, offset + symbol);
    return symbol - (1 << bits);
  }

  private reverseTree(probs: Uint16Array, offset: number, bits: number): number {
    let symbol = 1;
    let result = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(probs, offset + symbol);
      symbol = (symbol << 1) | b;
      result |= b << i;
    }
    return result;
  }

  private direct(count: number): number {
    let result = 0;
    for (let i = 0; i < count; i++) {
      if (this.range < TOP) this.normalize();
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      result = result * 2 + b;
    }
    return result;
  }

  private length(probs: Uint16Array, posState: number): number {
    if (!this.bit(probs, 0)) return this.tree(probs, 2 + posState * LEN_LOW, 3);
    if (!this.bit(probs, 1)) return LEN_LOW + this.tree(probs, 2 + POS_STATES_MAX * LEN_LOW + posState * LEN_MID, 3);
    return LEN_LOW + LEN_MID + this.tree(probs, 2 + POS_STATES_MAX * (LEN_LOW + LEN_MID), 8);
  }

  private distance(length: number): number {
    const slot = this.tree(this.posSlot, Math.min(length, 3) * 64, 6);
    if (slot < 4) return slot;
    const footerBits = (slot >>> 1) - 1;
    const base = (2 | (slot & 1)) * 2 ** footerBits;
    if (slot < END_POS_MODEL_INDEX) return base + this.reverseTree(this.posSpecial, base - slot - 1, footerBits);
    return base + this.direct(footerBits - ALIGN_BITS) * 16 + this.reverseTree(this.align, 0, ALIGN_BITS);
  }

  /**
   * Decodes `unpacked` bytes from the `packed` bytes at `start`. Returns false when the output
   * limit stopped it.
   */
  decodeChunk(start: number, packed: number, unpacked: number): boolean {
    this.pos = start;
    this.end = start + packed;
    if (this.next() !== 0) throw new DataError('first range coder byte is not 0');
    this.code = 0;
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.next()) >>> 0;
    this.range = 0xffffffff;

    const out = this.out;
    const target = out.length + unpacked;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    while (out.length < target) {
      const processed = out.length - this.dictionaryStart;
      const posState = processed & pbMask;
      const state = this.state;
      if (!this.bit(this.isMatch, (state << 4) + posState)) {
        if (out.length === out.bytes.length && out.room(1) === 0) return this.stopAtLimit();
        const previous = processed > 0 ? out.bytes[out.length - 1]! : 0;
        const offset = 0x300 * (((processed & lpMask) << this.lc) + (previous >>> (8 - this.lc)));
        let symbol = 1;
        if (state >= 7) {
          let matchByte = out.bytes[out.length - this.rep0 - 1]!;
          do {
            const matchBit = (matchByte >>> 7) & 1;
            matchByte <<= 1;
            const b = this.bit(this.literal, offset + ((1 + matchBit) << 8) + symbol);
            symbol = (symbol << 1) | b;
            if (matchBit !== b) break;
          } while (symbol < 0x100);
        }
        while (symbol < 0x100) symbol = (symbol << 1) | this.bit(this.literal, offset + symbol);
        out.bytes[out.length++] = symbol & 0xff;
        this.state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }

      let length: number;
      if (!this.bit(this.isRep, state)) {
        length = this.length(this.matchLength, posState);
        this.state = state < 7 ? 7 : 10;
        const distance = this.distance(length);
        if (distance === 0xffffffff) throw new DataError('end marker inside an LZMA2 chunk');
        this.rep3 = this.rep2;
        this.rep2 = this.rep1;
        this.rep1 = this.rep0;
        this.rep0 = distance;
      } else {
        if (processed === 0) throw new DataError('repeated match before any data');
        if (!this.bit(this.isRepG0, state)) {
          if (!this.bit(this.isRep0Long, (state << 4) + posState)) {
            this.state = state < 7 ? 9 : 11;
            if (out.length === out.bytes.length && out.room(1) === 0) return this.stopAtLimit();
            out.bytes[out.length] = out.bytes[out.length - this.rep0 - 1]!;
            out.length++;
            continue;
          }
        } else {
          let distance: number;
          if (!this.bit(this.isRepG1, state)) {
            distance = this.rep1;
          } else {
            if (!this.bit(this.isRepG2, state)) {
              distance = this.rep2;
            } else {
              distance = this.rep3;
              this.rep3 = this.rep2;
            }
            this.rep2 = this.rep1;
          }
          this.rep1 = this.rep0;
          this.rep0 = distance;
        }
        length = this.length(this.repLength, posState);
        this.state = state < 7 ? 8 : 11;
      }

      if (this.rep0 >= Math.min(processed, this.dictionarySize)) throw new DataError('match distance out of range');
      const total = length + MATCH_MIN;
      if (total > target - out.length) throw new DataError('match crosses the end of the chunk');
      const count = out.room(total);
      out.repeat(this.rep0 + 1, count);
      if (count < total) return this.stopAtLimit();
    }
    // The SDK normalises once after the last symbol; the chunk must then be used up exactly.
    if (this.range < TOP) this.normalize();
    if (this.code !== 0 || this.pos !== this.end) throw new DataError('LZMA chunk does not end at its packed size');
    return true;
  }

  private stopAtLimit(): false {
    this.out.truncated = true;
    return false;
  }
}
