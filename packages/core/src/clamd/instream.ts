import { CHUNK_HEADER_SIZE } from './protocol.js';

/** What one `push` of INSTREAM data led to. */
export type ChunkProgress =
  /** All bytes used; the stream goes on. */
  | { readonly state: 'more' }
  /** The zero-length chunk arrived after `used` bytes; what follows belongs to the next command. */
  | { readonly state: 'end'; readonly used: number }
  /** A chunk header asked for more than the remaining quota (StreamMaxLength). */
  | { readonly state: 'too-large'; readonly requested: number; readonly remaining: number };

/**
 * Decodes the body of an INSTREAM command: chunks of `<4-byte big-endian length><data>`, ended by a
 * zero length. Like clamd, it checks each chunk header against what is left of StreamMaxLength, so
 * a stream fails as soon as a header announces more than the limit allows.
 */
export class InstreamDecoder {
  private readonly chunks: Uint8Array[] = [];
  private received = 0;
  private remainingInChunk = 0;
  private readonly header = new Uint8Array(CHUNK_HEADER_SIZE);
  private headerFill = 0;
  private quota: number;

  constructor(maxLength: number) {
    this.quota = maxLength;
  }

  /** Bytes of stream data received so far. */
  get size(): number {
    return this.received;
  }

  push(data: Uint8Array): ChunkProgress {
    let pos = 0;
    while (pos < data.length) {
      if (this.remainingInChunk === 0) {
        const take = Math.min(CHUNK_HEADER_SIZE - this.headerFill, data.length - pos);
        this.header.set(data.subarray(pos, pos + take), this.headerFill);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < CHUNK_HEADER_SIZE) break;
        this.headerFill = 0;
        const length = new DataView(this.header.buffer).getUint32(0, false);
        if (length === 0) return { state: 'end', used: pos };
        if (length > this.quota) return { state: 'too-large', requested: length, remaining: this.quota };
        this.quota -= length;
        this.remainingInChunk = length;
      }
      const take = Math.min(this.remainingInChunk, data.length - pos);
      // Copied, so that a small chunk does not pin the whole read buffer it arrived in.
      this.chunks.push(data.slice(pos, pos + take));
      this.received += take;
      this.remainingInChunk -= take;
      pos += take;
    }
    return { state: 'more' };
  }

  /** The stream's data, once it has ended. */
  data(): Uint8Array {
    return this.chunks.length === 1 ? (this.chunks[0] as Uint8Array) : Buffer.concat(this.chunks, this.received);
  }
}
