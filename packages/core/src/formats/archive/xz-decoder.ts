/**
 * The .xz container (stream header, blocks, index, footer, padding) around the LZMA2 decoder
 * and the filters XzDec runs after it (delta and the x86, PowerPC, IA-64, ARM, ARM-Thumb and
 * SPARC branch converters, up to three of them in any order and repetition), with the checks
 * of the LZMA SDK's XzDec that ClamAV embeds: header, block-header, index and
 * footer CRC32s; the block check (CRC32, CRC64 or SHA-256; other check types are skipped
 * unverified); an index that must list exactly the blocks decoded; zero padding.
 *
 * ClamAV's driver (cli_scanxz → cli_XzDecode) adds two quirks that decide what gets scanned,
 * and which this module reproduces because they change results:
 * - it feeds the file in 256 KiB pieces and asks "finished?" after each piece: a stream whose
 *   footer ends a piece is finished, and further concatenated streams are decoded only when the
 *   next one starts in the same piece;
 * - an error detected after a block's data ended, in the same piece, before the next block's data
 *   began (a bad check, index, footer, next block header…) is taken as a normal end of stream.
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import {
  armDecode, armThumbDecode, deltaDecode, ia64Decode, ppcDecode, sparcDecode, x86Decode,
} from '../compression/branch-filters.js';
import { lzma2DictionarySize, lzma2Into } from '../compression/lzma.js';
import { OutputBuffer } from './output-buffer.js';

export type XzEnd =
  | 'stream-end'
  | 'input-end'
  | 'limit'
  | 'error'
  /** The block asks for a dictionary larger than ClamAV will allocate (Heuristics.XZ.DicSizeLimit). */
  | 'dictionary-too-large';

export interface XzResult {
  end: XzEnd;
  error?: string;
}

/** CLI_XZ_IBUF_SIZE: how much of the file ClamAV hands the decoder at a time. */
export const XZ_INPUT_PIECE = 256 * 1024;
/** CLI_MAX_ALLOCATION: ClamAV's allocator refuses more, which XzDec reports as out of memory. */
const MAX_ALLOCATION = 1024 * 1024 * 1024;
const HEADER_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FOOTER_MAGIC = [0x59, 0x5a];
const FILTER_LZMA2 = 0x21;
const FILTER_DELTA = 0x03;
/** XzDec's branch converters by filter id, with the alignment their start-offset property must have. */
const BRANCH_FILTERS = new Map<number, { decode: (data: Uint8Array, start: number) => void; alignment: number }>([
  [0x04, { decode: x86Decode, alignment: 1 }],
  [0x05, { decode: ppcDecode, alignment: 4 }],
  [0x06, { decode: ia64Decode, alignment: 16 }],
  [0x07, { decode: armDecode, alignment: 4 }],
  [0x08, { decode: armThumbDecode, alignment: 2 }],
  [0x09, { decode: sparcDecode, alignment: 4 }],
]);
const CHECK_CRC32 = 1;
const CHECK_CRC64 = 4;
const CHECK_SHA256 = 10;

class XzError extends Error {
  constructor(
    message: string,
    /** Offset of the byte whose arrival lets the SDK decide (see `same piece` in the header). */
    readonly detectedAt: number,
    readonly end: XzEnd = 'error',
  ) {
    super(message);
  }
}
class InputEnd extends Error {}

/** CRC-64/XZ (ECMA-182, reflected) with the 64-bit state kept as two 32-bit halves. */
const CRC64_TABLES = (() => {
  const low = new Uint32Array(256);
  const high = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let lo = i;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi >>>= 1;
      if (carry) {
        lo = (lo ^ 0xd7870f42) >>> 0;
        hi = (hi ^ 0xc96c5795) >>> 0;
      }
    }
    low[i] = lo;
    high[i] = hi;
  }
  return { low, high };
})();

function crc64(bytes: Uint8Array): Uint8Array {
  const { low, high } = CRC64_TABLES;
  let lo = 0xffffffff;
  let hi = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    const index = (lo ^ bytes[i]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ low[index]!) >>> 0;
    hi = ((hi >>> 8) ^ high[index]!) >>> 0;
  }
  const value = new Uint8Array(8);
  const view = new DataView(value.buffer);
  view.setUint32(0, ~lo >>> 0, true);
  view.setUint32(4, ~hi >>> 0, true);
  return value;
}

function checkSize(type: number): number {
  return type === 0 ? 0 : 4 << Math.floor((type - 1) / 3);
}

/** The check value of `data` as stored in the file, or undefined for types XzDec does not verify. */
function checkValue(type: number, data: Uint8Array): Uint8Array | undefined {
  if (type === CHECK_CRC32) {
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, zlib.crc32(data), true);
    return value;
  }
  if (type === CHECK_CRC64) return crc64(data);
  if (type === CHECK_SHA256) return createHash('sha256').update(data).digest();
  return undefined;
}

/** A multibyte integer (7 bits a byte, at most 9 bytes, no superfluous trailing zero byte). */
function readVarint(bytes: Uint8Array, pos: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 9 && pos + i < end; i++) {
    const byte = bytes[pos + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (!(byte & 0x80)) return byte === 0 && i !== 0 ? undefined : { value, next: pos + i + 1 };
  }
  return undefined;
}

function encodeVarint(value: number): number[] {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return bytes;
}

function equal(a: Uint8Array, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const u32 = (bytes: Uint8Array, pos: number): number =>
  (bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16) | (bytes[pos + 3]! << 24)) >>> 0;

/** An in-place decoder for one block's output. */
type Filter = (data: Uint8Array) => void;

/** XzDec's setup of a filter that runs after LZMA2 (BraState_SetProps): its decoder, or why it is refused. */
function filterFor(id: number, props: Uint8Array): Filter | string {
  if (id === FILTER_DELTA) {
    if (props.length !== 1) return 'bad delta filter properties';
    const distance = props[0]! + 1;
    return (data) => deltaDecode(data, distance);
  }
  const branch = BRANCH_FILTERS.get(id)!;
  if (props.length === 0) return (data) => branch.decode(data, 0);
  if (props.length !== 4) return `bad properties for filter ${id}`;
  const start = u32(props, 0);
  if (start % branch.alignment !== 0) return `unaligned start offset for filter ${id}`;
  return (data) => branch.decode(data, start);
}

/** Decodes an .xz file into `out` the way ClamAV's cli_scanxz would. */
export function unxzInto(input: Uint8Array, out: OutputBuffer): XzResult {
  /** Where the last block's data ended while "finished with mark" still stands; see the header. */
  let finishedAt: number | undefined;
  const piece = (offset: number): number => Math.floor(offset / XZ_INPUT_PIECE);
  const need = (pos: number, count: number): void => {
    if (input.length - pos < count) throw new InputEnd();
  };

  try {
    let pos = 0;
    for (;;) {
      const stream = readStream(pos);
      if (stream === 'limit') return { end: 'limit' };
      pos = stream;
      // Stream padding: zero bytes in multiples of four, then maybe another stream.
      const footerEnd = pos;
      while (pos < input.length && input[pos] === 0) pos++;
      // ClamAV asks "finished?" at the end of each piece: yes if the padding so far is whole.
      for (let boundary = Math.ceil(footerEnd / XZ_INPUT_PIECE) * XZ_INPUT_PIECE; boundary <= pos; boundary += XZ_INPUT_PIECE) {
        if ((boundary - footerEnd) % 4 === 0) return { end: 'stream-end' };
      }
      const padding = pos - footerEnd;
      if (pos >= input.length) {
        if (padding % 4 !== 0) throw new InputEnd();
        return { end: 'stream-end' };
      }
      if (padding % 4 !== 0) throw new XzError('stream padding is not a multiple of four', pos);
    }
  } catch (caught) {
    if (caught instanceof InputEnd) return { end: 'input-end', error: 'premature end of compressed stream' };
    if (caught instanceof XzError) {
      if (finishedAt !== undefined && piece(finishedAt - 1) === piece(caught.detectedAt) && caught.detectedAt < input.length) {
        return { end: 'stream-end' };
      }
      return { end: caught.end, error: caught.message };
    }
    throw caught;
  }

  /** Decodes one stream from `start`; returns the offset after its footer. */
  function readStream(start: number): number | 'limit' {
    need(start, 12);
    for (let i = 0; i < HEADER_MAGIC.length; i++) {
      if (input[start + i] !== HEADER_MAGIC[i]) throw new XzError('not an xz stream', start + i);
    }
    // XzDec parses the header when it sees the byte after it.
    need(start, 13);
    const flags = input.subarray(start + 6, start + 8);
    if (zlib.crc32(flags) !== u32(input, start + 8)) throw new XzError('stream header CRC mismatch', start + 12);
    if (flags[0] !== 0 || flags[1]! > 0x0f) throw new XzError('unsupported stream flags', start + 12);
    const checkType = flags[1]!;
    const sizeOfCheck = checkSize(checkType);

    const records: number[] = [];
    let blockCount = 0;
    let pos = start + 12;
    for (;;) {
      need(pos, 1);
      if (input[pos] === 0) break; // the index indicator
      const block = readBlock(pos, checkType, sizeOfCheck);
      if (block === 'limit') return 'limit';
      records.push(...encodeVarint(block.unpaddedSize), ...encodeVarint(block.uncompressedSize));
      blockCount++;
      pos = block.next;
    }
    return readIndexAndFooter(pos, blockCount, records, flags);
  }

  function readBlock(
    start: number,
    checkType: number,
    sizeOfCheck: number,
  ): { next: number; unpaddedSize: number; uncompressedSize: number } | 'limit' {
    const headerSize = (input[start]! + 1) * 4;
    need(start, headerSize + 1);
    const detected = start + headerSize;
    const header = input.subarray(start, start + headerSize);
    if (zlib.crc32(header.subarray(0, headerSize - 4)) !== u32(header, headerSize - 4)) {
      throw new XzError('block header CRC mismatch', detected);
    }
    const blockFlags = header[1]!;
    let pos = 2;
    const body = headerSize - 4;
    for (const present of [blockFlags & 0x40, blockFlags & 0x80]) {
      if (!present) continue;
      const size = readVarint(header, pos, body);
      if (!size || (present === 0x40 && size.value === 0)) throw new XzError('bad block header size field', detected);
      pos = size.next;
    }
    const filterCount = (blockFlags & 3) + 1;
    const chain: Array<{ id: number; props: Uint8Array }> = [];
    for (let i = 0; i < filterCount; i++) {
      const id = readVarint(header, pos, body);
      if (!id) throw new XzError('bad filter id', detected);
      const propsSize = readVarint(header, id.next, body);
      if (!propsSize || propsSize.value > body - propsSize.next || propsSize.value > 20) {
        throw new XzError('bad filter properties', detected);
      }
      pos = propsSize.next + propsSize.value;
      chain.push({ id: id.value, props: header.subarray(propsSize.next, pos) });
    }
    while (pos < body) if (header[pos++] !== 0) throw new XzError('block header padding is not zero', detected);

    // XzDec sets the coders up from the last filter (the decompressor, which must be LZMA2)
    // back to the first: first every method, then every coder's properties.
    const lzma2 = chain.pop()!;
    if (lzma2.id !== FILTER_LZMA2) throw new XzError(`unsupported filter ${lzma2.id} as the last filter`, detected);
    for (const { id } of chain) {
      // XzDec would also run LZMA2 as an intermediate filter; no encoder writes that, nor do we.
      if (id !== FILTER_DELTA && !BRANCH_FILTERS.has(id)) throw new XzError(`unsupported filter ${id}`, detected);
    }
    if (lzma2.props.length !== 1) throw new XzError('bad LZMA2 properties', detected);
    const dictionaryProp = lzma2.props[0]!;
    if (dictionaryProp > 40) throw new XzError('bad LZMA2 dictionary size', detected);
    const dictionarySize = lzma2DictionarySize(dictionaryProp);
    if (dictionarySize > MAX_ALLOCATION) {
      throw new XzError('dictionary too large', detected, 'dictionary-too-large');
    }
    const filters: Filter[] = [];
    for (const { id, props } of chain.reverse()) {
      const filter = filterFor(id, props);
      if (typeof filter === 'string') throw new XzError(filter, detected);
      filters.push(filter);
    }

    // The block's data starts decoding: "finished with mark" from the previous block is gone.
    finishedAt = undefined;
    const dataStart = start + headerSize;
    const outStart = out.length;
    const lzma = lzma2Into(input, dataStart, out, dictionarySize);
    if (lzma.end === 'input-end') throw new InputEnd();
    if (lzma.end === 'error') throw new XzError(lzma.error ?? 'LZMA2 data error', lzma.offset);
    // The filters are length-preserving and start afresh in each block, so they can run over
    // the block's whole output once LZMA2 is done with it as its dictionary.
    for (const filter of filters) filter(out.bytes.subarray(outStart, out.length));
    if (lzma.end === 'limit') return 'limit';
    finishedAt = lzma.offset;

    let pos2 = lzma.offset;
    const packedSize = pos2 - dataStart;
    for (let align = packedSize; align % 4 !== 0; align++, pos2++) {
      need(pos2, 1);
      if (input[pos2] !== 0) throw new XzError('block padding is not zero', pos2);
    }
    need(pos2, sizeOfCheck + 1);
    const expected = checkValue(checkType, out.bytes.subarray(outStart, out.length));
    if (expected && !equal(input.subarray(pos2, pos2 + sizeOfCheck), expected)) {
      throw new XzError('block check mismatch', pos2 + sizeOfCheck);
    }
    return {
      next: pos2 + sizeOfCheck,
      unpaddedSize: headerSize + packedSize + sizeOfCheck,
      uncompressedSize: out.length - outStart,
    };
  }

  function readIndexAndFooter(start: number, blockCount: number, records: number[], flags: Uint8Array): number {
    const prefix = [0, ...encodeVarint(blockCount)];
    for (let i = 0; i < prefix.length; i++) {
      need(start + i, 1);
      if (input[start + i] !== prefix[i]) throw new XzError('index does not match the blocks', start + i);
    }
    let pos = start + prefix.length;
    need(pos, records.length);
    const listed = input.subarray(pos, pos + records.length);
    pos += records.length;
    while ((pos - start) % 4 !== 0) {
      need(pos, 1);
      if (input[pos] !== 0) throw new XzError('index padding is not zero', pos);
      pos++;
    }
    need(pos, 1);
    if (!equal(listed, records)) throw new XzError('index does not match the blocks', pos);
    const indexSize = pos - start + 4;
    need(pos, 5);
    if (zlib.crc32(input.subarray(start, pos)) !== u32(input, pos)) throw new XzError('index CRC mismatch', pos + 4);
    pos += 4;

    need(pos, 12);
    const footer = input.subarray(pos, pos + 12);
    const valid =
      zlib.crc32(footer.subarray(4, 10)) === u32(footer, 0) &&
      (u32(footer, 4) + 1) * 4 === indexSize &&
      footer[8] === flags[0] &&
      footer[9] === flags[1] &&
      equal(footer.subarray(10, 12), FOOTER_MAGIC);
    if (!valid) throw new XzError('stream footer mismatch', pos + 11);
    return pos + 12;
  }
}
