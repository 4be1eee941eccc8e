/**
 * .xz streams (CL_TYPE_XZ), as ClamAV's cli_scanxz reads them. The decompressed data is one
 * object, scanned only when decoding reached a normal end (see archive/xz-decoder.ts for what
 * ClamAV counts as one): on any error or truncation ClamAV prints an error and scans nothing.
 * A block asking for a dictionary over 1 GiB raises Heuristics.XZ.DicSizeLimit instead.
 *
 * Limits: past the size budget ClamAV stops (warning "decompress file size exceeds limits") and
 * the scanner skips the oversize result; we yield `maxObjectSize + 1` bytes so it does the same.
 * Blocks may pass LZMA2's output through delta and branch-converter filters, as ClamAV's do.
 */
import type { FormatHandler } from './handler.js';
import { OutputBuffer } from './archive/output-buffer.js';
import { unxzInto } from './archive/xz-decoder.js';

export const xzHandler: FormatHandler = {
  name: 'xz',
  fileTypes: ['CL_TYPE_XZ'],
  scanSwitch: 'archive',
  *extract(data, ctx) {
    const out = new OutputBuffer(ctx.maxObjectSize + 1, data.length * 4);
    const result = unxzInto(data, out);
    switch (result.end) {
      case 'stream-end':
        yield { data: out.result() };
        return;
      case 'limit':
        ctx.warning(`cli_scanxz: decompress file size exceeds limits - only scanning ${out.length} bytes`);
        yield { data: out.result() };
        return;
      case 'dictionary-too-large':
        ctx.heuristic('always', 'Heuristics.XZ.DicSizeLimit');
        return;
      default:
        ctx.error(`cli_scanxz: ${result.error ?? 'decompress error'}`);
    }
  },
};
