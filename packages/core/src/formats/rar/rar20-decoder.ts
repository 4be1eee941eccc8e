import { corrupt } from '../compression/corrupt.js';
import type { HuffmanTable } from '../compression/huffman.js';
import type { RarBitInput } from './rar15-bits.js';
import type { EntryOutput, LzWindow } from './rar15-window.js';
import { Rar20Audio } from './rar20-audio.js';
import { DISTANCE_BASE, DISTANCE_BITS, huffmanTable, LENGTH_BASE, LENGTH_BITS, readSymbol, SHORT_BASE, SHORT_BITS } from './rar20-codes.js';

/**
 * RAR 2.0 decoder (unpack versions 20 and 26): LZ77 with three Huffman tables, or blocks of
 * multimedia coding (up to four interleaved channels, each with its own table of 257 symbols).
 *
 * Main table symbols: 0–255 literal, 256 repeat the last match, 257–260 match at one of the
 * last four distances, 261–268 length-2 match at a short distance, 269 new tables follow,
 * 270–297 length slot of a match whose distance comes next.
 */

const MAIN_SYMBOLS = 298;
const DISTANCE_SYMBOLS = 48;
const LENGTH_SYMBOLS = 28;
const AUDIO_SYMBOLS = 257;
const LEVEL_SYMBOLS = 19;
const LZ_LEVELS = MAIN_SYMBOLS + DISTANCE_SYMBOLS + LENGTH_SYMBOLS;

const REPEAT_LAST = 256;
const NEW_TABLES = 269;
const AUDIO_NEW_TABLES = 256;
/** A table read at the end of an entry is only attempted when this much input is left (as UnRAR does). */
const LAST_TABLES_MIN_BYTES = 5;

export class Rar20Decoder {
  /** Code lengths of the last tables: a new table may be sent as differences to them. */
  private readonly levels = new Uint8Array(AUDIO_SYMBOLS * 4);
  private tablesRead = false;
  private audioMode = false;
  private channelCount = 1;
  private channel = 0;
  private main!: HuffmanTable;
  private distances!: HuffmanTable;
  private lengths!: HuffmanTable;
  private audioTables: HuffmanTable[] = [];
  private readonly audio = new Rar20Audio();
  /** The last four match distances, used round robin. */
  private readonly reps = new Uint32Array(4);
  private repIndex = 0;
  private lastLength = 0;

  /** Decodes one entry into `window`; a solid entry continues the previous one's state. */
  decode(input: RarBitInput, window: LzWindow, out: EntryOutput, solid: boolean): void {
    if (!solid) {
      this.reset();
      if (out.size === 0) return;
      this.readTables(input);
    } else if (out.size === 0) {
      return;
    }
    if (!this.tablesRead) throw corrupt('RAR 2.0: solid entry without Huffman tables');

    const end = window.pos + out.size;
    const flushLimit = window.flushLimit;
    while (window.pos < end) {
      if (window.pos - window.flushed > flushLimit) window.flush(out);
      const before = window.pos;
      if (this.audioMode) this.audioSymbol(input, window);
      else this.lzSymbol(input, window);
      if (input.overrun) {
        // What the padding after the data decoded to is not content.
        window.pos = before;
        throw corrupt('RAR 2.0: packed data ends early');
      }
    }
    window.flush(out);
    this.readLastTables(input);
  }

  flush(window: LzWindow, out: EntryOutput): void {
    window.flush(out);
  }

  private reset(): void {
    this.levels.fill(0);
    this.tablesRead = false;
    this.audioMode = false;
    this.channelCount = 1;
    this.channel = 0;
    this.audio.reset();
    this.reps.fill(0);
    this.repIndex = 0;
    this.lastLength = 0;
  }

  private lzSymbol(input: RarBitInput, window: LzWindow): void {
    const symbol = readSymbol(input, this.main);
    if (symbol < 256) {
      window.put(symbol);
      return;
    }
    let length: number;
    let distance: number;
    if (symbol > NEW_TABLES) {
      const slot = symbol - NEW_TABLES - 1;
      length = LENGTH_BASE[slot]! + 3 + input.bits(LENGTH_BITS[slot]!);
      const distanceSlot = readSymbol(input, this.distances);
      distance = DISTANCE_BASE[distanceSlot]! + 1 + input.bits(DISTANCE_BITS[distanceSlot]!);
      length += lengthBonus(distance);
    } else if (symbol === NEW_TABLES) {
      this.readTables(input);
      return;
    } else if (symbol === REPEAT_LAST) {
      length = this.lastLength;
      distance = this.reps[(this.repIndex - 1) & 3]!;
    } else if (symbol < 261) {
      distance = this.reps[(this.repIndex - (symbol - 256)) & 3]!;
      const slot = readSymbol(input, this.lengths);
      length = LENGTH_BASE[slot]! + 2 + input.bits(LENGTH_BITS[slot]!);
      if (distance >= 0x101) length += 1 + lengthBonus(distance);
    } else {
      const slot = symbol - 261;
      distance = SHORT_BASE[slot]! + 1 + input.bits(SHORT_BITS[slot]!);
      length = 2;
    }
    this.reps[this.repIndex++ & 3] = distance;
    this.lastLength = length;
    window.copy(distance, length);
  }

  private audioSymbol(input: RarBitInput, window: LzWindow): void {
    const symbol = readSymbol(input, this.audioTables[this.channel]!);
    if (symbol === AUDIO_NEW_TABLES) {
      this.readTables(input);
      return;
    }
    window.put(this.audio.decode(this.channel, symbol));
    if (++this.channel === this.channelCount) this.channel = 0;
  }

  /**
   * The tables for the next entry of a solid archive are sent at the end of this one: when
   * enough input is left, a table-switch symbol there is taken (any other symbol is not).
   */
  private readLastTables(input: RarBitInput): void {
    if (input.bytesLeft < LAST_TABLES_MIN_BYTES) return;
    const symbol = readSymbol(input, this.audioMode ? this.audioTables[this.channel]! : this.main);
    if (symbol === (this.audioMode ? AUDIO_NEW_TABLES : NEW_TABLES)) this.readTables(input);
  }

  private readTables(input: RarBitInput): void {
    this.tablesRead = false;
    this.audioMode = input.bits(1) === 1;
    if (input.bits(1) === 0) this.levels.fill(0);
    let count = LZ_LEVELS;
    if (this.audioMode) {
      this.channelCount = input.bits(2) + 1;
      if (this.channel >= this.channelCount) this.channel = 0;
      count = AUDIO_SYMBOLS * this.channelCount;
    }
    const levelLengths = new Uint8Array(LEVEL_SYMBOLS);
    for (let i = 0; i < LEVEL_SYMBOLS; i++) levelLengths[i] = input.bits(4);
    const levelTable = huffmanTable(levelLengths);

    // Code lengths are sent as differences to the previous ones (mod 16), or as runs.
    const levels = this.levels;
    for (let i = 0; i < count; ) {
      const symbol = readSymbol(input, levelTable);
      if (symbol < 16) {
        levels[i] = (symbol + levels[i]!) & 15;
        i++;
      } else if (symbol === 16) {
        if (i === 0) throw corrupt('RAR 2.0: code length repeat at the start of a table');
        const runEnd = Math.min(count, i + 3 + input.bits(2));
        levels.fill(levels[i - 1]!, i, runEnd);
        i = runEnd;
      } else {
        const runEnd = Math.min(count, i + (symbol === 17 ? 3 + input.bits(3) : 11 + input.bits(7)));
        levels.fill(0, i, runEnd);
        i = runEnd;
      }
    }
    if (input.overrun) throw corrupt('RAR 2.0: packed data ends in a table');

    if (this.audioMode) {
      this.audioTables = [];
      for (let c = 0; c < this.channelCount; c++) {
        this.audioTables.push(huffmanTable(levels.subarray(c * AUDIO_SYMBOLS, (c + 1) * AUDIO_SYMBOLS)));
      }
    } else {
      this.main = huffmanTable(levels.subarray(0, MAIN_SYMBOLS));
      this.distances = huffmanTable(levels.subarray(MAIN_SYMBOLS, MAIN_SYMBOLS + DISTANCE_SYMBOLS));
      this.lengths = huffmanTable(levels.subarray(MAIN_SYMBOLS + DISTANCE_SYMBOLS, LZ_LEVELS));
    }
    this.tablesRead = true;
  }
}

/** Long matches are coded one or two shorter, as a short match at such a distance would not pay. */
function lengthBonus(distance: number): number {
  return distance >= 0x40000 ? 2 : distance >= 0x2000 ? 1 : 0;
}
