import { contained } from '../pe-arithmetic.js';
import { firstEmptySection, type PeFile } from '../pe-file.js';
import { rebuildPe } from './rebuild-pe.js';
import { MAX_ALLOCATION, NEXT, STOP, unpacked, type UnpackContext, type UnpackOutcome } from './unpacker.js';
import { hex, hex8 } from '../../util/c-numbers.js';

/**
 * Upack unpacking: cli_scanpe's Upack block (libclamav pe.c) and upack.c's unupack, with the
 * LZMA variant Upack packs with (unupack399 and mew.c's lzma_upack_esi_* helpers).
 *
 * Upack 0.39 writes two kinds of files, told apart by their headers: three sections and a 0x148
 * byte optional header (whose tail holds Upack's data; ClamAV's `upack` flag), or two sections,
 * one of them empty. Upack 1.1/1.2 writes two sections. ClamAV reads the packer's own code to
 * find its parameters: where the packed stream, the probability model and the output are, the
 * literal context bits, and how many call/jump targets to make relative again afterwards. The
 * image is unpacked in one buffer, laid out as the image is in memory, and rebuilt as a PE file
 * with one section.
 *
 * Everything ClamAV reaches through pointers into that buffer is an offset into it here, kept
 * with the same arithmetic: some values wrap at 32 bits, others (pointer plus signed value) do not.
 */

/** cli_scanpe's `upack`: a PE32 file whose optional header is 0x148 bytes long. */
const UPACK_OPTIONAL_HEADER_SIZE = 0x148;

/** The Upack versions ClamAV tells apart (upack.c's enum; 0151477 and 0297729 name samples). */
const enum Version {
  V039,
  V11,
  Sample0151477,
  Sample0297729,
}

/**
 * The Upack block, tried when the file has an empty section or the `upack` header: it unpacks
 * when the entry code looks like Upack's, and goes on to the next unpacker when the unpacking
 * fails.
 */
export function unpackUpack(ctx: UnpackContext): UnpackOutcome {
  const { pe, entry, data } = ctx;
  const upack = !pe.isPe32Plus && pe.optionalHeaderSize === UPACK_OPTIONAL_HEADER_SIZE;
  if (!upack && firstEmptySection(pe) === undefined) return NEXT;
  if (!hasUpackEntry(pe, entry, upack)) return NEXT;
  ctx.debug('cli_scanpe: Upack characteristics found.');

  const [first, second] = [pe.sections[0]!, pe.sections[1]!];
  // `upack`: the image from the first section on, the file's start (headers and first section)
  // moved to where the third section is. Otherwise the image from 0, the file's start placed so
  // that the second section's data lands at its address.
  let third: number;
  let ssize: number;
  let off: number;
  let vma: number;
  if (upack) {
    ctx.debug('cli_scanpe: Upack: var set');
    third = pe.sections[2]!.virtualSize;
    ssize = (first.declaredRawSize + first.declaredRawOffset) >>> 0;
    off = first.rva;
    vma = (pe.imageBase + first.rva) >>> 0;
  } else {
    ctx.debug('cli_scanpe: Upack: var NOT set');
    third = second.rva;
    ssize = second.declaredRawOffset;
    off = 0;
    vma = (second.rva - second.declaredRawOffset) >>> 0;
  }
  // Summed as C ints, kept as unsigned.
  const dsize = (first.virtualSize + second.virtualSize + third) >>> 0;
  if (!ctx.withinLimits(Math.max(dsize, ssize, second.declaredRawSize))) return STOP;

  const secondAt = (second.rva - off) >>> 0;
  const startAt = upack ? (pe.sections[2]!.rva - first.rva) >>> 0 : 0;
  if (!contained(0, dsize, secondAt, second.declaredRawSize) || (upack && !contained(0, dsize, startAt, ssize)) || ssize > dsize) {
    ctx.debug('cli_scanpe: Upack: probably malformed pe-header, skipping to next unpacker');
    return NEXT;
  }
  if (dsize > MAX_ALLOCATION) return STOP;
  const dest = new Uint8Array(dsize);
  if (ssize > data.length) {
    ctx.debug("cli_scanpe: Upack: Can't read raw data of section 0");
    return NEXT;
  }
  dest.set(data.subarray(0, ssize));
  if (upack) dest.copyWithin(startAt, 0, ssize);
  const secondData = data.subarray(second.declaredRawOffset, second.declaredRawOffset + second.declaredRawSize);
  if (second.declaredRawOffset >= data.length || secondData.length !== second.declaredRawSize) {
    ctx.debug("cli_scanpe: Upack: Can't read raw data of section 1");
    return NEXT;
  }
  dest.set(secondData, secondAt);

  const rebuilt = unupack(ctx.debug, upack, new Memory(dest), entry, vma, pe.entryPoint, pe.imageBase, first.rva);
  if (rebuilt === undefined) {
    ctx.debug('cli_scanpe: Upack: Unpacking failed');
    return NEXT;
  }
  return unpacked(rebuilt);
}

/**
 * cli_scanpe's test of the entry code. With the `upack` header and three sections:
 * `mov esi, <address past the first section's start>` then `lodsd; push eax` (Upack 0.39) or
 * `push [esi]` (sample 0297729). Otherwise, with two sections: `pusha; call $+9` (Upack 0.39) or
 * `mov esi, <address in the headers>; lodsd; mov edi, eax` (Upack 1.1/1.2).
 */
function hasUpackEntry(pe: PeFile, entry: Uint8Array, upack: boolean): boolean {
  const at = (n: number) => entry[n] ?? 0;
  const operand = (n: number) => (at(n) | (at(n + 1) << 8) | (at(n + 2) << 16) | (at(n + 3) << 24)) >>> 0;
  const movEsi = at(0) === 0xbe;
  const esiRva = (operand(1) - pe.imageBase) >>> 0;
  const count = pe.sections.length;
  if (upack) {
    return count === 3 && movEsi && esiRva > pe.minRva && ((at(5) === 0xad && at(6) === 0x50) || (at(5) === 0xff && at(6) === 0x36));
  }
  if (count !== 2) return false;
  const pushaCall = at(0) === 0x60 && at(1) === 0xe8 && operand(2) === 9;
  // The address is compared signed with the image base.
  const loader11 = movEsi && esiRva < pe.minRva && (operand(1) | 0) > (pe.imageBase | 0) && at(5) === 0xad && at(6) === 0x8b && at(7) === 0xf8;
  return pushaCall || loader11;
}

/**
 * The buffer unupack works in. Offsets may fall outside it (ClamAV's pointers do, until its
 * checks catch them); the readers return 0 there, though ClamAV only reads what it checked.
 */
class Memory {
  readonly size: number;

  constructor(readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }

  /** CLI_ISCONTAINED(dest, dsize, dest + at, length). */
  holds(at: number, length: number): boolean {
    return contained(0, this.size, at, length);
  }

  u8(at: number): number {
    return this.bytes[at] ?? 0;
  }

  /** A `char` read: signed. */
  s8(at: number): number {
    return (this.u8(at) << 24) >> 24;
  }

  u32(at: number): number {
    return this.s32(at) >>> 0;
  }

  /** cli_readint32: signed. */
  s32(at: number): number {
    if (!this.holds(at, 4)) return 0;
    const b = this.bytes;
    return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
  }

  be32(at: number): number {
    if (!this.holds(at, 4)) return 0;
    const b = this.bytes;
    return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  }

  setU32(at: number, value: number): void {
    if (!this.holds(at, 4)) return;
    for (let k = 0; k < 4; k++) this.bytes[at + k] = (value >>> (8 * k)) & 0xff;
  }
}

/** What unupack learns from Upack's code and data before decompressing. */
interface Setup {
  readonly version: Version;
  /** original_ep: the unpacked program's entry point (an RVA). */
  readonly originalEntry: number;
  /** loc_ebx: the range coder's start state and the four distances, then the probabilities. */
  readonly model: number;
  /** paddr: the compressed stream. */
  readonly input: number;
  /** loc_edi / pushed_esi, end_edi: the output. */
  readonly out: number;
  readonly end: number;
  /** shlsize: how far the previous byte is shifted for the literal context (8 less lc). */
  readonly literalShift: number;
  /** alvalue: the byte of Upack's code that holds the marker of call targets to fix. */
  readonly marker: number;
  /** save3: how many call targets to fix (read before or after decompressing, as ClamAV does). */
  callCount(): number;
}

/**
 * unupack: finds Upack's parameters, decompresses the image in `dest`, makes the marked call and
 * jump targets relative again and rebuilds the PE file; undefined where ClamAV's fails.
 */
function unupack(
  debug: (message: string) => void,
  upack: boolean,
  dest: Memory,
  entry: Uint8Array,
  vma: number,
  ep: number,
  base: number,
  va: number,
): Uint8Array | undefined {
  const setup = upack ? setupThreeSection(debug, dest, entry, vma, ep, base) : setupTwoSection(debug, dest, entry, vma, ep, base);
  if (setup === undefined) return undefined;
  const { out, end } = setup;
  if (out > end) {
    debug(`Upack${upack ? '' : '(alt begin)'}: loc_edi > end_edi breaks cli_rebuildpe() bb#11216`);
    return undefined;
  }
  debug('Upack: data initialized, before upack lzma call!');
  if (!upackLzma(debug, dest, setup)) return undefined;
  if (!fixCalls(debug, dest, setup)) return undefined;

  const size = (end - out) >>> 0;
  if (upack ? size > dest.size : ((va + size) >>> 0) > dest.size) {
    debug('Upack: Rebuilt section exceeds allocated buffer; breaks cli_rebuildpe() bb#11282');
    return undefined;
  }
  const image = dest.bytes.subarray(upack ? 0 : va);
  const rebuilt = rebuildPe(image, [{ rva: va, virtualSize: size, rawOffset: 0, rawSize: size }], base, setup.originalEntry, 0, 0);
  if (rebuilt === undefined) debug('Upack: Rebuilding failed');
  return rebuilt;
}

/** The model's start: range 0xffffffff, low 0, the four distances 1, then `count` probabilities of one half. */
function initModel(dest: Memory, at: number, count: number): void {
  const words = [0xffffffff, 0, 1, 1, 1, 1];
  words.forEach((word, n) => dest.setU32(at + 4 * n, word));
  for (let n = 0; n < count; n++) dest.setU32(at + 4 * (6 + n), 0x400);
}

/** Copies `count` 32-bit words forward, one at a time (the ranges may overlap). */
function copyWords(dest: Memory, from: number, to: number, count: number): void {
  for (let n = 0; n < count; n++) dest.setU32(to + 4 * n, dest.u32(from + 4 * n));
}

/** The Upack debug line of the literal context bits and the number of probabilities. */
function contextLine(literalShift: number, count: number): string {
  return `Upack: Context Bits parameter used with lzma: ${hex(literalShift).padStart(2, '0')}, ${hex(count).padStart(2, '0')}`;
}

/**
 * The three-section layout (`upack`; Upack 0.39 and samples 0151477, 0297729): the entry code's
 * `mov esi` points at the original entry point and more; a chain of jumps through Upack's code
 * leads to its parameters and to a table of words to copy ahead of the model.
 */
function setupThreeSection(debug: (message: string) => void, dest: Memory, entry: Uint8Array, vma: number, ep: number, base: number): Setup | undefined {
  let version = entry[5] === 0xff && entry[6] === 0x36 ? Version.Sample0297729 : Version.V039;
  const esiOperand = ((entry[1] ?? 0) | ((entry[2] ?? 0) << 8) | ((entry[3] ?? 0) << 16) | ((entry[4] ?? 0) << 24)) >>> 0;
  let esi = (esiOperand - vma) >>> 0;
  if (!dest.holds(esi, 12)) return undefined;
  const originalEntry = (dest.u32(esi) - vma) >>> 0;
  debug(`Upack: EP: ${hex8(ep)} original:  ${hex8(originalEntry).toUpperCase()} || ${hex8(dest.u32(esi))}`);
  esi += 8;

  // Two jumps from the entry code to Upack's code (esi), then to the `mov ch, <count>` (alvalue).
  let edi = 0;
  let al: number;
  let longJump: number;
  if (version === Version.V039) {
    edi = (dest.s32(esi) - vma) >>> 0;
    if (!dest.holds(ep + 0xa, 2) || dest.u8(ep + 0xa) !== 0xeb) return undefined;
    esi = dest.s8(ep + 0xb) + ep + 0xc;
    al = esi + 0x1a;
    if (!dest.holds(al, 2) || dest.u8(al) !== 0xeb) return undefined;
    al += 1;
    al += dest.u8(al) + 1 + 0xa;
    longJump = 8;
  } else {
    if (!dest.holds(ep + 7, 5) || dest.u8(ep + 7) !== 0xe9) return undefined;
    esi = dest.s32(ep + 8) + ep + 0xc;
    al = esi + 0x25;
    longJump = 10;
  }
  if (!dest.holds(al, 2) || dest.u8(al) !== 0xb5) return undefined;
  al += 1;
  let count = dest.u8(al);
  if (!dest.holds(al, longJump + 5) || dest.u8(al + longJump) !== 0xe9) return undefined;
  // The head of the unpacking routine, past a long jump.
  const head =
    version === Version.V039
      ? (dest.u32(al + longJump + 1) + esi + dest.s8(esi + 0x1b) + 0x1c + 0x18) >>> 0
      : (dest.u32(al + longJump + 1) + esi + 0x35) >>> 0;

  // A `jecxz` at 42 (0.39) or 45 bytes in, a long jump after it, and the `cmp al, <marker>`.
  let jecxz = head + 43;
  let jumpAt = 8;
  let shrAt = 24;
  if (!dest.holds(jecxz - 1, 2) || dest.u8(jecxz - 1) !== 0xe3) {
    jecxz = head + 46;
    if (!dest.holds(jecxz - 1, 2) || dest.u8(jecxz - 1) !== 0xe3) return undefined;
    if (version !== Version.Sample0297729) version = Version.Sample0151477;
    jumpAt = 7;
    shrAt = 26;
  }
  let marker = jecxz + dest.u8(jecxz) + 1;
  if (!dest.holds(marker, jumpAt + 5) || dest.u8(marker + jumpAt) !== 0xe9) return undefined;
  marker += (dest.u32(marker + jumpAt + 1) + jumpAt + 1 + 4 + 27) >>> 0;
  if (version === Version.Sample0297729) marker += 2;
  // `shr ebp, <literal shift>`.
  const shr = head + shrAt;
  if (!dest.holds(shr, 3) || dest.u8(shr) !== 0xc1 || dest.u8(shr + 1) !== 0xed) return undefined;
  const literalShift = dest.u8(shr + 2);
  count *= 0x100;
  if (literalShift < 2 || literalShift > 8) {
    debug('Upack: context bits out of bounds');
    return undefined;
  }
  debug(contextLine(literalShift, count));

  // `mov esi, <table>` (and `mov edi, <model>` in 0297729).
  if (version === Version.Sample0297729) {
    if (!dest.holds(esi + 6, 10) || dest.u8(esi + 6) !== 0xbe || dest.u8(esi + 11) !== 0xbf) return undefined;
    const table = dest.u32(esi + 7);
    if (table < base || table > vma) return undefined;
    edi = (dest.s32(esi + 12) - vma) >>> 0;
    esi = (dest.s32(esi + 7) - base) >>> 0;
  } else {
    if (!dest.holds(esi + 7, 5) || dest.u8(esi + 7) !== 0xbe) return undefined;
    esi = (dest.s32(esi + 8) - vma) >>> 0;
  }
  // The table's words go ahead of the model; 0x16 or 0x27 of them, and the table's later fields.
  const words = version === Version.Sample0297729 ? 0x16 : 0x27;
  const tableRead = version === Version.Sample0297729 ? 0x64 : 0x34;
  if (!dest.holds(edi, words * 4 + 24 + 4 * count) || !dest.holds(esi, words * 4 + tableRead + 4)) return undefined;
  copyWords(dest, esi, edi, words);
  esi += words * 4;
  edi += words * 4;

  let callCount = dest.u32(esi + 4);
  const input = dest.u32(edi - 4) - vma;
  const model = edi;
  initModel(dest, model, count);
  let out = dest.s32(esi + 0xc) - vma;
  if (version === Version.Sample0297729) out = vma - base;
  const end = dest.s32(esi + tableRead) - vma;
  if (version === Version.Sample0297729) callCount = dest.u32(esi + 0x40);
  return { version, originalEntry, model, input, out, end, literalShift, marker, callCount: () => callCount };
}

/**
 * The two-section layouts (Upack 0.39 and 1.1/1.2): Upack's parameters are at fixed places in
 * its code after the entry point, and its data in the headers.
 */
function setupTwoSection(debug: (message: string) => void, dest: Memory, entry: Uint8Array, vma: number, ep: number, base: number): Setup | undefined {
  const code = vma + ep;
  const version = entry[0] === 0xbe && entry[5] === 0xad && entry[6] === 0x8b && entry[7] === 0xf8 ? Version.V11 : Version.V039;
  const [jumpAt, countAt, shiftAt, marker] = version === Version.V11 ? [0x1a4, 0x1b, 0x41, code + 0x184] : [0x217, 0x3a, 0x5f, code + 0x1c1];
  if (!dest.holds(code, jumpAt + 4)) return undefined;
  // The jump to the original entry point, relative to its end.
  const originalEntry = (code + jumpAt + 4 + dest.s32(code + jumpAt)) >>> 0;
  debug(`Upack: EP: ${hex8(ep)} original ${hex8(originalEntry)}`);
  let count = dest.u8(code + countAt);
  const literalShift = (8 - dest.u8(code + shiftAt)) >>> 0;
  if (literalShift < 2 || literalShift > 8) {
    debug('Upack: context bits out of bounds');
    return undefined;
  }
  count *= 0x100;
  debug(contextLine(literalShift, count));
  return version === Version.V039
    ? setupTwoSection039(debug, dest, code, count, base, { version, originalEntry, literalShift, marker })
    : setupTwoSection11(debug, dest, code, count, base, { version, originalEntry, literalShift, marker });
}

type SetupStart = Pick<Setup, 'version' | 'originalEntry' | 'literalShift' | 'marker'>;

/**
 * Upack 0.39 with two sections: a counter in its code (cleared, as Upack does) leads back to a
 * header with the model's distance, the output and a table to copy; a list after the output's
 * address gives the probabilities' start value and the range coder's state.
 */
function setupTwoSection039(debug: (message: string) => void, dest: Memory, code: number, count: number, base: number, start: SetupStart): Setup | undefined {
  let esi = code + 4;
  const back = dest.u32(esi + 2);
  dest.setU32(esi + 2, 0);
  if (back === 0) {
    debug("Upack: something's wrong, report back");
    return undefined;
  }
  esi -= (back - 2) >>> 0;
  if (!dest.holds(esi, 12)) return undefined;
  debug(`Upack: ${pointer(esi)} ${pointer(0)} ${hex8(dest.u32(esi))} ${hex8(base)}`);
  const step = (esi - (dest.s32(esi) - base)) >>> 0;
  debug(`Upack: EBX: ${hex8(step)}`);
  esi += 4;
  const header = dest.s32(esi) - base;
  let edi = header;
  debug(`Upack: DEST: ${hex8(dest.u32(esi))}, ${hex8(dest.s32(esi) - base)}`);
  esi += 4;
  const words = dest.s32(esi);
  if (words < 0) {
    debug('Upack: probably hand-crafted data, report back');
    return undefined;
  }
  esi += 4;
  debug(`Upack: ecx counter: ${hex8(words)}`);
  if ((count + words) * 4 > 0xffffffff) return undefined;
  if (!dest.holds(esi, words * 4) || !dest.holds(edi, (words + count) * 4)) return undefined;
  copyWords(dest, esi, edi, words);
  edi += words * 4;
  if (!dest.holds(header, 8)) return undefined;
  esi = skipEntries(header + 4, dest.u32(header), step);
  if (!dest.holds(esi, 4)) return undefined;
  const probability = dest.u32(esi);
  esi += 4;
  for (let n = 0; n < count; n++) dest.setU32(edi + 4 * n, probability);
  if (!dest.holds(esi + 0x10, 4)) return undefined;
  dest.setU32(esi + 0x10, dest.u32(esi + 0x10) + step);
  const model = esi + 0x14;
  const out = (dest.u32(header + 4) - base) >>> 0;
  esi = header + 8;
  debug('Upack: before_fixing');
  if (!dest.holds(model - 4, 12 + 4 * 4) || !dest.holds(esi + 0x24, 4) || !dest.holds(esi + 0x40, 4)) return undefined;
  const input = dest.s32(model - 4) - base;
  const end = dest.s32(esi + 0x24) - base;
  // The range coder's two words are stored the other way round.
  const range = dest.u32(model);
  dest.setU32(model, dest.u32(model + 4));
  dest.setU32(model + 4, range);
  return { ...start, model, input, out, end, callCount: () => dest.u32(esi + 0x40) };
}

/**
 * Where ClamAV's loop over the header's entries ends: `count` times (2^32 for 0) `step` and 4
 * bytes further on. Its pointer arithmetic wraps at 64 bits, which can bring a huge distance back
 * into the buffer; anything else past it is returned as out of the buffer.
 */
function skipEntries(at: number, count: number, step: number): number {
  const moved = BigInt.asUintN(64, BigInt(at) + BigInt(count || 2 ** 32) * BigInt(step + 4));
  return moved < BigInt(Number.MAX_SAFE_INTEGER) ? Number(moved) : Number.MAX_SAFE_INTEGER;
}

/**
 * Upack 1.1/1.2: its data is at 0x148 in the headers: where the model goes (the range coder's
 * start state is written ahead of it), the stream, the output and its end.
 */
function setupTwoSection11(debug: (message: string) => void, dest: Memory, code: number, count: number, base: number, start: SetupStart): Setup | undefined {
  debug('Upack v 1.1/1.2');
  // The code check above (0x1a8 bytes from the entry) keeps these reads in the buffer.
  const model = dest.s32(0x148) - base + 4;
  const input = dest.u32(0x14c) - base;
  if (!dest.holds(model, (6 + count) * 4)) return undefined;
  initModel(dest, model, count);
  const out = dest.s32(0x150) - base;
  const end = dest.s32(0x130) - base;
  return { ...start, model, input, out, end, callCount: () => dest.u32(code + 0x174) };
}

/**
 * Upack's code turns each marked call or jump target into a big-endian absolute address: the
 * first `callCount` E8/E9 bytes followed by the marker byte get their target back as a
 * little-endian displacement. False where ClamAV's check fails.
 */
function fixCalls(debug: (message: string) => void, dest: Memory, setup: Setup): boolean {
  if (!dest.holds(setup.marker, 1)) {
    debug('Upack: alvalue out of bounds');
    return false;
  }
  const marker = dest.u8(setup.marker);
  let remaining = setup.callCount();
  debug(`Upack: loops: ${hex8(remaining)} search value: ${hex(marker).padStart(2, '0')}`);
  let at = 0;
  while (remaining !== 0) {
    const here = setup.out + at;
    if (!dest.holds(here, 1)) {
      debug(`Upack: callfixerr ${pointer(0)} ${hex8(dest.size)} = ${pointer(dest.size)}, ${pointer(here)}`);
      return false;
    }
    const opcode = dest.u8(here);
    at++;
    if (opcode !== 0xe8 && opcode !== 0xe9) continue;
    if (!dest.holds(here + 1, 4)) {
      debug('Upack: callfixerr');
      return false;
    }
    if (dest.u8(here + 1) !== marker) continue;
    // The marker is the low byte of the little-endian word; the address is in the other three.
    const target = dest.be32(here + 1) & 0x00ffffff;
    dest.setU32(here + 1, target - at - 4);
    at += 4;
    remaining--;
  }
  return true;
}

/** Where ClamAV prints a pointer into the buffer: the offset (negative before the buffer). */
function pointer(offset: number): string {
  return `${offset < 0 ? '-' : ''}0x${Math.abs(offset).toString(16)}`;
}

/** A failed bounds check in the decoder: ClamAV's unupack399 returns -1. */
class Refused extends Error {}

/** lzma_upack_esi_00's result when its probability or input is out of the buffer. */
const FAILED = -1;

/**
 * Upack's range decoder (mew.c's struct lzmastate and lzma_upack_esi_00/50/54). Probabilities
 * are 32-bit words in the buffer; the code value is not kept but read again, four big-endian
 * bytes at the input, less `low`, for every bit.
 */
class UpackRangeDecoder {
  constructor(
    private readonly dest: Memory,
    private readonly debug: (message: string) => void,
    /** p0: the input; p1: the range; p2: low. */
    private at: number,
    private range: number,
    private low: number,
  ) {}

  /**
   * lzma_upack_esi_00: one bit with the probability at `prob`, or FAILED (nothing changes then).
   * Several of ClamAV's callers do not check for FAILED and take it as a 1.
   */
  bit(prob: number): number {
    const { dest } = this;
    if (!dest.holds(prob, 4) || !dest.holds(this.at, 4)) {
      const [what, where] = dest.holds(prob, 4) ? ['p0', this.at] : ['ecx', prob];
      this.debug(`contain error! ${pointer(0)} ${hex8(dest.size)} ${what}: ${pointer(where)} [${pointer(dest.size)}]`);
      return FAILED;
    }
    const p = dest.u32(prob);
    const bound = Math.imul(this.range >>> 11, p) >>> 0;
    let bit: number;
    if (((dest.be32(this.at) - this.low) >>> 0) < bound) {
      this.range = bound;
      dest.setU32(prob, p + (((0x800 - p) >>> 0) >>> 5));
      bit = 0;
    } else {
      this.low = (this.low + bound) >>> 0;
      this.range = (this.range - bound) >>> 0;
      dest.setU32(prob, p - (p >>> 5));
      bit = 1;
    }
    this.normalize();
    return bit;
  }

  /** lzma_upack_esi_50: a bit tree at `tree` (a node n at tree + 4n) from `node` up to `limit`. */
  tree(node: number, limit: number, tree: number): number {
    let n = node;
    do {
      const bit = this.bit(tree + ((n << 2) >>> 0));
      if (bit === FAILED) throw new Refused();
      n = (n * 2 + bit) >>> 0;
    } while (n < limit);
    return (n - limit) >>> 0;
  }

  /**
   * lzma_upack_esi_54: a length less one (1 to 0x110) from the length coder at `coder`: two
   * choice bits (unchecked), then one of three trees.
   */
  length(coder: number): number {
    let limit = 8;
    let first = 1;
    if (this.bit(coder) !== 0) {
      first = 9;
      if (this.bit(coder + 4) !== 0) {
        limit = 0x100;
        first = 0x11;
      }
    }
    return first + this.tree(1, limit, coder + 4 + 4 * first);
  }

  /** `count` bits at a fixed probability of one half, most significant first. */
  directBits(count: number): number {
    let value = 0;
    for (let n = 0; n < count; n++) {
      if (!this.dest.holds(this.at, 4)) throw new Refused();
      const code = (this.dest.be32(this.at) - this.low) >>> 0;
      this.range >>>= 1;
      value = (value << 1) >>> 0;
      if (code >= this.range) {
        value++;
        this.low = (this.low + this.range) >>> 0;
      }
      this.normalize();
    }
    return value;
  }

  private normalize(): void {
    if ((this.range & 0xff000000) === 0) {
      this.low = (this.low << 8) >>> 0;
      this.range = (this.range << 8) >>> 0;
      this.at++;
    }
  }
}

/** Offsets of the model's parts from loc_ebx (each probability is a 32-bit word). */
const IS_MATCH = 0x58;
const IS_REP = 0x88;
const IS_REP_G0 = 0xb8;
const IS_REP0_LONG = 0xe8;
const IS_REP_G1 = 0x118;
const IS_REP_G2 = 0x148;
const ALIGN = 0x18;
const SPEC_POS = 0x178;
const POS_SLOT = 0x378;
const LENGTH = 0xbc0;
const REP_LENGTH = 0x778;
const LITERAL = 0x1008;

/**
 * unupack399: Upack's LZMA (one position state, lc = 8 - literalShift) from `setup.input` into
 * `setup.out` up to `setup.end`, with the model at `setup.model`; false where ClamAV's fails.
 */
function upackLzma(debug: (message: string) => void, dest: Memory, setup: Setup): boolean {
  const { model, out: start, end, literalShift } = setup;
  const rc = new UpackRangeDecoder(dest, debug, setup.input, dest.u32(model), dest.u32(model + 4));
  debug(`\n\tp0: ${pointer(setup.input)}\n\tp1: ${hex8(dest.u32(model))}\n\tp2: ${hex8(dest.u32(model + 4))}`);
  // state[2..5]: the last four distances (ClamAV also reads the coder's two words into 0 and 1).
  const reps = [0, 0, 0, 0];
  for (let n = 0; n < 6; n++) {
    const word = dest.u32(model + 4 * n);
    debug(`state[${n}] = ${hex8(word)}`);
    if (n >= 2) reps[n - 2] = word;
  }
  let state = 0;
  // Whether the previous token was a match (its low byte is the matched literal's first mask).
  let afterMatch = false;
  let edi = start;
  const write = (value: number) => {
    if (!dest.holds(edi, 1)) throw new Refused();
    dest.bytes[edi++] = value;
  };
  try {
    do {
      if (rc.bit(model + IS_MATCH + 4 * state) === 0) {
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        const context = edi > start && edi < dest.size ? dest.u8(edi - 1) >> literalShift : 0;
        const coder = model + LITERAL + ((context * 0x300 * 4) >>> 0);
        write(afterMatch ? matchedLiteral(rc, dest, coder, edi - reps[0]!) : rc.tree(1, 0x100, coder));
        afterMatch = false;
        continue;
      }
      const matchState = state >= 7 ? 11 : 8;
      let distance = reps[0]!;
      let length: number;
      if (rc.bit(model + IS_REP + 4 * state) === 0) {
        state = matchState - 1;
        reps[3] = reps[2]!;
        reps[2] = reps[1]!;
        reps[1] = reps[0]!;
        length = rc.length(model + LENGTH);
        distance = (matchDistance(rc, model, length) + 1) >>> 0;
      } else {
        if (rc.bit(model + IS_REP_G0 + 4 * state) !== 0) {
          if (rc.bit(model + IS_REP_G1 + 4 * state) !== 0) {
            const third = rc.bit(model + IS_REP_G2 + 4 * state) !== 0;
            distance = third ? reps[3]! : reps[2]!;
            if (third) reps[3] = reps[2]!;
            reps[2] = reps[1]!;
          } else {
            distance = reps[1]!;
          }
          reps[1] = reps[0]!;
        } else if (rc.bit(model + IS_REP0_LONG + 4 * state) === 0) {
          // One byte at the last distance.
          state = matchState | 1;
          afterMatch = true;
          const from = edi - reps[0]!;
          if (!dest.holds(from, 1) || !dest.holds(edi, 1)) throw new Refused();
          write(dest.u8(from));
          continue;
        }
        state = matchState;
        length = rc.length(model + REP_LENGTH);
      }
      // `length` bytes at `distance`, then one more.
      if (!dest.holds(edi, length) || !dest.holds(edi - distance, length + 1)) throw new Refused();
      reps[0] = distance;
      for (let n = 0; n < length; n++, edi++) dest.bytes[edi] = dest.bytes[edi - distance]!;
      write(dest.u8(edi - distance));
      afterMatch = true;
    } while (edi < end);
    return true;
  } catch (error) {
    if (error instanceof Refused) return false;
    throw error;
  }
}

/**
 * A literal after a match: coded against the byte at the last distance while the bits agree,
 * then as a plain literal. An unchecked FAILED bit counts as -1 here, as in ClamAV.
 */
function matchedLiteral(rc: UpackRangeDecoder, dest: Memory, coder: number, matchAt: number): number {
  if (!dest.holds(matchAt, 1)) throw new Refused();
  const matchByte = dest.u8(matchAt);
  let symbol = 1;
  for (let mask = 0x80; ; ) {
    const matchBit = matchByte & mask ? 1 : 0;
    const bit = rc.bit(coder + 4 * (((1 + matchBit) << 8) | symbol));
    symbol = (symbol * 2 + bit) & 0xff;
    mask >>= 1;
    if (mask === 0) return symbol;
    if (((1 + matchBit - symbol) & 1) === 0) return rc.tree(symbol, 0x100, coder);
  }
}

/** A new match's distance less one: a slot by length, then its extra bits (Upack's own tree order). */
function matchDistance(rc: UpackRangeDecoder, model: number, length: number): number {
  const lengthState = Math.min((length - 1) >>> 0, 3);
  const slot = rc.tree(1, 0x40, model + POS_SLOT + lengthState * 0x100);
  if (slot < 4) return slot;
  const bits = (slot >> 1) - 1;
  let distance = (((2 + (slot & 1)) << bits) >>> 0) as number;
  let treeBits = bits;
  let tree = model + SPEC_POS + ((distance << 2) >>> 0);
  if (bits > 5) {
    distance = (distance + ((rc.directBits(bits - 4) << 4) >>> 0)) >>> 0;
    treeBits = 4;
    tree = model + ALIGN;
  }
  // The tree is read most significant bit first, and its value taken bit-reversed.
  const value = rc.tree(1, 1 << treeBits, tree);
  let reversed = 0;
  for (let n = 0; n < treeBits; n++) reversed = (reversed * 2 + ((value >>> n) & 1)) >>> 0;
  return (distance + reversed) >>> 0;
}
