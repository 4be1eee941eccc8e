/**
 * NSIS's bzip2 variant, as ClamAV's copy of NSIS's libbzip2 (libclamav/nsis/bzlib.c) decodes
 * it: no stream header (blocks are always up to 900 000 bytes), each block announced by one byte
 * (0x31 a block, 0x17 the end of the stream) instead of bzip2's 48-bit magic numbers, no block or
 * stream CRC, no randomised-block bit, and more selectors than a block can use are an error.
 * The block coding itself is bzip2's, decoded by the shared block decoder.
 */
import { Bzip2Bits, Bzip2DataError, Bzip2InputEnd, Bzip2RunPastBlock, decodeBlock } from '../archive/bzip2-decoder.js';
import type { OutputBuffer } from '../archive/output-buffer.js';
import { callStartOf, type CallSize, INPUT_LEFT_AT_END, type NsisStreamResult } from './nsis-stream.js';

const BLOCK_MAX = 900000;

/** The block buffer (3.6 MB), which the files of one archive share. */
export function nsisBzip2Workspace(): Uint32Array {
  return new Uint32Array(BLOCK_MAX);
}
const BLOCK_MARK = 0x31;
const END_MARK = 0x17;

/**
 * Decodes the stream at `input[start]` into `out`. A block reaches the output whole or not at
 * all, and what was decoded before an error is what ClamAV receives, except for a block that
 * ends inside a run: then the output of the call that fails is lost (see Bzip2RunPastBlock).
 */
export function nsisBunzip2Into(input: Uint8Array, start: number, out: OutputBuffer, callSize: CallSize, tt: Uint32Array): NsisStreamResult {
  const base = out.length;
  const data = input.subarray(start);
  const bits = new Bzip2Bits(data);
  let blockStart = base;
  let inputUsedUpAfter = Number.POSITIVE_INFINITY;
  // A block (and its mark) is read by the call that hands over the last bytes of the one before.
  const noteInputLeft = (): void => {
    if (inputUsedUpAfter !== Number.POSITIVE_INFINITY || data.length - bits.pos > INPUT_LEFT_AT_END) return;
    inputUsedUpAfter = callStartOf(blockStart - base - 1, callSize, out.bytes.subarray(base));
  };
  const stopped = (end: NsisStreamResult['end'], error?: string): NsisStreamResult => {
    noteInputLeft();
    return { end, inputUsedUpAfter, error };
  };
  try {
    for (;;) {
      blockStart = out.length;
      const mark = bits.read(8);
      noteInputLeft();
      if (mark === END_MARK) return stopped('end');
      if (mark !== BLOCK_MARK) throw new Bzip2DataError('bad block mark');
      if (decodeBlock(bits, tt, BLOCK_MAX, out, false) === undefined) return stopped('limit');
      noteInputLeft();
    }
  } catch (caught) {
    if (caught instanceof Bzip2RunPastBlock) {
      const failingCall = base + callStartOf(caught.runEnd - 1 - base, callSize, out.bytes.subarray(base));
      out.cut(Math.max(blockStart, failingCall));
    }
    if (caught instanceof Bzip2InputEnd) return stopped('input-end');
    if (caught instanceof Bzip2DataError) return stopped('error', caught.message);
    throw caught;
  }
}
