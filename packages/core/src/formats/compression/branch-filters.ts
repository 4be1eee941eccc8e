import { corrupt } from './corrupt.js';

/**
 * Branch-call-jump filters of the 7z format, decoding direction: executables are compressed
 * better when relative CALL/JMP targets are stored as absolute addresses, and these turn them
 * back. Each works in place on a whole unpacked buffer that starts at stream position 0.
 */

/** x86 (7z method 03030103): E8/E9 operands, with the encoder's rule for skipping false hits. */
export function x86Decode(data: Uint8Array): void {
  // Which of the previous three bytes were E8/E9 decides whether a hit is trusted.
  const allowedForMask = [true, true, true, false, true, false, false, false];
  const bitNumberForMask = [0, 1, 2, 2, 3, 3, 3, 3];
  const isMsByte = (b: number) => b === 0 || b === 0xff;
  const ip = 5;
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

/** ARM (7z method 03030501): BL instructions' 24-bit word offsets. */
export function armDecode(data: Uint8Array): void {
  for (let i = 0; i + 4 <= data.length; i += 4) {
    if (data[i + 3] !== 0xeb) continue;
    const src = ((data[i + 2]! << 16) | (data[i + 1]! << 8) | data[i]!) * 4;
    const dest = ((src - (i + 8)) >>> 2) & 0xffffff;
    data[i + 2] = dest >>> 16;
    data[i + 1] = (dest >>> 8) & 0xff;
    data[i] = dest & 0xff;
  }
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
