import { corrupt } from '../compression/corrupt.js';
import type { HuffmanTable } from '../compression/huffman.js';
import { Ppmd7 } from '../compression/ppmd7.js';
import type { RarBitInput } from './rar15-bits.js';
import type { EntryOutput, LzWindow } from './rar15-window.js';
import { DISTANCE_BASE, DISTANCE_BITS, huffmanTable, LENGTH_BASE, LENGTH_BITS, readSymbol, SHORT_BASE, SHORT_BITS } from './rar20-codes.js';
import { FilterQueue } from './rar29-filter-queue.js';
import { RarRangeDecoder } from './rar29-range.js';

/**
 * RAR 2.9 / 3.x decoder (unpack versions 29 and 36). The stream is a series of blocks, each
 * either LZ77 with four Huffman tables or PPMd (variant H) text compression, and either kind
 * can define filters (see FilterQueue).
 *
 * LZ main symbols: 0–255 literal, 256 end of block (new tables, or end of the entry), 257 a
 * filter record, 258 repeat the last match, 259–262 match at one of the last four distances
 * (length from the fourth table), 263–270 length-2 match at a short distance, 271–298 length
 * slot of a match whose distance follows. Distances of 16 and more bits take their low 4 bits
 * from the third table, which can also say "the same low bits as last time, 16 times".
 *
 * In a PPM block an escape byte introduces commands: 0 new tables, 2 end of the entry, 3 a
 * filter record, 4 a match (3-byte distance, 1-byte length), 5 a run (distance 1); any other
 * value stands for the escape byte itself.
 */

const MAIN_SYMBOLS = 299;
const DISTANCE_SYMBOLS = 60;
const LOW_DISTANCE_SYMBOLS = 17;
const REP_LENGTH_SYMBOLS = 28;
const ALL_LEVELS = MAIN_SYMBOLS + DISTANCE_SYMBOLS + LOW_DISTANCE_SYMBOLS + REP_LENGTH_SYMBOLS;
const LEVEL_SYMBOLS = 20;

const FILTER = 257;
const REPEAT_LAST = 258;
const FIRST_REP = 259;
const FIRST_SHORT = 263;
const FIRST_LENGTH = 271;
/** Low-distance symbol meaning "reuse the last low bits", for this match and this many more. */
const LOW_DISTANCE_REPEAT = 16;
const LOW_DISTANCE_REPEATS = 15;

const PPM_NEW_TABLES = 0;
const PPM_END_OF_ENTRY = 2;
const PPM_FILTER = 3;
const PPM_MATCH = 4;
const PPM_RUN = 5;

export class Rar29Decoder {
  /** Code lengths of the last tables: new ones may be sent as differences to them. */
  private readonly levels = new Uint8Array(ALL_LEVELS);
  /** Tables are in place for a solid successor (the end-of-entry code says so). */
  private tablesRead = false;
  private ppmMode = false;
  private main!: HuffmanTable;
  private distances!: HuffmanTable;
  private lowDistances!: HuffmanTable;
  private repLengths!: HuffmanTable;
  /** The last four match distances, most recent first. */
  private readonly reps = new Uint32Array(4);
  private lastLength = 0;
  private lastLowDistance = 0;
  private lowDistanceRepeats = 0;

  private ppm: Ppmd7 | undefined;
  private ppmMemory = 0;
  /** False after a PPM data error: only a block that restarts the model may follow. */
  private ppmUsable = false;
  private ppmEscape = 2;
  private readonly filters = new FilterQueue();

  private input!: RarBitInput;
  private range!: RarRangeDecoder;
  private window!: LzWindow;

  decode(input: RarBitInput, window: LzWindow, out: EntryOutput, solid: boolean): void {
    if (this.input !== input) {
      this.input = input;
      this.range = new RarRangeDecoder(input);
    }
    this.window = window;
    if (solid) this.filters.dropPending();
    else this.reset();
    if (!solid || !this.tablesRead) this.readTables();
    if (this.ppmMode && !this.ppmUsable) throw corrupt('RAR 2.9: PPM model unusable after a data error');

    const start = window.pos;
    const flushLimit = window.flushLimit;
    for (;;) {
      if (window.pos - window.flushed > flushLimit) {
        this.filters.flush(window, out, window.pos);
        if (window.pos - window.flushed > flushLimit) throw corrupt('RAR 2.9: filter block larger than the window');
      }
      const decoded = window.pos - start;
      // Decoding goes on to the end-of-entry code, which a solid successor depends on; it
      // stops early only past the entry's size or, in LZ blocks, at the exact end of the data.
      if (decoded > out.size) break;
      const before = window.pos;
      if (this.ppmMode) {
        if (!this.ppmStep()) break;
      } else {
        if (decoded === out.size && input.exhausted) break;
        if (!this.lzStep()) break;
      }
      if (input.overrun) {
        if (window.pos - start >= out.size) break;
        // What the padding after the data decoded to is not content.
        window.pos = before;
        throw corrupt('RAR 2.9: packed data ends early');
      }
    }
    this.flush(window, out);
  }

  /** Writes out what is decoded, through the filters whose blocks are complete. */
  flush(window: LzWindow, out: EntryOutput): void {
    this.filters.flush(window, out, window.pos);
  }

  private reset(): void {
    this.levels.fill(0);
    this.tablesRead = false;
    this.ppmMode = false;
    this.reps.fill(0);
    this.lastLength = 0;
    this.lastLowDistance = 0;
    this.lowDistanceRepeats = 0;
    this.ppmUsable = false;
    this.ppmEscape = 2;
    this.filters.reset();
  }

  /** Decodes one LZ symbol; false at the end of the entry. */
  private lzStep(): boolean {
    const input = this.input;
    const window = this.window;
    const symbol = readSymbol(input, this.main);
    if (symbol < 256) {
      window.put(symbol);
      return true;
    }
    let distance: number;
    let length: number;
    if (symbol >= FIRST_LENGTH) {
      const slot = symbol - FIRST_LENGTH;
      length = LENGTH_BASE[slot]! + 3 + input.bits(LENGTH_BITS[slot]!);
      distance = this.readDistance();
      if (distance >= 0x2000) length += distance >= 0x40000 ? 2 : 1;
      this.pushDistance(distance);
    } else if (symbol >= FIRST_SHORT) {
      const slot = symbol - FIRST_SHORT;
      distance = SHORT_BASE[slot]! + 1 + input.bits(SHORT_BITS[slot]!);
      length = 2;
      this.pushDistance(distance);
    } else if (symbol >= FIRST_REP) {
      const index = symbol - FIRST_REP;
      distance = this.reps[index]!;
      this.reps.copyWithin(1, 0, index);
      this.reps[0] = distance;
      const slot = readSymbol(input, this.repLengths);
      length = LENGTH_BASE[slot]! + 2 + input.bits(LENGTH_BITS[slot]!);
    } else if (symbol === REPEAT_LAST) {
      if (this.lastLength !== 0) window.copy(this.reps[0]!, this.lastLength);
      return true;
    } else if (symbol === FILTER) {
      this.readFilter(() => input.bits(8));
      return true;
    } else {
      return this.endOfBlock(); // symbol 256
    }
    this.lastLength = length;
    window.copy(distance, length);
    return true;
  }

  private readDistance(): number {
    const input = this.input;
    const slot = readSymbol(input, this.distances);
    const bits = DISTANCE_BITS[slot]!;
    let distance = DISTANCE_BASE[slot]! + 1;
    if (bits < 4) return distance + input.bits(bits);
    if (bits > 4) distance += input.bits(bits - 4) << 4;
    if (this.lowDistanceRepeats > 0) {
      this.lowDistanceRepeats--;
      return distance + this.lastLowDistance;
    }
    const low = readSymbol(input, this.lowDistances);
    if (low === LOW_DISTANCE_REPEAT) {
      this.lowDistanceRepeats = LOW_DISTANCE_REPEATS;
      return distance + this.lastLowDistance;
    }
    this.lastLowDistance = low;
    return distance + low;
  }

  private pushDistance(distance: number): void {
    this.reps.copyWithin(1, 0, 3);
    this.reps[0] = distance;
  }

  /** Symbol 256: new tables follow (true), or the entry ends, saying whether its successor brings tables. */
  private endOfBlock(): boolean {
    const input = this.input;
    if (input.bits(1)) {
      this.tablesRead = false;
      this.readTables();
      return true;
    }
    this.tablesRead = input.bits(1) === 0;
    return false;
  }

  /** Decodes one PPM symbol or command; false at the end of the entry. */
  private ppmStep(): boolean {
    const symbol = this.ppmByte();
    if (symbol !== this.ppmEscape) {
      this.window.put(symbol);
      return true;
    }
    const command = this.ppmByte();
    switch (command) {
      case PPM_NEW_TABLES:
        this.readTables();
        return true;
      case PPM_END_OF_ENTRY:
        return false;
      case PPM_FILTER:
        this.readFilter(() => this.ppmByte());
        return true;
      case PPM_MATCH: {
        let distance = 0;
        for (let i = 0; i < 3; i++) distance = (distance << 8) | this.ppmByte();
        const length = this.ppmByte();
        this.window.copy(distance + 2, length + 32);
        return true;
      }
      case PPM_RUN:
        this.window.copy(1, this.ppmByte() + 4);
        return true;
      default:
        this.window.put(symbol);
        return true;
    }
  }

  private ppmByte(): number {
    const symbol = this.ppm!.decodeSymbol(this.range);
    if (symbol < 0) {
      this.ppmUsable = false;
      throw corrupt('RAR 2.9: PPM data error');
    }
    return symbol;
  }

  /** A filter record: flags byte, record length (1–6, or a further byte or two), the record. */
  private readFilter(nextByte: () => number): void {
    const flags = nextByte();
    let length = (flags & 7) + 1;
    if (length === 7) length = nextByte() + 7;
    else if (length === 8) length = (nextByte() << 8) | nextByte();
    const record = new Uint8Array(length);
    for (let i = 0; i < length; i++) record[i] = nextByte();
    if (this.input.overrun) throw corrupt('RAR 2.9: packed data ends in a filter record');
    this.filters.add(flags, record, this.window.pos);
  }

  /** Reads the header of the next block: PPM parameters, or the LZ code lengths. */
  private readTables(): void {
    const input = this.input;
    input.alignToByte();
    if (input.peek16() & 0x8000) {
      this.startPpm();
      return;
    }
    this.ppmMode = false;
    this.lastLowDistance = 0;
    this.lowDistanceRepeats = 0;
    input.skip(1);
    if (input.bits(1) === 0) this.levels.fill(0);

    // 20 code lengths of 4 bits for the code-length code; 15 then a count n > 0 means n + 2 zeros.
    const levelLengths = new Uint8Array(LEVEL_SYMBOLS);
    for (let i = 0; i < LEVEL_SYMBOLS; ) {
      const length = input.bits(4);
      if (length === 15) {
        const zeros = input.bits(4);
        if (zeros !== 0) {
          i = Math.min(LEVEL_SYMBOLS, i + zeros + 2);
          continue;
        }
      }
      levelLengths[i++] = length;
    }
    const levelTable = huffmanTable(levelLengths);

    // Code lengths as differences to the previous ones (mod 16), or runs of the previous length or of zeros.
    const levels = this.levels;
    for (let i = 0; i < ALL_LEVELS; ) {
      const symbol = readSymbol(input, levelTable);
      if (symbol < 16) {
        levels[i] = (symbol + levels[i]!) & 15;
        i++;
        continue;
      }
      const runEnd = Math.min(ALL_LEVELS, i + ((symbol & 1) === 0 ? 3 + input.bits(3) : 11 + input.bits(7)));
      if (symbol < 18) {
        if (i === 0) throw corrupt('RAR 2.9: code length repeat at the start of a table');
        levels.fill(levels[i - 1]!, i, runEnd);
      } else {
        levels.fill(0, i, runEnd);
      }
      i = runEnd;
    }
    if (input.overrun) throw corrupt('RAR 2.9: packed data ends in a table');

    let at = 0;
    const next = (count: number) => huffmanTable(levels.subarray(at, (at += count)));
    this.main = next(MAIN_SYMBOLS);
    this.distances = next(DISTANCE_SYMBOLS);
    this.lowDistances = next(LOW_DISTANCE_SYMBOLS);
    this.repLengths = next(REP_LENGTH_SYMBOLS);
    this.tablesRead = true;
  }

  /**
   * A PPM block header: flags (bit 7 set; 0x20 restart the model, with a memory size in MiB
   * and a maximum order in the low 5 bits; 0x40 a new escape byte follows), then the range
   * coder starts.
   */
  private startPpm(): void {
    const input = this.input;
    const flags = input.byte();
    const restart = (flags & 0x20) !== 0;
    const memoryMiB = restart ? input.byte() : 0;
    if (!restart && !(this.ppm && this.ppmUsable)) throw corrupt('RAR 2.9: PPM block without a model');
    if (flags & 0x40) this.ppmEscape = input.byte();
    this.range.init();
    if (restart) {
      this.ppmUsable = false;
      let order = (flags & 0x1f) + 1;
      if (order > 16) order = 16 + (order - 16) * 3;
      if (order === 1) throw corrupt('RAR 2.9: PPM order 1');
      const memory = (memoryMiB + 1) << 20;
      if (!this.ppm || this.ppmMemory !== memory) {
        this.ppm = new Ppmd7(memory);
        this.ppmMemory = memory;
      }
      this.ppm.init(order);
      this.ppmUsable = true;
    }
    this.ppmMode = true;
  }
}
