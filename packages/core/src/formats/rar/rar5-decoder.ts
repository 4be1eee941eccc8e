import { ClamError, isClamError } from '../../errors.js';
import { OutputBuffer } from '../archive/output-buffer.js';
import { corrupt } from '../compression/corrupt.js';
import { buildHuffman, readHuffmanSymbol, type HuffmanTable } from '../compression/huffman.js';
import { RarDataError, type RarEntry, type RarUnpacker } from './entry.js';
import { BitInput } from './rar5-bits.js';
import { applyRar5Filter, Rar5FilterType, type Rar5Filter } from './rar5-filters.js';

/**
 * The RAR 5.0 compression algorithm (compression version 0, "unpack version 50"): LZ77 over a
 * dictionary of up to 4 GiB, Huffman-coded in blocks, each block header announcing its size and
 * whether new tables follow; four recent distances are reused by short codes; filters (delta,
 * x86, ARM) are announced in the stream and run on the output once their block is decoded.
 *
 * One unpacker serves a solid run: the dictionary, the tables and the recent distances carry over
 * from one entry to the next, the filters and the bit input do not. RAR 7's compression version 1
 * is not decoded: UnRAR 6.24, which ClamAV 1.4 uses, does not know it either.
 *
 * The dictionary window grows with the output instead of being allocated at the declared size:
 * a hostile header cannot make a tiny archive allocate gigabytes, and a small file in a large
 * dictionary costs what the file costs.
 */

const MAIN_SYMBOLS = 306;
const DISTANCE_SYMBOLS = 64;
const LOW_DISTANCE_SYMBOLS = 16;
const REP_LENGTH_SYMBOLS = 44;
const LEVEL_SYMBOLS = 20;
const TABLE_LENGTHS = MAIN_SYMBOLS + DISTANCE_SYMBOLS + LOW_DISTANCE_SYMBOLS + REP_LENGTH_SYMBOLS;
const MAX_CODE_LENGTH = 15;

/** The longest match a single symbol can produce (length slot 43 plus the distance bonus of 3). */
const MAX_MATCH = 4100;
/** RAR 5 filters cover at most 4 MiB and the stream may hold at most 8192 pending ones. */
const MAX_FILTER_LENGTH = 0x400000;
const MAX_PENDING_FILTERS = 8192;
/** The window starts small and doubles as the output grows, up to the dictionary size... */
const INITIAL_WINDOW = 0x40000;
/**
 * ...which ClamTS allows up to 1 GiB, libclamav's usual allocation ceiling (CLI_MAX_ALLOCATION);
 * UnRAR itself would allocate the 4 GiB a RAR 5 header can declare.
 */
const MAX_WINDOW = 0x40000000;

interface Tables {
  readonly main: HuffmanTable;
  readonly distance: HuffmanTable;
  readonly lowDistance: HuffmanTable;
  readonly repLength: HuffmanTable;
}

export class Rar5Unpacker implements RarUnpacker {
  /** Dictionary window; position `p` of the solid stream lives at `p & mask`. */
  private window = new Uint8Array(0);
  private mask = -1;
  /** Largest dictionary declared in this solid run. */
  private dictionary = 0;
  /** Bytes decoded in the solid run so far. */
  private pos = 0;
  private tables: Tables | undefined;
  private readonly reps = [0, 0, 0, 0];
  private lastLength = 0;

  // The entry being decoded.
  private input = new BitInput(new Uint8Array(0));
  private blockLastByte = 0;
  private blockLastBits = 0;
  private lastBlock = false;
  private blockTruncated = false;
  private fileStart = 0;
  private fileEnd = 0;
  /** Bytes of the entry already handed to the output (filters applied). */
  private flushed = 0;
  /** The solid-stream position up to which a whole match can be written without a check. */
  private checkpoint = 0;
  private readonly filters: Rar5Filter[] = [];
  private out = new OutputBuffer(0);
  private scratch = new Uint8Array(0);
  private spare = new Uint8Array(0);

  unpack(entry: RarEntry, packed: Uint8Array, limit: number): Uint8Array {
    if (entry.unpackVersion !== 50) {
      throw new ClamError('EFORMAT', { message: `RAR5: unknown compression version ${entry.unpackVersion}` });
    }
    if (!entry.solid) this.restart();
    this.dictionary = Math.max(this.dictionary, entry.dictionarySize);
    if (this.window.length === 0) this.resize(Math.min(INITIAL_WINDOW, this.windowCeiling()));
    this.input = new BitInput(packed);
    this.fileStart = this.pos;
    this.fileEnd = this.pos + entry.unpackedSize;
    this.flushed = 0;
    this.filters.length = 0;
    this.out = new OutputBuffer(Math.max(0, Math.min(limit, entry.unpackedSize)));
    this.checkpoint = this.pos;
    try {
      this.decode();
    } catch (err) {
      if (!isClamError(err) || err.code !== 'EFORMAT') throw err;
      // UnRAR leaves what it wrote before the damage, and ClamAV scans it.
      this.flush();
      throw new RarDataError(err.message, this.out.result());
    }
    this.flush();
    return this.out.result();
  }

  /** A new solid run: nothing carries over. */
  private restart(): void {
    this.window = new Uint8Array(0);
    this.dictionary = 0;
    this.pos = 0;
    this.tables = undefined;
    this.reps.fill(0);
    this.lastLength = 0;
  }

  /** Decodes the entry until its size, its last block or the end of its packed data. */
  private decode(): void {
    const input = this.input;
    if (!this.readBlockHeader()) return;
    for (;;) {
      if (input.pos >= this.blockLastByte && (input.pos > this.blockLastByte || input.bit >= this.blockLastBits)) {
        if (this.blockTruncated || this.lastBlock || !this.readBlockHeader()) return;
        continue;
      }
      if (this.pos >= this.checkpoint) {
        if (this.pos >= this.fileEnd) return;
        this.makeRoom();
      }
      const tables = this.tables!;
      const symbol = decodeSymbol(input, tables.main);
      if (symbol < 256) {
        this.window[this.pos & this.mask] = symbol;
        this.pos++;
      } else if (symbol >= 262) {
        let length = slotToLength(input, symbol - 262);
        const distance = readDistance(input, tables);
        if (distance > 0x100) length += distance > 0x40000 ? 3 : distance > 0x2000 ? 2 : 1;
        const reps = this.reps;
        reps[3] = reps[2]!;
        reps[2] = reps[1]!;
        reps[1] = reps[0]!;
        reps[0] = distance;
        this.lastLength = length;
        this.copy(length, distance);
      } else if (symbol === 256) {
        this.readFilter();
      } else if (symbol === 257) {
        if (this.lastLength !== 0) this.copy(this.lastLength, this.reps[0]!);
      } else {
        const reps = this.reps;
        const index = symbol - 258;
        const distance = reps[index]!;
        for (let i = index; i > 0; i--) reps[i] = reps[i - 1]!;
        reps[0] = distance;
        const length = slotToLength(input, decodeSymbol(input, tables.repLength));
        this.lastLength = length;
        this.copy(length, distance);
      }
    }
  }

  /** Copies a match, cut at the end of the file: output never goes past the declared size. */
  private copy(length: number, distance: number): void {
    const count = Math.min(length, this.fileEnd - this.pos);
    const window = this.window;
    const mask = this.mask;
    const to = this.pos & mask;
    const from = (this.pos - distance) & mask;
    if (distance >= count && to + count <= window.length && from + count <= window.length) {
      window.copyWithin(to, from, from + count);
    } else {
      // Overlapping (a repeated short pattern) or wrapping around the window: byte by byte.
      for (let i = 0; i < count; i++) window[(to + i) & mask] = window[(from + i) & mask]!;
    }
    this.pos += count;
  }

  /**
   * Block header, byte-aligned: flags (bits in the last byte, size of the size field, last block,
   * tables follow), a check byte, the block size. False when the input ends inside it.
   */
  private readBlockHeader(): boolean {
    const input = this.input;
    input.alignToByte();
    const at = input.pos;
    if (at + 3 > input.length) return false;
    const flags = input.byteAt(at);
    const sizeBytes = ((flags >> 3) & 3) + 1;
    if (sizeBytes === 4) throw corrupt('RAR5: bad block header');
    if (at + 2 + sizeBytes > input.length) return false;
    let size = 0;
    let check = 0x5a ^ flags;
    for (let i = 0; i < sizeBytes; i++) {
      const byte = input.byteAt(at + 2 + i);
      size |= byte << (8 * i);
      check ^= byte;
    }
    if (check !== input.byteAt(at + 1)) throw corrupt('RAR5: block header checksum mismatch');
    input.pos = at + 2 + sizeBytes;
    const end = input.pos + size;
    this.lastBlock = (flags & 0x40) !== 0;
    this.blockTruncated = end > input.length;
    this.blockLastByte = this.blockTruncated ? input.length : end - 1;
    this.blockLastBits = this.blockTruncated ? 0 : (flags & 7) + 1;
    if (flags & 0x80) return this.readTables();
    if (!this.tables) throw corrupt('RAR5: block without Huffman tables');
    return true;
  }

  /** The Huffman code lengths, themselves Huffman-coded with a run-length scheme. */
  private readTables(): boolean {
    const input = this.input;
    const levelLengths = new Uint8Array(LEVEL_SYMBOLS);
    for (let i = 0; i < LEVEL_SYMBOLS; ) {
      const length = input.read(4);
      if (length !== 15) {
        levelLengths[i++] = length;
        continue;
      }
      const zeros = input.read(4);
      if (zeros === 0) levelLengths[i++] = 15;
      else i += zeros + 2; // already 0
    }
    const level = buildHuffman(levelLengths, MAX_CODE_LENGTH);
    const lengths = new Uint8Array(TABLE_LENGTHS);
    for (let i = 0; i < TABLE_LENGTHS; ) {
      if (input.exhausted) return false;
      const symbol = decodeSymbol(input, level);
      if (symbol < 16) {
        lengths[i++] = symbol;
      } else if (symbol < 18) {
        if (i === 0) throw corrupt('RAR5: code length repeat at the start');
        const count = symbol === 16 ? 3 + input.read(3) : 11 + input.read(7);
        const previous = lengths[i - 1]!;
        for (const end = Math.min(TABLE_LENGTHS, i + count); i < end; i++) lengths[i] = previous;
      } else {
        i = Math.min(TABLE_LENGTHS, i + (symbol === 18 ? 3 + input.read(3) : 11 + input.read(7)));
      }
    }
    if (input.exhausted) return false;
    let at = 0;
    const next = (count: number) => buildHuffman(lengths.subarray(at, (at += count)), MAX_CODE_LENGTH);
    this.tables = {
      main: next(MAIN_SYMBOLS),
      distance: next(DISTANCE_SYMBOLS),
      lowDistance: next(LOW_DISTANCE_SYMBOLS),
      repLength: next(REP_LENGTH_SYMBOLS),
    };
    return true;
  }

  /** A filter announcement: block start (from here) and length, type, delta's channel count. */
  private readFilter(): void {
    const input = this.input;
    const start = this.pos - this.fileStart + readFilterNumber(input);
    const length = readFilterNumber(input);
    const type = input.read(3);
    const channels = type === Rar5FilterType.Delta ? input.read(5) + 1 : 0;
    if (type > Rar5FilterType.Arm) throw corrupt(`RAR5: unknown filter type ${type}`);
    if (length < 4 || length > MAX_FILTER_LENGTH) throw corrupt('RAR5: bad filter length');
    const previous = this.filters[this.filters.length - 1];
    if ((previous && start < previous.start + previous.length) || start < this.flushed) {
      throw corrupt('RAR5: overlapping filters');
    }
    if (this.filters.length >= MAX_PENDING_FILTERS) throw corrupt('RAR5: too many filters');
    this.filters.push({ type, start, length, channels });
  }

  /** Largest window the dictionary needs (or ClamTS allows). */
  private windowCeiling(): number {
    let size = INITIAL_WINDOW;
    while (size < this.dictionary && size < MAX_WINDOW) size *= 2;
    return size;
  }

  /**
   * Called when the next match might not fit: hands finished output over, then grows the window
   * (while it is smaller than the dictionary) or checks that the unflushed part of the file leaves
   * room for it, and sets the next checkpoint.
   */
  private makeRoom(): void {
    this.flush();
    const unflushedFrom = this.fileStart + this.flushed;
    const ceiling = this.windowCeiling();
    while (this.pos + MAX_MATCH > unflushedFrom + this.window.length || (this.window.length < ceiling && this.pos + MAX_MATCH > this.window.length)) {
      if (this.window.length >= ceiling) {
        if (ceiling < this.dictionary) throw new ClamError('EMEM', { message: 'RAR5: dictionary larger than 1 GiB' });
        throw corrupt('RAR5: filter block larger than the dictionary');
      }
      this.resize(Math.min(ceiling, this.window.length * 2));
    }
    const wrapLimit = this.window.length < ceiling ? this.window.length : unflushedFrom + this.window.length;
    this.checkpoint = Math.min(this.fileEnd, wrapLimit - MAX_MATCH);
  }

  /** Moves the window's history (the last `size` bytes at most) into a window of `size` bytes. */
  private resize(size: number): void {
    const old = this.window;
    const next = new Uint8Array(size);
    const nextMask = size - 1;
    let at = this.pos - Math.min(old.length, size, this.pos);
    while (at < this.pos) {
      const from = at & this.mask;
      const to = at & nextMask;
      const count = Math.min(this.pos - at, old.length - from, size - to);
      next.set(old.subarray(from, from + count), to);
      at += count;
    }
    this.window = next;
    this.mask = nextMask;
  }

  /**
   * Hands decoded data to the output, running each filter once its block is complete. At the
   * end, a filter whose block was not completely decoded ends the output at its start.
   */
  private flush(): void {
    const decoded = this.pos - this.fileStart;
    while (this.flushed < decoded) {
      const filter = this.filters[0];
      const plainEnd = filter ? Math.min(filter.start, decoded) : decoded;
      if (this.flushed < plainEnd) {
        this.emitWindow(this.flushed, plainEnd);
        this.flushed = plainEnd;
        continue;
      }
      if (!filter || filter.start + filter.length > decoded) break;
      this.emitFiltered(filter);
      this.flushed += filter.length;
      this.filters.shift();
    }
  }

  /** Copies file bytes [from, to) out of the window into the output (what fits under the limit). */
  private emitWindow(from: number, to: number): void {
    for (let at = from; at < to; ) {
      const index = (this.fileStart + at) & this.mask;
      const count = Math.min(to - at, this.window.length - index);
      this.append(this.window.subarray(index, index + count));
      at += count;
    }
  }

  private emitFiltered(filter: Rar5Filter): void {
    if (this.scratch.length < filter.length) {
      this.scratch = new Uint8Array(filter.length);
      this.spare = new Uint8Array(filter.length);
    }
    const block = this.scratch.subarray(0, filter.length);
    for (let at = 0; at < filter.length; ) {
      const index = (this.fileStart + filter.start + at) & this.mask;
      const count = Math.min(filter.length - at, this.window.length - index);
      block.set(this.window.subarray(index, index + count), at);
      at += count;
    }
    this.append(applyRar5Filter(filter, block, this.spare).subarray(0, filter.length));
  }

  private append(bytes: Uint8Array): void {
    const out = this.out;
    const count = out.room(bytes.length);
    out.bytes.set(count === bytes.length ? bytes : bytes.subarray(0, count), out.length);
    out.length += count;
  }
}

function decodeSymbol(input: BitInput, table: HuffmanTable): number {
  return readHuffmanSymbol(input, table, 'RAR5');
}

/** Match lengths: slots 0-7 are lengths 2-9, later slots add ever more extra bits. */
function slotToLength(input: BitInput, slot: number): number {
  if (slot < 8) return 2 + slot;
  const extraBits = (slot >>> 2) - 1;
  return 2 + ((4 | (slot & 3)) << extraBits) + input.read(extraBits);
}

/**
 * Distances: a slot, raw extra bits, and for the larger ones the low 4 bits from their own table.
 * Kept to 32 bits as UnRAR keeps them.
 */
function readDistance(input: BitInput, tables: Tables): number {
  const slot = decodeSymbol(input, tables.distance);
  if (slot < 4) return slot + 1;
  const extraBits = (slot >>> 1) - 1;
  let distance = 1 + (2 | (slot & 1)) * 2 ** extraBits;
  if (extraBits < 4) return distance + input.read(extraBits);
  if (extraBits > 4) distance += input.readLong(extraBits - 4) * 16;
  return (distance + decodeSymbol(input, tables.lowDistance)) >>> 0;
}

/** A filter's start or length: 1-4 little-endian bytes, the count in 2 bits. */
function readFilterNumber(input: BitInput): number {
  const count = input.read(2) + 1;
  let value = 0;
  for (let i = 0; i < count; i++) value += input.read(8) * 2 ** (8 * i);
  return value;
}
