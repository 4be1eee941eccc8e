/**
 * gzip (RFC 1952), as ClamAV's cli_scangzip reads it: every member is inflated in turn into one
 * output object; decoding stops at the first thing zlib rejects (a bad header, corrupt data, a
 * wrong CRC or length) and keeps everything produced before it; a truncated stream simply ends.
 * The member names and comments in the headers are not used (ClamAV passes no name).
 *
 * Limits: ClamAV stops inflating once the output passes the size budget and hands the oversize
 * result to the scanner, which skips it with Heuristics.Limits.Exceeded.*. We do the same by
 * yielding `maxObjectSize + 1` bytes at most: an object the scanner knows is over budget.
 */
import { constants as bufferConstants } from 'node:buffer';
import zlib from 'node:zlib';
import type { FormatHandler } from './handler.js';
import { DEFLATE_WINDOW, inflateRawInto } from './archive/inflate.js';
import { OutputBuffer } from './archive/output-buffer.js';
import { fileBackingAvailable, SPILL_THRESHOLD } from '../util/file-backed.js';

const FLAG_HCRC = 0x02;
const FLAG_EXTRA = 0x04;
const FLAG_NAME = 0x08;
const FLAG_COMMENT = 0x10;
const FLAG_RESERVED = 0xe0;

export const gzipHandler: FormatHandler = {
  name: 'gzip',
  fileTypes: ['CL_TYPE_GZ'],
  scanSwitch: 'archive',
  *extract(data, ctx) {
    const limit = ctx.maxObjectSize + 1;
    const result = gunzip(data, limit, ctx.debug);
    if (result.length === limit) ctx.debug(`GZip: output exceeds the size limit, stopped at ${limit} bytes`);
    yield { data: result };
  },
};

/**
 * All members of a gzip stream, inflated into at most `limit` bytes. Node's zlib does the work
 * when the stream is clean and its output small enough to hold in memory; anything it rejects,
 * and large output (which our decoder spills to a temporary file), is done by our decoder, which
 * stops where zlib stops and keeps the output before that point.
 */
export function gunzip(data: Uint8Array, limit: number, debug: (message: string) => void = () => {}): Uint8Array {
  // zlib refuses a maxOutputLength above the largest Buffer Node can allocate.
  const maxOutputLength = Math.min(limit, bufferConstants.MAX_LENGTH);
  const expectedSize = expectedOutputSize(data, maxOutputLength);
  if (limit >= 1 && (expectedSize <= SPILL_THRESHOLD || !fileBackingAvailable())) {
    try {
      return zlib.gunzipSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength, chunkSize: expectedSize });
    } catch {
      // Corrupt data, trailing garbage that looks like another member, or output over the limit.
    }
  }
  const out = new OutputBuffer(limit, expectedSize, DEFLATE_WINDOW);
  for (let offset = 0; offset < data.length; ) {
    const next = inflateMember(data, offset, out);
    if (typeof next === 'string') {
      debug(`GZip: ${next}`);
      break;
    }
    offset = next;
  }
  return out.result();
}

/**
 * The output size the last member's trailer gives (modulo 2^32), within the limit and deflate's
 * largest ratio, and at least 64 KiB. As zlib's chunk size it spares the join of the chunks
 * (which holds the output twice) for a single-member stream.
 */
function expectedOutputSize(data: Uint8Array, maxOutputLength: number): number {
  const DEFAULT_CHUNK = 64 * 1024;
  const MAX_DEFLATE_RATIO = 1032;
  if (data.length < 18) return DEFAULT_CHUNK;
  const size = new DataView(data.buffer, data.byteOffset + data.length - 4, 4).getUint32(0, true);
  // Deflate expands at most about 1032 times: a larger claim is not believed.
  return Math.max(DEFAULT_CHUNK, Math.min(size + 1, maxOutputLength, data.length * MAX_DEFLATE_RATIO));
}

/** Inflates the member at `offset`; returns the offset after it, or why decoding stops. */
function inflateMember(data: Uint8Array, offset: number, out: OutputBuffer): number | string {
  const start = skipHeader(data, offset);
  if (typeof start === 'string') return start;
  const memberStart = out.length;
  const inflated = inflateRawInto(data.subarray(start), out);
  if (inflated.end !== 'stream-end') return inflated.error ?? inflated.end;

  const trailer = start + inflated.consumed;
  if (data.length - trailer < 8) return 'input-end';
  const view = new DataView(data.buffer, data.byteOffset + trailer, 8);
  const member = out.bytes.subarray(memberStart, out.length);
  if (view.getUint32(0, true) !== zlib.crc32(member)) return 'incorrect data check';
  if (view.getUint32(4, true) !== member.length % 2 ** 32) return 'incorrect length check';
  return trailer + 8;
}

/** The offset of the deflate data after a member header, or zlib's complaint about it. */
function skipHeader(data: Uint8Array, offset: number): number | string {
  if (data.length - offset < 10) return 'input-end';
  if (data[offset] !== 0x1f || data[offset + 1] !== 0x8b) return 'incorrect header check';
  if (data[offset + 2] !== 8) return 'unknown compression method';
  const flags = data[offset + 3]!;
  if (flags & FLAG_RESERVED) return 'unknown header flags set';
  let pos = offset + 10;
  if (flags & FLAG_EXTRA) {
    if (data.length - pos < 2) return 'input-end';
    pos += 2 + (data[pos]! | (data[pos + 1]! << 8));
  }
  for (const flag of [FLAG_NAME, FLAG_COMMENT]) {
    if (!(flags & flag)) continue;
    const nul = data.indexOf(0, pos);
    if (nul < 0) return 'input-end';
    pos = nul + 1;
  }
  if (flags & FLAG_HCRC) {
    if (data.length - pos < 2) return 'input-end';
    const stored = data[pos]! | (data[pos + 1]! << 8);
    if (stored !== (zlib.crc32(data.subarray(offset, pos)) & 0xffff)) return 'header crc mismatch';
    pos += 2;
  }
  return pos > data.length ? 'input-end' : pos;
}
