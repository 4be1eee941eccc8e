/**
 * The RAR 5 compressed stream as bits, most significant bit of each byte first. The data is copied
 * once into a buffer with zero padding, so that peeking a few bytes past the end needs no bounds
 * check on the hot path; callers compare `pos` with `length` to notice that the input ran out.
 */

/** Bytes one decoding step may look at past the current position (a match reads about 10). */
const PADDING = 16;

export class BitInput {
  private readonly bytes: Uint8Array;
  /** Length of the real input (the padding follows it). */
  readonly length: number;
  /** Current byte, and bit (0-7, from the top) inside it. */
  pos = 0;
  bit = 0;

  constructor(input: Uint8Array) {
    this.length = input.length;
    this.bytes = new Uint8Array(input.length + PADDING);
    this.bytes.set(input);
  }

  /** The next 16 bits, without consuming them. */
  peek16(): number {
    const b = this.bytes;
    const p = this.pos;
    return (((b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!) >>> (8 - this.bit)) & 0xffff;
  }

  skip(count: number): void {
    const bits = this.bit + count;
    this.pos += bits >>> 3;
    this.bit = bits & 7;
  }

  /** The next `count` bits (0-16) as a number. */
  read(count: number): number {
    const value = this.peek16() >>> (16 - count);
    this.skip(count);
    return value;
  }

  /** The next `count` bits (0-32). */
  readLong(count: number): number {
    return count <= 16 ? this.read(count) : this.read(count - 16) * 0x10000 + this.read(16);
  }

  /** Moves to the start of the next byte, unless already at one. */
  alignToByte(): void {
    if (this.bit !== 0) {
      this.pos++;
      this.bit = 0;
    }
  }

  byteAt(offset: number): number {
    return this.bytes[offset]!;
  }

  /** The input ran out: the position is past its last bit. */
  get exhausted(): boolean {
    return this.pos > this.length || (this.pos === this.length && this.bit > 0);
  }
}
