/**
 * NSIS's bzip2 variant, as ClamAV's copy of NSIS's libbzip2 (libclamav/nsis/bzlib.c) decodes
 * it: no stream header (blocks are always up to 900 000 bytes), each block announced by one byte
 * (0x31 a block, 0x17 the end of the stream) instead of bzip2's 48-bit magic numbers, no block or
 * stream CRC, no randomised-block bit, and more selectors than a block can use are an error.
 * The block coding itself is bzip2's, decoded by the shared block decoder.
 */
import { Bzip2Bits, Bzip2DataError, Bzip2InputEnd, decodeBlock } from '../archive/bzip2-decoder.js';
import type { OutputBuffer } from '../archive/output-buffer.js';
import type { NsisStreamResult } from './nsis-stream.js';

const BLOCK_MAX = 900000;
const BLOCK_MARK = 0x31;
const END_MARK = 0x17;

/**
 * Decodes the stream at `input[start]` into `out`. A block reaches the output whole or not at
 * all, and what was decoded before an error is what ClamAV receives.
 */
export function nsisBunzip2Into(input: Uint8Array, start: number, out: OutputBuffer): NsisStreamResult {
  const base = out.length;
  const bits = new Bzip2Bits(input.subarray(start));
  const tt = new Uint32Array(BLOCK_MAX);
  // The call that hands over a block's last bytes goes on to read the next block.
  const stopped = (end: NsisStreamResult['end'], error?: string): NsisStreamResult => ({ end, consumed: bits.pos, settledAt: out.length - base, error });
  try {
    for (;;) {
      const mark = bits.read(8);
      if (mark === END_MARK) return stopped('end');
      if (mark !== BLOCK_MARK) throw new Bzip2DataError('bad block mark');
      if (decodeBlock(bits, tt, BLOCK_MAX, out, false) === undefined) return stopped('limit');
    }
  } catch (caught) {
    if (caught instanceof Bzip2InputEnd) return stopped('input-end');
    if (caught instanceof Bzip2DataError) return stopped('error', caught.message);
    throw caught;
  }
}
