import { contained } from '../pe-arithmetic.js';

/**
 * UPX's NRV2B, NRV2D and NRV2E decompressors as ClamAV runs them (libclamav upx.c,
 * upx_inflate2b/2d/2e): LZ77 streams whose control bits come 32 at a time from little-endian
 * words, with literals and match offsets as whole bytes between them. The three differ in how a
 * match's offset and length are coded. ClamAV's checks are kept exactly, since which damaged
 * streams fail decides whether the next decompressor is tried: a match must lie inside the
 * output, an offset must be negative, and the counts must stay below 2^31.
 *
 * The output is written into `dest` from its start, up to `size` bytes; what a failed run wrote
 * stays there, as in ClamAV, whose later attempts reuse the buffer. Returns the number of bytes
 * written, or -1 when the stream is refused.
 */
export type NrvVariant = '2b' | '2d' | '2e';

const HALF_INT32 = 0x3fffffff; // INT32_MAX / 2
const HALF_UINT32 = 0x7fffffff; // UINT32_MAX / 2
const FAILED = -1;

class BitReader {
  private bits = 0;
  at = 0;

  constructor(private readonly src: Uint8Array) {}

  /** ClamAV's doubleebx: the next control bit, or -1 when a new word is needed and missing. */
  bit(): number {
    const old = this.bits;
    this.bits = (this.bits * 2) >>> 0;
    if ((old & 0x7fffffff) !== 0) return old >>> 31;
    if (!contained(0, this.src.length, this.at, 4)) return FAILED;
    const word = (this.src[this.at]! | (this.src[this.at + 1]! << 8) | (this.src[this.at + 2]! << 16) | (this.src[this.at + 3]! << 24)) >>> 0;
    this.bits = (word * 2 + 1) >>> 0;
    this.at += 4;
    return word >>> 31;
  }
}

/** Decodes `src` with `variant` into `dest` (capacity `size`); the bytes written, or -1. */
export function nrv2Decode(variant: NrvVariant, src: Uint8Array, dest: Uint8Array, size: number): number {
  const input = new BitReader(src);
  let out = 0;
  let offset = -1;
  for (;;) {
    // Literals, each announced by a 1 bit.
    let bit: number;
    while ((bit = input.bit()) === 1) {
      if (input.at >= src.length || out >= size) return FAILED;
      dest[out++] = src[input.at++]!;
    }
    if (bit === FAILED) return FAILED;

    // The offset's high part, in an interleaved Elias-gamma code.
    let high = 1;
    for (;;) {
      if ((bit = input.bit()) === FAILED || high + bit > HALF_INT32) return FAILED;
      high = high * 2 + bit;
      if ((bit = input.bit()) === FAILED) return FAILED;
      if (bit) break;
      if (variant === '2b') continue;
      high--;
      if ((bit = input.bit()) === FAILED || high + bit > HALF_INT32) return FAILED;
      high = high * 2 + bit;
    }

    // A new offset (its low byte follows), or the last one again; in 2D/2E the offset's lowest
    // bit is the length's first.
    let lengthBit = 0;
    high -= 3;
    if (high >= 0) {
      if (input.at >= src.length || (high & 0xff000000) !== 0) return FAILED;
      const next = ~((high << 8) + src[input.at++]!) | 0;
      if (next === 0) break; // the end of the stream
      if (variant === '2b') {
        offset = next;
      } else {
        lengthBit = next & 1;
        offset = next >> 1;
      }
    } else if (variant !== '2b') {
      if ((lengthBit = input.bit()) === FAILED) return FAILED;
    }

    const length = variant === '2e' ? lengthE(input, lengthBit) : lengthBD(input, variant === '2b' ? undefined : lengthBit);
    if (length === FAILED) return FAILED;
    const count = length + ((offset >>> 0) < (variant === '2b' ? 0xfffff300 : 0xfffffb00) ? 1 : 0) + (variant === '2e' ? 2 : 1);
    if (!contained(0, size, out + offset, count) || !contained(0, size, out, count) || offset >= 0) return FAILED;
    for (let i = 0; i < count; i++) dest[out + i] = dest[out + offset + i]!;
    out += count;
  }
  return out;
}

/** NRV2B/2D match length: two bits, or when both are 0 a gamma code plus 2. */
function lengthBD(input: BitReader, first: number | undefined): number {
  let length = first ?? input.bit();
  if (length === FAILED) return FAILED;
  const bit = input.bit();
  if (bit === FAILED || length + bit > HALF_UINT32) return FAILED;
  length = length * 2 + bit;
  return length === 0 ? gamma(input, 1) : length;
}

/** NRV2E match length: after a 1 bit one more bit; else 2 or 3, or a gamma code plus 2. */
function lengthE(input: BitReader, first: number): number {
  if (first) return input.bit();
  const bit = input.bit();
  if (bit === FAILED) return FAILED;
  if (bit) {
    const next = input.bit();
    return next === FAILED ? FAILED : 2 + next;
  }
  return gamma(input, 1);
}

/** An interleaved Elias-gamma code starting from `start`, plus 2. */
function gamma(input: BitReader, start: number): number {
  let value = start;
  let bit: number;
  do {
    if ((bit = input.bit()) === FAILED || value + bit > HALF_UINT32) return FAILED;
    value = value * 2 + bit;
  } while ((bit = input.bit()) === 0);
  if (bit === FAILED) return FAILED;
  return value + 2;
}
