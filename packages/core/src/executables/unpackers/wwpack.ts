import { u32le } from '../../formats/compression/read.js';
import { contained } from '../pe-arithmetic.js';
import { MAX_ALLOCATION, NEXT, STOP, unpacked, type UnpackContext, type UnpackOutcome } from './unpacker.js';
import { hex } from '../../util/c-numbers.js';

/**
 * WWPack32: cli_scanpe's WWPack block (libclamav pe.c) with wwunpack.c. WWPack's stub lives in
 * the last section; a table there lists blocks of the image compressed in place. ClamAV lays the
 * file out as in memory (headers, then each section at its address), decompresses each block
 * where it lies, then fixes the headers (no stub section, the original entry point, the sections'
 * sizes) and scans that image as the rebuilt file.
 */

const ENTRY_STUB = [0x53, 0x55, 0x8b, 0xe8, 0x33, 0xdb, 0xeb];
const ENTRY_STUB_LATER = [0xe8, 0x00, 0x00, 0x00, 0x00, 0x58, 0x2d, 0x6d, 0x00, 0x00, 0x00, 0x50, 0x60, 0x33, 0xc9, 0x50, 0x58, 0x50, 0x50];
/** Where the block table starts in the stub's section, and the size of one entry (with its "more" flag). */
const BLOCK_TABLE = 0x2a1;
const BLOCK_ENTRY = 17;
/** Where the stub keeps the original entry point's distance. */
const ENTRY_FIELD = 0x295;

const has = (data: Uint8Array, at: number, bytes: readonly number[]) => bytes.every((byte, i) => data[at + i] === byte);

export function unpackWwpack(ctx: UnpackContext): UnpackOutcome {
  const { pe, entry, data } = ctx;
  const { sections } = pe;
  const last = sections[sections.length - 1]!;
  if (sections.length <= 1 || pe.entryRva !== last.rva || !has(entry, 0, ENTRY_STUB) || !has(entry, 0x68, ENTRY_STUB_LATER)) return NEXT;
  // The image: the headers (up to the first section's data) and every section but the stub's.
  const head = Math.min(...sections.map((section) => section.rawOffset));
  const size = Math.max(0, ...sections.slice(0, -1).map((section) => (section.rva + section.virtualSize) >>> 0));
  if (head === 0 || size === 0 || head > size) return NEXT;
  if (!ctx.withinLimits(size)) return STOP;
  if (size > MAX_ALLOCATION) return STOP;
  const image = new Uint8Array(size);
  if (head > data.length) {
    ctx.debug(`cli_scanpe: WWPack: Can't read ${head | 0} bytes from headers`);
    return STOP;
  }
  image.set(data.subarray(0, head));
  for (const section of sections.slice(0, -1)) {
    if (section.rawSize === 0) continue;
    if (!contained(0, size, section.rva, section.rawSize) || section.rawOffset + section.rawSize > data.length) {
      ctx.debug('cli_scanpe: WWpack: Probably hacked/damaged file.');
      return NEXT;
    }
    image.set(data.subarray(section.rawOffset, section.rawOffset + section.rawSize), section.rva);
  }
  if (last.rawSize === 0 || last.rawOffset + last.rawSize > data.length) {
    ctx.debug(`cli_scanpe: WWPack: Can't read ${last.rawSize | 0} bytes from wwpack sect`);
    return STOP;
  }
  const stub = data.subarray(last.rawOffset, last.rawOffset + last.rawSize);
  if (!unpackBlocks(ctx, image, stub, last.rva) || !fixHeaders(ctx, image, stub)) {
    ctx.debug('cli_scanpe: WWPack: Unpacking failed');
    return NEXT;
  }
  return unpacked(image);
}

/** wwunpack's block loop: false on a decompression error. */
function unpackBlocks(ctx: UnpackContext, image: Uint8Array, stub: Uint8Array, stubRva: number): boolean {
  ctx.debug('in wwunpack');
  for (let entry = BLOCK_TABLE; ; entry += BLOCK_ENTRY) {
    if (!contained(0, stub.length, entry, BLOCK_ENTRY)) {
      ctx.debug('WWPack: Array of structs out of section');
      return true;
    }
    const source = (stubRva - u32le(stub, entry)) >>> 0;
    const words = (u32le(stub, entry + 8) * 4) >>> 0;
    const sourceEnd = u32le(stub, entry + 12);
    const at = source + sourceEnd + 4 - words;
    if (words === 0 || !contained(0, image.length, at, words)) {
      ctx.debug('WWPack: Compressed data out of file');
      return true;
    }
    ctx.debug(`WWP: src: ${hex(source)}, szd: ${hex(words)}, srcend: ${hex(sourceEnd)} - ${hex(sourceEnd + 4 - words)}`);
    const packed = image.slice(at, at + words);
    image.fill(0xff, at, at + words);
    const result = decompress(ctx, packed, image, at);
    if (result === 'error') {
      ctx.debug('WWPack: decompression error');
      return false;
    }
    // After the last block (or its end code) the table says whether another follows.
    if (stub[entry + 16] === 0) return true;
  }
}

/** WWPack's LZ77 stream, decompressed into `image` from `out`: 'end' at its end code, 'error' on bad data. */
function decompress(ctx: UnpackContext, packed: Uint8Array, image: Uint8Array, out: number): 'end' | 'error' {
  const bits = new BitReader(ctx, packed);
  let ucur = out;
  const inImage = (at: number, length: number) => contained(0, image.length, at, length);
  while (!bits.failed) {
    if (bits.take(1) === 0) {
      // A literal byte.
      if (bits.at >= packed.length || !inImage(ucur, 1)) return 'error';
      image[ucur++] = packed[bits.at++]!;
      continue;
    }
    const kind = bits.take(2);
    if (kind === 3) {
      // A two-byte copy from close by.
      const range = bits.take(2);
      const width = range + 5 + (range >= 2 ? 1 : 0);
      const base = (1 << width) - (range >= 2 ? 31 + 0x80 : 31);
      const value = bits.take(width);
      if (bits.failed || value === 0x1ff) break;
      const distance = base + value;
      if (!inImage(ucur, 2) || !inImage(ucur - distance, 2)) return 'error';
      image[ucur] = image[ucur - distance]!;
      image[ucur + 1] = image[ucur - distance + 1]!;
      ucur += 2;
      continue;
    }
    const distance = readDistance(bits);
    const length = kind === 0 ? readLength(bits) : kind + 2;
    if (!inImage(ucur, length) || !inImage(ucur - distance, length)) return 'error';
    for (let i = 0; i < length; i++, ucur++) image[ucur] = image[ucur - distance]!;
  }
  return bits.failed ? 'error' : 'end';
}

/** A block copy's distance: a 3-bit class, then that many bits (5 to 15) over its base. */
function readDistance(bits: BitReader): number {
  const size = bits.take(3);
  if (size === 6) return (bits.take(14) + 0x1fe1) >>> 0;
  if (size === 7) return (bits.take(15) + 0x5fe1) >>> 0;
  const width = size <= 2 ? size + 5 : size === 3 ? 8 + bits.take(1) : size === 4 ? 10 + bits.take(1) : 12;
  return (bits.take(width) + (1 << width) - 31) >>> 0;
}

/** A block copy's length when the kind bits were 0: 5-6, 7-13, 14-28, or a longer code. */
function readLength(bits: BitReader): number {
  if (bits.take(1) === 0) return bits.take(1) + 5;
  const short = bits.take(3);
  if (short !== 0) return short + 6;
  const medium = bits.take(4);
  if (medium !== 0) return medium + 13;
  let count = 4;
  let base = 0x0d;
  for (;;) {
    if (count === 7) {
      count = 0x0e;
      base = 0;
      break;
    }
    base = ((base + 2) << 1) - 1;
    count++;
    if (bits.take(1) !== 0) break;
  }
  return bits.take(count) + base;
}

/** WWPack's bit reader: 32-bit little-endian words, most significant bit first. */
class BitReader {
  at = 0;
  failed = false;
  private word = 0;
  private left = 0;

  constructor(
    private readonly ctx: UnpackContext,
    private readonly packed: Uint8Array,
  ) {
    this.reseed();
  }

  private reseed(): void {
    if (contained(0, this.packed.length, this.at, 4)) {
      this.word = u32le(this.packed, this.at);
      this.at += 4;
    } else {
      this.ctx.debug('WWPack: Out of bits');
      this.failed = true;
    }
    this.left = 32;
  }

  /** The next `count` bits (1 to 15) as a number. */
  take(count: number): number {
    let value = this.word >>> (32 - count);
    if (this.left >= count) {
      this.left -= count;
      this.word = (this.word << count) >>> 0;
      if (this.left === 0) this.reseed();
      return value;
    }
    if (!contained(0, this.packed.length, this.at, 4)) {
      this.ctx.debug('WWPack: Out of bits');
      this.failed = true;
      return value;
    }
    this.word = u32le(this.packed, this.at);
    this.at += 4;
    this.left += 32 - count;
    value |= this.word >>> this.left;
    this.word = (this.word << (32 - this.left)) >>> 0;
    return value;
  }
}

/** The rebuilt file's headers: without the stub's section, with the original entry point and sizes. */
function fixHeaders(ctx: UnpackContext, image: Uint8Array, stub: Uint8Array): boolean {
  const { pe } = ctx;
  const at = pe.peOffset;
  const outOfBounds = () => {
    ctx.debug('WWPack: unpack memory address out of bounds.');
    return false;
  };
  if (!contained(0, image.length, at + 0x50, 4) || !contained(0, stub.length, ENTRY_FIELD, 4)) return outOfBounds();
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const kept = pe.sections.length - 1;
  const last = pe.sections[kept]!;
  view.setUint16(at + 6, kept, true);
  view.setUint32(at + 0x28, (u32le(stub, ENTRY_FIELD) + last.rva + 0x299) >>> 0, true);
  view.setUint32(at + 0x50, (view.getUint32(at + 0x50, true) - last.virtualSize) >>> 0, true);
  let header = (view.getUint32(at + 0x14, true) & 0xffff) + at + 0x18;
  for (const section of pe.sections.slice(0, kept)) {
    if (!contained(0, image.length, header, 0x28)) {
      ctx.debug('WWPack: structs pointer out of bounds');
      return false;
    }
    view.setUint32(header + 8, section.virtualSize, true);
    view.setUint32(header + 12, section.rva, true);
    view.setUint32(header + 16, section.virtualSize, true);
    view.setUint32(header + 20, section.rva, true);
    header += 0x28;
  }
  if (!contained(0, image.length, header, 0x28)) {
    ctx.debug('WWPack: structs pointer out of bounds');
    return false;
  }
  image.fill(0, header, header + 0x28);
  return true;
}
