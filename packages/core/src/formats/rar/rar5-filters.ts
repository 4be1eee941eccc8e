/**
 * The four RAR 5 filters, decoding direction. The compressor transforms a block of the file before
 * compressing it (executable code compresses better with absolute branch targets, interleaved
 * samples better as differences) and announces the block in the compressed stream; the decoder
 * turns the block back once all of it is decoded. Block positions are offsets in the file (not in
 * the solid stream): the x86 and ARM filters make addresses relative to them.
 */

export const enum Rar5FilterType {
  Delta = 0,
  E8 = 1,
  E8E9 = 2,
  Arm = 3,
}

export interface Rar5Filter {
  readonly type: Rar5FilterType;
  /** Offset of the block in the file. */
  readonly start: number;
  readonly length: number;
  /** Interleaved byte channels (delta filter only). */
  readonly channels: number;
}

/** The x86 filter's addresses are taken modulo 16 MiB, the "file size" the compressor assumed. */
const X86_FILE_SIZE = 0x1000000;

/**
 * Decodes `block` (the filter's bytes as unpacked) and returns the buffer holding the result:
 * `block` itself, changed in place, or `spare` (at least as long) for the delta filter.
 */
export function applyRar5Filter(filter: Rar5Filter, block: Uint8Array, spare: Uint8Array): Uint8Array {
  switch (filter.type) {
    case Rar5FilterType.Delta:
      deltaDecode(block, spare, filter.channels);
      return spare;
    case Rar5FilterType.E8:
    case Rar5FilterType.E8E9:
      x86Decode(block, filter.start, filter.type === Rar5FilterType.E8E9);
      return block;
    case Rar5FilterType.Arm:
      armDecode(block, filter.start);
      return block;
  }
}

/** The block stores each channel's byte differences one channel after another. */
function deltaDecode(source: Uint8Array, out: Uint8Array, channels: number): void {
  const length = source.length;
  let from = 0;
  for (let channel = 0; channel < channels; channel++) {
    let previous = 0;
    for (let to = channel; to < length; to += channels) {
      previous = (previous - source[from++]!) & 0xff;
      out[to] = previous;
    }
  }
}

/** CALL (E8), and with `jumps` JMP (E9), operands: absolute addresses back to relative ones. */
function x86Decode(data: Uint8Array, fileOffset: number, jumps: boolean): void {
  const end = data.length - 4;
  for (let i = 0; i < end; ) {
    const opcode = data[i++]!;
    if (opcode !== 0xe8 && !(jumps && opcode === 0xe9)) continue;
    const offset = (i + fileOffset) % X86_FILE_SIZE;
    const address = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    let decoded: number | undefined;
    if (address & 0x80000000) {
      // A negative address within the file's reach was made positive by adding the file size.
      if (((address + offset) & 0x80000000) === 0) decoded = address + X86_FILE_SIZE;
    } else if ((address - X86_FILE_SIZE) & 0x80000000) {
      decoded = address - offset;
    }
    if (decoded !== undefined) {
      data[i] = decoded & 0xff;
      data[i + 1] = (decoded >>> 8) & 0xff;
      data[i + 2] = (decoded >>> 16) & 0xff;
      data[i + 3] = (decoded >>> 24) & 0xff;
    }
    i += 4;
  }
}

/** ARM BL instructions (byte 3 = 0xEB): 24-bit word offsets, absolute back to relative. */
function armDecode(data: Uint8Array, fileOffset: number): void {
  const end = data.length - 3;
  for (let i = 0; i < end; i += 4) {
    if (data[i + 3] !== 0xeb) continue;
    const target = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16);
    const word = Math.floor((i + fileOffset) / 4) % 0x1000000;
    const relative = (target - word) & 0xffffff;
    data[i] = relative & 0xff;
    data[i + 1] = (relative >>> 8) & 0xff;
    data[i + 2] = relative >>> 16;
  }
}
