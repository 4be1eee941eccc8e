import type { PpmdRangeDecoder } from './ppmd7.js';

const TOP = 1 << 24;

/**
 * The range decoder of 7z's PPMd coder (7-Zip's Ppmd7z_RangeDec): 32-bit code and range,
 * renormalised a byte at a time below 2^24. Reading past the end of `input` (the packed stream)
 * yields zeros and sets `overrun`. The LZMA SDK would read on into the rest of the archive, but
 * a stream that does so can never pass its end check, so the caller takes an overrun as the
 * data error it will become.
 */
export class Ppmd7zRangeDecoder implements PpmdRangeDecoder {
  private range = 0xffffffff;
  private code = 0;
  private pos = 0;
  private overran = false;

  constructor(private readonly input: Uint8Array) {}

  /** Reads the five opening bytes; false when they cannot start a stream (first byte not 0, code all ones). */
  init(): boolean {
    this.code = 0;
    this.range = 0xffffffff;
    if (this.nextByte() !== 0) return false;
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.nextByte()) >>> 0;
    return this.code < 0xffffffff;
  }

  /** A read went past the end of the input. */
  get overrun(): boolean {
    return this.overran;
  }

  /** Bytes consumed so far (past the end counted too). */
  get consumed(): number {
    return this.pos;
  }

  /** The encoder's flush leaves the code at exactly zero after the last symbol. */
  get finishedOk(): boolean {
    return this.code === 0;
  }

  threshold(total: number): number {
    this.range = Math.floor(this.range / total);
    // Only a hostile model state can make the range vanish (the C code would divide by zero):
    // answer a count outside [0, total), which the model reports as a data error.
    if (this.range === 0) return total;
    return Math.floor(this.code / this.range);
  }

  decode(start: number, size: number): void {
    this.code = (this.code - Math.imul(start, this.range)) >>> 0;
    this.range = Math.imul(this.range, size) >>> 0;
    this.normalize();
  }

  decodeBit(size0: number): number {
    const bound = Math.imul(this.range >>> 14, size0) >>> 0;
    let bit: number;
    if (this.code < bound) {
      bit = 0;
      this.range = bound;
    } else {
      bit = 1;
      this.code = (this.code - bound) >>> 0;
      this.range = (this.range - bound) >>> 0;
    }
    this.normalize();
    return bit;
  }

  private normalize(): void {
    if (this.range < TOP) {
      this.code = ((this.code << 8) | this.nextByte()) >>> 0;
      this.range = (this.range << 8) >>> 0;
      if (this.range < TOP) {
        this.code = ((this.code << 8) | this.nextByte()) >>> 0;
        this.range = (this.range << 8) >>> 0;
      }
    }
  }

  private nextByte(): number {
    if (this.pos < this.input.length) return this.input[this.pos++]!;
    this.pos++;
    this.overran = true;
    return 0;
  }
}
