/**
 * LZW decoding as libclamav's lzw/lzwdec.c does it for the PDF LZWDecode filter: MSB-first
 * codes of 9 to 12 bits, code 256 clears the table, 257 ends the data, and with "early change"
 * (the PDF default) the code width grows one code early. ClamAV's quirks are kept: the code read
 * after a clear is emitted directly, a full 12-bit table stops growing (codes keep decoding
 * against it), and a code beyond the table is a data error that keeps the output so far.
 */

export type LzwEnd =
  /** The input ran out (LZW_OK). */
  | 'input-end'
  /** The end-of-information code (LZW_STREAM_END). */
  | 'stream-end'
  /** Nothing could be read at all (LZW_BUF_ERROR). */
  | 'no-progress'
  /** A code that is not in the table (LZW_DATA_ERROR). */
  | 'error'
  /** The output reached the limit. */
  | 'limit';

export interface LzwResult {
  readonly data: Uint8Array;
  readonly end: LzwEnd;
}

const CODE_CLEAR = 256;
const CODE_EOI = 257;
const CODE_FIRST = 258;
const BITS_MIN = 9;
const BITS_VALID = 12;
/** Codes below this may still add table entries (MAXCODE(12) + 1). */
const TABLE_LIMIT = 4096;
const TABLE_SIZE = 1 << 14;

export function decodeLzw(input: Uint8Array, earlyChange: boolean, limit: number): LzwResult {
  // The table as parallel arrays: each entry is its last byte plus a link to its prefix.
  const prefix = new Int32Array(TABLE_SIZE).fill(-1);
  const length = new Uint16Array(TABLE_SIZE);
  const value = new Uint8Array(TABLE_SIZE);
  const first = new Uint8Array(TABLE_SIZE);
  for (let code = 0; code < 256; code++) {
    length[code] = 1;
    value[code] = code;
    first[code] = code;
  }
  let out = new Uint8Array(Math.min(Math.max(limit, 1), Math.max(1024, input.length * 4)));
  let written = 0;
  let at = 0;
  let nextData = 0;
  let nextBits = 0;
  let nbits = BITS_MIN;
  let mask = (1 << nbits) - 1;
  let maxCode = mask - 1;
  let freeEntry = CODE_FIRST;
  let oldCode = CODE_CLEAR;
  let consumed = false;

  /** The next code, or -1 when the input runs out (a partly read code is simply lost). */
  const nextCode = (): number => {
    if (at >= input.length) return -1;
    nextData = ((nextData << 8) | input[at++]!) & 0xffffff;
    consumed = true;
    nextBits += 8;
    if (nextBits < nbits) {
      if (at >= input.length) return -1;
      nextData = ((nextData << 8) | input[at++]!) & 0xffffff;
      nextBits += 8;
    }
    const code = (nextData >> (nextBits - nbits)) & mask;
    nextBits -= nbits;
    return code;
  };
  /** Appends `count` bytes, growing the buffer; false when the limit cuts the output. */
  const room = (count: number): boolean => {
    if (written + count > out.length && out.length < limit) {
      const grown = new Uint8Array(Math.min(limit, Math.max(out.length * 2, written + count)));
      grown.set(out.subarray(0, written));
      out = grown;
    }
    return written + count <= out.length;
  };
  const result = (end: LzwEnd): LzwResult => ({ data: out.subarray(0, written), end });
  const emit = (code: number): boolean => {
    const size = length[code]!;
    if (!room(size)) {
      // Write what fits of the string (it is stored back to front) and stop.
      const fits = out.length - written;
      let entry = code;
      for (let skip = size - fits; skip > 0; skip--) entry = prefix[entry]!;
      for (let i = fits - 1; i >= 0; i--) {
        out[written + i] = value[entry]!;
        entry = prefix[entry]!;
      }
      written += fits;
      return false;
    }
    let entry = code;
    for (let i = size - 1; i >= 0; i--) {
      out[written + i] = value[entry]!;
      entry = prefix[entry]!;
    }
    written += size;
    return true;
  };
  /** A clear code: reset the table and emit the code that follows it. */
  const clear = (): LzwEnd | undefined => {
    freeEntry = CODE_FIRST;
    nbits = BITS_MIN;
    mask = (1 << nbits) - 1;
    maxCode = mask - 1;
    let code = CODE_CLEAR;
    while (code === CODE_CLEAR) {
      const next = nextCode();
      if (next < 0) break;
      code = next;
    }
    oldCode = code;
    if (code < 256) {
      if (!emit(code)) return 'limit';
    } else if (code === CODE_EOI) return 'stream-end';
    else if (code >= CODE_FIRST) return 'error';
    return undefined;
  };

  let end = clear();
  if (end) return result(end);
  for (;;) {
    const code = nextCode();
    if (code < 0) break;
    if (code === CODE_EOI) return result('stream-end');
    if (code === CODE_CLEAR) {
      end = clear();
      if (end) return result(end);
      continue;
    }
    if (freeEntry < TABLE_LIMIT) {
      if (!earlyChange && freeEntry > maxCode) growCodes();
      prefix[freeEntry] = oldCode;
      first[freeEntry] = first[oldCode]!;
      length[freeEntry] = length[oldCode]! + 1;
      value[freeEntry] = code < freeEntry ? first[code]! : first[freeEntry]!;
      freeEntry++;
      if (earlyChange && freeEntry > maxCode) growCodes();
      oldCode = code;
    }
    if (code >= 256 && code >= freeEntry) return result('error');
    if (!emit(code)) return result('limit');
  }
  return result(consumed || written ? 'input-end' : 'no-progress');

  function growCodes(): void {
    nbits = Math.min(nbits + 1, BITS_VALID);
    mask = (1 << nbits) - 1;
    maxCode = mask - 1;
  }
}
