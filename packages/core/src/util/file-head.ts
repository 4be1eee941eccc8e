import { closeSync, openSync, readSync } from 'node:fs';

/** The first `length` bytes of a file (fewer if it is shorter), without reading the rest. */
export function readFileHead(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(length);
    const read = readSync(fd, head, 0, length, 0);
    return head.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
