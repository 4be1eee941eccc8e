import { corrupt } from '../compression/corrupt.js';
import type { PpmdRangeDecoder } from '../compression/ppmd7.js';
import type { RarBitInput } from './rar15-bits.js';

const TOP = 1 << 24;
const BOTTOM = 1 << 15;

/**
 * The arithmetic decoder of RAR 2.9 PPM blocks: Dmitry Subbotin's carryless range coder, which
 * keeps `low` and `range` instead of 7z's code-minus-low and, when the range gets small while
 * `low` is about to carry, shrinks the range to the next 2^15 boundary rather than propagating
 * the carry. It reads whole bytes from the block's (byte-aligned) input.
 */
export class RarRangeDecoder implements PpmdRangeDecoder {
  private low = 0;
  private code = 0;
  private range = 0;

  constructor(private readonly input: RarBitInput) {}

  /** Starts a PPM block: the code is the next four bytes. */
  init(): void {
    this.low = 0;
    this.code = 0;
    this.range = 0xffffffff;
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.input.byte()) >>> 0;
  }

  threshold(total: number): number {
    this.range = Math.floor(this.range / total);
    // Only hostile input leaves no range; a count outside [0, total) is the model's data error.
    if (this.range === 0) return total;
    return Math.floor(((this.code - this.low) >>> 0) / this.range);
  }

  decode(start: number, size: number): void {
    this.low = (this.low + Math.imul(start, this.range)) >>> 0;
    this.range = Math.imul(this.range, size) >>> 0;
    this.normalize();
  }

  decodeBit(size0: number): number {
    const count = this.threshold(1 << 14);
    if (count < size0) {
      this.decode(0, size0);
      return 0;
    }
    this.decode(size0, (1 << 14) - size0);
    return 1;
  }

  private normalize(): void {
    for (;;) {
      // A range of zero would never grow again (each turn would read on forever): corrupt data.
      if (this.range === 0) throw corrupt('RAR 2.9: PPM range decoder lost its range');
      if ((this.low ^ (this.low + this.range)) >>> 0 >= TOP) {
        if (this.range >= BOTTOM) return;
        // The carry is about to reach the top byte: give up the range above the next boundary.
        this.range = -this.low & (BOTTOM - 1);
      }
      this.code = ((this.code << 8) | this.input.byte()) >>> 0;
      this.range = (this.range << 8) >>> 0;
      this.low = (this.low << 8) >>> 0;
    }
  }
}
