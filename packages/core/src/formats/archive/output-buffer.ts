import { FileBackedBuffer, ReleaseBehind, releasePages, SPILL_THRESHOLD } from '../../util/file-backed.js';
/**
 * How much of its latest output a decoder keeps in memory by default: the back references of the
 * LZMA and RAR decoders mostly reach there. (Any byte stays readable: a page given back comes
 * again from the page cache when a reference reaches further.)
 */
const DEFAULT_HISTORY = 8 * 1024 * 1024;

/**
 * The growing output of a decompressor, capped at a byte limit.
 *
 * Decoders write into `bytes` directly (after `room`), because a method call per byte is too slow
 * on the hot path; the cap is how every decoder stops at `ExtractionContext.maxObjectSize` without
 * trusting any size declared in the file. `truncated` records that the stream had more to give.
 *
 * Past `SPILL_THRESHOLD` bytes the output moves to a file-backed buffer, as ClamAV writes large
 * objects to a temporary file: the pages written are given back as the writer moves on, so a
 * large object does not stay in the process's memory while it is decoded and scanned.
 */
export class OutputBuffer {
  bytes: Uint8Array = new Uint8Array(0);
  length = 0;
  /** Set when a decoder had more output than the limit allowed. */
  truncated = false;
  private file: FileBackedBuffer | undefined;
  private written: ReleaseBehind | undefined;

  /**
   * `sizeHint` is the expected output size; `history` how far back the decoder reads its own
   * output (deflate's 32 KiB window, none for bzip2), kept in memory once the output spills.
   */
  constructor(
    readonly limit: number,
    sizeHint = 64 * 1024,
    private readonly history = DEFAULT_HISTORY,
  ) {
    this.grow(Math.min(limit, sizeHint));
  }

  /**
   * Makes room for `wanted` more bytes and returns how many fit under the limit (possibly fewer,
   * possibly 0). The buffer at least doubles when it grows, so appends are amortised O(1).
   */
  room(wanted: number): number {
    const allowed = Math.max(0, Math.min(wanted, this.limit - this.length));
    const needed = this.length + allowed;
    if (this.file !== undefined) this.fileRoom(needed);
    else if (needed > this.bytes.length) this.grow(Math.min(this.limit, Math.max(needed, this.bytes.length * 2, 4096)));
    return allowed;
  }

  private grow(capacity: number): void {
    // Spilling is tried once, when the output first passes the threshold: a directory that could
    // not take the file then is not asked again at every doubling.
    const crossing = capacity > SPILL_THRESHOLD && this.bytes.length <= SPILL_THRESHOLD;
    this.file = crossing ? FileBackedBuffer.create(this.limit) : undefined;
    const next = this.file?.bytes ?? new Uint8Array(capacity);
    this.file?.reserve(this.length);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    if (this.file) this.written = new ReleaseBehind(next, this.history);
  }

  private fileRoom(needed: number): void {
    this.file!.reserve(needed);
    this.written!.advance(this.length);
  }

  /** Appends what fits of `source`; marks the buffer truncated when not all of it did. */
  append(source: Uint8Array): void {
    const count = this.room(source.length);
    this.bytes.set(count === source.length ? source : source.subarray(0, count), this.length);
    this.length += count;
    if (count < source.length) this.truncated = true;
  }

  /**
   * Appends `count` bytes copied from `distance` bytes back, after `room(count)` allowed them.
   * The regions may overlap: that is how LZ77 codes repeat a short pattern.
   */
  repeat(distance: number, count: number): void {
    const bytes = this.bytes;
    let to = this.length;
    const end = to + count;
    if (distance >= count) bytes.copyWithin(to, to - distance, end - distance);
    else for (; to < end; to++) bytes[to] = bytes[to - distance]!;
    this.length = end;
  }

  /** Drops everything past `length` bytes (decoders that flush in fixed chunks use this). */
  cut(length: number): void {
    this.length = Math.min(this.length, length);
  }

  /**
   * The output so far; a view when it fills most of the buffer or was spilled (then with all its
   * pages given back), else a right-sized copy.
   */
  result(): Uint8Array {
    const used = this.bytes.subarray(0, this.length);
    if (this.file) {
      this.file.seal();
      releasePages(used);
      return used;
    }
    return this.length * 2 >= this.bytes.length ? used : used.slice();
  }
}
