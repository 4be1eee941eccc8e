import { OutputBuffer } from '../archive/output-buffer.js';

/**
 * The sliding dictionary of the RAR 1.5–4 decoders and the output of one entry.
 *
 * Positions are absolute (they count every byte of a solid run), so "has this byte been written
 * out yet" and "does this RAR 2.9 filter block lie before that point" are plain comparisons;
 * the window array is indexed with the position masked by its power-of-two size.
 */

/**
 * The smallest window allocated. RAR 1.5 and 2.0 use 64 KiB to 1 MiB dictionaries, but a
 * RAR 2.9 filter block (up to 256 KiB) must stay in the window until all of it is decoded,
 * so the floor leaves room for that whatever the header says.
 */
const MIN_WINDOW = 1 << 20;
/** Pending bytes are written out before they come this close to being overwritten (a match is at most a few hundred bytes). */
const FLUSH_MARGIN = 0x1000;

/** The bytes of one entry as they are decoded: the first `limit` kept, all of them counted. */
export class EntryOutput {
  private readonly kept: OutputBuffer;
  /** Bytes of the entry written so far (never more than its size). */
  written = 0;

  constructor(
    readonly size: number,
    limit: number,
  ) {
    this.kept = new OutputBuffer(Math.min(limit, size));
  }

  write(bytes: Uint8Array): void {
    const count = Math.min(bytes.length, this.size - this.written);
    if (count <= 0) return;
    if (this.kept.length < this.kept.limit) this.kept.append(count === bytes.length ? bytes : bytes.subarray(0, count));
    this.written += count;
  }

  result(): Uint8Array {
    return this.kept.result();
  }
}

export class LzWindow {
  private bytes: Uint8Array;
  private mask: number;
  /** Absolute position of the next byte to decode. */
  pos = 0;
  /** Absolute position up to which bytes have been written to the output. */
  flushed = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(windowSize(size));
    this.mask = this.bytes.length - 1;
  }

  /** Pending bytes beyond which the decoder must write out before decoding on. */
  get flushLimit(): number {
    return this.bytes.length - FLUSH_MARGIN;
  }

  /** Starts a new run: position 0 and a zeroed dictionary, as a non-solid entry expects. */
  clear(): void {
    this.bytes.fill(0, 0, Math.min(this.pos, this.bytes.length));
    this.pos = 0;
    this.flushed = 0;
  }

  /** Grows the window to hold a dictionary of `size` bytes, keeping its content (a solid entry may ask for more). */
  ensure(size: number): void {
    const wanted = windowSize(size);
    if (wanted <= this.bytes.length) return;
    const old = this.bytes;
    const oldMask = this.mask;
    this.bytes = new Uint8Array(wanted);
    this.mask = wanted - 1;
    for (let p = Math.max(0, this.pos - old.length); p < this.pos; ) {
      const from = p & oldMask;
      const count = Math.min(this.pos - p, old.length - from, wanted - (p & this.mask));
      this.bytes.set(old.subarray(from, from + count), p & this.mask);
      p += count;
    }
  }

  put(byte: number): void {
    this.bytes[this.pos & this.mask] = byte;
    this.pos++;
  }

  /** Repeats `length` bytes from `distance` back; the copy may overlap itself and wrap around. */
  copy(distance: number, length: number): void {
    const bytes = this.bytes;
    const mask = this.mask;
    let to = this.pos & mask;
    let from = (this.pos - distance) & mask;
    this.pos += length;
    if (length >= 64 && distance >= length && from + length <= bytes.length && to + length <= bytes.length) {
      bytes.copyWithin(to, from, from + length);
      return;
    }
    for (let i = 0; i < length; i++) {
      bytes[to] = bytes[from]!;
      to = (to + 1) & mask;
      from = (from + 1) & mask;
    }
  }

  /** Copies `length` window bytes from absolute position `start` into `dest` (a RAR 2.9 filter's input). */
  read(start: number, length: number, dest: Uint8Array): void {
    for (let done = 0; done < length; ) {
      const from = (start + done) & this.mask;
      const count = Math.min(length - done, this.bytes.length - from);
      dest.set(this.bytes.subarray(from, from + count), done);
      done += count;
    }
  }

  /** Writes the decoded bytes from `flushed` up to `upTo` to `out`. */
  flush(out: EntryOutput, upTo = this.pos): void {
    while (this.flushed < upTo) {
      const from = this.flushed & this.mask;
      const count = Math.min(upTo - this.flushed, this.bytes.length - from);
      out.write(this.bytes.subarray(from, from + count));
      this.flushed += count;
    }
  }
}

function windowSize(dictionary: number): number {
  let size = MIN_WINDOW;
  while (size < dictionary) size *= 2;
  return size;
}
