/**
 * OLE2 compound files (Microsoft's Compound File Binary format) as libclamav's ole2_extract.c
 * reads them: the header, the block allocation table (BAT, with its XBAT extension), the small
 * block table (SBAT) and the directory ("property") tree, walked in ClamAV's order.
 *
 * ClamAV's reader has its own idea of the format in places, and files are unpacked the way it
 * reads them: BAT and property sectors are read 512 bytes at a time whatever the sector size
 * (so only the first 128 BAT entries or 4 directory entries of a larger sector are seen), block
 * numbers are bounded by the file size counted in small blocks, a short last sector reads as
 * zero-padded, and block or property loops end the chain or the walk.
 */
import { isPrint, readInt32LE, readUint16LE, readUint32LE, toLower } from './bytes.js';

const MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const HEADER_SIZE = 512;
const INT32_MAX = 0x7fffffff;

export const enum PropertyType {
  Storage = 1,
  Stream = 2,
  Root = 5,
}

export interface Property {
  readonly index: number;
  readonly rawName: Uint8Array;
  readonly nameSize: number;
  readonly type: number;
  readonly prev: number;
  readonly next: number;
  readonly child: number;
  readonly startBlock: number;
  readonly size: number;
}

export interface OleHeader {
  readonly bigShift: number;
  readonly smallShift: number;
  readonly batCount: number;
  readonly propStart: number;
  readonly sbatCutoff: number;
  readonly sbatStart: number;
  readonly xbatStart: number;
  readonly batArray: Int32Array;
  readonly maxBlock: number;
}

/** Why parsing stopped early: ClamAV's error codes that matter to the caller. */
export type WalkEnd = 'done' | 'loop' | 'max-recursion' | 'max-files';

/**
 * The lower-cased printable name ClamAV gives a directory entry (cli_ole2_get_property_name2):
 * printable ASCII kept, other UTF-16 units written as `_N_` or `_xyz_`. Undefined for empty or
 * oversized names.
 */
export function propertyName(raw: Uint8Array, size: number): string | undefined {
  if ((raw[0] === 0 && raw[1] === 0) || size <= 0 || size > 128) return undefined;
  let name = '';
  const signed = (b: number) => (b >= 0x80 ? b - 256 : b);
  for (let i = 0; i < size - 2; i += 2) {
    const lo = raw[i] ?? 0;
    const hi = raw[i + 1] ?? 0;
    if (lo < 0x80 && isPrint(lo) && hi === 0) name += String.fromCharCode(toLower(lo));
    else if (lo < 10 && hi === 0) name += `_${String.fromCharCode(lo + 0x30)}_`;
    else {
      const x = ((signed(lo) << 8) | signed(hi)) & 0xffff;
      name += `_${String.fromCharCode(0x61 + (x & 0xf), 0x61 + ((x >> 4) & 0xf), 0x61 + ((x >> 8) & 0xf))}_`;
    }
  }
  return name || undefined;
}

export class Ole2Reader {
  private constructor(
    readonly data: Uint8Array,
    readonly header: OleHeader,
  ) {}

  /** Parses the header; undefined where ClamAV gives up on the file. */
  static open(data: Uint8Array): Ole2Reader | undefined {
    if (data.length < HEADER_SIZE || data.length > INT32_MAX) return undefined;
    for (let i = 0; i < MAGIC.length; i++) if (data[i] !== MAGIC[i]) return undefined;
    const bigShift = readUint16LE(data, 30);
    const smallShift = readUint32LE(data, 32); // ClamAV reads two reserved bytes with it
    if (bigShift < 6 || bigShift > 28) return undefined;
    if (!smallShift || smallShift > bigShift) return undefined;
    const batArray = new Int32Array(109);
    for (let i = 0; i < 109; i++) batArray[i] = readInt32LE(data, 76 + 4 * i);
    const header: OleHeader = {
      bigShift,
      smallShift,
      batCount: readInt32LE(data, 44),
      propStart: readInt32LE(data, 48),
      sbatCutoff: readUint32LE(data, 56),
      sbatStart: readInt32LE(data, 60),
      xbatStart: readInt32LE(data, 68),
      batArray,
      // Block numbers are checked against the file size counted in small blocks (computed in
      // unsigned arithmetic, then compared as a signed 32-bit number, as in ClamAV).
      maxBlock: Number(BigInt.asIntN(32, BigInt.asUintN(64, BigInt(data.length - Math.max(512, 2 ** bigShift))) >> BigInt(smallShift))),
    };
    return new Ole2Reader(data, header);
  }

  get bigBlockSize(): number {
    return 2 ** this.header.bigShift;
  }

  get smallBlockSize(): number {
    return 2 ** this.header.smallShift;
  }

  /**
   * `size` bytes of big block `block` (ole2_read_block); undefined past the end of the file. A
   * block running past the end is zero-padded; huge block numbers read near the 2 GiB mark.
   */
  readBlock(block: number, size: number): Uint8Array | undefined {
    if (block < 0) return undefined;
    const shift = this.header.bigShift;
    const base = Math.max(512, 2 ** shift);
    let offset: number;
    let end: number;
    if (block * 2 ** shift < INT32_MAX - base) {
      offset = block * 2 ** shift + base;
      end = offset + size;
    } else {
      offset = INT32_MAX - size;
      end = INT32_MAX;
    }
    const length = this.data.length;
    if (end === 0 || offset >= length) return undefined;
    const out = new Uint8Array(size);
    out.set(this.data.subarray(offset, Math.min(end, length)));
    return out;
  }

  private batEntry(table: Uint8Array | undefined, index: number): number {
    return table ? readInt32LE(table, index * 4) : -1;
  }

  /** The next big block of a chain, or a negative value at its end or on errors. */
  nextBlock(current: number): number {
    if (current < 0) return -1;
    const arrayIndex = Math.floor(current / 128);
    if (arrayIndex > 108) return this.nextXbatBlock(current);
    if (arrayIndex > this.header.batCount) return -10;
    const bat = this.readBlock(this.header.batArray[arrayIndex]!, 512);
    return bat ? this.batEntry(bat, current - arrayIndex * 128) : -1;
  }

  private nextXbatBlock(current: number): number {
    const xbatIndex = Math.floor(current / 128);
    // Each XBAT block holds 127 BAT block numbers and a link to the next XBAT block.
    let xbatBlockIndex = Math.trunc((xbatIndex - 109) / 127);
    const batBlock = (xbatIndex - 109) % 127;
    let xbat = this.readBlock(this.header.xbatStart, 512);
    if (!xbat) return -1;
    while (xbatBlockIndex > 0) {
      xbat = this.readBlock(readInt32LE(xbat, 127 * 4), 512);
      if (!xbat) return -1;
      xbatBlockIndex--;
    }
    const bat = this.readBlock(readInt32LE(xbat, batBlock * 4), 512);
    return bat ? this.batEntry(bat, current % 128) : -1;
  }

  /** The next small block of a chain. */
  nextSmallBlock(current: number): number {
    if (current < 0) return -1;
    let block = this.header.sbatStart;
    for (let i = Math.floor(current / 128); i > 0; i--) block = this.nextBlock(block);
    const sbat = this.readBlock(block, 512);
    return sbat ? this.batEntry(sbat, current % 128) : -1;
  }

  /** The big block holding small block `index` of the root stream (mini stream). */
  private smallBlockContainer(rootStart: number, index: number): Uint8Array | undefined {
    if (index < 0 || rootStart < 0) return undefined;
    let block = rootStart;
    for (let count = Math.floor(index / 2 ** (this.header.bigShift - this.header.smallShift)); count > 0; count--) {
      block = this.nextBlock(block);
    }
    return this.readBlock(block, this.bigBlockSize);
  }

  /**
   * A stream's bytes, following its chain in the small or big block table as ClamAV does: up to
   * the declared size, stopping early at a block number past the file, a loop, or a read error.
   */
  readStream(property: Property, rootStart: number, limit = Infinity): Uint8Array {
    // A chain visits each block once, so a stream cannot outgrow the file by more than a block.
    const total = Math.min(property.size, limit, this.data.length + this.bigBlockSize);
    const out = new Uint8Array(total);
    let written = 0;
    let remaining = property.size;
    let block = property.startBlock;
    const seen = new Set<number>();
    const small = property.size < this.header.sbatCutoff;
    const smallSize = this.smallBlockSize;
    const bigSize = this.bigBlockSize;
    const perBig = 2 ** (this.header.bigShift - this.header.smallShift);
    while (block >= 0 && remaining > 0 && written < total) {
      if (block > this.header.maxBlock || seen.has(block)) break;
      seen.add(block);
      let chunk: Uint8Array | undefined;
      if (small) {
        const container = this.smallBlockContainer(rootStart, block);
        if (!container) break;
        const offset = smallSize * (block % perBig);
        chunk = container.subarray(offset, offset + Math.min(remaining, smallSize));
        block = this.nextSmallBlock(block);
      } else {
        chunk = this.readBlock(block, bigSize);
        if (!chunk) break;
        chunk = chunk.subarray(0, Math.min(remaining, bigSize));
        block = this.nextBlock(block);
      }
      const take = Math.min(chunk.length, total - written);
      out.set(chunk.subarray(0, take), written);
      written += take;
      remaining -= chunk.length;
    }
    return out.subarray(0, written);
  }

  /** Directory entry `index` (four entries are read per sector, as ClamAV does). */
  readProperty(index: number): Property | undefined {
    let block = this.header.propStart;
    for (let i = 0; i < Math.floor(index / 4); i++) block = this.nextBlock(block);
    const sector = this.readBlock(block, 512);
    if (!sector) return undefined;
    const at = (index % 4) * 128;
    const type = sector[at + 66]!;
    if (type === 0) return undefined;
    return {
      index,
      // ClamAV's name reader may run past the 64-byte name into the entry's other fields.
      rawName: sector.subarray(at, at + 128),
      nameSize: readUint16LE(sector, at + 64),
      type,
      prev: readInt32LE(sector, at + 68),
      next: readInt32LE(sector, at + 72),
      child: readInt32LE(sector, at + 76),
      startBlock: readInt32LE(sector, at + 116),
      size: readUint32LE(sector, at + 120),
    };
  }
}

export interface StreamEntry {
  readonly property: Property;
  /** ClamAV's lower-cased printable name, if the entry has one. */
  readonly name: string | undefined;
  /** The storages above the stream, as directory entry indexes: streams are grouped by it. */
  readonly path: string;
}

export interface WalkLimits {
  /** ClamAV reuses --max-recursion for the storage depth. */
  readonly maxRecursion: number;
  /** --max-files: the walk stops when it would pass it. */
  readonly maxFiles: number;
  /** Streams larger than this are skipped (--max-filesize). */
  readonly maxStreamSize: number;
}

export interface WalkResult {
  readonly streams: StreamEntry[];
  readonly end: WalkEnd;
  /** The root entry's first block: the mini stream holding small streams (-1 if none). */
  readonly rootStart: number;
}

/**
 * Walks the directory tree as ole2_walk_property_tree does: from entry 0, children before
 * siblings (the right sibling before the left), storages one level deeper; a directory entry met
 * twice ends the walk. Returns the streams in that order.
 */
export function walkStreams(reader: Ole2Reader, limits: WalkLimits): WalkResult {
  const streams: StreamEntry[] = [];
  const visited = new Set<number>();
  let rootStart = -1;
  const maxIndex = reader.header.maxBlock;
  const walk = (start: number, level: number, path: string): WalkEnd => {
    if (level > 100 || streams.length > 100000) return 'done';
    if (limits.maxRecursion && level > limits.maxRecursion) return 'max-recursion';
    const pending = [start];
    while (pending.length) {
      const index = pending.pop()!;
      if (index < 0 || index > maxIndex) continue;
      const property = reader.readProperty(index);
      if (!property) continue;
      if (visited.has(index)) return 'loop';
      visited.add(index);
      let end: WalkEnd = 'done';
      switch (property.type) {
        case PropertyType.Root:
          if (index !== 0 || level !== 0 || streams.length !== 0) continue; // a root entry only at the top
          rootStart = property.startBlock;
          if (property.child !== -1) end = walk(property.child, level + 1, path);
          break;
        case PropertyType.Stream:
          if (limits.maxFiles && streams.length > limits.maxFiles) return 'max-files';
          if (property.size <= limits.maxStreamSize) {
            streams.push({ property, name: propertyName(property.rawName, property.nameSize), path });
          }
          if (property.child !== -1) end = walk(property.child, level, path);
          break;
        case PropertyType.Storage:
          if (property.child !== -1) end = walk(property.child, level + 1, `${path}/${String(index).padStart(6, '0')}`);
          break;
        default:
          continue; // unknown entry type: its siblings are not followed
      }
      if (end !== 'done') return end;
      if (property.prev !== -1) pending.push(property.prev);
      if (property.next !== -1) pending.push(property.next);
    }
    return 'done';
  };
  const end = walk(0, 0, '');
  return { streams, end, rootStart };
}
