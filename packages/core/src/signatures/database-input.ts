import { closeSync, openSync, readSync, fstatSync } from 'node:fs';

/**
 * A database file's bytes, either whole or as chunks that each end at a line end, so that loaders
 * of huge line-based files (hash databases of millions of lines) need not hold the file in memory.
 */
export interface DatabaseInput {
  /** Line-aligned chunks, in order (one chunk for small or in-memory files). */
  chunks(): Iterable<Uint8Array>;
  /** Everything at once. */
  whole(): Uint8Array;
}

export function inMemoryInput(data: Uint8Array): DatabaseInput {
  return { chunks: () => [data], whole: () => data };
}

/** Chunk size for reading database files from disk. */
const CHUNK_SIZE = 16 * 1024 * 1024;

/** A file read in line-aligned chunks; `whole()` reads it at once. */
export function fileInput(path: string): DatabaseInput {
  return {
    *chunks() {
      const fd = openSync(path, 'r');
      try {
        let carry = new Uint8Array(0);
        for (;;) {
          const buffer = Buffer.allocUnsafe(carry.length + CHUNK_SIZE);
          buffer.set(carry);
          const read = readSync(fd, buffer, carry.length, CHUNK_SIZE, null);
          const filled = carry.length + read;
          if (read === 0) {
            if (filled > 0) yield buffer.subarray(0, filled);
            return;
          }
          const lastNewline = buffer.lastIndexOf(0x0a, filled - 1);
          if (lastNewline < 0) {
            carry = buffer.subarray(0, filled);
            continue;
          }
          yield buffer.subarray(0, lastNewline + 1);
          carry = Buffer.from(buffer.subarray(lastNewline + 1, filled));
        }
      } finally {
        closeSync(fd);
      }
    },
    whole() {
      const fd = openSync(path, 'r');
      try {
        const size = fstatSync(fd).size;
        const data = Buffer.allocUnsafe(size);
        let offset = 0;
        while (offset < size) {
          const read = readSync(fd, data, offset, size - offset, null);
          if (read === 0) break;
          offset += read;
        }
        return data.subarray(0, offset);
      } finally {
        closeSync(fd);
      }
    },
  };
}
