import { u32le } from '../../formats/compression/read.js';
import { rotateLeft8, rotateRight8 } from './rotate.js';
import { NEXT, STOP, unpacked, type UnpackContext, type UnpackOutcome } from './unpacker.js';
import { hex } from '../../util/c-numbers.js';

/**
 * yoda's Crypter (yC) 1.3 and variants: cli_scanpe's yC block (libclamav pe.c) with yc.c's
 * yc_decrypt. yC encrypts each section byte by byte with a small polymorphic decryptor (sub,
 * add, xor, rol, ror on AL, with CL counting down) kept in its own last section, itself
 * encrypted by another such decryptor. ClamAV emulates both decryptors over a copy of the file,
 * drops the yC section, restores the entry point and writes the file back out.
 *
 * A decryptor that reads or writes past the end of the file is reported as
 * Heuristics.BoundsCheck, as ClamAV does; without --allmatch the PE scan then stops.
 */

/** The three stubs yC's entry point may start with, and where each keeps the decryptor's length. */
interface Variant {
  /** Byte patterns the entry point must hold, at their offsets. */
  readonly marks: ReadonlyArray<[number, readonly number[]]>;
  /** The stub's offset from yC 1.3's layout. */
  readonly offset: number;
  /** The first decryptor's length, or 0 when the stub's arithmetic does not check out. */
  readonly length: (entry: Uint8Array) => number;
}


const VARIANTS: readonly Variant[] = [
  {
    // yC 1.3
    marks: [
      [0, [0x55, 0x8b, 0xec, 0x53, 0x56, 0x57, 0x60, 0xe8, 0, 0, 0, 0, 0x5d, 0x81, 0xed]],
      [0x26, [0x8d, 0x3a, 0x8b, 0xf7, 0x33, 0xc0, 0xeb, 0x04, 0x90, 0xeb, 0x01, 0xc2, 0xac]],
      [0x13, [0xb9]],
      [0x18, [0x81, 0xe9]],
      [0x1e, [0x8b, 0xd5, 0x81, 0xc2]],
    ],
    offset: 0,
    length: (e) => ((0x6c - u32le(e, 0xf) + u32le(e, 0x22)) | 0) === 0xc6 ? (u32le(e, 0x14) - u32le(e, 0x1a)) >>> 0 : 0,
  },
  {
    // yC 1.3 variant
    marks: [
      [0, [0x55, 0x8b, 0xec, 0x83, 0xec, 0x40, 0x53, 0x56, 0x57]],
      [0x17, [0xe8, 0, 0, 0, 0, 0x5d, 0x81, 0xed]],
      [0x23, [0xb9]],
    ],
    offset: 0x10,
    length: (e) => ((0x6c - u32le(e, 0x1f) + u32le(e, 0x32)) | 0) === 0xc6 ? (u32le(e, 0x24) - u32le(e, 0x2a)) >>> 0 : 0,
  },
  {
    // yC 1.x, modified
    marks: [
      [0, [0x60, 0xe8, 0, 0, 0, 0, 0x5d, 0x81, 0xed]],
      [0xd, [0xb9]],
      [0x12, [0x8d, 0xbd]],
      [0x18, [0x8b, 0xf7, 0xac]],
    ],
    offset: -0x18,
    length: (e) => ((0x66 - u32le(e, 0x9) + u32le(e, 0x14)) | 0) === 0xae ? u32le(e, 0xe) : 0,
  },
];

const has = (data: Uint8Array, at: number, bytes: readonly number[]) => at >= 0 && bytes.every((byte, i) => data[at + i] === byte);

/** The first decryptor ends its loop with `stosb; loop`: ClamAV checks for it. */
const LOOP_END = [0xaa, 0xe2, 0xcc];
/** Section names (their first four bytes) yC leaves alone. */
const UNTOUCHED_NAMES = new Set([0x63727372, 0x7273722e, 0x6f6c6572, 0x6c65722e, 0x6164652e, 0x6164722e, 0x6164692e, 0x736c742e]);

export function unpackYc(ctx: UnpackContext): UnpackOutcome {
  const { pe, entry, data } = ctx;
  const sections = pe.sections;
  if (sections.length <= 1 || pe.entryRva !== ((sections[sections.length - 1]!.rva + 0x60) >>> 0)) return NEXT;
  let length = 0;
  let offset = 0;
  for (const variant of VARIANTS) {
    if (length !== 0) break;
    if (!variant.marks.every(([at, bytes]) => has(entry, at, bytes))) continue;
    offset = variant.offset;
    length = variant.length(entry);
  }
  const last = sections.length - 1;
  if (!(length > 0x800 && length < 0x2000 && has(entry, 0x63 + offset, LOOP_END) && data.length >= sections[last]!.rawOffset + 0xc6 + length + offset)) return NEXT;

  ctx.debug(`${last},${pe.peOffset},${length},${offset}`);
  const file = Uint8Array.from(data);
  const result = decrypt(ctx, file, last, length, offset);
  if (typeof result !== 'string') return unpacked(result);
  ctx.debug('cli_scanpe: yC: Unpacking failed');
  // A bounds alert ends the PE scan, unless every match is wanted.
  return result === 'bounds' && !ctx.allMatch ? STOP : NEXT;
}

type Failure = 'bounds' | 'failed';

/** yc_decrypt: the decrypted file, or why not. */
function decrypt(ctx: UnpackContext, file: Uint8Array, ycIndex: number, length: number, offset: number): Uint8Array | Failure {
  const { pe } = ctx;
  const yc = pe.sections[ycIndex]!;
  const ycAt = (yc.rawOffset + offset) >>> 0;
  const emulator = new PolyEmulator(ctx, file, file.length);
  ctx.debug(`yC: offset: ${hex(offset)}, length: ${hex(length)}`);
  ctx.debug(`yC: decrypting decryptor on sect ${ycIndex}`);
  const first = emulator.run(ycAt + 0x93, ycAt + 0xc6, length, length);
  if (first !== 'done') return first;

  const size = (file.length - yc.declaredRawSize) >>> 0;
  // The section table as the file has it: ClamAV reads names by index there.
  const table = pe.peOffset + pe.optionalHeaderSize + 0x18;
  for (let i = 0; i < ycIndex; i++) {
    const section = pe.sections[i]!;
    const name = u32le(file, table + i * 0x28);
    if (section.rawOffset === 0 || section.rawSize === 0 || UNTOUCHED_NAMES.has(name) || (name & 0xffff) === 0x4379) continue;
    ctx.debug(`yC: decrypting sect${i}`);
    const limit = (size - section.rawOffset) >>> 0;
    if (limit > size) {
      ctx.debug(`yC: bad emulation length limit ${limit}`);
      return 'failed';
    }
    const decryptor = ycAt + (offset === -0x18 ? 0x3ea : 0x457);
    const outcome = emulator.run(decryptor, section.rawOffset, section.declaredRawSize, limit);
    if (outcome !== 'done') return outcome;
  }

  const view = new DataView(file.buffer);
  const header = pe.peOffset;
  const optional = header + 24;
  view.setUint16(header + 6, ycIndex, true); // the yC section is dropped
  view.setBigUint64(optional + 0x68, 0n); // no import directory
  view.setUint32(optional + 16, u32le(file, ycAt + 0xa0f), true); // the original entry point
  view.setUint32(optional + 0x38, (view.getUint32(optional + 0x38, true) - yc.virtualSize) >>> 0, true);
  return file.subarray(0, size);
}

/** yc_poly_emulator: runs a decryptor over bytes of the file, in place. */
class PolyEmulator {
  private jumpsLeft = 100_000_000;

  constructor(
    private readonly ctx: UnpackContext,
    private readonly file: Uint8Array,
    private readonly size: number,
  ) {}

  /** yc_bounds_check: reports and fails when `at + bound` is past the file. */
  private outside(at: number, bound: number): boolean {
    if (((at + bound) >>> 0) <= this.size) return false;
    this.ctx.debug('yC: Bounds check assertion.');
    this.ctx.report('Heuristics.BoundsCheck');
    return true;
  }

  /** Decrypts `count` bytes (at most `limit`) at `code` with the decryptor at `decryptor`. */
  run(decryptor: number, code: number, count: number, limit: number): 'done' | Failure {
    const { file } = this;
    const signed = (at: number) => (file[at]! << 24) >> 24;
    let cl = count & 0xff;
    for (let i = 0; i < count && i < limit; i++) {
      if (this.outside(code, i)) return 'bounds';
      let al = file[code + i] ?? 0;
      for (let j = 0; j < 0x30; j++) {
        if (this.outside(decryptor, j)) return 'bounds';
        const op = file[decryptor + j];
        if (op === 0x90 || op === 0xf8 || op === 0xf9) continue; // nop, clc, stc
        if (op === 0xfe || op === 0x2a || op === 0x02 || op === 0x32) {
          // dec al; sub al, cl; add al, cl; xor al, cl: two bytes each
          al = op === 0xfe ? al - 1 : op === 0x2a ? al - cl : op === 0x02 ? al + cl : al ^ cl;
          j++;
        } else if (op === 0xeb || op === 0x04 || op === 0x34 || op === 0x2c || op === 0xc0 || op === 0xd2) {
          if (this.outside(decryptor, ++j)) return 'bounds';
          const operand = file[decryptor + j]!;
          if (op === 0xeb) {
            // jmp short. ClamAV's unsigned counter wraps on a jump back before the start: to 0 from
            // -1 (so the decryptor runs again), past its end otherwise.
            if (this.jumpsLeft-- === 0) return 'failed';
            j += signed(decryptor + j);
            if (j < -1) break;
          } else if (op === 0x04) al += operand;
          else if (op === 0x34) al ^= operand;
          else if (op === 0x2c) al -= operand;
          else if (op === 0xc0) {
            if (this.outside(decryptor, ++j)) return 'bounds';
            al = operand === 0xc0 ? rotateLeft8(al, file[decryptor + j]!) : rotateRight8(al, file[decryptor + j]!);
          } else {
            j++;
            al = operand === 0xc8 ? rotateRight8(al, cl) : rotateLeft8(al, cl);
          }
        } else {
          this.ctx.debug(`yC: Unhandled opcode ${hex(op ?? 0)}`);
          return 'failed';
        }
        al &= 0xff;
      }
      cl = (cl - 1) & 0xff;
      if (this.outside(code, i)) return 'bounds';
      file[code + i] = al & 0xff;
    }
    return 'done';
  }
}
