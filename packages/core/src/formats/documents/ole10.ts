import { readUint32LE } from './bytes.js';

/**
 * An OLE 1.0 "native" object stream (`\x01Ole10Native`, also what RTF `\objdata` holds for
 * non-OLE2 objects): a 32-bit size, then — when the stream is larger than that size by at least
 * 4 bytes — a header (2 bytes, file name, source path, 8 bytes, temporary path, each path
 * NUL-terminated) and the real 32-bit size of the embedded file. Returns the embedded file as
 * ClamAV's cli_scan_ole10 extracts it, or undefined when the stream is too broken.
 *
 * ClamAV copies the file in 8 KiB blocks and stops at the first block it cannot read in full, so
 * a truncated file is cut back to a multiple of 8 KiB; that is reproduced.
 */
export function extractOle10Native(stream: Uint8Array): Uint8Array | undefined {
  if (stream.length < 4) return undefined;
  let size = readUint32LE(stream, 0);
  let pos = 4;
  if (stream.length - size >= 4) {
    // Type id, file name, source path, 8 unknown bytes, temporary path.
    pos = pastNul(stream, pastNul(stream, pos + 2));
    pos = pastNul(stream, pos === -1 ? -1 : pos + 8);
    if (pos === -1 || pos + 4 > stream.length) return undefined;
    size = readUint32LE(stream, pos);
    pos += 4;
  }
  const BLOCK = 8192;
  let end = pos;
  for (let remaining = size; remaining > 0; ) {
    const block = Math.min(BLOCK, remaining);
    if (end + block > stream.length) break;
    end += block;
    remaining -= block;
  }
  return stream.subarray(pos, end);
}

/** The offset after the next NUL from `pos`, or -1 (also when `pos` is -1 or past the end). */
function pastNul(stream: Uint8Array, pos: number): number {
  if (pos < 0 || pos >= stream.length) return -1;
  const nul = stream.indexOf(0, pos);
  return nul === -1 ? -1 : nul + 1;
}
