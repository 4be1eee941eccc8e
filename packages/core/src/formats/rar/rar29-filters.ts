import { crc32 } from 'node:zlib';
import { u32le } from '../compression/read.js';
import { adaptWeights } from './rar20-audio.js';

/**
 * RAR 2.9 filters. The format sends each filter as a program for the RAR virtual machine, but
 * RAR itself only ever wrote six programs; UnRAR (and so ClamAV) recognises those by the length
 * and CRC32 of their code and runs built-in equivalents, and runs nothing else. So does this
 * module: a block whose program is not one of the six produces no output at all, as in UnRAR.
 */

/** The filter a program is: one of the six standard ones, or none that UnRAR would run. */
export const Filter = { none: 0, e8: 1, e8e9: 2, itanium: 3, delta: 4, rgb: 5, audio: 6 } as const;
export type FilterType = (typeof Filter)[keyof typeof Filter];

/** The virtual machine's memory: a filter's input block is copied to its start. */
export const VM_MEMORY_SIZE = 0x40000;

const STANDARD_PROGRAMS: readonly { length: number; crc: number; type: FilterType }[] = [
  { length: 53, crc: 0xad576887, type: Filter.e8 },
  { length: 57, crc: 0x3cd7e57e, type: Filter.e8e9 },
  { length: 120, crc: 0x3769893f, type: Filter.itanium },
  { length: 29, crc: 0x0e06077d, type: Filter.delta },
  { length: 149, crc: 0x1c2c5dc8, type: Filter.rgb },
  { length: 216, crc: 0xbc85e701, type: Filter.audio },
];

/** Which standard filter a VM program is (its first byte is an XOR check of the others). */
export function recogniseProgram(code: Uint8Array): FilterType {
  let xor = 0;
  for (let i = 1; i < code.length; i++) xor ^= code[i]!;
  if (code.length === 0 || xor !== code[0]) return Filter.none;
  const crc = crc32(code);
  return STANDARD_PROGRAMS.find((p) => p.length === code.length && p.crc === crc)?.type ?? Filter.none;
}

/** Where a filter left its output in the VM memory. */
export interface FilterOutput {
  readonly start: number;
  readonly length: number;
}

const NO_OUTPUT: FilterOutput = { start: 0, length: 0 };

/**
 * Runs a filter on the block at the start of `memory`. `registers` are the program's initial
 * R0–R6: R4 is the block length, R6 the number of bytes of the entry already written, R0/R1 the
 * filter's parameters. A standard filter that rejects its parameters leaves its input as it
 * is, and that is what gets written (UnRAR's behaviour).
 */
export function runFilter(type: FilterType, memory: Uint8Array, registers: Uint32Array): FilterOutput {
  if (type === Filter.none) return NO_OUTPUT;
  const length = registers[4]! & (VM_MEMORY_SIZE - 1);
  const size = registers[4]!;
  let ok: boolean;
  switch (type) {
    case Filter.e8:
    case Filter.e8e9:
      ok = e8(memory, size, registers[6]!, type === Filter.e8e9);
      break;
    case Filter.itanium:
      ok = itanium(memory, size, registers[6]!);
      break;
    case Filter.delta:
      ok = delta(memory, size, registers[0]!);
      break;
    case Filter.rgb:
      ok = rgb(memory, size, registers[0]!, registers[1]!);
      break;
    default:
      ok = audio(memory, size, registers[0]!);
  }
  // The delta, RGB and audio filters write their result after their input.
  const after = type === Filter.delta || type === Filter.rgb || type === Filter.audio;
  return { start: after && ok && 2 * length <= VM_MEMORY_SIZE ? length : 0, length };
}

/**
 * x86 CALL (E8) and optionally JMP (E9) operands were made absolute by the encoder; turn those
 * in the range a 16 MiB file could hold back into relative ones.
 */
function e8(memory: Uint8Array, size: number, fileOffset: number, alsoE9: boolean): boolean {
  if (size > VM_MEMORY_SIZE || size < 4) return false;
  const FILE_SIZE = 0x1000000;
  for (let i = 0; i < size - 4; ) {
    const opcode = memory[i++]!;
    if (opcode !== 0xe8 && !(alsoE9 && opcode === 0xe9)) continue;
    const offset = i + fileOffset;
    const address = u32le(memory, i);
    if (address & 0x80000000) {
      if (((address + offset) & 0x80000000) === 0) setU32(memory, i, address + FILE_SIZE);
    } else if ((address - FILE_SIZE) & 0x80000000) {
      setU32(memory, i, address - offset);
    }
    i += 4;
  }
  return true;
}

/** Which of the three 41-bit slots of an IA-64 bundle hold branches, by bundle template (0x10–0x1f). */
const ITANIUM_BRANCH_SLOTS = [4, 4, 6, 6, 0, 0, 7, 7, 4, 4, 0, 0, 4, 4, 0, 0];

/** IA-64 branch targets (20-bit, in 16-byte bundles) made absolute by the encoder. */
function itanium(memory: Uint8Array, size: number, fileOffset: number): boolean {
  if (size > VM_MEMORY_SIZE || size < 21) return false;
  let bundle = fileOffset >>> 4;
  for (let at = 0; at < size - 21; at += 16, bundle++) {
    const template = (memory[at]! & 0x1f) - 0x10;
    if (template < 0) continue;
    const slots = ITANIUM_BRANCH_SLOTS[template]!;
    for (let slot = 0; slot < 3; slot++) {
      if ((slots & (1 << slot)) === 0) continue;
      const bit = slot * 41 + 5;
      if (getBits(memory, at, bit + 37, 4) !== 5) continue;
      const target = getBits(memory, at, bit + 13, 20);
      setBits(memory, at, (target - bundle) & 0xfffff, bit + 13, 20);
    }
  }
  return true;
}

function getBits(memory: Uint8Array, base: number, bit: number, count: number): number {
  return (u32le(memory, base + (bit >>> 3)) >>> (bit & 7)) & ((1 << count) - 1);
}

function setBits(memory: Uint8Array, base: number, value: number, bit: number, count: number): void {
  const at = base + (bit >>> 3);
  const shift = bit & 7;
  const mask = ((1 << count) - 1) << shift;
  setU32(memory, at, ((u32le(memory, at) & ~mask) | (value << shift)) >>> 0);
}

/** Byte-wise deltas, channel after channel (each channel's bytes interleaved in the output). */
function delta(memory: Uint8Array, size: number, channels: number): boolean {
  if (size > VM_MEMORY_SIZE / 2 || channels > 1024 || channels === 0) return false;
  let source = 0;
  for (let channel = 0; channel < channels; channel++) {
    let previous = 0;
    for (let to = size + channel; to < 2 * size; to += channels) {
      previous = (previous - memory[source++]!) & 0xff;
      memory[to] = previous;
    }
  }
  return true;
}

/**
 * 24-bit images: each colour byte predicted from its left and upper neighbours (the Paeth
 * predictor), red and blue then stored as differences to green. `stride` is the row length in
 * bytes, `redOffset` where in the first pixel the red byte is.
 */
function rgb(memory: Uint8Array, size: number, stride: number, redOffset: number): boolean {
  const width = (stride - 3) >>> 0;
  if (size > VM_MEMORY_SIZE / 2 || size < 3 || width > size || redOffset > 2) return false;
  let source = 0;
  for (let channel = 0; channel < 3; channel++) {
    let previous = 0;
    for (let i = channel; i < size; i += 3) {
      let predicted = previous;
      if (i >= stride) {
        const upper = memory[size + i - width]!;
        const upperLeft = memory[size + i - width - 3]!;
        const estimate = previous + upper - upperLeft;
        const toPrevious = Math.abs(estimate - previous);
        const toUpper = Math.abs(estimate - upper);
        const toUpperLeft = Math.abs(estimate - upperLeft);
        if (toPrevious > toUpper || toPrevious > toUpperLeft) predicted = toUpper <= toUpperLeft ? upper : upperLeft;
      }
      previous = (predicted - memory[source++]!) & 0xff;
      memory[size + i] = previous;
    }
  }
  for (let i = size + redOffset; i < 2 * size - 2; i += 3) {
    const green = memory[i + 1]!;
    memory[i] += green;
    memory[i + 2] += green;
  }
  return true;
}

/** Sound samples: per channel, a three-weight adaptive predictor like RAR 2.0's multimedia mode. */
function audio(memory: Uint8Array, size: number, channels: number): boolean {
  if (size > VM_MEMORY_SIZE / 2 || channels > 128 || channels === 0) return false;
  const weights = new Int32Array(3);
  const errors = new Uint32Array(7);
  let source = 0;
  for (let channel = 0; channel < channels; channel++) {
    weights.fill(0);
    errors.fill(0);
    let previous = 0;
    let previousDelta = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    for (let i = channel, count = 0; i < size; i += channels, count++) {
      d3 = d2;
      d2 = previousDelta - d1;
      d1 = previousDelta;
      const coded = memory[source++]!;
      const predicted = ((8 * previous + weights[0]! * d1 + weights[1]! * d2 + weights[2]! * d3) >> 3) & 0xff;
      const byte = (predicted - coded) & 0xff;
      memory[size + i] = byte;
      previousDelta = ((byte - previous) << 24) >> 24;
      previous = byte;

      const error = ((coded << 24) >> 24) * 8;
      errors[0] += Math.abs(error);
      errors[1] += Math.abs(error - d1);
      errors[2] += Math.abs(error + d1);
      errors[3] += Math.abs(error - d2);
      errors[4] += Math.abs(error + d2);
      errors[5] += Math.abs(error - d3);
      errors[6] += Math.abs(error + d3);
      if ((count & 0x1f) === 0) adaptWeights(errors, weights);
    }
  }
  return true;
}

function setU32(memory: Uint8Array, at: number, value: number): void {
  memory[at] = value;
  memory[at + 1] = value >>> 8;
  memory[at + 2] = value >>> 16;
  memory[at + 3] = value >>> 24;
}
