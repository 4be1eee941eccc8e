import { corrupt } from './corrupt.js';

/**
 * The reversible filters of the 7z and xz formats, decoding direction. Branch-call-jump (BCJ)
 * filters: executables compress better when relative CALL/JMP targets are stored as absolute
 * addresses, and these turn them back; delta: bytes stored as differences from the byte
 * `distance` earlier.
 *
 * Each works in place on a whole unpacked buffer. `start` is the stream position of its first
 * byte (xz's start-offset property; 0 in 7z), taken modulo 2^32 as the LZMA SDK does. The SDK
 * converts piecewise and carries state between pieces, which gives exactly the result of one
 * pass over the whole buffer; the last few bytes that cannot hold a full instruction stay as
 * they are.
 */

/** x86 (7z method 03030103, xz filter 4): E8/E9 operands, with the encoder's rule for skipping false hits. */
export function x86Decode(data: Uint8Array, start = 0): void {
  // Which of the previous three bytes were E8/E9 decides whether a hit is trusted.
  const allowedForMask = [true, true, true, false, true, false, false, false];
  const bitNumberForMask = [0, 1, 2, 2, 3, 3, 3, 3];
  const isMsByte = (b: number) => b === 0 || b === 0xff;
  const ip = start + 5;
  let prevMask = 0;
  let prevPos = -1;
  let pos = 0;
  const limit = data.length - 4;
  while (pos < limit) {
    if ((data[pos]! & 0xfe) !== 0xe8) {
      pos++;
      continue;
    }
    const gap = pos - prevPos;
    if (gap > 3) {
      prevMask = 0;
    } else {
      prevMask = (prevMask << (gap - 1)) & 7;
      if (prevMask !== 0) {
        const b = data[pos + 4 - bitNumberForMask[prevMask]!]!;
        if (!allowedForMask[prevMask] || isMsByte(b)) {
          prevPos = pos;
          prevMask = ((prevMask << 1) & 7) | 1;
          pos++;
          continue;
        }
      }
    }
    prevPos = pos;
    if (!isMsByte(data[pos + 4]!)) {
      prevMask = ((prevMask << 1) & 7) | 1;
      pos++;
      continue;
    }
    let src = (data[pos + 1]! | (data[pos + 2]! << 8) | (data[pos + 3]! << 16) | (data[pos + 4]! << 24)) >>> 0;
    let dest: number;
    for (;;) {
      dest = (src - (ip + pos)) >>> 0;
      if (prevMask === 0) break;
      const index = bitNumberForMask[prevMask]! * 8;
      if (!isMsByte((dest >>> (24 - index)) & 0xff)) break;
      src = (dest ^ (2 ** (32 - index) - 1)) >>> 0;
    }
    data[pos + 4] = (dest >>> 24) & 1 ? 0xff : 0;
    data[pos + 3] = (dest >>> 16) & 0xff;
    data[pos + 2] = (dest >>> 8) & 0xff;
    data[pos + 1] = dest & 0xff;
    pos += 5;
  }
}

/** ARM (7z method 03030501, xz filter 7): BL instructions' 24-bit word offsets. */
export function armDecode(data: Uint8Array, start = 0): void {
  const ip = start + 8;
  for (let i = 0; i + 4 <= data.length; i += 4) {
    if (data[i + 3] !== 0xeb) continue;
    const src = ((data[i + 2]! << 16) | (data[i + 1]! << 8) | data[i]!) * 4;
    const dest = ((src - (ip + i)) >>> 2) & 0xffffff;
    data[i + 2] = dest >>> 16;
    data[i + 1] = (dest >>> 8) & 0xff;
    data[i] = dest & 0xff;
  }
}

/** ARM Thumb (xz filter 8): BL pairs (F000 F800 halfwords) with a 22-bit halfword offset. */
export function armThumbDecode(data: Uint8Array, start = 0): void {
  const ip = start + 4;
  for (let i = 0; i + 4 <= data.length; i += 2) {
    if ((data[i + 1]! & 0xf8) !== 0xf0 || (data[i + 3]! & 0xf8) !== 0xf8) continue;
    const src = (((data[i + 1]! & 7) << 19) | (data[i]! << 11) | ((data[i + 3]! & 7) << 8) | data[i + 2]!) * 2;
    const dest = (src - (ip + i)) >>> 1;
    data[i + 1] = 0xf0 | ((dest >>> 19) & 7);
    data[i] = (dest >>> 11) & 0xff;
    data[i + 3] = 0xf8 | ((dest >>> 8) & 7);
    data[i + 2] = dest & 0xff;
    i += 2; // the pair is consumed whole
  }
}

/** PowerPC (xz filter 5): big-endian `bl` (opcode 18 with AA=0, LK=1) and its 24-bit word offset. */
export function ppcDecode(data: Uint8Array, start = 0): void {
  for (let i = 0; i + 4 <= data.length; i += 4) {
    if (data[i]! >>> 2 !== 0x12 || (data[i + 3]! & 3) !== 1) continue;
    const src = ((data[i]! & 3) << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | (data[i + 3]! & 0xfc);
    const dest = (src - (start + i)) >>> 0;
    data[i] = 0x48 | ((dest >>> 24) & 3);
    data[i + 1] = (dest >>> 16) & 0xff;
    data[i + 2] = (dest >>> 8) & 0xff;
    data[i + 3] = (data[i + 3]! & 3) | (dest & 0xff);
  }
}

/** SPARC (xz filter 9): `call` instructions whose 30-bit displacement is in the sign-extended 23-bit range. */
export function sparcDecode(data: Uint8Array, start = 0): void {
  for (let i = 0; i + 4 <= data.length; i += 4) {
    const b0 = data[i]!;
    const b1 = data[i + 1]!;
    if (!((b0 === 0x40 && (b1 & 0xc0) === 0) || (b0 === 0x7f && (b1 & 0xc0) === 0xc0))) continue;
    const src = (((b0 << 24) | (b1 << 16) | (data[i + 2]! << 8) | data[i + 3]!) << 2) >>> 0;
    let dest = (src - (start + i)) >>> 2;
    dest = (((0 - ((dest >>> 22) & 1)) << 22) & 0x3fffffff) | (dest & 0x3fffff) | 0x40000000;
    data[i] = dest >>> 24;
    data[i + 1] = (dest >>> 16) & 0xff;
    data[i + 2] = (dest >>> 8) & 0xff;
    data[i + 3] = dest & 0xff;
  }
}

/** Per IA-64 bundle template (low 5 bits of the bundle): which of its three slots may hold a branch. */
const IA64_BRANCH_SLOTS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 6, 6, 0, 0, 7, 7, 4, 4, 0, 0, 4, 4, 0, 0];

/**
 * IA-64 (xz filter 6): in each 16-byte bundle, the 41-bit slots the template marks as branch
 * slots get their 21-bit IP-relative bundle offset (imm20b and the sign bit) converted. A slot
 * is handled as the 48-bit little-endian window around it, in exact double arithmetic.
 */
export function ia64Decode(data: Uint8Array, start = 0): void {
  for (let i = 0; i + 16 <= data.length; i += 16) {
    const mask = IA64_BRANCH_SLOTS[data[i]! & 0x1f]!;
    for (let slot = 0, bitPos = 5; slot < 3; slot++, bitPos += 41) {
      if (((mask >>> slot) & 1) === 0) continue;
      const at = i + (bitPos >>> 3);
      const shift = 2 ** (bitPos & 7);
      let window = 0;
      for (let j = 0; j < 6; j++) window += data[at + j]! * 2 ** (8 * j);
      const slotBits = Math.floor(window / shift);
      const bits = (from: number, count: number) => Math.floor(slotBits / 2 ** from) % 2 ** count;
      if (bits(37, 4) !== 5 || bits(9, 3) !== 0) continue;
      const imm = bits(13, 20);
      const sign = bits(36, 1);
      const src = (imm | (sign << 20)) << 4;
      const dest = (src - (start + i)) >>> 4;
      const converted = slotBits - imm * 2 ** 13 - sign * 2 ** 36 + (dest & 0xfffff) * 2 ** 13 + ((dest >>> 20) & 1) * 2 ** 36;
      window = (window % shift) + converted * shift;
      for (let j = 0; j < 6; j++) data[at + j] = Math.floor(window / 2 ** (8 * j)) % 256;
    }
  }
}

/** Delta (xz filter 3): each byte was stored as its difference from the byte `distance` (1..256) before it. */
export function deltaDecode(data: Uint8Array, distance: number): void {
  for (let i = distance; i < data.length; i++) data[i] = data[i]! + data[i - distance]!;
}

/**
 * BCJ2 (7z method 0303011B): the x86 stream with CALL and JMP targets moved to two separate
 * big-endian streams, and a range-coded stream of flags saying which E8/E9/Jcc were converted.
 */
export function bcj2Decode(main: Uint8Array, calls: Uint8Array, jumps: Uint8Array, flags: Uint8Array, out: Uint8Array): void {
  const probs = new Uint16Array(258).fill(1024);
  let flagPos = 0;
  const nextFlagByte = () => {
    if (flagPos >= flags.length) throw corrupt('BCJ2: flag stream ended early');
    return flags[flagPos++]!;
  };
  let code = 0;
  let range = 0xffffffff;
  for (let i = 0; i < 5; i++) code = ((code * 256) | nextFlagByte()) >>> 0;
  let callPos = 0;
  let jumpPos = 0;
  let inPos = 0;
  let outPos = 0;
  let prev = 0;
  while (outPos < out.length) {
    // Copy plain bytes up to and including the next branch opcode candidate.
    let found = false;
    while (inPos < main.length && outPos < out.length) {
      const b = main[inPos++]!;
      out[outPos++] = b;
      if ((b & 0xfe) === 0xe8 || (prev === 0x0f && (b & 0xf0) === 0x80)) {
        found = true;
        break;
      }
      prev = b;
    }
    if (!found || outPos === out.length) break;
    const b = main[inPos - 1]!;
    const index = b === 0xe8 ? prev : b === 0xe9 ? 256 : 257;
    const p = probs[index]!;
    const bound = (range >>> 11) * p;
    let converted: boolean;
    if (code < bound) {
      range = bound;
      probs[index] = p + ((2048 - p) >>> 5);
      converted = false;
    } else {
      range -= bound;
      code -= bound;
      probs[index] = p - (p >>> 5);
      converted = true;
    }
    if (range < 0x1000000) {
      range = (range * 256) >>> 0;
      code = ((code * 256) | nextFlagByte()) >>> 0;
    }
    if (!converted) {
      prev = b;
      continue;
    }
    let src: number;
    if (b === 0xe8) {
      if (callPos + 4 > calls.length) throw corrupt('BCJ2: call stream ended early');
      src = ((calls[callPos]! << 24) | (calls[callPos + 1]! << 16) | (calls[callPos + 2]! << 8) | calls[callPos + 3]!) >>> 0;
      callPos += 4;
    } else {
      if (jumpPos + 4 > jumps.length) throw corrupt('BCJ2: jump stream ended early');
      src = ((jumps[jumpPos]! << 24) | (jumps[jumpPos + 1]! << 16) | (jumps[jumpPos + 2]! << 8) | jumps[jumpPos + 3]!) >>> 0;
      jumpPos += 4;
    }
    const dest = (src - (outPos + 4)) >>> 0;
    for (let k = 0; k < 4 && outPos < out.length; k++) out[outPos++] = (dest >>> (8 * k)) & 0xff;
    prev = dest >>> 24;
  }
  if (outPos !== out.length) throw corrupt('BCJ2: output shorter than declared');
}
