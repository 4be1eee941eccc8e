import { u32le } from '../../formats/compression/read.js';
import { rawAddress } from '../pe-file.js';
import { contained } from '../pe-arithmetic.js';
import { unfsg } from './fsg-decoder.js';
import { rebuildPe, type RebuildSection } from './rebuild-pe.js';
import { MAX_ALLOCATION, NEXT, SECTION_STRUCT_SIZE, STOP, unpacked, type UnpackContext, type UnpackOutcome } from './unpacker.js';
import { hex } from '../../util/c-numbers.js';

/**
 * FSG unpacking, cli_scanpe's three FSG blocks (libclamav pe.c, with fsg.c's unfsg_200 and
 * unfsg_133). FSG leaves an empty section for the program and packs it into the section after
 * it; its entry code tells the version:
 *
 * - 2.0: `xchg [addr], esp` — the packer's stack, inside the packed section, holds where the
 *   data and the output go and a table whose fourth entry is the original entry point;
 * - 1.33: `mov esi, addr` with addr in the headers' padding, which lists where the original
 *   sections went, each packed as a stream of its own;
 * - 1.31: `mov ebx, …; mov edi, …; mov esi, …`, with the sections' pages listed as 16-bit values
 *   in the padding.
 *
 * Each block reproduces ClamAV's checks and their order: a failed check that ClamAV leaves the
 * block on goes on to the next packer (NEXT), one that returns from cli_scanpe stops (STOP). A
 * decompressed image is rebuilt as a PE file; when the rebuild fails, ClamAV scans the bare
 * decompressed image instead (through its UPX/FSG path), and so does this.
 */

/** Where the packed section starts in memory and in the file, and how large it is. */
interface Packed {
  readonly rva: number;
  readonly rawOffset: number;
  readonly rawSize: number;
}


/**
 * The three FSG blocks in cli_scanpe's order, for a PE file whose section `emptySection` has no
 * raw data but a virtual size and is followed by one with both (cli_scanpe's `i`). cli_scanpe
 * has ended the scan before here when fewer than 168 bytes are at the entry point.
 */
export function unpackFsg(ctx: UnpackContext, emptySection: number): UnpackOutcome {
  for (const block of [fsg200, fsg133, fsg131]) {
    const outcome = block(ctx, emptySection);
    if (outcome.kind !== 'next') return outcome;
  }
  return NEXT;
}

/** FSG 2.0 (`xchg [addr], esp` at the entry point). */
function fsg200(ctx: UnpackContext, i: number): UnpackOutcome {
  const { pe, entry, data } = ctx;
  if (!(entry[0] === 0x87 && entry[1] === 0x25)) return NEXT;
  const base = pe.imageBase;
  const target = pe.sections[i]!;
  const packed = pe.sections[i + 1]!;
  const ssize = packed.rawSize;
  const dsize = target.virtualSize;
  if (!sizesAccepted(ctx, ssize, dsize)) return STOP;

  let stack = (entryU32(entry, 2) - base) >>> 0;
  if (!contained(packed.rva, packed.rawSize, stack, 4)) {
    ctx.debug(`cli_scanpe: FSG: xchg out of bounds (${hex(stack)}), giving up`);
    return NEXT;
  }
  const src = fileRange(data, packed.rawOffset, ssize);
  if (packed.rawSize === 0 || src === undefined) {
    ctx.debug(`cli_scanpe: Can't read raw data of section ${i + 1}`);
    return STOP;
  }
  // From here, offsets into the packed section's data.
  let at = stack - packed.rva;
  if (stack < packed.rva || !contained(0, ssize, at, 4)) {
    ctx.debug('cli_scanpe: FSG: New ESP out of bounds');
    return NEXT;
  }
  stack = (u32le(src, at) - base) >>> 0;
  if (!contained(packed.rva, packed.rawSize, stack, 4)) {
    ctx.debug(`cli_scanpe: FSG: New ESP (${hex(stack)}) is wrong`);
    return NEXT;
  }
  at = stack - packed.rva;
  if (!contained(0, ssize, at, 32)) {
    ctx.debug('cli_scanpe: FSG: New stack out of bounds');
    return NEXT;
  }
  const destination = (u32le(src, at) - base) >>> 0;
  const source = (u32le(src, at + 4) - base) >>> 0;
  const functions = (u32le(src, at + 16) - base) >>> 0;
  if (destination !== target.rva) {
    ctx.debug(`cli_scanpe: FSG: Bad destination buffer (edi is ${hex(destination)} should be ${hex(target.rva)})`);
    return NEXT;
  }
  if (!sourceInSection(ctx, source, packed, packed.rawSize)) return NEXT;
  if (!contained(packed.rva, packed.rawSize, functions, 16)) {
    ctx.debug('cli_scanpe: FSG: Array of functions out of bounds');
    return NEXT;
  }
  const oldEntry = (u32le(src, functions + 12 - packed.rva) - base) >>> 0;
  ctx.debug(`cli_scanpe: FSG: found old EP @${hex(oldEntry)}`);
  if (dsize > MAX_ALLOCATION) return STOP;

  const dest = new Uint8Array(dsize);
  const decoded = unfsg({ bytes: src, start: source - packed.rva, length: (ssize + packed.rva - source) | 0 }, { bytes: dest, start: 0, length: dsize | 0 });
  if (!decoded.ok) return unpackingFailed(ctx);
  const sections = [{ rva: destination, virtualSize: dsize, rawOffset: 0, rawSize: dsize }];
  return rebuilt(ctx, dest, sections, base, oldEntry);
}

/** FSG 1.33 (`mov esi, addr` with addr in the headers). */
function fsg133(ctx: UnpackContext, i: number): UnpackOutcome {
  const { pe, entry, data } = ctx;
  const base = pe.imageBase;
  if (!(entry[0] === 0xbe && ((entryU32(entry, 1) - base) >>> 0) < pe.minRva)) return NEXT;
  const target = pe.sections[i]!;
  const packed = pe.sections[i + 1]!;
  const ssize = packed.rawSize;
  const dsize = target.virtualSize;
  if (!sizesAccepted(ctx, ssize, dsize)) return STOP;

  const supportAt = rawAddress((entryU32(entry, 1) - base) >>> 0, [], data.length, pe.headersSize);
  if (supportAt === undefined) {
    ctx.debug('cli_scanpe: FSG: Support data out of padding area');
    return NEXT;
  }
  const support = readSupport(ctx, supportAt, packed);
  if (support.kind !== 'read') return support.outcome;
  const { size: gap } = support;
  // The table is read as ClamAV reads it: from the file, past its end when it is short.
  const supportU32 = (offset: number) => u32le(data, supportAt + offset);

  const destination = (supportU32(4) - base) >>> 0;
  const source = (supportU32(8) - base) >>> 0;
  if (!sourceInSection(ctx, source, packed, packed.rawSize)) return NEXT;
  if (destination !== target.rva) {
    ctx.debug(`cli_scanpe: FSG: Bad destination (is ${hex(destination)} should be ${hex(target.rva)})`);
    return NEXT;
  }

  // The original sections' addresses (+ 1), up to a zero.
  const limit = (gap - 4) >>> 0;
  let count = 0;
  let t = 12;
  for (; t < limit; t += 4) {
    let rva = supportU32(t);
    if (rva === 0) break;
    rva = (rva - ((base + 1) >>> 0)) >>> 0;
    count++;
    if (rva % 0x1000 !== 0) ctx.debug(`cli_scanpe: FSG: Original section ${count} is misaligned`);
    if (!originalInTarget(ctx, rva, target, count)) break;
  }
  if (t >= limit || supportU32(t) !== 0) return NEXT;
  if ((count + 1) * SECTION_STRUCT_SIZE > MAX_ALLOCATION) return STOP;
  const rvas = [destination];
  for (let n = 1; n <= count; n++) rvas.push((supportU32(8 + n * 4) - 1 - base) >>> 0);

  const src = fileRange(data, packed.rawOffset, ssize);
  if (packed.rawSize === 0 || src === undefined) {
    ctx.debug(`cli_scanpe: Can't read raw data of section ${i}`);
    return STOP;
  }
  if (dsize > MAX_ALLOCATION) return STOP;
  const oldEntry = (pe.entryRva + 161 + 6 + entryU32(entry, 163)) >>> 0;
  ctx.debug(`cli_scanpe: FSG: found old EP @${hex(oldEntry)}`);
  return unfsg133(ctx, src, source - packed.rva, (ssize + packed.rva - source) | 0, dsize, rvas, base, oldEntry);
}

/** FSG 1.31 (`mov ebx, …; mov edi, …; mov esi, …`). */
function fsg131(ctx: UnpackContext, i: number): UnpackOutcome {
  const { pe, entry, data } = ctx;
  const base = pe.imageBase;
  const packed = pe.sections[i + 1]!;
  const matches =
    entry[0] === 0xbb &&
    ((entryU32(entry, 1) - base) >>> 0) < pe.minRva &&
    entry[5] === 0xbf &&
    entry[10] === 0xbe &&
    pe.entryRva >= packed.rva &&
    pe.entryRva - packed.rva > ((packed.rva - 0xe0) >>> 0);
  if (!matches) return NEXT;
  const target = pe.sections[i]!;
  const supportAt = rawAddress((entryU32(entry, 1) - base) >>> 0, [], data.length, pe.headersSize);
  const source = (entryU32(entry, 11) - base) >>> 0;
  const destination = (entryU32(entry, 6) - base) >>> 0;
  const ssize = packed.rawSize;
  const dsize = target.virtualSize;

  if (supportAt === undefined) {
    ctx.debug('cli_scanpe: FSG: Support data out of padding area');
    return NEXT;
  }
  // ClamAV bounds the source by the section's file offset here, not by its size.
  if (!sourceInSection(ctx, source, packed, packed.rawOffset)) return NEXT;
  if (destination !== target.rva) {
    ctx.debug(`cli_scanpe: FSG: Bad destination (is ${hex(destination)} should be ${hex(target.rva)})`);
    return NEXT;
  }
  if (!sizesAccepted(ctx, ssize, dsize)) return STOP;
  const support = readSupport(ctx, supportAt, packed);
  if (support.kind !== 'read') return support.outcome;
  const { size: gap } = support;
  // 16-bit page numbers (+ 2), read from signed chars as ClamAV's `char *` does.
  const supportI16 = (offset: number) => signedByte(data, supportAt + offset) | (signedByte(data, supportAt + offset + 1) << 8);
  const pageRva = (page: number) => (((page - 2) << 12) - base) >>> 0;

  const limit = (gap - 2) >>> 0;
  let count = 0;
  let t = 0;
  for (; t < limit; t += 2) {
    const page = supportI16(t) >>> 0;
    if (page === 2 || page === 1) break;
    count++;
    if (!originalInTarget(ctx, pageRva(page), target, count)) break;
  }
  if (t >= ((gap - 10) >>> 0) || (u32le(data, supportAt + t + 6) | 0) !== 2) return NEXT;
  if ((count + 1) * SECTION_STRUCT_SIZE > MAX_ALLOCATION) return STOP;
  const rvas = [destination];
  for (let n = 0; n < count; n++) rvas.push(pageRva(supportI16(n * 2)));

  const src = fileRange(data, packed.rawOffset, ssize);
  if (packed.rawSize === 0 || src === undefined) {
    ctx.debug(`cli_scanpe: FSG: Can't read raw data of section ${i}`);
    return STOP;
  }
  if (dsize > MAX_ALLOCATION) return STOP;
  // The jump to the original entry point, in the unpacker's code (read from the file as
  // ClamAV reads it, whatever the section's size).
  const jump = 0xda + (entry[16] === 0xe8 ? 6 : 0);
  const oldEntry = (pe.entryRva + jump + 6 + u32le(data, packed.rawOffset + jump + 2 + pe.entryRva - packed.rva)) >>> 0;
  ctx.debug(`cli_scanpe: FSG: found old EP @${hex(oldEntry)}`);
  return unfsg133(ctx, src, source - packed.rva, (ssize + packed.rva - source) | 0, dsize, rvas, base, oldEntry);
}

/**
 * unfsg_133: one stream per original section, one after the other in the input and the output;
 * the sections are then sorted by address, each sized up to the next, and rebuilt as a PE file.
 */
function unfsg133(ctx: UnpackContext, src: Uint8Array, sourceStart: number, sourceLength: number, dsize: number, rvas: readonly number[], base: number, entryRva: number): UnpackOutcome {
  const dest = new Uint8Array(dsize);
  const streams: { rva: number; rawOffset: number; rawSize: number }[] = [];
  let inAt = sourceStart;
  let outAt = 0;
  for (const rva of rvas) {
    const decoded = unfsg(
      { bytes: src, start: inAt, length: (sourceLength - (inAt - sourceStart)) | 0 },
      { bytes: dest, start: outAt, length: (dsize - outAt) | 0 },
    );
    if (!decoded.ok) return unpackingFailed(ctx);
    streams.push({ rva, rawOffset: outAt, rawSize: decoded.outputEnd - outAt });
    inAt = decoded.inputEnd;
    outAt = decoded.outputEnd;
  }
  // A stable sort, as ClamAV's bubble sort is.
  streams.sort((a, b) => a.rva - b.rva);
  let remaining = dsize;
  const sections: RebuildSection[] = streams.map((stream, n) => {
    const next = streams[n + 1];
    const virtualSize = next === undefined ? remaining : (next.rva - stream.rva) >>> 0;
    if (next !== undefined) remaining = (remaining - virtualSize) >>> 0;
    ctx.debug(`FSG: .SECT${n} RVA:${hex(stream.rva)} VSize:${hex(virtualSize)} ROffset: ${hex(stream.rawOffset)}, RSize:${hex(stream.rawSize)}`);
    return { ...stream, virtualSize };
  });
  return rebuilt(ctx, dest, sections, base, entryRva);
}

/**
 * What ClamAV does with an unpacked image: the rebuilt PE file, or (when rebuilding failed) the
 * image as decompressed.
 */
function rebuilt(ctx: UnpackContext, dest: Uint8Array, sections: readonly RebuildSection[], base: number, entryRva: number): UnpackOutcome {
  const file = rebuildPe(dest, sections, base, entryRva, 0, 0);
  if (file !== undefined) return unpacked(file);
  ctx.debug('FSG: Rebuilding failed');
  ctx.debug('cli_scanpe: FSG: Successfully decompressed');
  return unpacked(dest);
}

function unpackingFailed(ctx: UnpackContext): UnpackOutcome {
  ctx.debug('cli_scanpe: FSG: Unpacking failed');
  return NEXT;
}

/** The size checks every block makes; false (over the scan's limits, or sizes that cannot be FSG) ends the scan. */
function sizesAccepted(ctx: UnpackContext, ssize: number, dsize: number): boolean {
  if (!ctx.withinLimits(Math.max(dsize, ssize))) return false;
  if (ssize <= 0x19 || dsize <= ssize) {
    ctx.debug(`cli_scanpe: FSG: Size mismatch (ssize: ${ssize | 0}, dsize: ${dsize | 0})`);
    return false;
  }
  return true;
}

/** The packed data's address must be inside the packed section (ClamAV's bound varies by version). */
function sourceInSection(ctx: UnpackContext, source: number, packed: Packed, bound: number): boolean {
  if (source < packed.rva || source - packed.rva >= bound) {
    ctx.debug('cli_scanpe: FSG: Source buffer out of section bounds');
    return false;
  }
  return true;
}

/** An original section's address must be inside the empty section. */
function originalInTarget(ctx: UnpackContext, rva: number, target: { readonly rva: number; readonly virtualSize: number }, count: number): boolean {
  if (rva < target.rva || rva - target.rva >= target.virtualSize) {
    ctx.debug(`cli_scanpe: FSG: Original section ${count} is out of bounds`);
    return false;
  }
  return true;
}

/** The unpacker's data in the headers' padding, from `at` up to the packed section's data. */
function readSupport(ctx: UnpackContext, at: number, packed: Packed): { kind: 'read'; size: number } | { kind: 'failed'; outcome: UnpackOutcome } {
  const size = (packed.rawOffset - at) >>> 0;
  if (!ctx.withinLimits(size)) return { kind: 'failed', outcome: STOP };
  if (fileRange(ctx.data, at, size) === undefined) {
    ctx.debug(`cli_scanpe: Can't read ${size | 0} bytes from padding area`);
    return { kind: 'failed', outcome: STOP };
  }
  return { kind: 'read', size };
}

/** fmap_need_off_once: `size` bytes at `at`, when the file has them all. */
function fileRange(data: Uint8Array, at: number, size: number): Uint8Array | undefined {
  return size > 0 && at + size <= data.length ? data.subarray(at, at + size) : undefined;
}

/** A 32-bit value at the entry point (epbuff); bytes past what was read count as zero. */
function entryU32(entry: Uint8Array, at: number): number {
  return ((entry[at] ?? 0) | ((entry[at + 1] ?? 0) << 8) | ((entry[at + 2] ?? 0) << 16) | ((entry[at + 3] ?? 0) << 24)) >>> 0;
}

/** A byte read through C's signed `char`; zero past the end of the file. */
function signedByte(data: Uint8Array, at: number): number {
  return ((data[at] ?? 0) << 24) >> 24;
}
