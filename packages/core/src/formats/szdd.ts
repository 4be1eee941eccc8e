/**
 * Microsoft "SZDD" files (COMPRESS.EXE / EXPAND.EXE, CL_TYPE_MSSZDD), decoded as ClamAV's
 * cli_msexpand decodes them: a 14-byte header ("SZDD", 88 F0 27 33, mode 'A', a zero byte — a
 * non-zero "missing last character" byte is rejected — and the expanded size), then LZSS with a
 * 4 KiB window that starts zero-filled with the write position 16 bytes before its end.
 *
 * ClamAV writes the output in 2 KiB pieces and stops after the first piece that reaches the
 * declared size, so the result is the decoded data cut at the first multiple of 2 KiB at or past
 * that size (the declared size itself is not trusted to be exact). A declared size over the
 * budget means nothing is expanded (and Heuristics.Limits.Exceeded.* when enabled).
 */
import type { FormatHandler } from './handler.js';
import { OutputBuffer } from './archive/output-buffer.js';

const HEADER_SIZE = 14;
const MAGIC = [0x53, 0x5a, 0x44, 0x44, 0x88, 0xf0, 0x27, 0x33, 0x41, 0x00];
const WINDOW_SIZE = 4096;
const WINDOW_START = WINDOW_SIZE - 16;
/** ClamAV's write buffer (RW_SIZE). */
const PIECE = 2048;

export const szddHandler: FormatHandler = {
  name: 'szdd',
  fileTypes: ['CL_TYPE_MSSZDD'],
  scanSwitch: 'archive',
  *extract(data, ctx) {
    if (data.length < HEADER_SIZE || MAGIC.some((byte, i) => data[i] !== byte)) {
      ctx.debug('MSEXPAND: Not supported file format');
      return;
    }
    const declared = new DataView(data.buffer, data.byteOffset + 10, 4).getUint32(0, true);
    if (declared > ctx.maxObjectSize) {
      ctx.heuristic('exceeds-max', 'Heuristics.Limits.Exceeded.MaxFileSize');
      return;
    }
    const out = new OutputBuffer(Math.max(1, Math.ceil(declared / PIECE)) * PIECE, data.length * 4);
    expand(data.subarray(HEADER_SIZE), out);
    yield { data: out.result() };
  },
};

/** LZSS: a flag byte (LSB first; 1 = literal) then literals or 2-byte (position, length) pairs. */
function expand(input: Uint8Array, out: OutputBuffer): void {
  const window = new Uint8Array(WINDOW_SIZE);
  let write = WINDOW_START;
  let pos = 0;
  const put = (byte: number): boolean => {
    if (out.room(1) === 0) return false;
    out.bytes[out.length++] = byte;
    window[write] = byte;
    write = (write + 1) & (WINDOW_SIZE - 1);
    return true;
  };
  while (pos < input.length) {
    const flags = input[pos++]!;
    for (let bit = 0; bit < 8; bit++) {
      if (flags & (1 << bit)) {
        if (pos >= input.length) return;
        if (!put(input[pos++]!)) return;
        continue;
      }
      if (input.length - pos < 2) return;
      let from = input[pos]! | ((input[pos + 1]! & 0xf0) << 4);
      const length = (input[pos + 1]! & 0x0f) + 3;
      pos += 2;
      for (let i = 0; i < length; i++) {
        if (!put(window[from]!)) return;
        from = (from + 1) & (WINDOW_SIZE - 1);
      }
    }
  }
}
