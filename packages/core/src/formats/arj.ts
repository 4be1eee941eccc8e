import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { corrupt } from './compression/corrupt.js';
import { guarded } from './compression/guard.js';
import { EMPTY, buildHuffman, type HuffmanTable } from './compression/huffman.js';
import { cString, u16le, u32le } from './compression/read.js';

/**
 * ARJ archives, read member by member the way ClamAV's unarj.c does: stored (method 0), the
 * LZH-style methods 1-3 and the "fastest" method 4, with ARJ's 26 KiB window.
 *
 * ClamAV quirks kept on purpose, because they decide what gets scanned:
 * - the next header is looked for where the decoder stopped reading, so a member whose data
 *   is not fully consumed ends the archive;
 * - a member over the size limit is skipped without moving past its data, which ends the
 *   archive too;
 * - a member that fails to decode is scanned as far as whole 26 KiB windows were written;
 * - garbled (password) members are skipped; ARJ has no encrypted-archive heuristic.
 */

const HEADER_ID_0 = 0x60;
const HEADER_ID_1 = 0xea;
const FIRST_HEADER_SIZE = 30;
const HEADER_SIZE_MAX = FIRST_HEADER_SIZE + 10 + 512 + 2048;
const GARBLE_FLAG = 0x01;

const WINDOW = 26624;
const THRESHOLD = 3;
const MAX_MATCH = 256;
const NC = 255 + MAX_MATCH + 2 - THRESHOLD; // literal/length symbols
const NP = 17; // position symbols
const NT = 19; // code-length symbols
const CBIT = 9;
const TBIT = 5;
const PBIT = 5;

interface MemberHeader {
  readonly name: string;
  readonly method: number;
  readonly encrypted: boolean;
  readonly compressedSize: number;
  readonly originalSize: number;
  /** Offset of the member's data. */
  readonly dataStart: number;
}

/** Reads a basic header (after the 60 EA mark) at `pos`; undefined at the end marker. */
function readHeader(data: Uint8Array, pos: number): { header: MemberHeader; first: Uint8Array } | 'end' {
  const size = u16le(data, pos);
  if (pos + 2 > data.length) throw corrupt('ARJ: header ended early');
  if (size === 0) return 'end';
  if (size > HEADER_SIZE_MAX || size + 2 > data.length - (pos + 2)) throw corrupt(`ARJ: invalid header size ${size}`);
  const start = pos + 2;
  const firstSize = data[start]!;
  if (firstSize < FIRST_HEADER_SIZE) throw corrupt('ARJ: first header size < 30');
  const first = data.subarray(start, start + FIRST_HEADER_SIZE);
  let at = start + firstSize;
  const headerEnd = start + size;
  if (at > headerEnd) throw corrupt('ARJ: first header size invalid');
  const name = cString(data, at, headerEnd - at);
  at += name.text.length + 1;
  if (at > headerEnd) throw corrupt('ARJ: first header size invalid');
  const comment = cString(data, at, Math.max(0, headerEnd - at));
  at += comment.text.length + 1 + 4; // comment, header CRC
  // Extended headers: size, data, CRC; a zero size ends them.
  for (;;) {
    if (at + 2 > data.length) throw corrupt('ARJ: extended header past the end');
    const count = u16le(data, at);
    at += 2;
    if (count === 0) break;
    at += count + 4;
  }
  return {
    first,
    header: {
      name: name.text,
      method: first[5]!,
      encrypted: (first[4]! & GARBLE_FLAG) !== 0,
      compressedSize: u32le(first, 12),
      originalSize: u32le(first, 16),
      dataStart: at,
    },
  };
}

function hasMark(data: Uint8Array, pos: number): boolean {
  return data[pos] === HEADER_ID_0 && data[pos + 1] === HEADER_ID_1;
}

/**
 * ARJ's bit reader: a 16-bit window refilled a byte at a time from the member's compressed
 * bytes, then zeros once those run out. `pos` is how far it has actually read.
 */
class BitReader {
  bitBuf = 0;
  private sub = 0;
  private bitCount = 0;
  private remaining: number;

  constructor(
    private readonly data: Uint8Array,
    public pos: number,
    compressedSize: number,
  ) {
    this.remaining = compressedSize;
    this.fill(16);
  }

  fill(n: number): void {
    if (this.bitBuf * 2 ** n > 0xffffffff) throw corrupt('ARJ: bit buffer overflow');
    this.bitBuf = (this.bitBuf * 2 ** n) & 0xffff;
    while (n > this.bitCount) {
      n -= this.bitCount;
      this.bitBuf = (this.bitBuf | (this.sub << n)) & 0xffff;
      if (this.remaining > 0) {
        this.remaining--;
        if (this.pos >= this.data.length) throw corrupt('ARJ: compressed data past the end of the file');
        this.sub = this.data[this.pos++]!;
      } else {
        this.sub = 0;
      }
      this.bitCount = 8;
    }
    this.bitCount -= n;
    this.bitBuf |= this.sub >>> this.bitCount;
  }

  bits(n: number): number {
    const value = this.bitBuf >>> (16 - n);
    this.fill(n);
    return value;
  }
}

/** Output window that keeps everything written; a failed member keeps only whole windows. */
class Output {
  private buf: Uint8Array;
  length = 0;

  constructor(private readonly cap: number) {
    this.buf = new Uint8Array(Math.min(cap, 1 << 16));
  }

  push(byte: number): void {
    if (this.length === this.buf.length) {
      if (this.length >= this.cap) throw corrupt('ARJ: output over the limit');
      const bigger = new Uint8Array(Math.min(this.cap, this.buf.length * 2));
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = byte;
  }

  /** The byte `distance + 1` back, inside the 26 KiB window (zeros before the start). */
  back(distance: number): number {
    const at = this.length - distance - 1;
    if (at >= 0) return this.buf[at]!;
    // Before the first byte the window's initial zeros are read (ClamAV's calloc'd window).
    return 0;
  }

  result(failed: boolean): Uint8Array {
    const keep = failed ? this.length - (this.length % WINDOW) : this.length;
    return this.buf.subarray(0, keep);
  }
}

/** An ARJ Huffman table: lengths must form a complete code, as unarj's make_table demands. */
function arjTable(lengths: Uint8Array): HuffmanTable {
  let space = 0;
  for (const len of lengths) {
    if (len > 16) throw corrupt('ARJ: code length over 16');
    if (len) space += 2 ** (16 - len);
  }
  if (space !== 65536) throw corrupt('ARJ: incomplete Huffman table');
  return buildHuffman(lengths);
}

/** A table that always yields `symbol` and consumes no bits (a block with one symbol). */
function singleSymbol(symbol: number, count: number): HuffmanTable {
  return { bits: 0, symbols: Uint16Array.of(symbol), lengths: new Uint8Array(Math.max(count, symbol + 1)) };
}

function decodeSymbol(r: BitReader, table: HuffmanTable, limit: number): number {
  const sym = table.symbols[table.bits === 0 ? 0 : r.bitBuf >>> (16 - table.bits)]!;
  if (sym === EMPTY || sym >= limit) throw corrupt('ARJ: bad Huffman code');
  r.fill(table.lengths[sym]!);
  return sym;
}

/** Code lengths of the code-length and position trees (unarj sizes both for NT symbols). */
function readPtLengths(r: BitReader, nbit: number, special: number): HuffmanTable {
  const n = r.bits(nbit);
  if (n === 0) return singleSymbol(r.bits(nbit), NT);
  const lengths = new Uint8Array(NT);
  let i = 0;
  while (i < n && i < NT) {
    let c = r.bitBuf >>> 13;
    if (c === 7) {
      for (let mask = 1 << 12; mask & r.bitBuf; mask >>>= 1) c++;
    }
    r.fill(c < 7 ? 3 : c - 3);
    lengths[i++] = c;
    if (i === special) {
      for (let zeros = r.bits(2); zeros > 0 && i < NT; zeros--) i++;
    }
  }
  return arjTable(lengths);
}

function readCharLengths(r: BitReader, pt: HuffmanTable): HuffmanTable {
  const n = r.bits(CBIT);
  if (n === 0) return singleSymbol(r.bits(CBIT), NC);
  const lengths = new Uint8Array(NC);
  let i = 0;
  while (i < n) {
    const c = decodeSymbol(r, pt, NT);
    if (c <= 2) {
      const zeros = c === 0 ? 1 : c === 1 ? r.bits(4) + 3 : r.bits(CBIT) + 20;
      if (i + zeros > NC) throw corrupt('ARJ: too many code lengths');
      i += zeros;
    } else {
      if (i >= NC) throw corrupt('ARJ: too many code lengths');
      lengths[i++] = c - 2;
    }
  }
  return arjTable(lengths);
}

/** Methods 1-3: blocks of Huffman-coded literals/lengths and positions. */
function decodeLzh(r: BitReader, size: number, out: Output): void {
  let blockLeft = 0;
  let charTable = singleSymbol(0, NC);
  let posTable = singleSymbol(0, NP);
  let count = 0;
  while (count < size) {
    if (blockLeft === 0) {
      blockLeft = r.bits(16);
      const pt = readPtLengths(r, TBIT, 3);
      charTable = readCharLengths(r, pt);
      posTable = readPtLengths(r, PBIT, -1);
    }
    blockLeft = (blockLeft - 1) & 0xffff;
    const c = decodeSymbol(r, charTable, NC);
    if (c <= 255) {
      out.push(c);
      count++;
      continue;
    }
    const length = c - (256 - THRESHOLD);
    count += length;
    let p = decodeSymbol(r, posTable, NP);
    if (p !== 0) p = 2 ** (p - 1) + r.bits(p - 1);
    // unarj ends the member quietly, keeping its output, on a position outside the window.
    if (p >= WINDOW) return;
    copyMatch(out, p, length);
  }
}

/** Method 4: unary-prefixed lengths and positions, no Huffman. */
function decodeFastest(r: BitReader, size: number, out: Output): void {
  let getBuf = 0;
  let getLen = 0;
  const refill = () => {
    getBuf = (getBuf | (r.bitBuf >>> getLen)) & 0xffff;
    r.fill(16 - getLen);
    getLen = 16;
  };
  const bit = () => {
    if (getLen <= 0) refill();
    const b = (getBuf & 0x8000) !== 0 ? 1 : 0;
    getBuf = (getBuf * 2) & 0xffff;
    getLen--;
    return b;
  };
  const bits = (n: number) => {
    if (getLen < n) refill();
    const v = getBuf >>> (16 - n);
    getBuf = (getBuf * 2 ** n) & 0xffff;
    getLen -= n;
    return v;
  };
  // A unary count of 1-bits (at most stop - start) picks a range, then that many value bits.
  const prefixed = (start: number, stop: number) => {
    let plus = 0;
    let width = start;
    let c = 0;
    for (let pwr = 1 << start; width < stop; width++, pwr <<= 1) {
      c = bit();
      if (c === 0) break;
      plus += pwr;
    }
    if (width !== 0) c = bits(width);
    return c + plus;
  };
  let count = 0;
  while (count < size) {
    const c = prefixed(0, 7);
    if (c === 0) {
      out.push(bits(8));
      count++;
      continue;
    }
    const length = c - 1 + THRESHOLD;
    count += length;
    copyMatch(out, prefixed(9, 13), length);
  }
}

function copyMatch(out: Output, distance: number, length: number): void {
  for (let k = 0; k < length; k++) out.push(out.back(distance));
}

function* extractArj(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  if (!hasMark(data, 0)) return;
  const main = readHeader(data, 2);
  if (main === 'end') return;
  let pos = main.header.dataStart;
  for (let position = 1; ; position++) {
    if (!hasMark(data, pos)) {
      ctx.debug('ARJ: Not in ARJ format');
      return;
    }
    const read = readHeader(data, pos + 2);
    if (read === 'end') return;
    const member = read.header;
    const meta = {
      name: member.name,
      compressedSize: member.compressedSize,
      declaredSize: member.originalSize,
      encrypted: member.encrypted,
      position,
      method: member.method,
    };
    if (member.originalSize > ctx.maxObjectSize || member.compressedSize > ctx.maxObjectSize) {
      // ClamAV matches the metadata, skips the member, and then fails to find the next header.
      yield { ...meta, data: new Uint8Array(0) };
      ctx.debug(`ARJ: ${member.name} is over the size limit; extraction stops here`);
      return;
    }
    if (member.encrypted) {
      ctx.debug('ARJ: PASSWORDed file (skipping)');
      yield { ...meta, data: new Uint8Array(0) };
      pos = member.dataStart + member.compressedSize;
      continue;
    }
    const { content, end } = extractMember(data, member, ctx);
    yield { ...meta, data: content };
    if (end === undefined) return;
    pos = end;
  }
}

/** Unpacks one member; `end` is where ClamAV looks for the next header (undefined: stop). */
function extractMember(data: Uint8Array, member: MemberHeader, ctx: ExtractionContext): { content: Uint8Array; end?: number } {
  if (member.method === 0) {
    const end = Math.min(data.length, member.dataStart + member.compressedSize);
    return { content: data.subarray(member.dataStart, end), end };
  }
  if (member.method > 4) {
    ctx.debug(`ARJ: unknown method ${member.method}`);
    return { content: new Uint8Array(0) };
  }
  // The last match may run past the declared size, as in unarj.
  const out = new Output(member.originalSize + MAX_MATCH);
  let reader: BitReader | undefined;
  try {
    reader = new BitReader(data, member.dataStart, member.compressedSize);
    if (member.method === 4) decodeFastest(reader, member.originalSize, out);
    else decodeLzh(reader, member.originalSize, out);
    return { content: out.result(false), end: reader.pos };
  } catch (err) {
    ctx.debug(`ARJ: cli_unarj_extract_file Error: ${(err as Error).message}`);
    return { content: out.result(true), end: reader?.pos };
  }
}

export const arjHandler: FormatHandler = {
  name: 'arj',
  fileTypes: ['CL_TYPE_ARJ'],
  scanSwitch: 'archive',
  extract: (data, ctx) => guarded('ARJ', extractArj(data, ctx), ctx),
};
