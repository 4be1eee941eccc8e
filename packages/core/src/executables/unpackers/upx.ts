import { u32le } from '../../formats/compression/read.js';
import { OutputBuffer } from '../../formats/archive/output-buffer.js';
import { lzmaInto } from '../../formats/compression/lzma.js';
import { indexOfBytes } from '../../util/byte-search.js';
import { alignDown, alignUp, contained } from '../pe-arithmetic.js';
import { nrv2Decode, type NrvVariant } from './nrv2.js';
import { writeClamAVHeaders, writeSectionHeader } from './rebuild-pe.js';
import { MAX_ALLOCATION, NEXT, STOP, unpacked, type UnpackContext, type UnpackOutcome } from './unpacker.js';

/**
 * UPX unpacking: cli_scanpe's UPX block (libclamav pe.c) with upx.c's decompressors and
 * pefromupx. UPX leaves the program's image as an empty section (UPX0) and packs it into the
 * next (UPX1). The decompressor named by UPX's stub at the entry point is tried first (NRV2B,
 * NRV2D or NRV2E; with the stub's hint that the data starts a little into UPX1), then the
 * others, then LZMA when the stub is UPX's LZMA one. The image is then turned back into a PE
 * file from the headers UPX keeps behind the imports (or found by scanning the image), or given
 * a made-up PE header when none is found. Whatever comes out is scanned as a new file.
 */

/** Stretches of each NRV stub's code; 13 bytes at the entry point + 0x69 (or + 0x71) must lie inside one. */
const NRV_STUBS: ReadonlyArray<[NrvVariant, Uint8Array]> = [
  ['2b', bytes('11db11c901db75078b1e83eefc11db11c911c975204101db')],
  ['2d', bytes('83f0ff7478d1f889c5eb0b01db75078b1e83eefc11db11c9')],
  ['2e', bytes('eb5231c983e8037211c1e0088a064683f0ff7475d1f889c5')],
];
const LZMA_STUB = bytes('5683c3045350c703030002009090909090555756');
const LZMA1_STUB_START = bytes('5683c3045350c703');
const LZMA1_STUB_MIDDLE = bytes('9090905557565383');
/** Where in the stub, from the entry point, the `lea edi, [esi + imports]` of each decompressor may be. */
const IMPORTS_LEA: Record<NrvVariant | 'lzma', readonly number[]> = {
  '2b': [0x108, 0x110, 0xd5],
  '2d': [0x11c, 0x124],
  '2e': [0x128, 0x130],
  lzma: [0xb16, 0xb1e],
};
/** ClamAV's output buffer has this much room past the image. */
const DEST_SLACK = 8192;
/** The size of the PE header (with optional header) UPX keeps, and of one section header. */
const PE_HEADER_SIZE = 0xf8;
const SECTION_HEADER_SIZE = 0x28;
const PE_AT = 0xd0;
/** A stub that starts `pusha; mov esi, …` may point 0x15 bytes into UPX1. */
const STUB_SKEW = 0x15;

function bytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!, (pair) => parseInt(pair, 16));
}

/** Is `needle` (from `entry` at `at`) a piece of `stub`? ClamAV's cli_memstr(stub, …, entry + at, length). */
const stubHas = (stub: Uint8Array, entry: Uint8Array, at: number, length: number) =>
  at + length <= entry.length && indexOfBytes(stub, entry.subarray(at, at + length)) >= 0;

/** One decompression job: UPX1's data, the shared output buffer, and the output's size so far. */
interface Job {
  readonly dest: Uint8Array;
  readonly upx0: number;
  readonly upx1: number;
  readonly debug: (message: string) => void;
}

/** A size ClamAV passes by pointer: pefromupx sets it to the rebuilt file's length. */
interface Size {
  value: number;
}

/** The UPX block for a PE file whose section `emptySection` (UPX0) is followed by UPX1. */
export function unpackUpx(ctx: UnpackContext, emptySection: number): UnpackOutcome {
  const { pe, entry, data } = ctx;
  const upx0 = pe.sections[emptySection]!;
  const upx1 = pe.sections[emptySection + 1]!;
  const ssize = upx1.rawSize;
  const size: Size = { value: (upx0.virtualSize + upx1.virtualSize) >>> 0 };
  if (!ctx.withinLimits(Math.max(size.value, ssize))) return STOP;
  if (ssize <= 0x19 || size.value <= ssize || size.value > MAX_ALLOCATION) {
    ctx.debug(`cli_scanpe: UPX: Size mismatch or dsize too big (ssize: ${ssize | 0}, dsize: ${size.value | 0})`);
    return STOP;
  }
  if (upx1.rawOffset + ssize > data.length) {
    ctx.debug(`cli_scanpe: UPX: Can't read raw data of section ${emptySection + 1}`);
    return STOP;
  }
  const src = data.subarray(upx1.rawOffset, upx1.rawOffset + ssize);
  const job: Job = { dest: new Uint8Array(size.value + DEST_SLACK), upx0: upx0.rva, upx1: upx1.rva, debug: ctx.debug };
  const vep = pe.entryRva;
  const inflate = (variant: NrvVariant, skip: number) => inflateNrv(variant, src.subarray(skip), job, size, (vep - skip) >>> 0) >= 0;

  let success = false;
  const preferred = NRV_STUBS.find(([, stub]) => stubHas(stub, entry, 0x69, 13) || stubHas(stub, entry, 0x69 + 8, 13))?.[0];
  if (preferred) {
    ctx.debug(`cli_scanpe: UPX: Looks like a NRV${preferred.toUpperCase()} decompression routine`);
    let skew = (u32le(entry, 2) - pe.imageBase - upx1.rva) | 0;
    if (entry[1] !== 0xbe || skew <= 0 || skew > 0xfff || skew > ssize) skew = 0;
    else ctx.debug(`cli_scanpe: UPX: UPX1 seems skewed by ${skew} bytes`);
    success = inflate(preferred, skew) || (skew !== 0 && inflate(preferred, 0));
    ctx.debug(success ? 'cli_scanpe: UPX: Successfully decompressed' : 'cli_scanpe: UPX: Preferred decompressor failed');
  }
  for (const [variant] of NRV_STUBS) {
    if (success || variant === preferred) continue;
    success = inflate(variant, 0) || inflate(variant, STUB_SKEW);
    ctx.debug(success ? `cli_scanpe: UPX: Successfully decompressed with NRV${variant.toUpperCase()}` : `cli_scanpe: UPX: NRV${variant.toUpperCase()} decompressor failed`);
  }

  // The LZMA stubs are checked whatever came before, as in ClamAV.
  const lzma = lzmaStub(entry);
  if (lzma) {
    let skew = 0;
    if (ssize > STUB_SKEW && entry[0] === 0x60 && entry[1] === 0xbe) {
      skew = (u32le(entry, 2) - upx1.rva - pe.imageBase) >>> 0;
      if (skew !== STUB_SKEW) skew = 0;
    }
    const strict: Size = { value: lzma.size };
    if (strict.value <= size.value) success = inflateLzma(src.subarray(skew), job, strict, vep, lzma.properties) >= 0;
  }
  if (!success) {
    ctx.debug('cli_scanpe: UPX: All decompressors failed');
    return NEXT;
  }
  return unpacked(job.dest.subarray(0, size.value));
}

/** The LZMA stub's declared output size and coder properties, when the entry point has one. */
function lzmaStub(entry: Uint8Array): { size: number; properties: number } | undefined {
  if (stubHas(LZMA_STUB, entry, 0x2f, 20)) return { size: u32le(entry, 0x21), properties: 0x20003 };
  if (stubHas(LZMA1_STUB_START, entry, 0x39, 8) && stubHas(LZMA1_STUB_MIDDLE, entry, 0x45, 8)) {
    return { size: u32le(entry, 0x2b), properties: u32le(entry, 0x41) };
  }
  return undefined;
}

/** upx_inflate2b/2d/2e: -1 when the stream is refused, else pefromupx's result. */
function inflateNrv(variant: NrvVariant, src: Uint8Array, job: Job, size: Size, ep: number): number {
  const end = nrv2Decode(variant, src, job.dest, size.value);
  return end < 0 ? -1 : rebuildFromUpx(src, job, size, ep, IMPORTS_LEA[variant], end);
}

/** upx_inflatelzma: `properties` holds lc, lp and pb in its low three bytes. */
function inflateLzma(src: Uint8Array, job: Job, size: Size, ep: number, properties: number): number {
  const [lc, lp, pb] = [properties & 0xff, (properties >>> 8) & 0xff, (properties >>> 16) & 0xff];
  if (lc >= 9 || lp >= 5 || pb >= 5) return -1;
  const header = new Uint8Array(5);
  header[0] = lc + 9 * (5 * pb + lp);
  new DataView(header.buffer).setUint32(1, size.value, true);
  const out = new OutputBuffer(size.value, size.value);
  // The stream starts 2 bytes into the data.
  if (lzmaInto(header, src.subarray(2), size.value, out).end === 'error') return -1;
  job.dest.set(out.bytes.subarray(0, out.length));
  return rebuildFromUpx(src, job, size, ep, IMPORTS_LEA.lzma, size.value);
}

/**
 * pefromupx: turns the decompressed image (`end` bytes in `job.dest`) back into a PE file in
 * place, updating `size`. Returns 1 when the buffer holds something to scan (rebuilt, crafted,
 * or, where ClamAV stops half-way, the image as it is) and 0 when the rebuild was given up (the
 * caller still scans the buffer).
 */
function rebuildFromUpx(src: Uint8Array, job: Job, size: Size, ep: number, leaOffsets: readonly number[], end: number): number {
  const { dest, upx0, upx1, debug } = job;
  const ssize = src.length;
  const stub = ep - upx1;
  // UPX's stub loads the imports' address with `lea edi, [esi + imports]`; its operand is there.
  let lea = leaOffsets.find((offset) => contained(0, (ssize - 5) >>> 0, stub + offset - 2, 2) && src[stub + offset - 2] === 0x8d && src[stub + offset - 1] === 0xbe) ?? 0;
  if (lea === 0 && contained(0, (ssize - 8) >>> 0, stub + 0x80, 8)) {
    debug('UPX: bad magic - scanning for imports');
    for (let at = stub + 0x80; (at = indexOfBytes(src, LEA_EDI, at, ssize - 8)) >= 0; at++) {
      if (src[at + 6] === 0x8b && src[at + 7] === 0x07) {
        lea = (at + 2 - ep + upx1) >>> 0;
        break;
      }
    }
  }

  let header: PeHeaderAt | undefined;
  let imageEnd = 0;
  if (lea !== 0 && contained(0, ssize, stub + lea, 4)) {
    const imports = u32le(src, stub + lea) | 0;
    imageEnd = imports >>> 0;
    if (imageEnd >= size.value) debug('UPX: wrong realstuff size');
    else header = peHeaderAt(dest, size.value, afterImports(dest, size.value, imports));
  }
  if (header === undefined && end > PE_HEADER_SIZE + SECTION_HEADER_SIZE) {
    debug('UPX: no luck - scanning for PE');
    let at = end - PE_HEADER_SIZE - SECTION_HEADER_SIZE;
    while (at > 0 && (header = peHeaderAt(dest, size.value, at)) === undefined) at--;
    imageEnd = at;
  }
  if (header === undefined) return craftPe(job, size, end);

  const { at: pe, sectionAlignment: align, sections } = header;
  const sectionTable = pe + PE_HEADER_SIZE;
  const view = new DataView(dest.buffer, dest.byteOffset, dest.byteLength);
  let fileEnd = alignUp(PE_AT + PE_HEADER_SIZE + SECTION_HEADER_SIZE * sections, align);
  for (let n = 0; n < sections; n++) {
    const at = sectionTable + n * SECTION_HEADER_SIZE;
    const virtualSize = alignUp(view.getUint32(at + 8, true), align);
    const rva = alignDown(view.getUint32(at + 12, true), align);
    if (!contained(upx0, imageEnd, rva, virtualSize)) {
      debug(`UPX: Sect ${n} out of bounds - giving up rebuild`);
      return 0;
    }
    view.setUint32(at + 8, virtualSize, true);
    view.setUint32(at + 12, rva, true);
    view.setUint32(at + 16, virtualSize, true);
    view.setUint32(at + 20, fileEnd, true);
    if (fileEnd + virtualSize > 0xffffffff) return 0;
    fileEnd += virtualSize;
  }
  view.setUint32(pe + 8, 0x4d414c43, true); // TimeDateStamp "CLAM"
  view.setUint32(pe + 0x3c, align, true); // FileAlignment: the sections are laid out as in memory
  if (fileEnd > MAX_ALLOCATION) {
    debug('UPX: malloc failed - giving up rebuild');
    return 0;
  }

  const file = new Uint8Array(fileEnd);
  writeClamAVHeaders(file, new DataView(file.buffer));
  file.set(dest.subarray(pe, sectionTable + SECTION_HEADER_SIZE * sections), PE_AT);
  for (let n = 0; n < sections; n++) {
    const at = sectionTable + n * SECTION_HEADER_SIZE;
    const [rawOffset, rawSize, rva] = [view.getUint32(at + 20, true), view.getUint32(at + 16, true), view.getUint32(at + 12, true)];
    // Where ClamAV finds a section it cannot place, it keeps the image as it is.
    if (rawOffset > fileEnd || rawSize > fileEnd || ((rawOffset + rawSize) >>> 0) > fileEnd) return 1;
    const from = (rva - upx0) >>> 0;
    if (from > size.value) return 1;
    file.set(dest.subarray(from, from + rawSize), rawOffset);
  }
  if (fileEnd > size.value + DEST_SLACK) {
    debug('UPX: wrong raw size - giving up rebuild');
    return 0;
  }
  dest.set(file);
  size.value = fileEnd;
  debug('UPX: PE structure rebuilt from compressed file');
  return 1;
}

const LEA_EDI = Uint8Array.of(0x8d, 0xbe);

interface PeHeaderAt {
  readonly at: number;
  readonly sectionAlignment: number;
  readonly sections: number;
}

/** ClamAV's checkpe: a PE header at `at` inside the image, with a section alignment and its section table. */
function peHeaderAt(dest: Uint8Array, size: number, at: number): PeHeaderAt | undefined {
  if (!contained(0, size, at, PE_HEADER_SIZE) || u32le(dest, at) !== 0x4550) return undefined;
  const sectionAlignment = u32le(dest, at + 0x38);
  const sections = dest[at + 6]! | (dest[at + 7]! << 8);
  if (sectionAlignment === 0 || sections === 0 || !contained(0, size, at + PE_HEADER_SIZE, sections * SECTION_HEADER_SIZE)) return undefined;
  return { at, sectionAlignment, sections };
}

/**
 * UPX keeps the original PE header right after its import list: descriptors of 8 bytes each
 * followed by zero-terminated names, ended by a zero word; the header is 4 bytes further.
 */
function afterImports(dest: Uint8Array, size: number, at: number): number {
  while (contained(0, size, at, 8) && u32le(dest, at) !== 0) {
    at += 8;
    while (contained(0, size, at, 2) && dest[at]) {
      at++;
      while (contained(0, size, at, 2) && dest[at]) at++;
      at++;
    }
    at++;
  }
  return at + 4;
}

/** No PE header found: ClamAV puts one of its own, with one section holding the image, in front. */
function craftPe(job: Job, size: Size, end: number): number {
  const { dest, debug } = job;
  const imageSize = alignUp(end, 0x1000);
  debug('UPX: no luck - brutally crafting a reasonable PE');
  if (imageSize + 0x200 > MAX_ALLOCATION) {
    debug('UPX: malloc failed - giving up rebuild');
    return 0;
  }
  dest.copyWithin(0x200, 0, end);
  dest.fill(0, 0, 0x200);
  const view = new DataView(dest.buffer, dest.byteOffset, dest.byteLength);
  writeClamAVHeaders(dest, view);
  view.setUint16(PE_AT + 6, 1, true);
  view.setUint32(PE_AT + 24 + 16, 0x1000, true); // AddressOfEntryPoint
  view.setUint32(PE_AT + 24 + 28, 0x400000, true); // ImageBase
  view.setUint32(PE_AT + 24 + 56, imageSize + 0x1000, true); // SizeOfImage
  view.setUint32(PE_AT + 24 + 60, 0x200, true); // SizeOfHeaders
  writeSectionHeader(dest, view, PE_AT + PE_HEADER_SIZE, '.clam01', imageSize, 0x1000, imageSize, 0x200);
  size.value = imageSize + 0x200;
  debug('UPX: PE structure added to uncompressed data');
  return 1;
}
