import { u32le } from '../../formats/compression/read.js';
import { contained } from '../pe-arithmetic.js';
import type { PeSection } from '../pe-file.js';
import { unfsg } from './fsg-decoder.js';
import { runDecryptor, spinChecksum, xorBackwards, xorShiftRegister } from './pespin-decoder.js';
import { rebuildPe, type RebuildSection } from './rebuild-pe.js';
import { MAX_ALLOCATION, NEXT, STOP, unpacked, type UnpackContext, type UnpackOutcome } from './unpacker.js';
import { hex } from '../../util/c-numbers.js';

/**
 * PESpin 1.1: cli_scanpe's PESpin block (libclamav pe.c) with spin.c's unspin. PESpin keeps its
 * stub in the last section, itself encrypted in layers (a byte xor, then a shift-register xor);
 * the original sections are encrypted with a shift-register xor keyed by a checksum of the file,
 * then with a polymorphic decryptor, and some are compressed with FSG's coder. ClamAV peels the
 * stub's layers in a copy of its section, decrypts and decompresses the sections its bitmaps
 * name, grows a resource section whose tail is compressed, and rebuilds a PE file from the
 * original sections (cli_rebuildpe, image base 0x400000, entry point 0x1000). The entry point
 * and imports are not restored, as in ClamAV.
 */

/** The bytes at epbuff+4: `call $+5; mov ebx, [esp]; add ebx, …`. */
const STUB_START = [0xe8, 0x00, 0x00, 0x00, 0x00, 0x8b, 0x1c, 0x24, 0x83, 0xc3];

/** Where things are in the stub, from the entry point. */
const STUB = {
  /** `mov ebx, imm32` whose low byte is the first layer's key, then `mov ecx, 0x11fe`. */
  movEbx: 0xdb,
  movEcx: 0xe0,
  /** The checked `mov eax` and the flags of password protection (bit 21). */
  movEax: 0x1e0,
  /** The first layer ends here (its last byte is one further, as ClamAV counts). */
  firstLayerBase: 0x1fe5,
  /** The second layer's key and length (5 bytes apart), and where it starts. */
  secondKey: 0x26eb,
  secondStart: 0x2d5,
  /** How far back from the end of the file the checksum stops. */
  checksumCut: 0x429,
  /** The section cipher's key, less the checksum. */
  sectionKey: 0x3217,
  /** The bitmaps: xored sections, polymorphically encrypted sections, compressed sections. */
  xorBitmap: 0x3207,
  polyBitmap: 0x6f1,
  compressionBitmap: 0x3061,
  /** The third layer's length and key (12 bytes apart), and where it starts. */
  thirdLength: 0x644,
  thirdStart: 0x28d3,
  /** The first decryptor's length (inside the third layer), its code, and what it decrypts. */
  polyLength: 0x28dd,
  polyCode: 0x28ec,
  polyTarget: 0x6d4,
  /** The sections' decryptor (decrypted by the first one). */
  sectionDecryptor: 0x755,
  /** The address from which the resource section's data is compressed, or 0. */
  resourceSplit: 0x2fee,
} as const;

const FIRST_LAYER_LENGTH = 0x11fe;
const SECOND_LAYER_LENGTH = 0x5a0;
const THIRD_LAYER_LENGTH = 0x180;
const POLY_LENGTH = 0x1a1;
const SECOND_LAYER_TAPS = 0x8c328834;
const SECTION_TAPS = 0xed43af31;
const THIRD_LAYER_TAPS = 0xed43af32;
/** The decryptor code ClamAV requires inside the file before running it on the sections. */
const DECRYPTOR_CHECKED = 0x24;

const NOT_SPINNED = 'spin: Not spinned or bad version';
const KEY_OUT_OF_BOUNDS = 'spin: key out of bounds, giving up';

const REBUILT_IMAGE_BASE = 0x400000;
const REBUILT_ENTRY = 0x1000;

/** Why unspin gave up: its own failure, or --max-filesize exceeded by the sections to grow. */
type Failure = 'failed' | 'too-large';

export function unpackPespin(ctx: UnpackContext): UnpackOutcome {
  const { pe, entry, data } = ctx;
  const { sections, entryRva } = pe;
  if (sections.length <= 1) return NEXT;
  const stub = sections[sections.length - 1]!;
  const stubEnd = (stub.rva + stub.rawSize) >>> 0;
  if (entryRva < stub.rva || stubEnd < STUB.sectionKey - 4 || entryRva >= ((stubEnd - STUB.sectionKey - 4) >>> 0)) return NEXT;
  if (!STUB_START.every((byte, i) => entry[4 + i] === byte)) return NEXT;
  if (!ctx.withinLimits(data.length) || data.length > MAX_ALLOCATION) return STOP;

  const result = unspin(ctx, Uint8Array.from(data), sections.length - 1);
  if (result === 'too-large') {
    ctx.debug('cli_scanpe: PESpin: Size exceeded');
    return NEXT;
  }
  if (result === 'failed') {
    ctx.debug('cli_scanpe: PEspin: Unpacking failed');
    return NEXT;
  }
  return unpacked(result);
}

/** unspin over a copy of the file: the rebuilt file, or why not. */
function unspin(ctx: UnpackContext, file: Uint8Array, stubIndex: number): Uint8Array | Failure {
  ctx.debug('in unspin');
  const key = decryptStub(ctx, file, stubIndex);
  if (key === undefined) return 'failed';
  const { sections, entryRva } = ctx.pe;
  const stub = sections[stubIndex]!;
  const entry = stub.rawOffset + entryRva - stub.rva;
  if (!contained(0, file.length, entry + STUB.xorBitmap, 4)) {
    ctx.debug(KEY_OUT_OF_BOUNDS);
    return 'failed';
  }
  const originals = sections.slice(0, stubIndex);
  if (!decryptSections(ctx, file, entry, originals, key)) return 'failed';
  const grown = growSections(ctx, file, entry, originals);
  if (typeof grown === 'string') return grown;
  growResources(ctx, file, entry, originals, grown);
  return rebuild(ctx, originals, grown);
}

/**
 * Peels the stub's first two layers in a copy of its section, computes the section cipher's key
 * from the checksum of the file, and puts the peeled section back: the key, or undefined.
 */
function decryptStub(ctx: UnpackContext, file: Uint8Array, stubIndex: number): number | undefined {
  const { sections, entryRva } = ctx.pe;
  const stub = sections[stubIndex]!;
  const fail = (message: string): undefined => {
    ctx.debug(message);
    return undefined;
  };
  if (stub.rawSize === 0 || stub.rawSize > MAX_ALLOCATION) return fail('spin: Unable to allocate memory for spinned');
  const section = file.slice(stub.rawOffset, stub.rawOffset + stub.rawSize);
  const entry = (entryRva - stub.rva) >>> 0;

  if (section[entry + STUB.movEbx] !== 0xbb || section[entry + STUB.movEcx] !== 0xb9) return fail(NOT_SPINNED);
  const length = u32le(section, entry + STUB.movEcx + 1);
  if (length !== FIRST_LAYER_LENGTH) return fail(NOT_SPINNED);
  const key8 = section[entry + STUB.movEbx + 1]!;
  ctx.debug(`spin: Key8 is ${hex(key8)}, Len is ${hex(length)}`);
  const firstLayerEnd = STUB.firstLayerBase + length - 1;
  if (!contained(0, section.length, entry, firstLayerEnd)) return fail('spin: len out of bounds, giving up');
  if (section[entry + STUB.movEax] !== 0xb8) ctx.debug('spin: prolly not spinned, expect failure');
  if (u32le(section, entry + STUB.movEax + 1) & 0x00200000) ctx.debug('spin: password protected, expect failure');
  xorBackwards(section, entry + firstLayerEnd, length, key8);

  if (!contained(0, section.length, entry + STUB.sectionKey, 4)) return fail(KEY_OUT_OF_BOUNDS);
  const secondKey = u32le(section, entry + STUB.secondKey);
  const secondLength = u32le(section, entry + STUB.secondKey + 5);
  if (secondLength !== SECOND_LAYER_LENGTH) return fail(NOT_SPINNED);
  ctx.debug(`spin: Key is ${hex(secondKey)}, Len is ${hex(secondLength)}`);
  xorShiftRegister(section, entry + STUB.secondStart, secondLength, secondKey, SECOND_LAYER_TAPS, 1);

  const checksumLength = (file.length - u32le(section, entry + STUB.checksumCut)) >>> 0;
  if (checksumLength >= file.length) return fail('spin: crc out of bounds, giving up');
  const key = (u32le(section, entry + STUB.sectionKey) - spinChecksum(file, checksumLength)) >>> 0;
  file.set(section, stub.rawOffset);
  return key;
}

/**
 * The sections' two ciphers, each on the sections its bitmap names: the shift-register xor keyed
 * with `key`, then (after the stub's third layer and the decryptor that decrypts the sections'
 * decryptor) the polymorphic one. False when ClamAV gives up.
 */
function decryptSections(ctx: UnpackContext, file: Uint8Array, entry: number, sections: readonly PeSection[], key: number): boolean {
  const fail = (message: string) => {
    ctx.debug(message);
    return false;
  };
  const xorBitmap = u32le(file, entry + STUB.xorBitmap);
  ctx.debug(`spin: Key32 is ${hex(key)} - XORbitmap is ${hex(xorBitmap)}`);
  ctx.debug('spin: Decrypting sects (xor)');
  for (let j = 0; j < sections.length; j++) {
    if (!bitmapHas(xorBitmap, j)) continue;
    const { rawOffset, rawSize } = sections[j]!;
    if (!contained(0, file.length, rawOffset, rawSize)) return fail(`spin: sect ${j} out of file, giving up`);
    xorShiftRegister(file, rawOffset, rawSize, key, SECTION_TAPS, 0);
  }
  ctx.debug('spin: done');

  const thirdLength = u32le(file, entry + STUB.thirdLength);
  if (thirdLength !== THIRD_LAYER_LENGTH) return fail(NOT_SPINNED);
  const thirdKey = u32le(file, entry + STUB.thirdLength + 0x0c);
  ctx.debug(`spin: Key is ${hex(thirdKey)}, Len is ${hex(thirdLength)}`);
  if (!contained(0, file.length, entry + STUB.thirdStart, thirdLength)) return fail(KEY_OUT_OF_BOUNDS);
  xorShiftRegister(file, entry + STUB.thirdStart, thirdLength, thirdKey, THIRD_LAYER_TAPS, 1);

  const polyLength = u32le(file, entry + STUB.polyLength);
  if (polyLength !== POLY_LENGTH) return fail(NOT_SPINNED);
  ctx.debug(`spin: POLY1 len is ${hex(polyLength)}`);
  if (!contained(0, file.length, entry + STUB.polyTarget, polyLength)) return fail('spin: poly1 out of bounds');
  const polyFailure = runDecryptor(file, entry + STUB.polyCode, entry + STUB.polyTarget, polyLength);
  if (polyFailure !== undefined) {
    ctx.debug(polyFailure);
    return fail('spin: cannot exec poly1');
  }

  const polyBitmap = u32le(file, entry + STUB.polyBitmap);
  ctx.debug(`spin: POLYbitmap is ${hex(polyBitmap)} - decrypting sects (poly)`);
  const decryptor = entry + STUB.sectionDecryptor;
  for (let j = 0; j < sections.length; j++) {
    if (!bitmapHas(polyBitmap, j)) continue;
    if (!contained(0, file.length, decryptor, DECRYPTOR_CHECKED)) return fail('spin: poly1 emucode is out of file?');
    const { rawOffset, rawSize } = sections[j]!;
    const failure = runDecryptor(file, decryptor, rawOffset, rawSize);
    if (failure !== undefined) {
      ctx.debug(failure);
      return fail('spin: cannot exec section');
    }
  }
  ctx.debug('spin: done');
  return true;
}

/** Where a section's data for the rebuilt file starts: a buffer of its own, or the file. */
interface SectionSource {
  readonly bytes: Uint8Array;
  readonly start: number;
}

/** What the sections became, as unspin keeps track of them. */
interface GrownSections {
  readonly sources: SectionSource[];
  /** The compression bitmap, with the resource section's bit added when it is grown. */
  bitmap: number;
  /** cli_rebuildpe's buffer size as ClamAV sums it (a C int). */
  blobSize: number;
}

/**
 * Decompresses the sections the compression bitmap names into buffers of their virtual size;
 * the others stay as they are. Fails as ClamAV does when a buffer cannot be had or a section
 * does not decompress, or when the sections to grow exceed --max-filesize.
 */
function growSections(ctx: UnpackContext, file: Uint8Array, entry: number, sections: readonly PeSection[]): GrownSections | Failure {
  const bitmap = u32le(file, entry + STUB.compressionBitmap);
  if (ctx.maxFileSize > 0) {
    let total = 0;
    for (let j = 0; j < sections.length; j++) {
      if (!bitmapHas(bitmap, j)) continue;
      if (total > ctx.maxFileSize || sections[j]!.virtualSize > ctx.maxFileSize - total) return 'too-large';
      total += sections[j]!.virtualSize;
    }
  }
  ctx.debug(`spin: Compression bitmap is ${hex(bitmap)}`);
  const grown: GrownSections = { sources: [], bitmap, blobSize: 0 };
  let failures = 0;
  for (let j = 0; j < sections.length; j++) {
    const { rawOffset, rawSize, virtualSize } = sections[j]!;
    if (!bitmapHas(bitmap, j)) {
      grown.blobSize = (grown.blobSize + rawSize) | 0;
      grown.sources.push({ bytes: file, start: rawOffset });
      ctx.debug(`spin: Not growing sect${j}`);
      continue;
    }
    if (virtualSize === 0 || virtualSize > MAX_ALLOCATION) {
      ctx.debug(`spin: malloc(${virtualSize}) failed`);
      failures++;
      break;
    }
    const output = new Uint8Array(virtualSize);
    grown.blobSize = (grown.blobSize + virtualSize) | 0;
    grown.sources.push({ bytes: output, start: 0 });
    ctx.debug(`spin: Growing sect${j}: was ${hex(rawSize)} will be ${hex(virtualSize)}`);
    if (!unfsg({ bytes: file, start: rawOffset, length: rawSize | 0 }, { bytes: output, start: 0, length: virtualSize | 0 }).ok) {
      failures++;
      ctx.debug('spin: Unpack failure');
    }
  }
  ctx.debug('spin: decompression complete');
  return failures === 0 ? grown : 'failed';
}

/**
 * A resource section compressed from an address on (the stub names it): ClamAV keeps the part
 * before it and decompresses the rest into a buffer of the section's virtual size, unless the
 * section was grown already. A failure here is not fatal.
 */
function growResources(ctx: UnpackContext, file: Uint8Array, entry: number, sections: readonly PeSection[], grown: GrownSections): void {
  const split = u32le(file, entry + STUB.resourceSplit);
  if (split === 0) return;
  const index = sections.findIndex(({ rva, virtualSize, rawSize }) => rva <= split && split - rva < virtualSize && contained(0, rawSize, 0, split - rva));
  // `1 << index` tests bit `index` modulo 32, in JavaScript as on x86.
  if (index < 0 || (grown.bitmap & (1 << index)) !== 0) {
    ctx.debug('spin: No res?!');
    return;
  }
  const { rva, rawOffset, rawSize, virtualSize } = sections[index]!;
  const kept = split - rva;
  ctx.debug(
    `spin: Resources (sect${index}) appear to be compressed\n\tuncompressed offset ${hex(rva)}, len ${hex(kept)}\n\tcompressed offset ${hex(split)}, len ${hex(virtualSize - kept)}`,
  );
  const output = virtualSize > MAX_ALLOCATION ? undefined : new Uint8Array(virtualSize);
  if (output === undefined) {
    ctx.debug('spin: memory allocation failed, continuing anyway');
    grown.blobSize = (grown.blobSize + rawSize) | 0;
    return;
  }
  output.set(file.subarray(rawOffset, rawOffset + kept));
  const decoded = unfsg({ bytes: file, start: rawOffset + kept, length: (rawSize - kept) | 0 }, { bytes: output, start: kept, length: (virtualSize - kept) | 0 });
  if (!decoded.ok) {
    ctx.debug('spin: Failed to grow resources, continuing anyway');
    grown.blobSize = (grown.blobSize + rawSize) | 0;
    return;
  }
  grown.sources[index] = { bytes: output, start: 0 };
  grown.bitmap = (grown.bitmap | (1 << index)) >>> 0;
  ctx.debug('spin: Resources grown');
  grown.blobSize = (grown.blobSize + virtualSize) | 0;
}

/**
 * The sections laid end to end, the grown ones (by the bitmap) at their virtual size, and
 * rebuilt into a PE file (cli_rebuildpe); or 'failed'.
 */
function rebuild(ctx: UnpackContext, sections: readonly PeSection[], grown: GrownSections): Uint8Array | Failure {
  if (grown.blobSize <= 0 || grown.blobSize > MAX_ALLOCATION) {
    ctx.debug(`spin: free bitmap is ${hex(grown.bitmap)}`);
    return 'failed';
  }
  const layout: RebuildSection[] = [];
  let end = 0;
  sections.forEach((section, j) => {
    const rawSize = bitmapHas(grown.bitmap, j) ? section.virtualSize : section.rawSize;
    layout.push({ rva: section.rva, virtualSize: section.virtualSize, rawOffset: end, rawSize });
    end += rawSize;
  });
  const blob = new Uint8Array(end);
  layout.forEach(({ rawOffset, rawSize }, j) => {
    const { bytes, start } = grown.sources[j]!;
    blob.set(bytes.subarray(start, start + rawSize), rawOffset);
  });
  const rebuilt = rebuildPe(blob, layout, REBUILT_IMAGE_BASE, REBUILT_ENTRY, 0, 0);
  if (rebuilt === undefined) ctx.debug('spin: Cannot write unpacked file');
  return rebuilt ?? 'failed';
}

/** Bit `index` of a 32-bit bitmap that ClamAV shifts right once per section: none past the 32nd. */
function bitmapHas(bitmap: number, index: number): boolean {
  return index < 32 && ((bitmap >>> index) & 1) === 1;
}
