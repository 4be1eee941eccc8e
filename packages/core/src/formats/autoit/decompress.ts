/**
 * The LZSS-style compression of AutoIt members ("EA05"/"EA06" after decryption), decoded as
 * ClamAV decodes it (libclamav/autoit.c). After the 4-byte magic comes the uncompressed size (big
 * endian), then a bit stream read most significant bit first from big-endian 16-bit words: a flag
 * bit, then either a literal byte (8 bits) or a match — a 15-bit distance and a length coded in
 * growing fields (2, 3, 5, 8 bits, then 8 bits repeated while all ones), plus 3. EA05 marks a match
 * with a set flag, EA06 with a clear one.
 *
 * A read that would need more input than is left, or a match outside the output written so far,
 * ends decoding: what was decoded stands (a literal whose bits ran out is written as a 0 byte,
 * as ClamAV does).
 */
import { OutputBuffer } from '../archive/output-buffer.js';
import { u32le } from '../compression/read.js';

/** Where the bit stream starts, after the magic and the size. */
const STREAM_START = 8;
const DISTANCE_BITS = 15;
const MIN_MATCH = 3;

export interface Decompressed {
  readonly data: Uint8Array;
  /** Decoding stopped early: `data` is what came before. */
  readonly failed: boolean;
}

/** The uncompressed size a compressed member declares, big endian (0 when it is too short to say). */
export function declaredSize(member: Uint8Array): number {
  return member.length >= STREAM_START ? ((member[4]! << 24) | (member[5]! << 16) | (member[6]! << 8) | member[7]!) >>> 0 : 0;
}

/** The member's magic, little endian: "EA05" or "EA06". */
export function memberMagic(member: Uint8Array): number {
  return u32le(member, 0);
}

/** MSB-first bits from big-endian 16-bit words, refusing any read the input cannot complete. */
class BitReader {
  private position = STREAM_START;
  private word = 0;
  private available = 0;
  failed = false;

  constructor(
    private readonly input: Uint8Array,
    private readonly debug: (message: string) => void,
  ) {}

  /** The next `count` (≤ 16) bits; 0 and `failed` when the words they need are not there. */
  read(count: number): number {
    if (count > this.available) {
      const wordsNeeded = Math.floor((count - this.available - 1) / 16) + 1;
      if (wordsNeeded * 2 > this.input.length - this.position) {
        this.debug('autoit: getbits() - not enough bits available');
        this.failed = true;
        return 0;
      }
    }
    let value = 0;
    for (let i = 0; i < count; i++) {
      if (this.available === 0) {
        this.word = (this.input[this.position]! << 8) | this.input[this.position + 1]!;
        this.position += 2;
        this.available = 16;
      }
      this.available--;
      value = (value << 1) | ((this.word >>> this.available) & 1);
    }
    return value;
  }
}

/** The extra length after the 2-bit field: each field all ones opens the next. */
function matchLength(bits: BitReader): number {
  let length = bits.read(2);
  if (length !== 3) return length + MIN_MATCH;
  length = bits.read(3);
  if (length !== 7) return length + MIN_MATCH + 3;
  length = bits.read(5);
  if (length !== 31) return length + MIN_MATCH + 10;
  length = bits.read(8);
  if (length !== 255) return length + MIN_MATCH + 41;
  let extra = 296;
  while ((length = bits.read(8)) === 255) extra += 255;
  return length + MIN_MATCH + extra;
}

/**
 * Decodes `input` (the decrypted member, magic and size included) into `size` bytes at most.
 * `matchFlag` is the flag bit value that announces a match.
 */
export function decompress(input: Uint8Array, size: number, matchFlag: 0 | 1, debug: (message: string) => void): Decompressed {
  // A length field of all ones adds 255 bytes per byte of input: the output cannot outgrow that.
  const output = new OutputBuffer(size, Math.min(size, input.length * 4 + 4096));
  const bits = new BitReader(input, debug);
  while (!bits.failed && output.length < size) {
    if (bits.read(1) !== matchFlag) {
      output.room(1);
      output.bytes[output.length++] = bits.read(8);
      continue;
    }
    const distance = bits.read(DISTANCE_BITS);
    const length = matchLength(bits);
    if (bits.failed) break;
    // A distance of 0 copies the byte onto itself: the zero the buffer starts with.
    if (distance > output.length || output.length + length > size) return { data: output.result(), failed: true };
    output.room(length);
    if (distance === 0) output.length += length;
    else output.repeat(distance, length);
  }
  return { data: output.result(), failed: bits.failed };
}
