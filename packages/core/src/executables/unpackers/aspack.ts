import { u32le } from '../../formats/compression/read.js';
import { contained } from '../pe-arithmetic.js';
import type { PeSection } from '../pe-file.js';
import { AspackDecoder } from './aspack-decoder.js';
import { rebuildPe } from './rebuild-pe.js';
import { MAX_ALLOCATION, NEXT, STOP, unpacked, type UnpackContext, type UnpackOutcome } from './unpacker.js';

/**
 * ASPack unpacking: cli_scanpe's `ASPACK support` block (libclamav pe.c) and unaspack
 * (aspack.c). ASPack's entry code starts `pusha; call +3; jmp …`, and its version shows in
 * where the `push 0; ret` that ends it (patched with the original entry point at run time) is.
 * The sections are laid out as in memory; the packer's block table (address and size of each
 * packed stretch, which is decoded in place) and its decoding tables are at fixed offsets from
 * the entry point. The first block's call and jump targets were made absolute by the packer and
 * are turned back. The image is then rebuilt as a PE file, without the packer's own two sections
 * when they are last; if the rebuild fails, ClamAV scans the bare image instead, and so does this.
 */

/** Where each ASPack version keeps its data, as offsets from the entry point (less one). */
interface AspackVersion {
  /** The debug line naming it. */
  readonly name: string;
  /** Where `push 0; ret` is in the entry code (from the entry point itself). */
  readonly returnAt: number;
  /** The block table: address and size of each packed block, 8 or 12 bytes apart. */
  readonly blocks: number;
  readonly blockEntrySize: number;
  /** The unpacker's length and distance tables (the distance extra bits 0x38 further). */
  readonly tables: number;
  /** The byte the packer marks its converted call and jump targets with. */
  readonly callMarker: number;
  /** Where the original entry point is, once the blocks are unpacked. */
  readonly originalEntry: number;
}

const VERSIONS: readonly AspackVersion[] = [
  { name: '2.12', returnAt: 0x3b9, blocks: 0x57c, blockEntrySize: 8, tables: 0x6d6, callMarker: 0x148, originalEntry: 0x39b },
  { name: '>2.12, <2.42', returnAt: 0x41f, blocks: 0x5d8, blockEntrySize: 12, tables: 0x732, callMarker: 0x13a, originalEntry: 0x401 },
  { name: '2.42', returnAt: 0x42b, blocks: 0x5e4, blockEntrySize: 12, tables: 0x73e, callMarker: 0x148, originalEntry: 0x40d },
];

/** Where the distance extra-bit counts are, from the tables; the 58 slots' bases are their powers of two summed. */
const DISTANCE_EXTRA_BITS = 0x38;
const DISTANCE_SLOTS = 58;
/** How far past the entry point a version's unpacker reaches in the file (ASPACK_EP_OFFSET_*). */
const stubEnd = (version: AspackVersion) => version.tables + DISTANCE_EXTRA_BITS + DISTANCE_SLOTS;

const ENTRY_SIGNATURE = [0x60, 0xe8, 0x03, 0x00, 0x00, 0x00, 0xe9, 0xeb]; // pusha; call +3; jmp
const RETURN_SIGNATURE = [0x68, 0x00, 0x00, 0x00, 0x00, 0xc3]; // push 0; ret
/** cli_scanpe needs this much of the entry code. */
const MIN_ENTRY_SIZE = 0x3bf;
/** ClamAV pads each block's copy with this many zero bytes, which the bit reader may run into. */
const INPUT_PADDING = 0x10e;
/** A block size the table walk skips (its size plus the padding is 0 in 32 bits). */
const SKIPPED_SIZE = 0xfffffef2;

/** The ASPack block of cli_scanpe. */
export function unpackAspack(ctx: UnpackContext): UnpackOutcome {
  const { pe, entry, data } = ctx;
  if (!VERSIONS.some((version) => pe.entryPoint + stubEnd(version) < data.length)) return NEXT;
  if (!startsWith(entry, 0, ENTRY_SIGNATURE)) return NEXT;
  if (entry.length < MIN_ENTRY_SIZE) return NEXT;
  const version = VERSIONS.find((candidate) => startsWith(entry, candidate.returnAt, RETURN_SIGNATURE));
  if (version === undefined) return NEXT;

  let size = 0;
  for (const section of pe.sections) size = Math.max(size, (section.rva + section.virtualSize) >>> 0);
  if (size === 0) return NEXT;
  if (!ctx.withinLimits(size)) return STOP;
  if (size > MAX_ALLOCATION) return STOP;

  // The sections' data at their addresses.
  const image = new Uint8Array(size);
  for (const section of pe.sections) {
    if (section.rawSize === 0) continue;
    const end = section.rawOffset + section.rawSize;
    if (!contained(0, size, section.rva, section.rawSize) || end > data.length) {
      ctx.debug('cli_scanpe: Aspack: Probably hacked/damaged Aspack file.');
      return NEXT;
    }
    image.set(data.subarray(section.rawOffset, end), section.rva);
  }

  const result = unaspack(ctx, image, version);
  if (result === undefined) {
    ctx.debug('cli_scanpe: Aspack: Unpacking failed');
    return NEXT;
  }
  return unpacked(result);
}

/** unaspack: the unpacked image rebuilt as a PE file (or bare, if that fails); undefined where unpacking fails. */
function unaspack(ctx: UnpackContext, image: Uint8Array, version: AspackVersion): Uint8Array | undefined {
  const { pe } = ctx;
  ctx.debug(`Aspack: Attempting to unpack Aspack ${version.name}.`);
  // ClamAV works from the entry point less one, in 32 bits.
  const ep = (pe.entryRva - 1) >>> 0;
  const at = (offset: number) => (ep + offset) >>> 0;
  const decoder = new AspackDecoder(image, at(version.tables), distanceBases(image, at(version.tables + DISTANCE_EXTRA_BITS)), (message) => ctx.debug(message));

  let entryAt = at(version.blocks);
  let blockRva = 1;
  let callsRestored = false;
  for (;;) {
    if (!contained(0, image.length, entryAt, 8)) break;
    blockRva = u32le(image, entryAt);
    if (blockRva === 0) break;
    const blockSize = u32le(image, entryAt + 4);
    if (blockSize === 0 || !contained(0, image.length, blockRva, blockSize)) break;

    ctx.debug(`Aspack: unpacking block rva:${blockRva.toString(16)} - sz:${blockSize.toString(16)}`);
    if (blockSize + INPUT_PADDING > MAX_ALLOCATION) {
      ctx.debug('Aspack: Null work buff');
      break;
    }
    const input = new Uint8Array(blockSize + INPUT_PADDING);
    input.set(image.subarray(blockRva, blockRva + blockSize));
    if (!decoder.decompressBlock(input, blockRva, blockSize)) {
      ctx.debug('Aspack: decomp_block failed');
      break;
    }
    ctx.debug('Aspack: decomp block succeed');

    if (!callsRestored && blockSize > 7) {
      restoreCalls(image, blockRva, blockSize, at(version.callMarker));
      callsRestored = true;
    }
    entryAt += version.blockEntrySize;
    if (version.blockEntrySize === 12) {
      while (u32le(image, entryAt + 4) === SKIPPED_SIZE) entryAt += 12;
    }
  }
  ctx.debug('Aspack: leaving loop all uncompressed');
  if (blockRva !== 0) {
    ctx.debug('Aspack: unpacking failure');
    return undefined;
  }

  const file = rebuildPe(image, keptSections(pe.sections, ep), pe.imageBase, u32le(image, at(version.originalEntry)), 0, 0);
  if (file === undefined) {
    ctx.debug('Aspack: rebuild failed');
    return image;
  }
  ctx.debug('Aspack: successfully rebuilt');
  return file;
}

/** init_array: slot n's first distance is the sum of 2^bits over the slots before it (bits past the image count 0). */
function distanceBases(image: Uint8Array, extraBitsAt: number): Uint32Array {
  const bases = new Uint32Array(DISTANCE_SLOTS);
  let base = 0;
  for (let slot = 0; slot < DISTANCE_SLOTS; slot++) {
    bases[slot] = base;
    const at = (extraBitsAt + slot) >>> 0;
    if (at < image.length) base = (base + (1 << image[at]!)) >>> 0;
  }
  return bases;
}

/**
 * The packer turned the operands of calls and jumps (E8/E9) into big-endian absolute targets
 * marked in their low byte with the byte at `markerAt` in its code; ClamAV turns them back into
 * relative ones (relative to the block's start, as it counts). The marker is read at each test,
 * as ClamAV does, and is 0 past the image.
 */
function restoreCalls(image: Uint8Array, blockRva: number, blockSize: number, markerAt: number): void {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  for (let i = 0; i < blockSize - 6; i++) {
    const opcode = image[blockRva + i];
    if (opcode !== 0xe8 && opcode !== 0xe9) continue;
    const operand = blockRva + i + 1;
    if (image[operand] !== (image[markerAt] ?? 0)) continue;
    const target = view.getUint32(operand, true) & 0xffffff00;
    const rotated = ((target << 24) | (target >>> 8)) >>> 0;
    view.setUint32(operand, (rotated - i) >>> 0, true);
    i += 4;
  }
}

/**
 * The sections to rebuild, each at its address with its whole virtual size: all but ASPack's
 * own two when the entry point opens the second last and the last has no data.
 */
function keptSections(sections: readonly PeSection[], ep: number) {
  let count = sections.length;
  if (count > 2 && ep === sections[count - 2]!.rva && sections[count - 1]!.rawSize === 0) count -= 2;
  return sections.slice(0, count).map((section) => ({ rva: section.rva, virtualSize: section.virtualSize, rawOffset: section.rva, rawSize: section.virtualSize }));
}

function startsWith(bytes: Uint8Array, at: number, expected: readonly number[]): boolean {
  return expected.every((value, k) => bytes[at + k] === value);
}
