import { contained } from '../pe-arithmetic.js';

/**
 * The decompressor of FSG and of MEW's first stage (libclamav packlibs.c: cli_unfsg and unmew,
 * one algorithm under two names): an aPLib-style LZ77 stream whose control bits come from tag
 * bytes read MSB first between the data bytes. What it reads:
 *
 * - `0`: a literal byte;
 * - `1 1 1` + 4 bits: one byte from 1-15 back, or a zero byte for 0;
 * - `1 1 0` + a byte: 2 or 3 bytes (its low bit) from up to 127 back (the byte shifted right);
 *   0 back ends the stream;
 * - `1 0` + gamma codes: a longer match; its distance is either the previous one reused or
 *   (high bits from the gamma code, low bits from a byte), its length another gamma code, made
 *   longer for distances below 128 and from 1280 and 32000 on.
 *
 * Both sides are windows of arrays, which may be one and the same: MEW decompresses inside the
 * buffer that also holds its compressed data, and a write may change input not read yet, as in
 * ClamAV. Every check is ClamAV's, so a stream fails where ClamAV's fails — including its refusal
 * to take a tag byte from the last byte of the input.
 */

/** A window of an array: `length` bytes from `start` (lengths are C ints, possibly 0 or negative). */
export interface Window {
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly length: number;
}

export type FsgDecodeResult =
  /** The end marker was read: where the input and output stopped, as offsets into their arrays. */
  | { readonly ok: true; readonly inputEnd: number; readonly outputEnd: number }
  | FsgDecodeFailure;

/**
 * Why decoding failed, with the positions unmew prints: `match` is a match outside the output
 * ("rete"), `literal` a literal with no room or input left ("retf"), `input` anything else
 * (the input ran out in the bits or bytes of a match, or the output in a zero byte).
 */
export interface FsgDecodeFailure {
  readonly ok: false;
  readonly reason: 'match' | 'literal' | 'input';
  readonly inputAt: number;
  readonly outputAt: number;
  readonly matchLength: number;
  readonly matchDistance: number;
}

/** cli_unfsg / unmew: decodes `input` into `output` up to the stream's end marker. */
export function unfsg(input: Window, output: Window): FsgDecodeResult {
  const src = input.bytes;
  const dst = output.bytes;
  const inputEnd = input.start + input.length;
  const outputEnd = output.start + output.length;
  let inAt = input.start;
  let outAt = output.start;
  let length = 0;
  let distance = 0;
  const fail = (reason: FsgDecodeFailure['reason']): FsgDecodeFailure => ({ ok: false, reason, inputAt: inAt, outputAt: outAt, matchLength: length, matchDistance: distance });
  if (input.length <= 0 || output.length <= 0) return fail('input');

  // The tag byte being read, shifted left with a 1 behind its last bit: when only that 1 is
  // left, the next tag byte is due (doubledl).
  let tag = 0x80;
  const bit = (): number => {
    let current = tag;
    tag = (tag << 1) & 0xff;
    if ((current & 0x7f) === 0) {
      if (inAt < input.start || inAt >= inputEnd - 1) return -1;
      current = src[inAt++]!;
      tag = ((current << 1) | 1) & 0xff;
    }
    return current >> 7;
  };
  /** An Elias gamma code: bits after a leading 1, each followed by a bit that says whether more come. */
  const gamma = (): number => {
    let value = 1;
    for (;;) {
      const next = bit();
      if (next < 0) return -1;
      value = (value * 2 + next) >>> 0;
      const more = bit();
      if (more < 0) return -1;
      if (more === 0) return value;
    }
  };

  let lastDistance = 0;
  /** Set after a literal (or a one-byte match): a long match's distance code is one lower then. */
  let afterLiteral = 1;
  dst[outAt++] = src[inAt++]!;
  for (;;) {
    const kind = bit();
    if (kind < 0) return fail('input');
    if (kind === 0) {
      if (outAt < output.start || outAt >= outputEnd || inAt < input.start || inAt >= inputEnd) return fail('literal');
      dst[outAt++] = src[inAt++]!;
      afterLiteral = 1;
      continue;
    }
    const short = bit();
    if (short < 0) return fail('input');
    if (short === 1) {
      const tiny = bit();
      if (tiny < 0) return fail('input');
      if (tiny === 1) {
        afterLiteral = 1;
        length = 1;
        distance = 0x10;
        while (distance < 0x100) {
          const next = bit();
          if (next < 0) return fail('input');
          distance = distance * 2 + next;
        }
        distance &= 0xff;
        if (distance === 0) {
          if (outAt >= outputEnd) return fail('input');
          dst[outAt++] = 0;
          continue;
        }
      } else {
        if (inAt >= inputEnd) return fail('input');
        const code = src[inAt++]!;
        length = code & 1;
        distance = code >> 1;
        if (distance === 0) break;
        length += 2;
        lastDistance = distance;
        afterLiteral = 0;
      }
    } else {
      const high = gamma();
      if (high < 0) return fail('input');
      length = (high - 1 - afterLiteral) >>> 0;
      if (length === 0) {
        length = gamma();
        if (length < 0) return fail('input');
        distance = lastDistance;
      } else {
        if (inAt >= inputEnd) return fail('input');
        distance = (src[inAt++]! + ((length - 1) << 8)) >>> 0;
        length = gamma();
        if (length < 0) return fail('input');
        if (distance >= 0x7d00) length++;
        if (distance >= 0x500) length++;
        if (distance <= 0x7f) length += 2;
        length >>>= 0;
        lastDistance = distance;
      }
      afterLiteral = 0;
    }
    if (!contained(output.start, output.length, outAt, length) || !contained(output.start, output.length, outAt - distance, length)) return fail('match');
    // Byte by byte: a match may overlap its own output.
    for (let from = outAt - distance, end = outAt + length; outAt < end; ) dst[outAt++] = dst[from++]!;
  }
  return { ok: true, inputEnd: inAt, outputEnd: outAt };
}
