import { crc32 } from 'node:zlib';
import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { OutputBuffer } from './archive/output-buffer.js';
import { armDecode, bcj2Decode, x86Decode } from './compression/branch-filters.js';
import { guarded } from './compression/guard.js';
import { lzma2Into, lzmaInto, type LzmaResult } from './compression/lzma.js';
import { Ppmd7, PPMD7_MAX_ORDER, PPMD7_MIN_MEMORY, PPMD7_MIN_ORDER } from './compression/ppmd7.js';
import { Ppmd7zRangeDecoder } from './compression/ppmd7-range.js';
import { u32le, u64le } from './compression/read.js';

/**
 * 7-Zip archives, as ClamAV reads them with the LZMA SDK's 7z decoder: the header may itself
 * be compressed; folders are decoded whole in memory with Copy, LZMA, LZMA2 or PPMd (variant H),
 * optionally behind an x86 BCJ or ARM filter, or in the four-coder BCJ2 layout; nothing else
 * (AES, Deflate, BZip2, other filters) is extracted. A CRC mismatch anywhere
 * makes ClamAV skip the data concerned, and so do we. An encrypted header or member raises
 * Heuristics.Encrypted.7Zip.
 */

const SIGNATURE = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c];
const SIGNATURE_HEADER_SIZE = 32;
/** libclamav refuses allocations above 1 GiB (CLI_MAX_ALLOCATION): a bigger folder is not decoded. */
const MAX_FOLDER_SIZE = 1024 * 1024 * 1024;
const ENCRYPTED_NAME = 'Heuristics.Encrypted.7Zip';

const METHOD_COPY = 0x00;
const METHOD_LZMA2 = 0x21;
const METHOD_LZMA = 0x030101;
const METHOD_PPMD = 0x030401;
const METHOD_BCJ = 0x03030103;
const METHOD_BCJ2 = 0x0303011b;
const METHOD_ARM = 0x03030501;
const METHOD_AES = 0x06f10701;

const enum Id {
  End = 0x00,
  Header = 0x01,
  ArchiveProperties = 0x02,
  AdditionalStreamsInfo = 0x03,
  MainStreamsInfo = 0x04,
  FilesInfo = 0x05,
  PackInfo = 0x06,
  UnpackInfo = 0x07,
  SubStreamsInfo = 0x08,
  Size = 0x09,
  Crc = 0x0a,
  Folder = 0x0b,
  CodersUnpackSize = 0x0c,
  NumUnpackStream = 0x0d,
  EmptyStream = 0x0e,
  EmptyFile = 0x0f,
  Name = 0x11,
  EncodedHeader = 0x17,
}

/** Why an archive or folder could not be read; 'encrypted' is the one ClamAV reports. */
class SevenZipError extends Error {
  constructor(readonly kind: 'encrypted' | 'unsupported' | 'crc' | 'data' | 'memory', message: string) {
    super(message);
  }
}

interface Coder {
  readonly method: number;
  readonly inStreams: number;
  readonly outStreams: number;
  readonly props: Uint8Array;
}

interface Folder {
  readonly coders: Coder[];
  readonly bindPairs: Array<{ inIndex: number; outIndex: number }>;
  readonly packedStreams: number[];
  unpackSizes: number[];
  crc?: number;
  /** Index of this folder's first pack stream in the archive's list. */
  firstPackStream: number;
}

interface StreamsInfo {
  packPos: number;
  packSizes: number[];
  folders: Folder[];
  /** Per folder: number of files (sub-streams) it holds. */
  subStreamCounts: number[];
  subStreamSizes: number[];
  subStreamCrcs: Array<number | undefined>;
}

interface FileEntry {
  name: string;
  hasStream: boolean;
  isDir: boolean;
}

/** Reader over the (decoded) header bytes. */
class HeaderReader {
  pos = 0;
  constructor(readonly data: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.data.length) throw new SevenZipError('data', '7z: header ended early');
    return this.data[this.pos++]!;
  }

  /** 7z's variable-length number: leading 1-bits of the first byte count extra bytes. */
  number(): number {
    const first = this.byte();
    let mask = 0x80;
    let value = 0;
    for (let i = 0; i < 8; i++) {
      if ((first & mask) === 0) return value + (first & (mask - 1)) * 2 ** (8 * i);
      value += this.byte() * 2 ** (8 * i);
      mask >>>= 1;
    }
    return value;
  }

  /** A count used to size arrays: bounded by what the remaining header could describe. */
  count(): number {
    const n = this.number();
    if (n > this.data.length - this.pos + 1) throw new SevenZipError('data', '7z: count larger than the header');
    return n;
  }

  u32(): number {
    if (this.pos + 4 > this.data.length) throw new SevenZipError('data', '7z: header ended early');
    const v = u32le(this.data, this.pos);
    this.pos += 4;
    return v;
  }

  skip(n: number): void {
    if (n > this.data.length - this.pos) throw new SevenZipError('data', '7z: header ended early');
    this.pos += n;
  }

  bytes(n: number): Uint8Array {
    this.skip(n);
    return this.data.subarray(this.pos - n, this.pos);
  }

  bits(n: number): boolean[] {
    const out: boolean[] = [];
    let byte = 0;
    for (let i = 0; i < n; i++) {
      if (i % 8 === 0) byte = this.byte();
      out.push((byte & (0x80 >>> (i % 8))) !== 0);
    }
    return out;
  }

  /** "All defined" byte, else a bit vector. */
  definedBits(n: number): boolean[] {
    return this.byte() !== 0 ? new Array<boolean>(n).fill(true) : this.bits(n);
  }

  expect(id: Id): void {
    if (this.byte() !== id) throw new SevenZipError('data', `7z: expected property ${id}`);
  }
}

function readDigests(r: HeaderReader, n: number): Array<number | undefined> {
  const defined = r.definedBits(n);
  return defined.map((d) => (d ? r.u32() : undefined));
}

function readFolder(r: HeaderReader): Folder {
  const coderCount = r.count();
  if (coderCount === 0 || coderCount > 64) throw new SevenZipError('unsupported', '7z: bad number of coders');
  const coders: Coder[] = [];
  let totalIn = 0;
  let totalOut = 0;
  for (let i = 0; i < coderCount; i++) {
    const flags = r.byte();
    if (flags & 0x80) throw new SevenZipError('unsupported', '7z: alternative coder methods');
    let method = 0;
    for (const b of r.bytes(flags & 0x0f)) method = method * 256 + b;
    const inStreams = flags & 0x10 ? r.count() : 1;
    const outStreams = flags & 0x10 ? r.count() : 1;
    const props = flags & 0x20 ? r.bytes(r.count()) : new Uint8Array(0);
    coders.push({ method, inStreams, outStreams, props });
    totalIn += inStreams;
    totalOut += outStreams;
  }
  if (totalOut === 0 || totalIn > 64 || totalOut > 64) throw new SevenZipError('unsupported', '7z: bad stream counts');
  const bindPairs: Folder['bindPairs'] = [];
  for (let i = 0; i < totalOut - 1; i++) bindPairs.push({ inIndex: r.number(), outIndex: r.number() });
  const packCount = totalIn - bindPairs.length;
  if (packCount < 1) throw new SevenZipError('unsupported', '7z: no packed streams');
  const packedStreams: number[] = [];
  if (packCount === 1) {
    for (let i = 0; i < totalIn; i++) {
      if (!bindPairs.some((bp) => bp.inIndex === i)) {
        packedStreams.push(i);
        break;
      }
    }
  } else {
    for (let i = 0; i < packCount; i++) packedStreams.push(r.number());
  }
  return { coders, bindPairs, packedStreams, unpackSizes: [], firstPackStream: 0 };
}

/** The folder's final output stream: the one no bind pair consumes. */
function folderUnpackSize(folder: Folder): number {
  for (let i = folder.unpackSizes.length - 1; i >= 0; i--) {
    if (!folder.bindPairs.some((bp) => bp.outIndex === i)) return folder.unpackSizes[i]!;
  }
  return 0;
}

function readStreamsInfo(r: HeaderReader): StreamsInfo {
  const info: StreamsInfo = { packPos: 0, packSizes: [], folders: [], subStreamCounts: [], subStreamSizes: [], subStreamCrcs: [] };
  let id = r.byte();
  if (id === Id.PackInfo) {
    info.packPos = r.number();
    const n = r.count();
    for (let done = false; !done; ) {
      const sub = r.byte();
      if (sub === Id.End) done = true;
      else if (sub === Id.Size) for (let i = 0; i < n; i++) info.packSizes.push(r.number());
      else if (sub === Id.Crc) readDigests(r, n);
      else r.skip(r.count());
    }
    id = r.byte();
  }
  if (id === Id.UnpackInfo) {
    r.expect(Id.Folder);
    const n = r.count();
    if (r.byte() !== 0) throw new SevenZipError('unsupported', '7z: external folders');
    let packIndex = 0;
    for (let i = 0; i < n; i++) {
      const folder = readFolder(r);
      folder.firstPackStream = packIndex;
      packIndex += folder.packedStreams.length;
      info.folders.push(folder);
    }
    r.expect(Id.CodersUnpackSize);
    for (const folder of info.folders) {
      const outs = folder.coders.reduce((sum, c) => sum + c.outStreams, 0);
      for (let i = 0; i < outs; i++) folder.unpackSizes.push(r.number());
    }
    for (let sub = r.byte(); sub !== Id.End; sub = r.byte()) {
      if (sub === Id.Crc) readDigests(r, n).forEach((crc, i) => (info.folders[i]!.crc = crc));
      else r.skip(r.count());
    }
    id = r.byte();
  }
  info.subStreamCounts = info.folders.map(() => 1);
  info.subStreamSizes = info.folders.map(folderUnpackSize);
  info.subStreamCrcs = info.folders.map((f) => f.crc);
  if (id === Id.SubStreamsInfo) {
    id = r.byte();
    if (id === Id.NumUnpackStream) {
      info.subStreamCounts = info.folders.map(() => r.count());
      id = r.byte();
    }
    const sizes: number[] = [];
    info.folders.forEach((folder, i) => {
      const count = info.subStreamCounts[i]!;
      if (count === 0) return;
      let sum = 0;
      if (id === Id.Size) {
        for (let k = 1; k < count; k++) {
          const size = r.number();
          sizes.push(size);
          sum += size;
        }
      }
      sizes.push(Math.max(0, folderUnpackSize(folder) - sum));
    });
    if (id === Id.Size) id = r.byte();
    info.subStreamSizes = sizes;
    // Streams whose CRC the folder does not already give (a folder of one stream with a CRC).
    const crcs: Array<number | undefined> = [];
    const missing: number[] = [];
    info.folders.forEach((folder, i) => {
      const count = info.subStreamCounts[i]!;
      if (count === 1 && folder.crc !== undefined) crcs.push(folder.crc);
      else for (let k = 0; k < count; k++) missing.push(crcs.push(undefined) - 1);
    });
    while (id !== Id.End) {
      if (id === Id.Crc) readDigests(r, missing.length).forEach((crc, k) => (crcs[missing[k]!] = crc));
      else r.skip(r.count());
      id = r.byte();
    }
    info.subStreamCrcs = crcs;
    id = r.byte();
  }
  if (id !== Id.End) throw new SevenZipError('data', '7z: bad streams info');
  return info;
}

function readFilesInfo(r: HeaderReader): FileEntry[] {
  const n = r.count();
  const files: FileEntry[] = Array.from({ length: n }, () => ({ name: '', hasStream: true, isDir: false }));
  let emptyStreams: boolean[] = [];
  let emptyFiles: boolean[] = [];
  for (let type = r.byte(); type !== Id.End; type = r.byte()) {
    const size = r.count();
    const end = r.pos + size;
    if (type === Id.EmptyStream) {
      emptyStreams = r.bits(n);
      emptyFiles = new Array<boolean>(emptyStreams.filter(Boolean).length).fill(false);
    } else if (type === Id.EmptyFile) {
      emptyFiles = r.bits(emptyFiles.length);
    } else if (type === Id.Name && size > 0) {
      if (r.byte() === 0) {
        // UTF-16LE, NUL-terminated. ClamAV keeps the low byte of each code unit.
        for (const file of files) {
          let name = '';
          for (;;) {
            if (r.pos + 2 > end) break;
            const unit = r.data[r.pos]! | (r.data[r.pos + 1]! << 8);
            r.pos += 2;
            if (unit === 0) break;
            name += String.fromCharCode(unit & 0xff);
          }
          file.name = name;
        }
      }
    }
    if (end > r.data.length) throw new SevenZipError('data', '7z: property past the end of the header');
    r.pos = end;
  }
  let empty = 0;
  files.forEach((file, i) => {
    if (emptyStreams[i]) {
      file.hasStream = false;
      file.isDir = !emptyFiles[empty++];
    }
  });
  return files;
}

function methodIsMain(method: number): boolean {
  return method === METHOD_COPY || method === METHOD_LZMA || method === METHOD_LZMA2 || method === METHOD_PPMD;
}

/** The folder layouts the LZMA SDK decoder in ClamAV accepts; anything else is unsupported. */
function checkSupported(folder: Folder): void {
  const { coders, bindPairs, packedStreams } = folder;
  if (coders.length < 1 || coders.length > 4) throw new SevenZipError('unsupported', '7z: too many coders');
  if (coders[0]!.method === METHOD_AES) throw new SevenZipError('encrypted', '7z: encrypted');
  const simple = (c: Coder) => c.inStreams === 1 && c.outStreams === 1 && methodIsMain(c.method);
  if (!simple(coders[0]!)) throw new SevenZipError('unsupported', `7z: unsupported method ${coders[0]!.method.toString(16)}`);
  if (coders.length === 1) {
    if (packedStreams.length !== 1 || packedStreams[0] !== 0 || bindPairs.length !== 0) {
      throw new SevenZipError('unsupported', '7z: unsupported folder layout');
    }
    return;
  }
  if (coders.length === 2) {
    const filter = coders[1]!;
    if (
      filter.inStreams !== 1 ||
      filter.outStreams !== 1 ||
      packedStreams.length !== 1 ||
      packedStreams[0] !== 0 ||
      bindPairs.length !== 1 ||
      bindPairs[0]!.inIndex !== 1 ||
      bindPairs[0]!.outIndex !== 0 ||
      (filter.method !== METHOD_BCJ && filter.method !== METHOD_ARM)
    ) {
      throw new SevenZipError('unsupported', '7z: unsupported filter');
    }
    return;
  }
  const bcj2 = coders[3];
  const layout = [2, 6, 1, 0];
  const pairs = [
    [5, 0],
    [4, 1],
    [3, 2],
  ];
  if (
    coders.length === 4 &&
    simple(coders[1]!) &&
    simple(coders[2]!) &&
    bcj2!.method === METHOD_BCJ2 &&
    bcj2!.inStreams === 4 &&
    bcj2!.outStreams === 1 &&
    packedStreams.length === 4 &&
    packedStreams.every((s, i) => s === layout[i]) &&
    bindPairs.length === 3 &&
    bindPairs.every((bp, i) => bp.inIndex === pairs[i]![0] && bp.outIndex === pairs[i]![1])
  ) {
    return;
  }
  throw new SevenZipError('unsupported', '7z: unsupported folder layout');
}

/** The largest model size the 7z coder accepts (PPMD7_MAX_MEM_SIZE); ClamAV's allocator stops far below. */
const PPMD_MAX_MEMORY = 0xffffffff - 12 * 3;

/**
 * 7z's PPMd coder (5 property bytes: the model order, then its memory size as u32le), with the
 * LZMA SDK's rules: the first `length` symbols must decode without reaching the end mark or
 * reading past the packed stream; when that is the whole output, the stream must also be used
 * up exactly and leave the range coder's code at zero. Any failure loses the whole output.
 */
function decodePpmd(props: Uint8Array, input: Uint8Array, size: number, length: number): Uint8Array {
  if (props.length !== 5) throw new SevenZipError('unsupported', '7z: bad PPMd properties');
  const order = props[0]!;
  const memory = u32le(props, 1);
  if (order < PPMD7_MIN_ORDER || order > PPMD7_MAX_ORDER || memory < PPMD7_MIN_MEMORY || memory > PPMD_MAX_MEMORY) {
    throw new SevenZipError('unsupported', `7z: unsupported PPMd order ${order} or memory ${memory}`);
  }
  let model: Ppmd7;
  try {
    model = new Ppmd7(memory);
  } catch {
    throw new SevenZipError('memory', `7z: cannot allocate a PPMd model of ${memory} bytes`);
  }
  model.init(order);
  const rc = new Ppmd7zRangeDecoder(input);
  if (!rc.init() || rc.overrun) throw new SevenZipError('data', '7z: bad PPMd stream start');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const symbol = model.decodeSymbol(rc);
    if (rc.overrun || symbol < 0) throw new SevenZipError('data', `7z: PPMd data error after ${i} bytes`);
    out[i] = symbol;
  }
  if (length === size && (rc.consumed !== input.length || !rc.finishedOk)) {
    throw new SevenZipError('data', '7z: PPMd stream does not end with the data');
  }
  return out;
}

/**
 * Runs one main coder (Copy, LZMA, LZMA2, PPMd) over a packed stream and returns the first
 * `length` bytes of its `size`-byte output.
 */
function runCoder(coder: Coder, input: Uint8Array, size: number, length: number): Uint8Array {
  if (coder.method === METHOD_COPY) {
    if (input.length < length) throw new SevenZipError('data', '7z: stored stream too short');
    return input.slice(0, length);
  }
  if (coder.method === METHOD_PPMD) return decodePpmd(coder.props, input, size, length);
  const out = new OutputBuffer(length, length);
  let result: LzmaResult;
  switch (coder.method) {
    case METHOD_LZMA:
      result = lzmaInto(coder.props, input, size, out);
      break;
    case METHOD_LZMA2:
      if (coder.props.length !== 1 || coder.props[0]! > 40) throw new SevenZipError('unsupported', '7z: bad LZMA2 properties');
      result = lzma2Into(input, 0, out);
      break;
    default:
      throw new SevenZipError('unsupported', `7z: method ${coder.method.toString(16)} not implemented`);
  }
  // Stopping at the limit is success: it is the prefix asked for, the rest is not needed.
  if (result.end === 'error' || result.end === 'input-end') {
    throw new SevenZipError('data', `7z: ${result.error ?? 'packed stream ended early'}`);
  }
  if (out.length < length) throw new SevenZipError('data', '7z: stream ended before its declared size');
  return out.result();
}

class Archive {
  constructor(
    readonly data: Uint8Array,
    readonly streams: StreamsInfo,
  ) {}

  private packStream(folder: Folder, index: number): Uint8Array {
    const streamIndex = folder.firstPackStream + index;
    let offset = SIGNATURE_HEADER_SIZE + this.streams.packPos;
    for (let i = 0; i < streamIndex; i++) offset += this.streams.packSizes[i] ?? 0;
    const size = this.streams.packSizes[streamIndex];
    if (size === undefined || offset + size > this.data.length) throw new SevenZipError('data', '7z: packed stream past the end of the file');
    return this.data.subarray(offset, offset + size);
  }

  /** Decodes the first `length` bytes of a folder's output (the whole folder for BCJ2). */
  decodeFolder(folder: Folder, length: number): Uint8Array {
    checkSupported(folder);
    const total = folderUnpackSize(folder);
    if (total > MAX_FOLDER_SIZE) throw new SevenZipError('memory', '7z: folder too large');
    const { coders } = folder;
    if (coders.length === 4) {
      const buffers = [0, 1, 2].map((ci) => {
        const size = folder.unpackSizes[ci]!;
        if (size > MAX_FOLDER_SIZE) throw new SevenZipError('memory', '7z: folder too large');
        return runCoder(coders[ci]!, this.packStream(folder, [3, 2, 0][ci]!), size, size);
      });
      const out = new Uint8Array(total);
      bcj2Decode(buffers[2]!, buffers[1]!, buffers[0]!, this.packStream(folder, 1), out);
      return out;
    }
    // A prefix is enough, plus the few bytes a branch filter looks ahead at.
    const out = runPrefix(coders[0]!, this.packStream(folder, 0), total, Math.min(total, length + (coders.length === 2 ? 4 : 0)));
    if (coders.length === 2) {
      if (coders[1]!.method === METHOD_BCJ) x86Decode(out);
      else armDecode(out);
    }
    return out;
  }
}

/** Like runCoder, for a prefix of the coder's output (stored data must still be all there). */
function runPrefix(coder: Coder, input: Uint8Array, total: number, length: number): Uint8Array {
  if (coder.method === METHOD_COPY && input.length !== total) throw new SevenZipError('data', '7z: stored size mismatch');
  return runCoder(coder, input, total, length);
}

function readSignatureHeader(data: Uint8Array): HeaderReader {
  if (data.length < SIGNATURE_HEADER_SIZE || !SIGNATURE.every((b, i) => data[i] === b)) {
    throw new SevenZipError('data', '7z: no signature');
  }
  if (crc32(data.subarray(12, 32)) !== u32le(data, 8)) throw new SevenZipError('crc', '7z: start header CRC mismatch');
  const offset = u64le(data, 12);
  const size = u64le(data, 20);
  const start = SIGNATURE_HEADER_SIZE + offset;
  if (size === 0) throw new SevenZipError('data', '7z: empty archive');
  if (start + size > data.length) throw new SevenZipError('data', '7z: header past the end of the file');
  const header = data.subarray(start, start + size);
  if (crc32(header) !== u32le(data, 28)) throw new SevenZipError('crc', '7z: header CRC mismatch');
  return new HeaderReader(header);
}

/** Opens the archive: signature header, then the (possibly packed) header. */
function openArchive(data: Uint8Array): { archive: Archive; files: FileEntry[] } {
  let r = readSignatureHeader(data);
  let id = r.byte();
  if (id === Id.EncodedHeader) {
    const packed = new Archive(data, readStreamsInfo(r));
    const folder = packed.streams.folders[0];
    if (!folder) throw new SevenZipError('data', '7z: encoded header without folder');
    const size = folderUnpackSize(folder);
    const header = packed.decodeFolder(folder, size);
    if (folder.crc !== undefined && crc32(header) !== folder.crc) throw new SevenZipError('crc', '7z: packed header CRC mismatch');
    r = new HeaderReader(header);
    id = r.byte();
  }
  if (id !== Id.Header) throw new SevenZipError('unsupported', '7z: no header');
  id = r.byte();
  if (id === Id.ArchiveProperties) {
    for (let type = r.byte(); type !== Id.End; type = r.byte()) r.skip(r.count());
    id = r.byte();
  }
  if (id === Id.AdditionalStreamsInfo) throw new SevenZipError('unsupported', '7z: additional streams');
  let streams: StreamsInfo = { packPos: 0, packSizes: [], folders: [], subStreamCounts: [], subStreamSizes: [], subStreamCrcs: [] };
  if (id === Id.MainStreamsInfo) {
    streams = readStreamsInfo(r);
    id = r.byte();
  }
  let files: FileEntry[] = [];
  if (id === Id.FilesInfo) {
    files = readFilesInfo(r);
    id = r.byte();
  }
  if (id !== Id.End) throw new SevenZipError('data', '7z: bad header');
  return { archive: new Archive(data, streams), files };
}

function* extractSevenZip(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  let opened: ReturnType<typeof openArchive>;
  try {
    opened = openArchive(data);
  } catch (err) {
    if (err instanceof SevenZipError && err.kind === 'encrypted') {
      ctx.debug('cli_7unz: Encrypted header found in archive.');
      ctx.heuristic('encrypted-archive', ENCRYPTED_NAME);
    } else {
      ctx.debug(`cli_7unz: ${err instanceof Error ? err.message : String(err)}`);
    }
    return;
  }
  const { archive, files } = opened;
  const { folders, subStreamCounts, subStreamSizes, subStreamCrcs } = archive.streams;

  // Where each file's data lives: folder, offset in the folder's output, size, CRC.
  let folderIndex = 0;
  let inFolder = 0;
  let offset = 0;
  let streamIndex = 0;
  let decoded: { folder: number; data?: Uint8Array; error?: SevenZipError } | undefined;
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    if (file.isDir) continue;
    if (!file.hasStream) {
      yield { data: new Uint8Array(0), name: file.name, compressedSize: 0, encrypted: false, position: i };
      continue;
    }
    while (folderIndex < folders.length && inFolder >= subStreamCounts[folderIndex]!) {
      folderIndex++;
      inFolder = 0;
      offset = 0;
    }
    if (folderIndex >= folders.length) break;
    const size = subStreamSizes[streamIndex] ?? 0;
    const crc = subStreamCrcs[streamIndex];
    const start = offset;
    offset += size;
    inFolder++;
    streamIndex++;
    // Files over the size limit are skipped before any decoding, without metadata.
    if (size > ctx.maxObjectSize) {
      ctx.debug(`cli_7unz: skipping ${file.name}: ${size} bytes is over the limit`);
      continue;
    }
    if (decoded?.folder !== folderIndex) decoded = decodeFor(folderIndex);
    if (decoded.error?.kind === 'encrypted') {
      ctx.debug('cli_7unz: Encrypted files found in archive.');
      ctx.heuristic('encrypted-archive', ENCRYPTED_NAME);
      yield { data: new Uint8Array(0), name: file.name, compressedSize: 0, encrypted: true, position: i };
      continue;
    }
    let content = decoded.data?.subarray(start, start + size);
    if (content && (content.length < size || (crc !== undefined && crc32(content) !== crc))) {
      ctx.debug(`cli_7unz: ${file.name}: CRC mismatch or short data`);
      content = undefined;
    }
    if (!content) ctx.debug(`cli_unz: extraction failed: ${decoded.error?.message ?? 'bad data'}`);
    // Metadata is matched even when extraction failed; the data only when there is some.
    yield { data: content ?? new Uint8Array(0), name: file.name, compressedSize: 0, encrypted: false, position: i };
  }

  /** Decodes the part of a folder the files within the limit need. */
  function decodeFor(index: number) {
    const folder = folders[index]!;
    let needed = 0;
    let stream = subStreamCounts.slice(0, index).reduce((a, b) => a + b, 0);
    let at = 0;
    for (let k = 0; k < subStreamCounts[index]!; k++, stream++) {
      const size = subStreamSizes[stream] ?? 0;
      at += size;
      if (size <= ctx.maxObjectSize) needed = at;
    }
    try {
      const data = archive.decodeFolder(folder, needed);
      if (folder.crc !== undefined && data.length === folderUnpackSize(folder) && crc32(data) !== folder.crc) {
        return { folder: index, error: new SevenZipError('crc', '7z: folder CRC mismatch') };
      }
      return { folder: index, data };
    } catch (err) {
      if (err instanceof SevenZipError) return { folder: index, error: err };
      return { folder: index, error: new SevenZipError('data', err instanceof Error ? err.message : String(err)) };
    }
  }
}

export const sevenZipHandler: FormatHandler = {
  name: '7z',
  fileTypes: ['CL_TYPE_7Z'],
  scanSwitch: 'archive',
  extract: (data, ctx) => guarded('cli_7unz', extractSevenZip(data, ctx), ctx),
};
