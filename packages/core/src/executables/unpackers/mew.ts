import { u32le } from '../../formats/compression/read.js';
import { contained } from '../pe-arithmetic.js';
import { unfsg, type FsgDecodeFailure } from './fsg-decoder.js';
import { mewLzma } from './mew-lzma.js';
import { rebuildPe, type RebuildSection } from './rebuild-pe.js';
import { alignUp } from '../pe-arithmetic.js';
import { MAX_ALLOCATION, NEXT, SECTION_STRUCT_SIZE, STOP, unpacked, type UnpackContext, type UnpackOutcome } from './unpacker.js';
import { hex8 } from '../../util/c-numbers.js';

/**
 * MEW 11 unpacking: cli_scanpe's MEW block (libclamav pe.c) and mew.c's unmew11. MEW's entry
 * point jumps to code at file offset 0x154 or 0x158, whose first instruction loads the address
 * of the packed data. The image is unpacked inside one buffer: the empty section's size of
 * room, then the packed section. MEW's first stage (the FSG decompressor, see fsg-decoder.ts)
 * unpacks a chain of sections, each followed by the address of the next; when MEW's code calls
 * an LZMA routine, its second stage (mew-lzma.ts) then decodes the image from there. The
 * result is rebuilt as a PE file.
 */

/** How much of MEW's code at 0x154/0x158 cli_scanpe reads. */
const CODE_SIZE = 0xb0;
const PAGE = 0x1000;

/**
 * The MEW block, for a PE file whose section `emptySection` has no raw data but a virtual size
 * and is followed by one with both (cli_scanpe's `i`, when it found one).
 */
export function unpackMew(ctx: UnpackContext, emptySection: number): UnpackOutcome {
  const { pe, entry, data } = ctx;
  if (entry.length < 16 || entry[0] !== 0xe9) return NEXT;
  const jump = u32le(entry, 1);
  const codeAt = (pe.entryRva + jump + 5) >>> 0;
  if (codeAt !== 0x154 && codeAt !== 0x158) return NEXT;
  ctx.debug(`cli_scanpe: MEW: found MEW characteristics ${hex8(jump).toUpperCase()} + ${hex8(pe.entryRva).toUpperCase()} + 5 = ${hex8(codeAt).toUpperCase()}`);
  if (codeAt + CODE_SIZE > data.length) return NEXT;
  const code = data.subarray(codeAt, codeAt + CODE_SIZE);
  ctx.debug(`cli_scanpe: MEW: Win9x compatibility was ${codeAt === 0x154 ? '' : 'NOT '}set!`);

  const target = pe.sections[emptySection]!;
  const packed = pe.sections[emptySection + 1]!;
  // mov esi, <packed data>: ClamAV bounds it by the section's file offset, not its size.
  let offset = (u32le(code, 1) - pe.imageBase) >>> 0;
  if (offset <= packed.rva || offset >= ((packed.rva + packed.rawOffset - 4) >>> 0)) {
    ctx.debug('cli_scanpe: MEW: ESI is not in proper section');
    return NEXT;
  }
  offset -= packed.rva;
  if (packed.rawSize === 0) {
    ctx.debug('cli_scanpe: MEW: mew section is empty');
    return NEXT;
  }
  const ssize = packed.virtualSize;
  const dsize = target.virtualSize;
  const total = ssize + dsize;
  if (total > 0xffffffff) {
    ctx.debug(`cli_scanpe: MEW: section size (${hex8(ssize)}) + diff size (${hex8(dsize)}) exceeds max size of unsigned int (ffffffff)`);
    return NEXT;
  }
  if (offset >= total) {
    ctx.debug(`cli_scanpe: MEW: offdiff (${hex8(offset)}) exceeds section size + diff size (${hex8(total)})`);
    return NEXT;
  }
  ctx.debug(`cli_scanpe: MEW: ssize ${hex8(ssize)} dsize ${hex8(dsize)} offdiff: ${hex8(offset)}`);
  if (!ctx.withinLimits(Math.max(ssize, dsize)) || !ctx.withinLimits(Math.max(total, packed.rawSize))) return STOP;
  if (packed.rawSize < ((offset + 12) >>> 0) || packed.rawSize > ssize) {
    ctx.debug(`cli_scanpe: MEW: Size mismatch: ${hex8(packed.rawSize)}`);
    return NEXT;
  }
  if (total > MAX_ALLOCATION) return STOP;

  const buffer = new Uint8Array(total);
  const read = readAvailable(data, packed.rawOffset, packed.rawSize);
  if (read.length !== packed.rawSize) {
    const count = read.length < 0 ? '18446744073709551615' : String(read.length);
    ctx.debug(`cli_scanpe: MEW: Can't read ${packed.rawSize} bytes [read: ${count}]`);
    return STOP;
  }
  buffer.set(read.bytes, dsize);
  ctx.debug(`cli_scanpe: MEW: ${read.length} (${hex8(read.length)}) bytes read`);

  // call <LZMA routine> in MEW's code: where it is, relative to the image.
  let lzma = 0;
  if (code[0x7b] === 0xe8) {
    const call = u32le(code, 0x7c);
    const first = pe.sections[0]!;
    const second = pe.sections[1]!;
    if (!contained(second.rva, second.virtualSize, (call + codeAt + 0x80) >>> 0, 4)) {
      ctx.debug('cli_scanpe: MEW: lzma proc out of bounds!');
      return NEXT;
    }
    lzma = (call - ((first.rva - codeAt - 0x80) >>> 0)) >>> 0;
  }
  const rebuilt = unmew11(ctx, buffer, offset, ssize, dsize, pe.imageBase, pe.sections[0]!.rva, lzma);
  if (rebuilt === undefined) {
    ctx.debug('cli_scanpe: MEW: Unpacking failed');
    return NEXT;
  }
  return unpacked(rebuilt);
}

/**
 * unmew11: unpacks `buffer` (`dsize` bytes of room, then the packed section's `ssize`; its data
 * starts `offset` bytes in) for an image at `base` + `rva`, and rebuilds it. `lzma` is where
 * MEW's LZMA routine is in the image (0: not used). Undefined where ClamAV's fails.
 */
function unmew11(ctx: UnpackContext, buffer: Uint8Array, offset: number, ssize: number, dsize: number, base: number, rva: number, lzma: number): Uint8Array | undefined {
  const size = buffer.length;
  if (base + rva > 0xffffffff) {
    ctx.debug(`MEW: base (${hex8(base)}) + PE section RVA (${hex8(rva)}) exceeds max size of unsigned int (ffffffff)`);
    return undefined;
  }
  const vma = base + rva;
  // ClamAV checks the offset from the buffer's start, though the data is after the room.
  if (!contained(0, size, offset, 12)) {
    ctx.debug('MEW: Data reference exceeds size of provided buffer.');
    return undefined;
  }
  const header = dsize + offset;
  const entryPoint = u32le(buffer, header + 4);
  let outAt = (u32le(buffer, header + 8) - vma) >>> 0;
  let outLength = (size - outAt) >>> 0;
  let inAt = header + 12;
  let inLength = (ssize - 12 - offset) >>> 0;
  let chainEnd = 0;

  const sections: { rva: number; rawOffset: number; rawSize: number; virtualSize: number }[] = [];
  let count = 0;
  for (;;) {
    ctx.debug(`MEW unpacking section ${count} (${pointer(inAt)}->${pointer(outAt)})`);
    if (!contained(0, size, inAt, inLength) || !contained(0, size, outAt, outLength)) {
      ctx.debug('Possibly programmer error or hand-crafted PE file, report to clamav team');
      return undefined;
    }
    const decoded = unfsg({ bytes: buffer, start: inAt, length: inLength | 0 }, { bytes: buffer, start: outAt, length: outLength | 0 });
    if (!decoded.ok) {
      reportFailure(ctx, decoded, { start: inAt, length: inLength }, { start: outAt, length: outLength });
      return undefined;
    }
    chainEnd = decoded.inputEnd;
    // Each section's data is followed by the address of the next (0 after the last).
    if (!contained(0, size, chainEnd, 4)) return undefined;
    inLength = (inLength - (chainEnd + 4 - inAt)) >>> 0;
    inAt = chainEnd + 4;
    const next = u32le(buffer, chainEnd);
    outAt = (next - vma) >>> 0;
    outLength = (size - outAt) >>> 0;

    if (lzma === 0) {
      // The sections are taken to follow each other from the image's start, each up to the
      // page after where its data ended.
      const end = alignUp(decoded.outputEnd, PAGE);
      const start = count === 0 ? 0 : sections[count]!.rawOffset;
      if (count !== 0 && end < start) {
        ctx.debug('MEW: WTF - please report');
        return undefined;
      }
      if ((count + 2) * SECTION_STRUCT_SIZE > MAX_ALLOCATION) {
        ctx.debug('MEW: Out of memory');
        return undefined;
      }
      const length = count === 0 ? end : (end - start) >>> 0;
      sections[count] = { rva: count === 0 ? rva : sections[count]!.rva, rawOffset: start, rawSize: length, virtualSize: length };
      sections[count + 1] = { rva: (end + rva) >>> 0, rawOffset: end, rawSize: 0, virtualSize: 0 };
      if (((start + length) >>> 0) > dsize) {
        ctx.debug(`MEW: Section ${count} [${start | 0}, ${(start + length) | 0}] exceeds destination size ${dsize}`);
        return undefined;
      }
    }
    count++;
    if (next === 0) break;
  }

  let rebuildSections: RebuildSection[] = sections.slice(0, count);
  if (lzma !== 0) {
    // The LZMA stage's data follows the chain; the image becomes one section.
    const tag = (lzma | 0) + 8;
    if (!contained(0, size, tag, 1)) {
      ctx.debug("MEW: couldn't access lzma 'special' tag");
      return undefined;
    }
    // push eax: the special form.
    const special = buffer[tag] === 0x50;
    ctx.debug(`MEW: lzma ${special ? 'special ' : ''}was used, unpacking`);
    if (!contained(0, size, chainEnd + 4, 20 + 4 + 5)) {
      ctx.debug('MEW: lzma initialization data not available!');
      return undefined;
    }
    if (!mewLzma(buffer, chainEnd + 4, vma, special, (message) => ctx.debug(message))) return undefined;
    rebuildSections = [{ rva, rawOffset: 0, rawSize: dsize, virtualSize: dsize }];
  }
  const file = rebuildPe(buffer, rebuildSections, base, (entryPoint - base) >>> 0, 0, 0, PAGE);
  if (file === undefined) ctx.debug('MEW: Rebuilding failed');
  return file;
}

interface Span {
  readonly start: number;
  readonly length: number;
}

/** unmew's debug lines on a failed match or literal (ClamAV prints pointers; these are offsets into the buffer). */
function reportFailure(ctx: UnpackContext, failure: FsgDecodeFailure, input: Span, output: Span): void {
  const outEnd = output.start + output.length;
  if (failure.reason === 'match') {
    const { outputAt, matchLength, matchDistance } = failure;
    const from = outputAt - matchDistance;
    const fits = (at: number) => (contained(output.start, output.length, at, matchLength) ? 1 : 0);
    const region = `${pointer(output.start)} ${output.length | 0}`;
    ctx.debug(`MEW: rete: ${region} ${pointer(outputAt)} ${matchLength | 0} ${fits(outputAt)} || ${region} ${pointer(from)} ${matchLength | 0} ${fits(from)}`);
  } else if (failure.reason === 'literal') {
    const inEnd = input.start + input.length;
    ctx.debug(
      `MEW: retf ${pointer(failure.outputAt)} ${pointer(output.start)}+${hex8(output.length)}=${pointer(outEnd)}, ` +
        `${pointer(failure.inputAt)} ${pointer(input.start)}+${hex8(input.length)}=${pointer(inEnd)}`,
    );
  }
}

/** fmap_readn: up to `size` bytes at `at`; a length of -1 when `at` is past the end. */
function readAvailable(data: Uint8Array, at: number, size: number): { length: number; bytes: Uint8Array } {
  if (at > data.length) return { length: -1, bytes: new Uint8Array(0) };
  const bytes = data.subarray(at, at + size);
  return { length: bytes.length, bytes };
}

/** Where ClamAV prints a pointer into the buffer: the offset (negative before the buffer). */
function pointer(offset: number): string {
  return `${offset < 0 ? '-' : ''}0x${Math.abs(offset).toString(16)}`;
}
