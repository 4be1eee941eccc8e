/**
 * bzip2 streams (CL_TYPE_BZ), as ClamAV's cli_scanbzip reads them: the first stream is decoded
 * into one object. libbzip2's output reaches ClamAV's temporary file in 8 KiB buffers that are
 * written only when full or at the stream's end, so when the stream is corrupt or cut short the
 * last partial buffer is lost: we keep the same whole-buffer prefix.
 *
 * Limits: past the size budget ClamAV stops and the scanner skips the oversize result with
 * Heuristics.Limits.Exceeded.*; we yield `maxObjectSize + 1` bytes so the scanner does the same.
 */
import type { FormatHandler } from './handler.js';
import { bunzip2Into } from './archive/bzip2-decoder.js';
import { OutputBuffer } from './archive/output-buffer.js';

/** ClamAV's FILEBUFF: the size of the buffer cli_scanbzip writes out. */
const WRITE_BUFFER = 8192;

export const bzip2Handler: FormatHandler = {
  name: 'bzip2',
  fileTypes: ['CL_TYPE_BZ'],
  scanSwitch: 'archive',
  *extract(data, ctx) {
    // bzip2 never reads back its own output.
    const out = new OutputBuffer(ctx.maxObjectSize + 1, data.length * 4, 0);
    const result = bunzip2Into(data, out);
    if (result.end === 'error' || result.end === 'input-end') {
      ctx.debug(`Bzip: ${result.error ?? 'premature end of compressed stream'}`);
      out.cut(out.length - (out.length % WRITE_BUFFER));
    }
    yield { data: out.result() };
  },
};
