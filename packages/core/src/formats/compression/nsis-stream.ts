/**
 * What the three NSIS decompressors (NSIS's bzip2 and deflate variants, LZMA) report to the NSIS
 * reader. ClamAV's reader (libclamav/nsis/nulsft.c) pulls output through a small buffer, one
 * decompressor call per buffer; on corrupt data the bytes a decoder had produced but not yet
 * handed over in that call are lost, so each decoder works out `delivered` from the sequence of
 * buffer sizes the reader passes (`CallSize`).
 */

/**
 * The size of the output buffer of the call that starts once `delivered` bytes were handed
 * over; `output` holds them (the reader of a solid archive sizes its buffers from the file
 * sizes in the stream).
 */
export type CallSize = (delivered: number, output: Uint8Array) => number;

/** ClamAV's BUFSIZ: the buffer the reader passes, at most. */
export const NSIS_BUFFER = 8192;

/** A non-solid file: every call gets a fresh full buffer. */
export const fullBuffers: CallSize = () => NSIS_BUFFER;

/** Where the call that hands over the byte at `position` begins (`output` holds the bytes before it). */
export function callStartOf(position: number, callSize: CallSize, output: Uint8Array): number {
  let start = 0;
  for (;;) {
    const size = Math.max(1, callSize(start, output.subarray(0, start)));
    if (start + size > position) return start;
    start += size;
  }
}

export type NsisStreamEnd =
  /** The stream ended (deflate's last block, bzip2's end block, an LZMA end marker). */
  | 'end'
  /** The input ran out first: the reader stops after 20 calls without output. */
  | 'input-end'
  /** The output reached `OutputBuffer.limit` with more to come. */
  | 'limit'
  /** Corrupt data; `error` says why. */
  | 'error';

/** The reader stops before a size field once no more than this many input bytes are left (NSIS's CRC). */
export const INPUT_LEFT_AT_END = 4;

export interface NsisStreamResult {
  end: NsisStreamEnd;
  /**
   * The output position after which every call of the reader starts with at most
   * INPUT_LEFT_AT_END input bytes left (the decoders read ahead of what they hand over);
   * infinite when that never happens.
   */
  inputUsedUpAfter: number;
  error?: string;
}
