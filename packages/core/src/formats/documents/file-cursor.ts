/**
 * A read position over a byte array with the semantics of the POSIX file calls libclamav's
 * VBA and PowerPoint parsers are written with: a short read consumes what is there and fails,
 * seeking past the end succeeds (later reads fail), only a negative position is an error.
 * Porting those parsers on top of it keeps their recovery paths (rewinds after failed reads)
 * behaving exactly as in ClamAV.
 */
export class FileCursor {
  pos = 0;

  constructor(readonly data: Uint8Array) {}

  /** `n` bytes, or undefined after a short read (which still advances to the end). */
  read(n: number): Uint8Array | undefined {
    const start = Math.min(this.pos, this.data.length);
    const end = Math.min(start + n, this.data.length);
    this.pos = Math.max(this.pos, end);
    return end - start === n ? this.data.subarray(start, end) : undefined;
  }

  readUint8(): number | undefined {
    return this.read(1)?.[0];
  }

  readUint16(bigEndian = false): number | undefined {
    const bytes = this.read(2);
    if (!bytes) return undefined;
    return bigEndian ? (bytes[0]! << 8) | bytes[1]! : bytes[0]! | (bytes[1]! << 8);
  }

  readUint32(bigEndian = false): number | undefined {
    const bytes = this.read(4);
    if (!bytes) return undefined;
    const value = bigEndian
      ? (bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!
      : bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24);
    return value >>> 0;
  }

  /** lseek(SEEK_SET); false (position unchanged) for a negative target. */
  seek(position: number): boolean {
    if (position < 0) return false;
    this.pos = position;
    return true;
  }

  /** lseek(SEEK_CUR). */
  skip(delta: number): boolean {
    return this.seek(this.pos + delta);
  }
}
