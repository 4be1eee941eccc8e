import { corrupt } from './corrupt.js';

/**
 * LZMA and LZMA2 decoders (the 7z, xz and lzma-alone compressors), written from the LZMA
 * specification. They decode straight into the caller's output buffer, which doubles as the
 * dictionary: archive members are unpacked whole into memory anyway, and this avoids a second
 * copy of every byte. The output size is always known (7z and LZMA2 chunk headers give it),
 * so decoding stops exactly there, whether or not an end marker follows.
 */

const NUM_STATES = 12;
const POS_STATES_MAX = 16;
const LEN_LOW_SYMBOLS = 8;
const LEN_HIGH_SYMBOLS = 256;
const MATCH_MIN_LEN = 2;
const END_POS_MODEL_INDEX = 14;
const NUM_FULL_DISTANCES = 128;
const NUM_ALIGN_BITS = 4;
const LEN_TO_POS_STATES = 4;
const PROB_INIT = 1024;
const TOP = 0x1000000;

/** Probability model layout (offsets into one Uint16Array). */
const IS_MATCH = 0;
const IS_REP = IS_MATCH + NUM_STATES * POS_STATES_MAX;
const IS_REP_G0 = IS_REP + NUM_STATES;
const IS_REP_G1 = IS_REP_G0 + NUM_STATES;
const IS_REP_G2 = IS_REP_G1 + NUM_STATES;
const IS_REP0_LONG = IS_REP_G2 + NUM_STATES;
const POS_SLOT = IS_REP0_LONG + NUM_STATES * POS_STATES_MAX;
const SPEC_POS = POS_SLOT + LEN_TO_POS_STATES * 64;
const ALIGN = SPEC_POS + NUM_FULL_DISTANCES - END_POS_MODEL_INDEX;
const LEN_CODER = ALIGN + (1 << NUM_ALIGN_BITS);
const LEN_CODER_SIZE = 2 + POS_STATES_MAX * LEN_LOW_SYMBOLS * 2 + LEN_HIGH_SYMBOLS;
const REP_LEN_CODER = LEN_CODER + LEN_CODER_SIZE;
const LITERAL = REP_LEN_CODER + LEN_CODER_SIZE;
/* Within a length coder. */
const LEN_CHOICE = 0;
const LEN_CHOICE2 = 1;
const LEN_LOW = 2;
const LEN_MID = LEN_LOW + POS_STATES_MAX * LEN_LOW_SYMBOLS;
const LEN_HIGH = LEN_MID + POS_STATES_MAX * LEN_LOW_SYMBOLS;

export interface LzmaProperties {
  readonly lc: number;
  readonly lp: number;
  readonly pb: number;
}

/** Decodes the lc/lp/pb properties byte. */
export function parseLzmaPropertiesByte(byte: number): LzmaProperties {
  if (byte >= 9 * 5 * 5) throw corrupt('LZMA: bad properties byte');
  return { lc: byte % 9, lp: Math.floor(byte / 9) % 5, pb: Math.floor(byte / 45) };
}

/**
 * One LZMA decoding state. `decode` may be called repeatedly on consecutive stretches of the
 * output (LZMA2 chunks); the range coder restarts each call, the model persists unless reset.
 */
export class LzmaDecoder {
  private probs: Uint16Array = new Uint16Array(0);
  private lc = 0;
  private lp = 0;
  private pb = 0;
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  /** Output position of the last dictionary reset: no match may reach before it. */
  private dictStart = 0;

  // Range decoder.
  private range = 0;
  private code = 0;
  private input: Uint8Array = new Uint8Array(0);
  private inPos = 0;
  private inEnd = 0;

  setProperties(props: LzmaProperties): void {
    this.lc = props.lc;
    this.lp = props.lp;
    this.pb = props.pb;
    const size = LITERAL + (0x300 << (props.lc + props.lp));
    if (this.probs.length !== size) this.probs = new Uint16Array(size);
  }

  resetState(): void {
    this.probs.fill(PROB_INIT);
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  resetDictionary(outPos: number): void {
    this.dictStart = outPos;
  }

  /**
   * Decodes from `input[inStart, inEnd)` until `out` is filled up to `outEnd`, starting at
   * `outPos`. Returns the input position after the data consumed. Stops early (returning the
   * output position reached via `lastOutPos`) on an end marker.
   */
  decode(input: Uint8Array, inStart: number, inEnd: number, out: Uint8Array, outPos: number, outEnd: number): number {
    this.input = input;
    this.inPos = inStart;
    this.inEnd = inEnd;
    if (inEnd - inStart < 5) throw corrupt('LZMA: input too short');
    this.inPos++; // the first byte of a range-coded stream is always 0
    this.code = 0;
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.input[this.inPos++]!) >>> 0;
    this.range = 0xffffffff;
    this.lastOutPos = this.run(out, outPos, outEnd);
    return this.inPos;
  }

  /** Output position reached by the last `decode` (less than asked only at an end marker). */
  lastOutPos = 0;

  private nextByte(): number {
    // Past the end the decoder sees zeros; the caller's bounds catch a truly short stream.
    if (this.inPos >= this.inEnd) {
      if (this.inPos++ > this.inEnd + 16) throw corrupt('LZMA: input ended early');
      return 0;
    }
    return this.input[this.inPos++]!;
  }

  private bit(index: number): number {
    const probs = this.probs;
    const p = probs[index]!;
    const bound = (this.range >>> 11) * p;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probs[index] = p + ((2048 - p) >>> 5);
      bit = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      probs[index] = p - (p >>> 5);
      bit = 1;
    }
    if (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.code = ((this.code * 256) | this.nextByte()) >>> 0;
    }
    return bit;
  }

  private directBits(count: number): number {
    let result = 0;
    for (let i = 0; i < count; i++) {
      this.range >>>= 1;
      let bit = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        bit = 1;
      }
      result = ((result << 1) | bit) >>> 0;
      if (this.range < TOP) {
        this.range = (this.range * 256) >>> 0;
        this.code = ((this.code * 256) | this.nextByte()) >>> 0;
      }
    }
    return result;
  }

  private bitTree(base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(base + m);
    return m - (1 << bits);
  }

  private reverseBitTree(base: number, bits: number): number {
    let m = 1;
    let symbol = 0;
    for (let i = 0; i < bits; i++) {
      const bit = this.bit(base + m);
      m = (m << 1) | bit;
      symbol |= bit << i;
    }
    return symbol;
  }

  private length(base: number, posState: number): number {
    if (this.bit(base + LEN_CHOICE) === 0) return this.bitTree(base + LEN_LOW + posState * LEN_LOW_SYMBOLS, 3);
    if (this.bit(base + LEN_CHOICE2) === 0) return 8 + this.bitTree(base + LEN_MID + posState * LEN_LOW_SYMBOLS, 3);
    return 16 + this.bitTree(base + LEN_HIGH, 8);
  }

  private run(out: Uint8Array, pos: number, end: number): number {
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    const lc = this.lc;
    let state = this.state;
    let rep0 = this.rep0;
    let rep1 = this.rep1;
    let rep2 = this.rep2;
    let rep3 = this.rep3;
    const dictStart = this.dictStart;
    try {
      while (pos < end) {
        const processed = pos - dictStart;
        const posState = processed & pbMask;
        if (this.bit(IS_MATCH + (state << 4) + posState) === 0) {
          const prev = processed > 0 ? out[pos - 1]! : 0;
          const base = LITERAL + 0x300 * (((processed & lpMask) << lc) + (prev >>> (8 - lc)));
          let symbol = 1;
          if (state >= 7) {
            let matchByte = out[pos - rep0 - 1]!;
            while (symbol < 0x100) {
              const matchBit = (matchByte >>> 7) & 1;
              matchByte <<= 1;
              const bit = this.bit(base + ((1 + matchBit) << 8) + symbol);
              symbol = (symbol << 1) | bit;
              if (matchBit !== bit) break;
            }
          }
          while (symbol < 0x100) symbol = (symbol << 1) | this.bit(base + symbol);
          out[pos++] = symbol & 0xff;
          state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
          continue;
        }
        let len: number;
        if (this.bit(IS_REP + state) !== 0) {
          if (processed === 0) throw corrupt('LZMA: repeated match at the stream start');
          if (this.bit(IS_REP_G0 + state) === 0) {
            if (this.bit(IS_REP0_LONG + (state << 4) + posState) === 0) {
              if (rep0 >= processed) throw corrupt('LZMA: match distance beyond the data');
              state = state < 7 ? 9 : 11;
              out[pos] = out[pos - rep0 - 1]!;
              pos++;
              continue;
            }
          } else {
            let dist: number;
            if (this.bit(IS_REP_G1 + state) === 0) {
              dist = rep1;
            } else {
              if (this.bit(IS_REP_G2 + state) === 0) {
                dist = rep2;
              } else {
                dist = rep3;
                rep3 = rep2;
              }
              rep2 = rep1;
            }
            rep1 = rep0;
            rep0 = dist;
          }
          len = this.length(REP_LEN_CODER, posState);
          state = state < 7 ? 8 : 11;
        } else {
          rep3 = rep2;
          rep2 = rep1;
          rep1 = rep0;
          len = this.length(LEN_CODER, posState);
          state = state < 7 ? 7 : 10;
          const slot = this.bitTree(POS_SLOT + (Math.min(len, LEN_TO_POS_STATES - 1) << 6), 6);
          if (slot < 4) {
            rep0 = slot;
          } else {
            const direct = (slot >>> 1) - 1;
            let dist = ((2 | (slot & 1)) << direct) >>> 0;
            if (slot < END_POS_MODEL_INDEX) {
              dist += this.reverseBitTree(SPEC_POS + dist - slot - 1, direct);
            } else {
              dist = (dist + this.directBits(direct - NUM_ALIGN_BITS) * 16) >>> 0;
              dist = (dist + this.reverseBitTree(ALIGN, NUM_ALIGN_BITS)) >>> 0;
              if (dist === 0xffffffff) break; // end marker
            }
            rep0 = dist;
          }
        }
        len += MATCH_MIN_LEN;
        if (rep0 >= pos - dictStart) throw corrupt('LZMA: match distance beyond the data');
        const stop = Math.min(end, pos + len);
        let src = pos - rep0 - 1;
        if (src + (stop - pos) <= pos) {
          out.copyWithin(pos, src, src + (stop - pos));
          pos = stop;
        } else {
          while (pos < stop) out[pos++] = out[src++]!;
        }
      }
    } finally {
      this.state = state;
      this.rep0 = rep0;
      this.rep1 = rep1;
      this.rep2 = rep2;
      this.rep3 = rep3;
    }
    return pos;
  }
}

/** Decodes a 7z LZMA stream (5-byte properties: lc/lp/pb byte + dictionary size) of known size. */
export function lzmaDecode(props: Uint8Array, input: Uint8Array, out: Uint8Array): void {
  if (props.length < 5) throw corrupt('LZMA: bad coder properties');
  const decoder = new LzmaDecoder();
  decoder.setProperties(parseLzmaPropertiesByte(props[0]!));
  decoder.resetState();
  decoder.resetDictionary(0);
  decoder.decode(input, 0, input.length, out, 0, out.length);
  if (decoder.lastOutPos < out.length) throw corrupt('LZMA: stream ended before its declared size');
}

/**
 * Decodes an LZMA2 stream (a sequence of LZMA and stored chunks) into `out`, stopping when it
 * is full or the stream ends. Returns the number of bytes produced.
 */
export function lzma2Decode(input: Uint8Array, out: Uint8Array): number {
  const decoder = new LzmaDecoder();
  let inPos = 0;
  let outPos = 0;
  let needProps = true;
  let needDictReset = true;
  while (outPos < out.length) {
    if (inPos >= input.length) throw corrupt('LZMA2: input ended early');
    const control = input[inPos++]!;
    if (control === 0x00) break;
    if (inPos + 2 > input.length) throw corrupt('LZMA2: truncated chunk header');
    if (control === 0x01 || control === 0x02) {
      if (control === 0x01) {
        decoder.resetDictionary(outPos);
        needDictReset = false;
      } else if (needDictReset) {
        throw corrupt('LZMA2: missing dictionary reset');
      }
      const size = ((input[inPos]! << 8) | input[inPos + 1]!) + 1;
      inPos += 2;
      const take = Math.min(size, out.length - outPos, input.length - inPos);
      out.set(input.subarray(inPos, inPos + take), outPos);
      outPos += take;
      inPos += size;
      if (take < size && outPos < out.length) throw corrupt('LZMA2: truncated stored chunk');
      continue;
    }
    if (control < 0x80) throw corrupt('LZMA2: bad chunk type');
    if (inPos + 4 > input.length) throw corrupt('LZMA2: truncated chunk header');
    const unpacked = (control & 0x1f) * 65536 + ((input[inPos]! << 8) | input[inPos + 1]!) + 1;
    const packed = ((input[inPos + 2]! << 8) | input[inPos + 3]!) + 1;
    inPos += 4;
    const reset = (control >>> 5) & 3;
    if (reset === 3) {
      decoder.resetDictionary(outPos);
      needDictReset = false;
    } else if (needDictReset) {
      throw corrupt('LZMA2: missing dictionary reset');
    }
    if (reset >= 2) {
      const props = parseLzmaPropertiesByte(input[inPos++] ?? 0xff);
      if (props.lc + props.lp > 4) throw corrupt('LZMA2: lc + lp > 4');
      decoder.setProperties(props);
      needProps = false;
    } else if (needProps) {
      throw corrupt('LZMA2: missing properties');
    }
    if (reset >= 1) decoder.resetState();
    const chunkEnd = Math.min(out.length, outPos + unpacked);
    decoder.decode(input, inPos, Math.min(inPos + packed, input.length), out, outPos, chunkEnd);
    if (decoder.lastOutPos < chunkEnd) throw corrupt('LZMA2: chunk ended early');
    outPos = chunkEnd;
    inPos += packed;
  }
  return outPos;
}
