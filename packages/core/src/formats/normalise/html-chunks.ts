import { isSpace } from '../documents/bytes.js';

/** Size of ClamAV's HTML read buffer; a chunk holds one byte less (its NUL terminator). */
export const CHUNK_BUFFER = 8192;

/**
 * Reads a document the way libclamav's HTML code does (cli_readchunk): chunks of at most 8191
 * bytes, NUL bytes dropped (the chunk is topped up from the following input), and, unless the
 * input continues with white space, cut after the chunk's last white space so that words are not
 * split. The cut is computed on the NUL-free chunk but rewinds the input by the same count, as
 * ClamAV does.
 */
export class HtmlChunkReader {
  private offset = 0;

  constructor(private readonly data: Uint8Array) {}

  /** Fills `line` (at least CHUNK_BUFFER bytes) with the next NUL-terminated chunk; its length, or -1 at the end. */
  read(line: Uint8Array): number {
    const data = this.data;
    const start = this.offset;
    let length = Math.min(data.length - start, CHUNK_BUFFER - 1);
    if (!length) return -1;
    let next: number;
    const nul = data.subarray(start, start + length).indexOf(0);
    if (nul === -1) {
      line.set(data.subarray(start, start + length));
      next = start + length;
    } else {
      length = nul;
      line.set(data.subarray(start, start + nul));
      next = start + nul;
      while (next < data.length && length < CHUNK_BUFFER - 1) {
        const c = data[next++]!;
        if (c) line[length++] = c;
      }
    }
    this.offset = next;
    line[length] = 0;
    if (next < data.length && !isSpace(data[next]!)) {
      let cut = length;
      while (cut > 1 && !isSpace(line[cut - 1]!)) cut--;
      if (cut !== 1 && cut < length) {
        line[cut] = 0;
        this.offset -= length - cut;
        length = cut;
      }
    }
    return length;
  }
}
