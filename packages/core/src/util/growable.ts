/** An append-only byte buffer that doubles when full; `finish()` trims to the used length. */
export class GrowableBytes {
  private buffer: Uint8Array;
  length = 0;

  constructor(initialCapacity = 1024) {
    this.buffer = new Uint8Array(initialCapacity);
  }

  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  /** Direct access for writers that called `reserve` first. */
  get bytes(): Uint8Array {
    return this.buffer;
  }

  push(byte: number): void {
    this.reserve(1);
    this.buffer[this.length++] = byte;
  }

  append(source: Uint8Array, start = 0, end = source.length): void {
    this.reserve(end - start);
    this.buffer.set(source.subarray(start, end), this.length);
    this.length += end - start;
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
