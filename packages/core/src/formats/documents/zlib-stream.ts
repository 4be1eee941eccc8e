/**
 * zlib (RFC 1950) streams the way libclamav inflates them with zlib's inflate(): the PDF
 * FlateDecode filter, PowerPoint embedded objects and compressed Office streams.
 *
 * Node's zlib is the fast path. Its one-shot API throws away the output produced before a data
 * error and cannot stop exactly at a size limit, and ClamAV keeps such partial output, so on
 * those errors the stream is decoded again with the zip handler's deflate decoder, which
 * reproduces zlib's partial output and error points.
 */
import { constants, inflateSync } from 'node:zlib';
import { inflateRawInto } from '../archive/inflate.js';
import { OutputBuffer } from '../archive/output-buffer.js';

export type ZlibEnd =
  /** The stream and its Adler-32 check ended (Z_STREAM_END). */
  | 'stream-end'
  /** The input ran out first (zlib would wait for more: Z_OK / Z_BUF_ERROR). */
  | 'input-end'
  /** The output reached the limit with more to come. */
  | 'limit'
  /** Corrupt header or data (Z_DATA_ERROR), a preset dictionary is needed (Z_NEED_DICT), or no input (Z_BUF_ERROR). */
  | 'error';

export interface ZlibResult {
  readonly data: Uint8Array;
  readonly end: ZlibEnd;
  /** Input bytes zlib consumed, header and check included. */
  readonly consumed: number;
  /** zlib's message for 'error'. */
  readonly error?: string;
}

/** Inputs below this size are decoded by the exact decoder directly. */
const SMALL_INPUT = 4096;

export function inflateZlib(input: Uint8Array, limit: number): ZlibResult {
  // zlib makes no progress on empty input: Z_BUF_ERROR, which callers treat as a failure.
  if (!input.length) return { data: input, end: 'error', consumed: 0, error: 'no progress' };
  // Setting up a zlib stream costs more than decoding a small input here.
  if (input.length < SMALL_INPUT) return inflateZlibExact(input, limit);
  try {
    const { buffer, engine } = inflateSync(input, { maxOutputLength: Math.max(limit, 1), info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    if (buffer.length <= limit) return { data: buffer, end: 'stream-end', consumed: engine.bytesWritten };
  } catch (error) {
    if ((error as { code?: string }).code === 'Z_BUF_ERROR') {
      // Truncated input: zlib keeps everything decoded so far.
      try {
        const data = inflateSync(input, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(limit, 1) });
        if (data.length <= limit) return { data, end: 'input-end', consumed: input.length };
      } catch {
        // fall through to the exact decoder
      }
    }
  }
  return inflateZlibExact(input, limit);
}

/** zlib's inflate() semantics without Node: header checks, partial output, the Adler-32 check. */
function inflateZlibExact(input: Uint8Array, limit: number): ZlibResult {
  const empty = new Uint8Array(0);
  if (input.length < 2) return { data: empty, end: 'input-end', consumed: input.length };
  const cmf = input[0]!;
  const flg = input[1]!;
  const headerError = (error: string): ZlibResult => ({ data: empty, end: 'error', consumed: 2, error });
  if (((cmf << 8) | flg) % 31) return headerError('incorrect header check');
  if ((cmf & 0x0f) !== 8) return headerError('unknown compression method');
  if ((cmf >> 4) + 8 > 15) return headerError('invalid window size');
  if (flg & 0x20) return { data: empty, end: 'error', consumed: Math.min(6, input.length), error: 'need dictionary' };
  const out = new OutputBuffer(limit);
  const raw = inflateRawInto(input.subarray(2), out);
  const data = out.bytes.subarray(0, out.length);
  let consumed = 2 + raw.consumed;
  if (raw.end !== 'stream-end') return { data, end: raw.end, consumed, error: raw.error };
  if (input.length - consumed < 4) return { data, end: 'input-end', consumed: input.length };
  const expected = ((input[consumed]! << 24) | (input[consumed + 1]! << 16) | (input[consumed + 2]! << 8) | input[consumed + 3]!) >>> 0;
  consumed += 4;
  if (adler32(data) !== expected) return { data, end: 'error', consumed, error: 'incorrect data check' };
  return { data, end: 'stream-end', consumed };
}

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; ) {
    const end = Math.min(i + 3800, data.length); // keeps the sums exact between reductions
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
