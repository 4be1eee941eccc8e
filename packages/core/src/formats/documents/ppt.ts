/**
 * Embedded OLE objects of a PowerPoint document stream as libclamav's cli_ppt_vba_read finds
 * them: a flat walk over the stream's top-level records (containers are stepped over whole),
 * inflating each compressed ExOleObjStg record (type 0x1011).
 */
import { readUint16LE, readUint32LE } from './bytes.js';
import { inflateZlib } from './zlib-stream.js';

const RECORD_HEADER = 8;
const EX_OLE_OBJ_STG = 0x1011;
/** ClamAV feeds zlib this many bytes at a time; where it stops reading decides the next record. */
const READ_SIZE = 8192;

/**
 * The inflated objects, in stream order, or undefined where ClamAV discards all of them: a
 * record of length 0 or an object whose data runs past the stream.
 */
export function extractPptObjects(stream: Uint8Array, limit: number): Uint8Array[] | undefined {
  const objects: Uint8Array[] = [];
  let pos = 0;
  while (pos + RECORD_HEADER <= stream.length) {
    const type = readUint16LE(stream, pos + 2);
    const length = readUint32LE(stream, pos + 4);
    pos += RECORD_HEADER;
    if (length === 0) return undefined;
    if (type !== EX_OLE_OBJ_STG) {
      pos += length;
      continue;
    }
    // Skip the object id; the rest is a zlib stream (a record shorter than 4 wraps around).
    pos += 4;
    const size = (length - 4) >>> 0;
    const available = Math.max(0, stream.length - pos);
    const result = inflateZlib(stream.subarray(pos, pos + Math.min(size, available)), limit);
    const read =
      result.end === 'input-end' || result.end === 'limit' ? size : Math.min(size, Math.ceil(Math.max(result.consumed, 1) / READ_SIZE) * READ_SIZE);
    if (read > available) return undefined;
    if (result.data.length) objects.push(result.data);
    pos += read;
  }
  return objects;
}
