import { rotateLeft8, rotateRight8, rotateRight32 } from './rotate.js';

/**
 * The ciphers of PESpin 1.1 as ClamAV undoes them (libclamav spin.c): a byte xor with a counting
 * key, xor streams from 32-bit shift registers, the checksum PESpin keys its section cipher with,
 * and the small polymorphic decryptors (`add/sub/xor/rol/ror al`, `inc/dec al`, with CL counting
 * down) that ClamAV emulates. All of them work in place on a byte array.
 */

/** Xors `count` bytes ending at `last` (going backwards) with a byte key that counts down from `key`. */
export function xorBackwards(bytes: Uint8Array, last: number, count: number, key: number): void {
  for (let i = 0; i < count; i++) {
    const at = last - i;
    // The first byte may lie just past the buffer (ClamAV's range check is one byte short): lost.
    if (at < bytes.length) bytes[at] ^= (key - i) & 0xff;
  }
}

/**
 * Xors `count` bytes from `at` with the low byte of a shift register: each step shifts `key`
 * right and, when the bit shifted out is `feedbackBit`, xors in `taps`.
 */
export function xorShiftRegister(bytes: Uint8Array, at: number, count: number, key: number, taps: number, feedbackBit: 0 | 1): void {
  let register = key >>> 0;
  for (let i = 0; i < count; i++) {
    const out = register & 1;
    register >>>= 1;
    if (out === feedbackBit) register = (register ^ taps) >>> 0;
    bytes[at + i] ^= register & 0xff;
  }
}

/** ClamAV's `summit`: PESpin's checksum of the first `length` bytes of the file. */
export function spinChecksum(bytes: Uint8Array, length: number): number {
  let a = 0xffffffff;
  let b = 0xffffffff;
  for (let i = 0; i < length; i++) {
    a = ((a ^ (bytes[i]! << 8)) >>> 3) & 0x1fffffff;
    for (let round = 0; round < 4; round++) {
      a ^= (b >>> 8) & 0xff;
      a = (a + 0x7801a108) >>> 0;
      a = rotateRight32((a ^ b) >>> 0, b & 0xff);
      [a, b] = [b, a];
    }
  }
  return b >>> 0;
}

/** How long a decryptor is: its instructions fill exactly this many bytes, then `stosb` follows. */
const DECRYPTOR_LENGTH = 0x24;
const STOSB = 0xaa;
/** The decryptor bytes ClamAV's emulator may read (an operand can reach one byte past `stosb`). */
const DECRYPTOR_SPAN = DECRYPTOR_LENGTH + 2;

const enum Op {
  AddCl,
  SubCl,
  XorCl,
  AddByte,
  SubByte,
  XorByte,
  Increment,
  Decrement,
  RotateLeft,
  RotateRight,
}

/** A decryptor read into (operation, operand) pairs, or the debug line that says why it cannot run. */
type Decryptor = Uint8Array | { readonly failure: string };

/**
 * ClamAV's `exec86` parse of the decryptor at `code`: which instructions it runs does not depend
 * on the byte being decrypted, so it is read once per run of the code's bytes.
 */
function readDecryptor(bytes: Uint8Array, code: number): Decryptor {
  const program: number[] = [];
  const at = (offset: number) => bytes[code + offset] ?? 0;
  let offset = 0;
  while (offset < DECRYPTOR_LENGTH) {
    const opcode = at(offset++);
    switch (opcode) {
      case 0x90: // nop
      case 0xf8: // clc
      case 0xf9: // stc
        break;
      case 0x0a: // ClamAV skips one byte after it
        offset += 1;
        break;
      case 0xeb: // jmp short: skipped with two bytes after it, never taken
        offset += 2;
        break;
      case 0x02: // add al, cl
      case 0x2a: // sub al, cl
      case 0x32: // xor al, cl
        program.push(opcode === 0x02 ? Op.AddCl : opcode === 0x2a ? Op.SubCl : Op.XorCl, 0);
        offset++;
        break;
      case 0x04: // add al, imm8
      case 0x2c: // sub al, imm8
      case 0x34: // xor al, imm8
        program.push(opcode === 0x04 ? Op.AddByte : opcode === 0x2c ? Op.SubByte : Op.XorByte, at(offset++));
        break;
      case 0xfe: // inc al (fe c0), anything else dec al
        program.push(at(offset++) === 0xc0 ? Op.Increment : Op.Decrement, 0);
        break;
      case 0xc0: {
        // rol al, imm8 (c0 c0), anything else ror al, imm8
        const kind = at(offset++) === 0xc0 ? Op.RotateLeft : Op.RotateRight;
        program.push(kind, at(offset++));
        break;
      }
      default:
        return { failure: `spin: bogus opcode ${opcode.toString(16)}` };
    }
  }
  if (offset !== DECRYPTOR_LENGTH || at(offset) !== STOSB) return { failure: 'spin: bad emucode' };
  return Uint8Array.from(program);
}

/** One byte through a decryptor, with CL = `cl`. */
function decryptByte(program: Uint8Array, al: number, cl: number): number {
  let value = al;
  for (let i = 0; i < program.length; i += 2) {
    const operand = program[i + 1]!;
    switch (program[i] as Op) {
      case Op.AddCl: value += cl; break;
      case Op.SubCl: value -= cl; break;
      case Op.XorCl: value ^= cl; break;
      case Op.AddByte: value += operand; break;
      case Op.SubByte: value -= operand; break;
      case Op.XorByte: value ^= operand; break;
      case Op.Increment: value++; break;
      case Op.Decrement: value--; break;
      case Op.RotateLeft: value = rotateLeft8(value & 0xff, operand); break;
      case Op.RotateRight: value = rotateRight8(value & 0xff, operand); break;
    }
    value &= 0xff;
  }
  return value;
}

/**
 * Runs the decryptor at `code` over `count` bytes from `at`, CL counting down from `count`: the
 * debug line of a decryptor that cannot run, or undefined. The decrypted bytes may be the
 * decryptor's own, as in ClamAV, which reads the code again for every byte: here it is read
 * again after a write into it.
 */
export function runDecryptor(bytes: Uint8Array, code: number, at: number, count: number): string | undefined {
  let program: Decryptor | undefined;
  for (let i = 0; i < count; i++) {
    program ??= readDecryptor(bytes, code);
    if (!(program instanceof Uint8Array)) return program.failure;
    const target = at + i;
    bytes[target] = decryptByte(program, bytes[target]!, (count - i) & 0xff);
    if (target >= code && target < code + DECRYPTOR_SPAN) program = undefined;
  }
  return undefined;
}
