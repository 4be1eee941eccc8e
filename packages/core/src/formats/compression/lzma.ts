import type { OutputBuffer } from '../archive/output-buffer.js';
import { type CallSize, INPUT_LEFT_AT_END, type NsisStreamResult } from './nsis-stream.js';

/**
 * LZMA and LZMA2 decoding for 7z coders and .xz blocks, written from the LZMA and xz
 * specifications: one range coder and LZMA state machine under two framings.
 *
 * The output is the dictionary: callers keep the whole decompressed object in memory anyway
 * (bounded by the OutputBuffer's limit), so no separate window is allocated whatever a header
 * claims, and matches are copies within the output. Validity follows the LZMA SDK decoder that
 * ClamAV embeds (libclamav/7z), because which damaged streams it rejects decides what ClamAV
 * scans: the first range-coder byte must be 0, a distance may not reach before the last
 * dictionary reset (nor past the dictionary size, when the caller enforces one), a match may
 * not run past the declared size, and an LZMA2 chunk must end exactly at its packed and
 * unpacked sizes with the code at 0.
 */

/** How decoding stopped. */
export type LzmaEnd =
  /** The stream is complete: LZMA2's end marker, or the declared size of plain LZMA data. */
  | 'end'
  /** The input ran out inside the stream (a longer file could have completed it). */
  | 'input-end'
  /** The output reached `OutputBuffer.limit` with more to come (`truncated` is set). */
  | 'limit'
  /** Corrupt data; `error` says why. */
  | 'error';

export interface LzmaResult {
  end: LzmaEnd;
  /**
   * On 'end', the input offset just after the stream (LZMA2: after its end marker; plain LZMA:
   * after the last byte the range decoder read); on 'limit' and 'error', where the chunk being
   * decoded starts (its range-coded data, after the chunk header); on 'input-end', the input
   * length.
   */
  offset: number;
  error?: string;
}

/** The default dictionary size: none, so only the start of the data bounds a distance. */
const UNLIMITED = 0xffffffff;

/** The LZMA2 dictionary size for the one-byte property of the filter (0..40). */
export function lzma2DictionarySize(prop: number): number {
  return prop === 40 ? 0xffffffff : (2 | (prop & 1)) * 2 ** (Math.floor(prop / 2) + 11);
}

/**
 * Decodes plain LZMA data (a 7z coder: 5 property bytes, lc/lp/pb then the dictionary size) of
 * `size` bytes from `input`, appending to `out`. The dictionary size is not checked: 7z decodes
 * a folder into one buffer, so any distance within the output can be served. An end marker may
 * follow the data; it is not read.
 */
export function lzmaInto(props: Uint8Array, input: Uint8Array, size: number, out: OutputBuffer): LzmaResult {
  const decoder = new LzmaDecoder(UNLIMITED);
  try {
    if (props.length < 5) throw new DataError('bad LZMA coder properties');
    decoder.setProperties(parseProperties(props[0]!));
    decoder.resetState();
    decoder.resetDictionary(out.length);
    const stop = decoder.decode(input, 0, input.length, out, out.length + size);
    if (stop === 'marker') throw new DataError('end marker before the declared size');
    if (stop === 'limit') return { end: 'limit', offset: 0 };
    return { end: 'end', offset: decoder.inputOffset };
  } catch (caught) {
    return stopped(caught, 0, input.length);
  }
}

/**
 * Decodes an LZMA2 stream (a 7z coder, or the data of an xz block) starting at `start`,
 * appending to `out`; `dictionarySize` comes from the filter properties when it is to be
 * enforced. Chunk sequencing follows the SDK's Lzma2Dec: a dictionary reset first, properties
 * and a state reset before the first LZMA chunk and again after an uncompressed chunk that
 * resets the dictionary.
 */
export function lzma2Into(input: Uint8Array, start: number, out: OutputBuffer, dictionarySize = UNLIMITED): LzmaResult {
  const decoder = new LzmaDecoder(dictionarySize);
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
          decoder.resetDictionary(out.length);
          needProps = needState = true;
        } else if (needDictReset) {
          throw new DataError('uncompressed chunk without dictionary reset');
        }
        needDictReset = false;
        const available = Math.min(size, input.length - pos);
        out.append(input.subarray(pos, pos + available));
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
      if (mode === 3) decoder.resetDictionary(out.length);
      else if (needDictReset) throw new DataError('LZMA chunk without dictionary reset');
      if (mode >= 2) {
        if (pos >= input.length) throw new InputEnd();
        const props = parseProperties(input[pos++]!);
        if (props.lc + props.lp > 4) throw new DataError('invalid LZMA2 properties');
        decoder.setProperties(props);
        needProps = false;
      } else if (needProps) {
        throw new DataError('LZMA chunk without properties');
      }
      if (mode >= 1) decoder.resetState();
      else if (needState) throw new DataError('LZMA chunk without state reset');
      needDictReset = needState = false;

      const stop = decoder.decode(input, pos, packed, out, out.length + unpacked);
      if (stop === 'limit') return { end: 'limit', offset: pos };
      if (stop === 'marker') throw new DataError('end marker inside an LZMA2 chunk');
      if (!decoder.endsCleanly()) throw new DataError('LZMA chunk does not end at its packed size');
      pos += packed;
    }
  } catch (caught) {
    return stopped(caught, pos, input.length);
  }
}

/** The smallest dictionary the LZMA SDK allocates. */
const MIN_DICTIONARY = 4096;
/** libclamav refuses allocations above 1 GiB: a larger dictionary fails the decoder's set-up. */
const MAX_ALLOCATION = 1024 * 1024 * 1024;
/** The SDK decodes symbol by symbol (each call its own) once fewer input bytes than this are left. */
const REQUIRED_INPUT_MAX = 20;

/**
 * Decodes an LZMA stream as NSIS stores it (5 property bytes, then range-coded data up to an end
 * marker or the end of the input) through libclamav's streaming wrapper of the LZMA SDK, which
 * the NSIS reader calls with output buffers of `callSize` bytes. What the SDK hands over before
 * it fails is reproduced: a data error loses what the failing decode pass had produced since it
 * began (at a buffer boundary, a wrap of the dictionary buffer, or, in the last 20 input bytes,
 * at the symbol itself), and at the end of the input a symbol counts only when the byte the
 * range coder reads after it is there too.
 */
export function lzmaStreamInto(input: Uint8Array, out: OutputBuffer, callSize: CallSize): NsisStreamResult {
  if (input.length < 5) return { end: 'input-end', inputUsedUpAfter: Number.POSITIVE_INFINITY };
  const base = out.length;
  let dictionarySize = (input[1]! | (input[2]! << 8) | (input[3]! << 16) | (input[4]! << 24)) >>> 0;
  dictionarySize = Math.max(dictionarySize, MIN_DICTIONARY);
  const decoder = new LzmaDecoder(dictionarySize);
  decoder.trackCalls(base, nsisCallBoundaries(base, dictionarySize, out, callSize), input.length - REQUIRED_INPUT_MAX);
  try {
    if (dictionarySize > MAX_ALLOCATION) throw new DataError('dictionary too large to allocate');
    decoder.setProperties(parseProperties(input[0]!));
    decoder.resetState();
    decoder.resetDictionary(base);
    const stop = decoder.decode(input, 5, Number.POSITIVE_INFINITY, out, Number.MAX_SAFE_INTEGER);
    if (stop === 'limit') return streamStopped('limit', decoder, base);
    if (!decoder.settle()) throw new DataError('end marker with the range code not at 0');
    return streamStopped('end', decoder, base);
  } catch (caught) {
    const calls = decoder.calls;
    if (caught instanceof DataError) {
      out.cut(calls.passStart);
      return streamStopped('error', decoder, base, caught.message);
    }
    if (caught instanceof SymbolLeftIncomplete) {
      out.cut(calls.previousSymbolStart);
      return streamStopped('input-end', decoder, base);
    }
    if (caught instanceof InputEnd) {
      out.cut(calls.symbolStart);
      return streamStopped('input-end', decoder, base);
    }
    throw caught;
  }
}

/**
 * The SDK decodes no further than the reader's buffer, so the reader's input runs low from the
 * first symbol that starts with no more than INPUT_LEFT_AT_END input bytes left.
 */
function streamStopped(end: NsisStreamResult['end'], decoder: LzmaDecoder, base: number, error?: string): NsisStreamResult {
  return { end, inputUsedUpAfter: decoder.calls.usedUpAt - 1 - base, error };
}

/**
 * Where the SDK starts a new decode pass, from an output position: at the next output buffer
 * the NSIS reader passes, or where the dictionary buffer wraps.
 */
function nsisCallBoundaries(base: number, dictionarySize: number, out: OutputBuffer, callSize: CallSize): (pos: number) => number {
  let callEnd = base;
  return (pos) => {
    while (callEnd <= pos) callEnd += Math.max(1, callSize(callEnd - base, out.bytes.subarray(base, callEnd)));
    const wrap = base + (Math.floor((pos - base) / dictionarySize) + 1) * dictionarySize;
    return Math.min(callEnd, wrap);
  };
}

/** Corrupt data: decoding cannot go on. */
class DataError extends Error {}
/** The input ended inside the stream. */
class InputEnd extends Error {}
/** The input ended right after a symbol, before the byte the range coder reads after it. */
class SymbolLeftIncomplete extends InputEnd {}

/** The NSIS reader's decode passes, followed symbol by symbol (see lzmaStreamInto). */
interface CallTracking {
  /** The next output position where a pass starts (never, for 7z and xz). */
  boundary: number;
  nextBoundary: (pos: number) => number;
  /** Input offset from which every symbol is a pass of its own. */
  tailFrom: number;
  passStart: number;
  symbolStart: number;
  previousSymbolStart: number;
  /** The first symbol that starts with at most INPUT_LEFT_AT_END input bytes left (infinite until then). */
  usedUpAt: number;
  usedUpFrom: number;
}

/** The result for an exception thrown while decoding the chunk at `offset`. */
function stopped(caught: unknown, offset: number, inputLength: number): LzmaResult {
  if (caught instanceof InputEnd) return { end: 'input-end', offset: inputLength };
  if (caught instanceof DataError) return { end: 'error', offset, error: caught.message };
  throw caught;
}

interface LzmaProperties {
  readonly lc: number;
  readonly lp: number;
  readonly pb: number;
}

/** Decodes the lc/lp/pb properties byte. */
function parseProperties(byte: number): LzmaProperties {
  if (byte >= 9 * 5 * 5) throw new DataError('invalid LZMA properties');
  return { lc: byte % 9, lp: Math.floor(byte / 9) % 5, pb: Math.floor(byte / 45) };
}

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
/** The distance an end marker decodes to. */
const MARKER = 0xffffffff;

/*
 * All probabilities live in one Uint16Array, at these offsets, so the hot loop indexes a single
 * typed array and a state reset is one fill.
 */
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
/** Where each group of probabilities starts in LZMA's classic layout (the LZMA SDK's, and NsPack's). */
export const LZMA_PROBABILITIES = Object.freeze({
  isMatch: IS_MATCH,
  isRep: IS_REP,
  isRepG0: IS_REP_G0,
  isRepG1: IS_REP_G1,
  isRepG2: IS_REP_G2,
  isRep0Long: IS_REP0_LONG,
  positionSlots: POS_SLOT,
  specialPositions: SPEC_POS,
  align: ALIGN,
  matchLengths: LEN_CODER,
  repLengths: REP_LEN_CODER,
  literals: LITERAL,
});
/* Within a length coder: two choice bits, low and mid trees per posState, one high tree. */
const LEN_CHOICE = 0;
const LEN_CHOICE2 = 1;
const LEN_LOW = 2;
const LEN_MID = LEN_LOW + POS_STATES_MAX * LEN_LOW_SYMBOLS;
const LEN_HIGH = LEN_MID + POS_STATES_MAX * LEN_LOW_SYMBOLS;

/** Why `LzmaDecoder.decode` returned: the target size, the output limit, or an end marker. */
type Stop = 'target' | 'limit' | 'marker';

/**
 * The LZMA model (probabilities, state, repeat distances) and range decoder. `decode` may be
 * called on consecutive stretches of one output (LZMA2 chunks): the range coder restarts each
 * call, the model persists until reset.
 */
class LzmaDecoder {
  private probs = new Uint16Array(0);
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

  private range = 0;
  private code = 0;
  private input = new Uint8Array(0);
  private inPos = 0;
  /** Where the packed data ends, and where reading stops: that or the end of the input. */
  private packedEnd = 0;
  private inEnd = 0;

  calls: CallTracking = {
    boundary: Number.POSITIVE_INFINITY,
    nextBoundary: () => Number.POSITIVE_INFINITY,
    tailFrom: Number.POSITIVE_INFINITY,
    passStart: 0,
    symbolStart: 0,
    previousSymbolStart: 0,
    usedUpAt: Number.POSITIVE_INFINITY,
    usedUpFrom: Number.POSITIVE_INFINITY,
  };

  constructor(private readonly dictionarySize: number) {}

  /** Follows the NSIS reader's decode passes (see lzmaStreamInto). */
  trackCalls(start: number, nextBoundary: (pos: number) => number, tailFrom: number): void {
    this.calls = {
      boundary: start,
      nextBoundary,
      tailFrom,
      passStart: start,
      symbolStart: start,
      previousSymbolStart: start,
      usedUpAt: Number.POSITIVE_INFINITY,
      usedUpFrom: tailFrom + REQUIRED_INPUT_MAX - INPUT_LEFT_AT_END,
    };
  }

  /** The input offset after the bytes the range decoder has read. */
  get inputOffset(): number {
    return this.inPos;
  }

  setProperties(props: LzmaProperties): void {
    this.lc = props.lc;
    this.lp = props.lp;
    this.pb = props.pb;
    // Every properties change comes with a state reset, which fills the array.
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
   * Decodes the `packed` range-coded bytes at `input[start]` until `out` holds `target` bytes,
   * or the output limit or an end marker stops it. Throws DataError or InputEnd.
   *
   * The limit is checked when a byte is about to be written, so the symbol that crosses it is
   * still decoded and may still turn out corrupt: whether a damaged stream ends in 'limit' or
   * 'error' depends on this, and the xz scanner treats the two differently.
   */
  decode(input: Uint8Array, start: number, packed: number, out: OutputBuffer, target: number): Stop {
    this.input = input;
    this.inPos = start;
    this.packedEnd = start + packed;
    this.inEnd = Math.min(this.packedEnd, input.length);
    if (this.nextByte() !== 0) throw new DataError('first range coder byte is not 0');
    let code = 0;
    for (let i = 0; i < 4; i++) code = ((code << 8) | this.nextByte()) >>> 0;
    this.code = code;
    this.range = 0xffffffff;

    let pos = out.length;
    const writeEnd = pos + out.room(target - pos);
    const bytes = out.bytes;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    const lc = this.lc;
    const dictStart = this.dictStart;
    const dictionarySize = this.dictionarySize;
    let state = this.state;
    let rep0 = this.rep0;
    let rep1 = this.rep1;
    let rep2 = this.rep2;
    let rep3 = this.rep3;
    let stop: Stop = 'target';
    const calls = this.calls;
    try {
      while (pos < target) {
        if (pos >= calls.boundary || this.inPos >= calls.tailFrom) this.startPass(pos);
        const processed = pos - dictStart;
        const posState = processed & pbMask;
        if (this.bit(IS_MATCH + (state << 4) + posState) === 0) {
          if (pos === writeEnd) {
            stop = 'limit';
            break;
          }
          const previous = processed > 0 ? bytes[pos - 1]! : 0;
          const base = LITERAL + 0x300 * (((processed & lpMask) << lc) + (previous >>> (8 - lc)));
          let symbol = 1;
          if (state >= 7) {
            // After a match the literal is coded relative to the byte at rep0, until they differ.
            let matchByte = bytes[pos - rep0 - 1]!;
            do {
              const matchBit = (matchByte >>> 7) & 1;
              matchByte <<= 1;
              const bit = this.bit(base + ((1 + matchBit) << 8) + symbol);
              symbol = (symbol << 1) | bit;
              if (matchBit !== bit) break;
            } while (symbol < 0x100);
          }
          // Decoded before `pos++` is evaluated, so a throw inside leaves `pos` at the last byte.
          symbol = this.tree(base, symbol, 0x100);
          bytes[pos++] = symbol & 0xff;
          state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
          continue;
        }

        let len: number;
        if (this.bit(IS_REP + state) === 0) {
          len = this.length(LEN_CODER, posState);
          state = state < 7 ? 7 : 10;
          const distance = this.distance(len);
          if (distance === MARKER) {
            stop = 'marker';
            break;
          }
          rep3 = rep2;
          rep2 = rep1;
          rep1 = rep0;
          rep0 = distance;
        } else {
          if (processed === 0) throw new DataError('repeated match before any data');
          if (this.bit(IS_REP_G0 + state) === 0) {
            if (this.bit(IS_REP0_LONG + (state << 4) + posState) === 0) {
              // A one-byte repeat of rep0. No distance check is needed: every distance was
              // checked when it became rep0, and every dictionary reset comes with a state
              // reset, which sets the distances to 0 (covered by the check above).
              state = state < 7 ? 9 : 11;
              if (pos === writeEnd) {
                stop = 'limit';
                break;
              }
              bytes[pos] = bytes[pos - rep0 - 1]!;
              pos++;
              continue;
            }
          } else {
            let distance: number;
            if (this.bit(IS_REP_G1 + state) === 0) {
              distance = rep1;
            } else {
              if (this.bit(IS_REP_G2 + state) === 0) {
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
          len = this.length(REP_LEN_CODER, posState);
          state = state < 7 ? 8 : 11;
        }

        if (rep0 >= processed || rep0 >= dictionarySize) throw new DataError('match distance out of range');
        len += MATCH_MIN_LEN;
        if (len > target - pos) throw new DataError('match crosses the end of the chunk');
        const count = Math.min(len, writeEnd - pos);
        const end = pos + count;
        let from = pos - rep0 - 1;
        // Short or overlapping copies byte by byte (an overlap repeats a pattern); long ones natively.
        if (count < 32 || from + count > pos) {
          while (pos < end) bytes[pos++] = bytes[from++]!;
        } else {
          bytes.copyWithin(pos, from, from + count);
          pos = end;
        }
        if (count < len) {
          stop = 'limit';
          break;
        }
      }
    } finally {
      out.length = pos;
      this.state = state;
      this.rep0 = rep0;
      this.rep1 = rep1;
      this.rep2 = rep2;
      this.rep3 = rep3;
    }
    if (stop === 'limit') out.truncated = true;
    return stop;
  }

  /**
   * A new decode pass of the NSIS reader may begin at the symbol starting at `pos`; in the last
   * input bytes the range coder's read after the previous symbol must find its byte.
   */
  private startPass(pos: number): void {
    const calls = this.calls;
    calls.previousSymbolStart = calls.symbolStart;
    calls.symbolStart = pos;
    if (pos >= calls.boundary) {
      calls.passStart = pos;
      calls.boundary = calls.nextBoundary(pos);
    }
    if (this.inPos < calls.tailFrom) return;
    calls.passStart = pos;
    if (this.range < TOP) {
      try {
        this.normalize();
      } catch (caught) {
        throw caught instanceof InputEnd ? new SymbolLeftIncomplete() : caught;
      }
    }
    if (this.inPos >= calls.usedUpFrom && calls.usedUpAt === Number.POSITIVE_INFINITY) calls.usedUpAt = pos;
  }

  /** After the last symbol: the SDK normalises once more; is the code then 0? */
  settle(): boolean {
    if (this.range < TOP) this.normalize();
    return this.code === 0;
  }

  /**
   * Whether the range-coded data ended cleanly: the SDK normalises once more after the last
   * symbol, and then the code must be 0 and the packed bytes used up exactly.
   */
  endsCleanly(): boolean {
    return this.settle() && this.inPos === this.packedEnd;
  }

  private nextByte(): number {
    if (this.inPos < this.inEnd) return this.input[this.inPos++]!;
    if (this.inEnd === this.packedEnd) throw new DataError('LZMA chunk overruns its packed size');
    throw new InputEnd();
  }

  /** Shifts in the next byte; 32-bit wrap-around as in the SDK, so corrupt input stays bounded. */
  private normalize(): void {
    this.range = (this.range << 8) >>> 0;
    this.code = ((this.code << 8) | this.nextByte()) >>> 0;
  }

  /** One bit of probability `probs[index]`, which adapts towards the bit seen. */
  private bit(index: number): number {
    if (this.range < TOP) this.normalize();
    const probs = this.probs;
    const p = probs[index]!;
    const bound = (this.range >>> 11) * p;
    if (this.code < bound) {
      this.range = bound;
      probs[index] = p + ((2048 - p) >>> 5);
      return 0;
    }
    this.range -= bound;
    this.code -= bound;
    probs[index] = p - (p >>> 5);
    return 1;
  }

  /** `count` bits of probability one half, most significant first. */
  private directBits(count: number): number {
    let range = this.range;
    let code = this.code;
    let result = 0;
    for (let i = 0; i < count; i++) {
      if (range < TOP) {
        range = (range << 8) >>> 0;
        code = ((code << 8) | this.nextByte()) >>> 0;
      }
      range >>>= 1;
      let bit = 0;
      if (code >= range) {
        code -= range;
        bit = 1;
      }
      result = (result << 1) | bit;
    }
    this.range = range;
    this.code = code;
    return result;
  }

  /**
   * Walks the bit tree at `base` from `node` down to a leaf (`node` reaching `end`, a power of
   * two) and returns the leaf. This is where most bits are decoded (literals, lengths, slots),
   * so it runs the range decoder on locals rather than through `bit`.
   */
  private tree(base: number, node: number, end: number): number {
    const probs = this.probs;
    let range = this.range;
    let code = this.code;
    while (node < end) {
      if (range < TOP) {
        range = (range << 8) >>> 0;
        code = ((code << 8) | this.nextByte()) >>> 0;
      }
      const p = probs[base + node]!;
      const bound = (range >>> 11) * p;
      if (code < bound) {
        range = bound;
        probs[base + node] = p + ((2048 - p) >>> 5);
        node <<= 1;
      } else {
        range -= bound;
        code -= bound;
        probs[base + node] = p - (p >>> 5);
        node = (node << 1) | 1;
      }
    }
    this.range = range;
    this.code = code;
    return node;
  }

  private bitTree(base: number, bits: number): number {
    return this.tree(base, 1, 1 << bits) - (1 << bits);
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

  /** A match length minus MATCH_MIN_LEN, from the length coder at `base`. */
  private length(base: number, posState: number): number {
    if (this.bit(base + LEN_CHOICE) === 0) return this.bitTree(base + LEN_LOW + posState * LEN_LOW_SYMBOLS, 3);
    if (this.bit(base + LEN_CHOICE2) === 0) return 8 + this.bitTree(base + LEN_MID + posState * LEN_LOW_SYMBOLS, 3);
    return 16 + this.bitTree(base + LEN_HIGH, 8);
  }

  /** A match distance minus one (MARKER for an end marker); `len` selects the slot tree. */
  private distance(len: number): number {
    const slot = this.bitTree(POS_SLOT + (Math.min(len, LEN_TO_POS_STATES - 1) << 6), 6);
    if (slot < 4) return slot;
    const footerBits = (slot >>> 1) - 1;
    // Kept in uint32 arithmetic (`>>> 0`): the largest distances use all 32 bits.
    const base = ((2 | (slot & 1)) << footerBits) >>> 0;
    if (slot < END_POS_MODEL_INDEX) return base + this.reverseBitTree(SPEC_POS + base - slot - 1, footerBits);
    const direct = this.directBits(footerBits - NUM_ALIGN_BITS) << NUM_ALIGN_BITS;
    return (base + direct + this.reverseBitTree(ALIGN, NUM_ALIGN_BITS)) >>> 0;
  }
}
