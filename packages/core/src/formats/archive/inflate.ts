/**
 * A raw deflate / deflate64 decoder (RFC 1951 and PKWARE's "enhanced deflate").
 *
 * Node's zlib is the fast path for deflate; this decoder exists for what zlib's one-shot API
 * cannot give: deflate64 (zip method 9, which zlib does not implement), the output produced
 * before a data error (ClamAV's gzip scanner keeps it), and stopping exactly at an output limit.
 * It reports errors where zlib does, with zlib's messages, so callers can mirror ClamAV, which
 * uses zlib for deflate and a zlib derivative (inflate64.c) for deflate64.
 */
import { ReleaseBehind } from '../../util/file-backed.js';
import { OutputBuffer } from './output-buffer.js';

export type DeflateVariant = 'deflate' | 'deflate64';

/** How far back a deflate64 back reference reaches (32 KiB for plain deflate). */
export const DEFLATE64_WINDOW = 64 * 1024;
export const DEFLATE_WINDOW = 32 * 1024;

/** Why decoding stopped, in zlib's terms. */
export type InflateEnd =
  /** The final block ended (zlib's Z_STREAM_END). */
  | 'stream-end'
  /** The input ran out first (zlib answers Z_BUF_ERROR: not an error for ClamAV's zip reader). */
  | 'input-end'
  /** The output reached `OutputBuffer.limit` with more to come. */
  | 'limit'
  /** Corrupt data (Z_DATA_ERROR); `error` holds zlib's message. */
  | 'error';

export interface InflateResult {
  end: InflateEnd;
  /** Input bytes used; at 'stream-end' the offset just after the final block. */
  consumed: number;
  error?: string;
}

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
// Deflate64 redefines the last length code: base 3 with 16 extra bits.
const LENGTH_BASE_64 = [...LENGTH_BASE.slice(0, 28), 3];
const LENGTH_EXTRA_64 = [...LENGTH_EXTRA.slice(0, 28), 16];
// Codes 30 and 31 exist only in deflate64 (64 KiB window); plain deflate rejects them.
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
  8193, 12289, 16385, 24577, 32769, 49153,
];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14];
/** The order in which code-length code lengths are stored. */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/**
 * A decoding table indexed by the next `bits` input bits (LSB first): each entry is
 * `symbol << 4 | codeLength`, 0 where no code exists.
 */
interface Huffman {
  table: Uint16Array;
  bits: number;
}

/** zlib's three table kinds differ in which incomplete codes they accept. */
type TableKind = 'code-lengths' | 'literals' | 'distances';

/**
 * Builds a canonical Huffman table, or returns undefined where zlib's inflate_table fails:
 * over-subscribed codes always, incomplete ones unless it is a literal or distance code whose
 * only code has length 1. A code with no symbols at all is accepted (every lookup is invalid).
 */
function buildHuffman(lengths: Uint8Array, count: number, kind: TableKind): Huffman | undefined {
  const counts = new Uint16Array(16);
  for (let i = 0; i < count; i++) counts[lengths[i]!]!++;
  let max = 15;
  while (max > 0 && counts[max] === 0) max--;
  if (max === 0) return { table: new Uint16Array(2), bits: 1 };

  let left = 1;
  for (let len = 1; len <= 15; len++) {
    left = left * 2 - counts[len]!;
    if (left < 0) return undefined;
  }
  if (left > 0 && (kind === 'code-lengths' || max !== 1)) return undefined;

  const next = new Uint16Array(16);
  counts[0] = 0;
  for (let len = 1, code = 0; len <= max; len++) {
    code = (code + counts[len - 1]!) << 1;
    next[len] = code;
  }
  const size = 1 << max;
  const table = new Uint16Array(size);
  for (let symbol = 0; symbol < count; symbol++) {
    const len = lengths[symbol]!;
    if (len === 0) continue;
    let code = next[len]!++;
    let reversed = 0;
    for (let i = 0; i < len; i++, code >>>= 1) reversed = (reversed << 1) | (code & 1);
    const entry = (symbol << 4) | len;
    for (let i = reversed; i < size; i += 1 << len) table[i] = entry;
  }
  return { table, bits: max };
}

let fixedTables: { literals: Huffman; distances: Huffman } | undefined;

function fixed(): { literals: Huffman; distances: Huffman } {
  if (!fixedTables) {
    const lengths = new Uint8Array(288);
    lengths.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
    const distances = new Uint8Array(32).fill(5);
    fixedTables = {
      literals: buildHuffman(lengths, 288, 'literals')!,
      distances: buildHuffman(distances, 32, 'distances')!,
    };
  }
  return fixedTables;
}

class DataError extends Error {}
/** Thrown (and caught below) when the input ends mid-symbol. */
class InputEnd extends Error {}

/**
 * Decodes the raw deflate stream at the start of `input`, appending to `out`. Matches may only
 * reach back to output written by this call (a fresh zlib stream has an empty window).
 */
export function inflateRawInto(input: Uint8Array, out: OutputBuffer, variant: DeflateVariant = 'deflate'): InflateResult {
  const lengthBase = variant === 'deflate64' ? LENGTH_BASE_64 : LENGTH_BASE;
  const lengthExtra = variant === 'deflate64' ? LENGTH_EXTRA_64 : LENGTH_EXTRA;
  const distanceCodes = variant === 'deflate64' ? 32 : 30;
  const windowStart = out.length;
  const inLength = input.length;
  let pos = 0;
  let hold = 0;
  let bits = 0;

  /** Makes `count` (≤ 24) bits available, or as many as the input still has. */
  const fill = (count: number): void => {
    while (bits < count && pos < inLength) {
      hold |= input[pos++]! << bits;
      bits += 8;
    }
  };
  const take = (count: number): number => {
    fill(count);
    if (bits < count) throw new InputEnd();
    const value = hold & ((1 << count) - 1);
    hold >>>= count;
    bits -= count;
    return value;
  };
  const decode = (huffman: Huffman, invalid: string): number => {
    fill(huffman.bits);
    const entry = huffman.table[hold & ((1 << huffman.bits) - 1)]!;
    const len = entry & 15;
    if (len === 0 || len > bits) {
      if (bits < huffman.bits) throw new InputEnd();
      throw new DataError(invalid);
    }
    hold >>>= len;
    bits -= len;
    return entry >>> 4;
  };
  const consumed = (): number => pos - (bits >>> 3);
  const inputRead = new ReleaseBehind(input);

  try {
    for (;;) {
      inputRead.advance(pos);
      const header = take(3);
      const final = header & 1;
      const type = header >>> 1;
      let literals: Huffman;
      let distances: Huffman;

      if (type === 0) {
        // Stored: restart at a byte boundary; whole bytes still in the bit buffer go back.
        pos = consumed();
        hold = 0;
        bits = 0;
        if (inLength - pos < 4) throw new InputEnd();
        const len = input[pos]! | (input[pos + 1]! << 8);
        const nlen = input[pos + 2]! | (input[pos + 3]! << 8);
        pos += 4;
        if (len !== (~nlen & 0xffff)) throw new DataError('invalid stored block lengths');
        const available = Math.min(len, inLength - pos);
        out.append(input.subarray(pos, pos + available));
        pos += available;
        if (out.truncated) return { end: 'limit', consumed: pos };
        if (available < len) throw new InputEnd();
        if (final) return { end: 'stream-end', consumed: pos };
        continue;
      } else if (type === 1) {
        ({ literals, distances } = fixed());
      } else if (type === 2) {
        ({ literals, distances } = readDynamicTables());
      } else {
        throw new DataError('invalid block type');
      }

      for (;;) {
        const symbol = decode(literals, 'invalid literal/length code');
        if (symbol < 256) {
          // The buffer never grows past the limit, so a full buffer that cannot grow is the limit.
          if (out.length === out.bytes.length && out.room(1) === 0) {
            out.truncated = true;
            return { end: 'limit', consumed: consumed() };
          }
          out.bytes[out.length++] = symbol;
          continue;
        }
        if (symbol === 256) break;
        const lengthCode = symbol - 257;
        if (lengthCode >= 29) throw new DataError('invalid literal/length code');
        const length = lengthBase[lengthCode]! + take(lengthExtra[lengthCode]!);
        const distanceCode = decode(distances, 'invalid distance code');
        if (distanceCode >= distanceCodes) throw new DataError('invalid distance code');
        const distance = DIST_BASE[distanceCode]! + take(DIST_EXTRA[distanceCode]!);
        if (distance > out.length - windowStart) throw new DataError('invalid distance too far back');
        const count = out.room(length);
        out.repeat(distance, count);
        if (count < length) {
          out.truncated = true;
          return { end: 'limit', consumed: consumed() };
        }
      }
      if (final) return { end: 'stream-end', consumed: consumed() };
    }
  } catch (caught) {
    if (caught instanceof InputEnd) return { end: 'input-end', consumed: inLength };
    if (caught instanceof DataError) return { end: 'error', consumed: consumed(), error: caught.message };
    throw caught;
  }

  function readDynamicTables(): { literals: Huffman; distances: Huffman } {
    const nlen = take(5) + 257;
    const ndist = take(5) + 1;
    const ncode = take(4) + 4;
    // zlib (and ClamAV's inflate64) refuse more than 30 distance codes, even for deflate64.
    if (nlen > 286 || ndist > 30) throw new DataError('too many length or distance symbols');
    const codeLengths = new Uint8Array(19);
    for (let i = 0; i < ncode; i++) codeLengths[CODE_LENGTH_ORDER[i]!] = take(3);
    const codes = buildHuffman(codeLengths, 19, 'code-lengths');
    if (!codes) throw new DataError('invalid code lengths set');

    const lengths = new Uint8Array(nlen + ndist);
    for (let have = 0; have < nlen + ndist; ) {
      const symbol = decode(codes, 'invalid code lengths set');
      if (symbol < 16) {
        lengths[have++] = symbol;
        continue;
      }
      let value = 0;
      let repeat: number;
      if (symbol === 16) {
        if (have === 0) throw new DataError('invalid bit length repeat');
        value = lengths[have - 1]!;
        repeat = 3 + take(2);
      } else if (symbol === 17) {
        repeat = 3 + take(3);
      } else {
        repeat = 11 + take(7);
      }
      if (have + repeat > nlen + ndist) throw new DataError('invalid bit length repeat');
      lengths.fill(value, have, have + repeat);
      have += repeat;
    }
    if (lengths[256] === 0) throw new DataError('invalid code -- missing end-of-block');
    const literals = buildHuffman(lengths, nlen, 'literals');
    if (!literals) throw new DataError('invalid literal/lengths set');
    const distances = buildHuffman(lengths.subarray(nlen), ndist, 'distances');
    if (!distances) throw new DataError('invalid distances set');
    return { literals, distances };
  }
}
