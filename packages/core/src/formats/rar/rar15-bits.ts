import { corrupt } from '../compression/corrupt.js';

/**
 * The bit source of every RAR 1.5–4 decoder (1.5, 2.0 and 2.9 share it): the packed bytes read
 * most significant bit first, looked at through a 16-bit window the way RAR's own reader does.
 * Bits past the end read as zeros, so a decoder may peek beyond the last byte; consuming them
 * is what `overrun` reports, and each decoder decides whether that is an error.
 */
export class RarBitInput {
  private data: Uint8Array = new Uint8Array(0);
  /** Number of bits the data holds. */
  private end = 0;
  /** Position in bits from the start of the data. */
  pos = 0;

  /** Starts reading `data` from its first bit. */
  reset(data: Uint8Array): void {
    // Positions are bit counts kept in 32-bit integer arithmetic on the hot path.
    if (data.length >= 2 ** 29) throw corrupt('RAR: packed entry too large');
    this.data = data;
    this.end = data.length * 8;
    this.pos = 0;
  }

  /** The next 16 bits, first bit in bit 15, without consuming them. */
  peek16(): number {
    const at = this.pos >>> 3;
    const data = this.data;
    const word = at + 2 < data.length ? (data[at]! << 16) | (data[at + 1]! << 8) | data[at + 2]! : this.tailWord(at);
    return (word >>> (8 - (this.pos & 7))) & 0xffff;
  }

  skip(count: number): void {
    this.pos += count;
  }

  /** Reads `count` bits (0 to 16) as an unsigned number. */
  bits(count: number): number {
    const value = this.peek16() >>> (16 - count);
    this.pos += count;
    return value;
  }

  alignToByte(): void {
    this.pos += (8 - (this.pos & 7)) & 7;
  }

  /** Reads the byte at an aligned position (the range decoder of PPM blocks reads this way). */
  byte(): number {
    const at = this.pos >>> 3;
    this.pos += 8;
    return at < this.data.length ? this.data[at]! : 0;
  }

  /** Bytes from the current (byte) position to the end of the data. */
  get bytesLeft(): number {
    return Math.max(0, this.data.length - (this.pos >>> 3));
  }

  /** Every bit of the data has been consumed. */
  get exhausted(): boolean {
    return this.pos >= this.end;
  }

  /** More bits were consumed than the data holds: what was decoded last came from the padding. */
  get overrun(): boolean {
    return this.pos > this.end;
  }

  private tailWord(at: number): number {
    const data = this.data;
    const b0 = at < data.length ? data[at]! : 0;
    const b1 = at + 1 < data.length ? data[at + 1]! : 0;
    return (b0 << 16) | (b1 << 8);
  }
}
