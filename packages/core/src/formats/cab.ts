import { inflateRawSync } from 'node:zlib';
import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { ChunkCursor } from './compression/chunk-cursor.js';
import { corrupt } from './compression/corrupt.js';
import { guarded } from './compression/guard.js';
import { LzxDecoder, LZX_FRAME_SIZE } from './compression/lzx.js';
import { cString, u16le, u32le } from './compression/read.js';

/**
 * Microsoft Cabinet (MSCF) files. ClamAV hands them to libmspack in "salvage" mode: checksums
 * are ignored, damaged headers keep what was read, and a member whose data breaks off is
 * scanned as far as it was extracted. Each member is cut at the size budget (libmspack's
 * writer silently drops the rest). Members of folders that start in a previous cabinet of a
 * set cannot be extracted on their own and are skipped.
 */

const HEADER_SIZE = 36;
const FLAG_PREV_CABINET = 0x0001;
const FLAG_NEXT_CABINET = 0x0002;
const FLAG_RESERVE_PRESENT = 0x0004;

const FOLDER_CONTINUED_FROM_PREV = 0xfffd;
const FOLDER_CONTINUED_TO_NEXT = 0xfffe;
const FOLDER_CONTINUED_PREV_AND_NEXT = 0xffff;

export const COMPRESSION_NONE = 0;
export const COMPRESSION_MSZIP = 1;
export const COMPRESSION_QUANTUM = 2;
export const COMPRESSION_LZX = 3;

interface CabFolder {
  readonly dataOffset: number;
  readonly blocks: number;
  readonly compression: number;
}

interface CabFile {
  readonly name: string;
  readonly size: number;
  readonly offset: number;
  readonly folder: number;
}

interface Cabinet {
  readonly folders: CabFolder[];
  readonly files: CabFile[];
  readonly dataReserve: number;
}

function parseCabinet(data: Uint8Array, debug: (m: string) => void): Cabinet | undefined {
  if (data.length < HEADER_SIZE || u32le(data, 0) !== 0x4643534d) return undefined;
  const filesOffset = u32le(data, 16);
  const folderCount = u16le(data, 26);
  const fileCount = u16le(data, 28);
  const flags = u16le(data, 30);
  if (folderCount === 0 || fileCount === 0) {
    debug('CAB: no folders or no files');
    return undefined;
  }
  let pos = HEADER_SIZE;
  let folderReserve = 0;
  let dataReserve = 0;
  if (flags & FLAG_RESERVE_PRESENT) {
    const headerReserve = u16le(data, 36);
    folderReserve = data[38] ?? 0;
    dataReserve = data[39] ?? 0;
    pos = 40 + headerReserve;
  }
  // Names of the previous/next cabinet and disk of a set.
  const skipStrings = (n: number) => {
    for (let i = 0; i < n; i++) pos = cString(data, pos, 256).end;
  };
  if (flags & FLAG_PREV_CABINET) skipStrings(2);
  if (flags & FLAG_NEXT_CABINET) skipStrings(2);

  const folders: CabFolder[] = [];
  for (let i = 0; i < folderCount && pos + 8 <= data.length; i++, pos += 8 + folderReserve) {
    folders.push({ dataOffset: u32le(data, pos), blocks: u16le(data, pos + 4), compression: u16le(data, pos + 6) });
  }
  if (folders.length === 0) return undefined;

  const files: CabFile[] = [];
  pos = filesOffset;
  for (let i = 0; i < fileCount && pos + 16 < data.length; i++) {
    const name = cString(data, pos + 16, 256);
    files.push({ size: u32le(data, pos), offset: u32le(data, pos + 4), folder: u16le(data, pos + 8), name: name.text });
    pos = name.end;
  }
  if (files.length < fileCount) debug(`CAB: only ${files.length} of ${fileCount} file headers present`);
  return { folders, files, dataReserve };
}

/** The CFDATA blocks of a folder: [compressed bytes, uncompressed size], as far as present. */
function* dataBlocks(data: Uint8Array, folder: CabFolder, reserve: number): Generator<[Uint8Array, number]> {
  let pos = folder.dataOffset;
  for (let i = 0; i < folder.blocks; i++) {
    const header = 8 + reserve;
    if (pos + header > data.length) throw corrupt('CAB: data block header past the end of the file');
    const packed = u16le(data, pos + 4);
    const unpacked = u16le(data, pos + 6);
    if (unpacked === 0 || unpacked > LZX_FRAME_SIZE) throw corrupt(`CAB: bad data block size ${unpacked}`);
    const start = pos + header;
    const end = Math.min(start + packed, data.length);
    yield [data.subarray(start, end), unpacked];
    if (end < start + packed) throw corrupt('CAB: data block truncated');
    pos = end;
  }
}

function* storedFolder(data: Uint8Array, folder: CabFolder, reserve: number): Generator<Uint8Array> {
  for (const [block, size] of dataBlocks(data, folder, reserve)) yield block.subarray(0, size);
}

/**
 * MSZIP: each block is "CK" and a deflate stream whose window continues from the previous
 * block's output. A block that fails to inflate is replaced by zeros, as libmspack does with
 * the MSZIP repair option ClamAV sets.
 */
function* mszipFolder(data: Uint8Array, folder: CabFolder, reserve: number): Generator<Uint8Array> {
  let history: Uint8Array = new Uint8Array(0);
  for (const [block, size] of dataBlocks(data, folder, reserve)) {
    let out: Uint8Array;
    try {
      if (block[0] !== 0x43 || block[1] !== 0x4b) throw corrupt('CAB: MSZIP block without CK signature');
      const inflated = inflateRawSync(block.subarray(2), {
        dictionary: history.length ? history : undefined,
        maxOutputLength: LZX_FRAME_SIZE,
        finishFlush: 2 /* Z_SYNC_FLUSH: keep what a cut-off block produced */,
      });
      out = new Uint8Array(size);
      out.set(inflated.subarray(0, size));
    } catch {
      out = new Uint8Array(size);
    }
    history = out;
    yield out;
  }
}

function* lzxFolder(data: Uint8Array, folder: CabFolder, reserve: number): Generator<Uint8Array> {
  const windowBits = (folder.compression >>> 8) & 0x1f;
  // The LZX bit stream runs on across data blocks: join them, remembering each frame's size.
  const parts: Uint8Array[] = [];
  const frameSizes: number[] = [];
  let broken: unknown;
  try {
    for (const [block, size] of dataBlocks(data, folder, reserve)) {
      parts.push(block);
      frameSizes.push(size);
    }
  } catch (err) {
    broken = err; // decode the frames that are there, then report
  }
  const input = Buffer.concat(parts);
  const decoder = new LzxDecoder(input, windowBits);
  for (const size of frameSizes) {
    const frame = new Uint8Array(size);
    decoder.decodeFrame(size, frame, 0);
    yield frame;
  }
  if (broken) throw broken;
}

function folderStream(data: Uint8Array, folder: CabFolder, reserve: number): () => Iterator<Uint8Array> {
  switch (folder.compression & 0x000f) {
    case COMPRESSION_NONE:
      return () => storedFolder(data, folder, reserve);
    case COMPRESSION_MSZIP:
      return () => mszipFolder(data, folder, reserve);
    case COMPRESSION_LZX:
      return () => lzxFolder(data, folder, reserve);
    default:
      return function* unsupported() {
        throw corrupt(`CAB: unsupported compression method ${folder.compression & 0x000f}`);
      };
  }
}

function* extractCab(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  const cab = parseCabinet(data, (m) => ctx.debug(m));
  if (!cab) return;
  const cursors = cab.folders.map((folder) => new ChunkCursor(folderStream(data, folder, cab.dataReserve)));
  for (const file of cab.files) {
    let folderIndex = file.folder;
    if (folderIndex === FOLDER_CONTINUED_FROM_PREV || folderIndex === FOLDER_CONTINUED_PREV_AND_NEXT) {
      ctx.debug(`CAB: ${file.name} continues from a previous cabinet, skipped`);
      continue;
    }
    if (folderIndex === FOLDER_CONTINUED_TO_NEXT) folderIndex = cab.folders.length - 1;
    const cursor = cursors[folderIndex];
    if (!cursor) {
      ctx.debug(`CAB: ${file.name} refers to missing folder ${folderIndex}`);
      continue;
    }
    const { data: content, error } = cursor.read(file.offset, Math.min(file.size, ctx.maxObjectSize));
    if (error && content.length < Math.min(file.size, ctx.maxObjectSize)) {
      ctx.debug(`CAB: ${file.name}: extraction stopped after ${content.length} bytes (${error})`);
    }
    // ClamAV passes these exact values to container-metadata matching for CAB members.
    yield { data: content, name: file.name, compressedSize: 0, encrypted: false, position: 0, method: cab.folders[folderIndex]!.compression & 0x000f };
  }
}

export const cabHandler: FormatHandler = {
  name: 'cab',
  fileTypes: ['CL_TYPE_MSCAB'],
  scanSwitch: 'archive',
  extract: (data, ctx) => guarded('CAB', extractCab(data, ctx), ctx),
};
