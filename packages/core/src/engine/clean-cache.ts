/**
 * ClamAV's cache of clean results (libclamav cache.c): the MD5 and size of each object found
 * clean, a file or anything unpacked from one, so that the same bytes are not scanned again by
 * the same scanner (one engine, one set of options, which make the result the same). Bounded by
 * `capacity` entries (`CacheSize`); the least recently used goes first.
 */
export class CleanCache {
  private readonly entries = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** The key of `size` bytes with this MD5 digest (hex). */
  static keyOf(md5: string, size: number): string {
    return `${md5}:${size}`;
  }

  /** Was this found clean? A hit becomes the most recently used entry. */
  has(key: string): boolean {
    if (!this.entries.delete(key)) return false;
    this.entries.add(key);
    return true;
  }

  add(key: string): void {
    this.entries.add(key);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.values().next().value!);
  }
}
