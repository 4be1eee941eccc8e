import { corrupt } from '../compression/corrupt.js';
import type { RarBitInput } from './rar15-bits.js';
import type { EntryOutput, LzWindow } from './rar15-window.js';

/**
 * RAR 1.5 decoder (unpack version 15). There are no transmitted tables: literals, match
 * distances and the flag bytes that choose between literal and match are coded by their rank in
 * self-organising lists (a value moves up its list each time it is used), the rank itself read
 * with one of a few fixed variable-length codes chosen by running averages. Three kinds of
 * match exist: short (repeated distances and recent short distances), long (distances ranked
 * by use), and a "stream mode" that takes over after a run of literals.
 */

/**
 * The fixed codes for ranks: entry i (from 2) is how many values have a code of i bits; a
 * 12-bit peek walks the counts (see `decodeRank`).
 */
const LENGTH_CODE_1 = [0, 0, 2, 1, 2, 2, 4, 5, 4, 4, 8, 0, 224];
const LENGTH_CODE_2 = [0, 0, 0, 5, 2, 2, 4, 5, 4, 4, 8, 2, 220];
const RANK_CODE_0 = [0, 0, 0, 0, 8, 8, 8, 9, 0, 0, 0, 0, 224];
const RANK_CODE_1 = [0, 0, 0, 0, 0, 4, 40, 16, 16, 4, 0, 47, 130];
const RANK_CODE_2 = [0, 0, 0, 0, 0, 2, 5, 46, 64, 116, 24, 0, 0];
const RANK_CODE_3 = [0, 0, 0, 0, 0, 0, 2, 14, 202, 33, 6, 0, 0];
const RANK_CODE_4 = [0, 0, 0, 0, 0, 0, 0, 0, 255, 2, 0, 0, 0];
const RANK_PEEK_BITS = 12;

/**
 * The prefix codes of a short match's kind (0–8 a recent short distance with that length,
 * 9 repeat the last match, 10–13 one of the last four distances, 14 a 15-bit distance): code
 * values left-aligned in a byte, and their lengths for the two tables picked by the average
 * short-match length. Entry 1 (table 1) or 3 (table 2) is one bit longer while `longCodes` is
 * set, which frees the code of entry 14.
 */
const SHORT_CODES_1 = [0x00, 0xa0, 0xd0, 0xe0, 0xf0, 0xf8, 0xfc, 0xfe, 0xff, 0xc0, 0x80, 0x90, 0x98, 0x9c, 0xb0];
const SHORT_LENGTHS_1 = [1, 3, 4, 4, 5, 6, 7, 8, 8, 4, 4, 5, 6, 6, 4];
const SHORT_CODES_2 = [0x00, 0x40, 0x60, 0xa0, 0xd0, 0xe0, 0xf0, 0xf8, 0xfc, 0xc0, 0x80, 0x90, 0x98, 0x9c, 0xb0];
const SHORT_LENGTHS_2 = [2, 3, 3, 3, 4, 4, 5, 6, 6, 4, 4, 5, 6, 6, 4];

const SHORT_REPEAT = 9;
const SHORT_LONG_DISTANCE = 14;
/** After this many literals in a row (with no flags pending) the stream mode starts. */
const STREAM_MODE_AFTER = 16;

export class Rar15Decoder {
  // Self-organising lists: value in the high byte, a use counter in the low byte.
  private readonly literals = new Uint32Array(256);
  private readonly shortDistances = new Uint32Array(256);
  private readonly longDistances = new Uint32Array(256);
  private readonly flagValues = new Uint32Array(256);
  // Where the next value with a given counter goes in each list.
  private readonly literalPlaces = new Uint32Array(256);
  private readonly longPlaces = new Uint32Array(256);
  private readonly flagPlaces = new Uint32Array(256);

  private averageLiteralRank = 0;
  private averageLongRank = 0;
  private averageShortLength = 0;
  private averageLongLength = 0;
  private longDistanceTrend = 0;
  private literalRuns = 0;
  private longCodes = false;
  private literalWeight = 0;
  private matchWeight = 0;
  private maxShortDistance = 0;

  private readonly reps = new Uint32Array(4);
  private repIndex = 0;
  private lastDistance = 0;
  private lastLength = 0;

  // Per entry.
  private flags = 0;
  private flagCount = 0;
  private streamMode = false;
  private repeatRun = 0;

  private input!: RarBitInput;
  private window!: LzWindow;

  decode(input: RarBitInput, window: LzWindow, out: EntryOutput, solid: boolean): void {
    this.input = input;
    this.window = window;
    if (!solid) this.reset();
    this.flags = 0;
    this.flagCount = 0;
    this.streamMode = false;
    this.repeatRun = 0;
    if (out.size === 0) return;

    const end = window.pos + out.size;
    const flushLimit = window.flushLimit;
    this.readFlags();
    this.flagCount = 8;
    while (window.pos < end) {
      if (window.pos - window.flushed > flushLimit) window.flush(out);
      const before = window.pos;
      this.step();
      if (input.overrun) {
        // What the padding after the data decoded to is not content.
        window.pos = before;
        throw corrupt('RAR 1.5: packed data ends early');
      }
    }
    window.flush(out);
  }

  flush(window: LzWindow, out: EntryOutput): void {
    window.flush(out);
  }

  private reset(): void {
    this.averageLiteralRank = 0x3500;
    this.averageLongRank = 0;
    this.averageShortLength = 0;
    this.averageLongLength = 0;
    this.longDistanceTrend = 0;
    this.literalRuns = 0;
    this.longCodes = false;
    this.literalWeight = 0x80;
    this.matchWeight = 0x80;
    this.maxShortDistance = 0x2001;
    this.reps.fill(0);
    this.repIndex = 0;
    this.lastDistance = 0;
    this.lastLength = 0;
    for (let i = 0; i < 256; i++) {
      this.literals[i] = i << 8;
      this.longDistances[i] = i << 8;
      this.shortDistances[i] = i;
      this.flagValues[i] = ((256 - i) & 0xff) << 8;
    }
    this.literalPlaces.fill(0);
    this.flagPlaces.fill(0);
    resetCounters(this.longDistances, this.longPlaces);
  }

  /** One flag-directed step: a literal, a short match or a long match. */
  private step(): void {
    if (!this.streamMode) {
      if (this.nextFlag()) {
        if (this.matchWeight > this.literalWeight) return this.longMatch();
      } else if (this.nextFlag()) {
        if (this.matchWeight <= this.literalWeight) return this.longMatch();
      } else {
        return this.shortMatch();
      }
    }
    this.literal();
  }

  private nextFlag(): boolean {
    if (--this.flagCount < 0) {
      this.readFlags();
      this.flagCount = 7;
    }
    const bit = (this.flags & 0x80) !== 0;
    this.flags = (this.flags << 1) & 0xff;
    return bit;
  }

  private readFlags(): void {
    const place = this.decodeRank(RANK_CODE_2);
    if (place >= 256) return;
    const value = this.promote(this.flagValues, this.flagPlaces, place, 0xff);
    this.flags = value >>> 8;
  }

  private literal(): void {
    const input = this.input;
    const average = this.averageLiteralRank;
    const code =
      average >= 0x7600 ? RANK_CODE_4 : average >= 0x5e00 ? RANK_CODE_3 : average >= 0x3600 ? RANK_CODE_2 : average >= 0x0e00 ? RANK_CODE_1 : RANK_CODE_0;
    let place = this.decodeRank(code);
    if (this.streamMode) {
      if (place === 0) {
        // Rank 0 is the escape of the stream mode: leave it, or a match of length 3 or 4.
        if (input.bits(1)) {
          this.literalRuns = 0;
          this.streamMode = false;
          return;
        }
        const length = input.bits(1) + 3;
        const distance = (this.decodeRank(RANK_CODE_2) << 5) | input.bits(5);
        if (distance === 0) throw corrupt('RAR 1.5: zero match distance');
        this.window.copy(distance, length);
        return;
      }
      place--;
    } else if (this.literalRuns++ >= STREAM_MODE_AFTER && this.flagCount === 0) {
      this.streamMode = true;
    }
    place &= 0xff;
    this.averageLiteralRank += place;
    this.averageLiteralRank -= this.averageLiteralRank >>> 8;
    this.literalWeight += 16;
    if (this.literalWeight > 0xff) {
      this.literalWeight = 0x90;
      this.matchWeight >>>= 1;
    }
    this.window.put(this.literals[place]! >>> 8);
    this.promote(this.literals, this.literalPlaces, place, 0xa1);
  }

  private shortMatch(): void {
    const input = this.input;
    this.literalRuns = 0;
    if (this.repeatRun === 2) {
      if (input.bits(1)) return this.match(this.lastDistance, this.lastLength);
      this.repeatRun = 0;
    }

    const table1 = this.averageShortLength < 37;
    const codes = table1 ? SHORT_CODES_1 : SHORT_CODES_2;
    const lengths = table1 ? SHORT_LENGTHS_1 : SHORT_LENGTHS_2;
    const stretched = table1 ? 1 : 3;
    const peek = input.peek16() >>> 8;
    let kind = 0;
    let bits = 0;
    for (; kind < codes.length; kind++) {
      bits = lengths[kind]! + (kind === stretched && this.longCodes ? 1 : 0);
      if (((peek ^ codes[kind]!) >>> (8 - bits)) === 0) break;
    }
    input.skip(bits);

    let length: number;
    let distance: number;
    if (kind >= SHORT_REPEAT) {
      if (kind === SHORT_REPEAT) {
        this.repeatRun++;
        return this.match(this.lastDistance, this.lastLength);
      }
      this.repeatRun = 0;
      if (kind === SHORT_LONG_DISTANCE) {
        length = this.decodeRank(LENGTH_CODE_2) + 5;
        distance = 0x8000 + input.bits(15);
        this.lastLength = length;
        this.lastDistance = distance;
        return this.window.copy(distance, length);
      }
      distance = this.reps[(this.repIndex - (kind - SHORT_REPEAT)) & 3]!;
      length = this.decodeRank(LENGTH_CODE_1);
      if (length === 0xff && kind === SHORT_REPEAT + 1) {
        // An escape, not a match: switch the code lengths of the short-match kinds.
        this.longCodes = !this.longCodes;
        return;
      }
      if (distance > 256) {
        length++;
        if (distance >= this.maxShortDistance) length++;
      }
    } else {
      this.repeatRun = 0;
      length = kind;
      this.averageShortLength += kind;
      this.averageShortLength -= this.averageShortLength >>> 4;
      const place = this.decodeRank(RANK_CODE_2) & 0xff;
      const list = this.shortDistances;
      distance = list[place]! + 1;
      if (place !== 0) {
        // Move the distance one step up its list.
        list[place] = list[place - 1]!;
        list[place - 1] = distance - 1;
      }
    }
    this.reps[this.repIndex++ & 3] = distance;
    this.match(distance, length + 2);
  }

  private longMatch(): void {
    const input = this.input;
    this.literalRuns = 0;
    this.matchWeight += 16;
    if (this.matchWeight > 0xff) {
      this.matchWeight = 0x90;
      this.literalWeight >>>= 1;
    }
    const averageLength = this.averageLongLength;
    let length: number;
    if (averageLength >= 64) {
      length = this.decodeRank(averageLength < 122 ? LENGTH_CODE_1 : LENGTH_CODE_2);
    } else {
      // Unary code of up to 8 zero bits, or 8 zeros then the length in the next 8 bits.
      const peek = input.peek16();
      if (peek < 0x100) {
        length = peek;
        input.skip(16);
      } else {
        length = Math.clz32(peek) - 16;
        input.skip(length + 1);
      }
    }
    this.averageLongLength += length;
    this.averageLongLength -= this.averageLongLength >>> 5;

    const averageRank = this.averageLongRank;
    let place = this.decodeRank(averageRank >= 0x2900 ? RANK_CODE_2 : averageRank >= 0x0700 ? RANK_CODE_1 : RANK_CODE_0);
    this.averageLongRank += place;
    this.averageLongRank -= this.averageLongRank >>> 8;
    place &= 0xff;
    const value = this.promote(this.longDistances, this.longPlaces, place, 0xff);
    const distance = ((value & 0xff00) >>> 1) | input.bits(7);

    const trend = this.longDistanceTrend;
    if (length !== 1 && length !== 4) {
      if (length === 0 && distance <= this.maxShortDistance) {
        this.longDistanceTrend++;
        this.longDistanceTrend -= this.longDistanceTrend >>> 8;
      } else if (this.longDistanceTrend > 0) {
        this.longDistanceTrend--;
      }
    }
    length += 3;
    if (distance >= this.maxShortDistance) length++;
    if (distance <= 256) length += 8;
    this.maxShortDistance = trend > 0xb0 || (this.averageLiteralRank >= 0x2a00 && averageLength < 0x40) ? 0x7f00 : 0x2001;
    if (distance === 0) throw corrupt('RAR 1.5: zero match distance');
    this.reps[this.repIndex++ & 3] = distance;
    this.match(distance, length);
  }

  private match(distance: number, length: number): void {
    this.lastDistance = distance;
    this.lastLength = length;
    this.window.copy(distance, length);
  }

  /**
   * Counts a use of the value at `place` in `list`: its counter goes up, and it swaps with the
   * first value that had that counter (so frequent values climb). When a counter would pass
   * `maxCounter` all counters are rebased first. Returns the updated value.
   */
  private promote(list: Uint32Array, places: Uint32Array, place: number, maxCounter: number): number {
    let value: number;
    let newPlace: number;
    for (;;) {
      value = list[place]!;
      newPlace = places[value & 0xff]!++;
      value++;
      // The flag and long-distance lists rebase when the counter wraps, the literal list earlier.
      if ((value & 0xff) !== 0 && (value & 0xff) <= maxCounter) break;
      resetCounters(list, places);
    }
    list[place] = list[newPlace]!;
    list[newPlace] = value;
    return value;
  }

  /** Reads a rank with one of the fixed codes (the 12 peeked bits walk the code-length counts). */
  private decodeRank(code: readonly number[]): number {
    let value = this.input.peek16() >>> (16 - RANK_PEEK_BITS);
    let first = 0;
    let bits = 2;
    for (; bits < RANK_PEEK_BITS; bits++) {
      const span = code[bits]! << (RANK_PEEK_BITS - bits);
      if (value < span) break;
      value -= span;
      first += code[bits]!;
    }
    this.input.skip(bits);
    return (value >>> (RANK_PEEK_BITS - bits)) + first;
  }
}

/** Rebases a list's counters: eight groups of 32 with counters 7 down to 0. */
function resetCounters(list: Uint32Array, places: Uint32Array): void {
  for (let i = 0; i < 256; i++) list[i] = (list[i]! & ~0xff) | (7 - (i >>> 5));
  places.fill(0);
  for (let i = 0; i < 7; i++) places[i] = (7 - i) * 32;
}
