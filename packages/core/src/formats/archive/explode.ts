/**
 * PKWARE "implode" (zip method 6) decompression, behaving like ClamAV's explode.c so that the
 * same members decode to the same bytes:
 * - the Shannon–Fano trees (literal tree only when flag bit 2 is set, then length and distance
 *   trees) are rebuilt the way ClamAV builds them, first matching symbol winning;
 * - decoding runs until the input bits are used up (the declared size is not consulted), so
 *   trailing padding bits may decode into extra bytes exactly as in ClamAV;
 * - running out of input anywhere is a normal end; only an undecodable code or a bad tree is an
 *   error (ClamAV then scans nothing of the member).
 */
import { OutputBuffer } from './output-buffer.js';

export type ExplodeEnd = 'input-end' | 'limit' | 'error';

const FLAG_8K_WINDOW = 0x02;
const FLAG_LITERAL_TREE = 0x04;
const MAX_CODE_BITS = 16;

class StreamError extends Error {}
class InputEnd extends Error {}

/** Maps `length << 16 | left-aligned code` to the lowest symbol with that code. */
type Tree = Map<number, number>;

/**
 * Reads a compressed tree description at `pos`: a count byte, then bytes of (repeat-1, length-1)
 * nibbles that must describe exactly `symbols` code lengths.
 */
function readTree(input: Uint8Array, pos: number, symbols: number): { tree: Tree; next: number } {
  if (pos >= input.length) throw new InputEnd();
  const entries = input[pos]! + 1;
  if (entries > symbols) throw new StreamError('too many tree entries');
  if (input.length - pos - 1 < entries) throw new InputEnd();
  const lengths = new Uint8Array(symbols);
  let filled = 0;
  for (let i = 0; i < entries; i++) {
    const byte = input[pos + 1 + i]!;
    const count = (byte >>> 4) + 1;
    if (count > symbols - filled) throw new StreamError('tree describes too many symbols');
    lengths.fill((byte & 15) + 1, filled, filled + count);
    filled += count;
  }
  if (filled !== symbols) throw new StreamError('tree describes too few symbols');

  // Longest codes first (highest symbol first among equals) get the lowest code values.
  const order = Array.from({ length: symbols }, (_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const tree: Tree = new Map();
  let code = 0;
  let increment = 0;
  let lastLength = 0;
  for (let i = symbols - 1; i >= 0; i--) {
    code = (code + increment) & 0xffff;
    const symbol = order[i]!;
    const length = lengths[symbol]!;
    if (length !== lastLength) {
      lastLength = length;
      increment = 1 << (MAX_CODE_BITS - length);
    }
    const key = (length << 16) | code;
    const known = tree.get(key);
    if (known === undefined || symbol < known) tree.set(key, symbol);
  }
  return { tree, next: pos + 1 + entries };
}

/** Decompresses imploded `input` (zip general-purpose `flags` select window and trees) into `out`. */
export function explodeInto(input: Uint8Array, flags: number, out: OutputBuffer): ExplodeEnd {
  const lowDistanceBits = flags & FLAG_8K_WINDOW ? 7 : 6;
  const hasLiteralTree = (flags & FLAG_LITERAL_TREE) !== 0;
  const minMatch = hasLiteralTree ? 3 : 2;
  let pos = 0;
  let hold = 0;
  let bits = 0;

  const take = (count: number): number => {
    while (bits < count) {
      if (pos >= input.length) throw new InputEnd();
      hold |= input[pos++]! << bits;
      bits += 8;
    }
    const value = hold & ((1 << count) - 1);
    hold >>>= count;
    bits -= count;
    return value;
  };
  /** Codes arrive most significant bit first, one bit at a time. */
  const decode = (tree: Tree): number => {
    let code = 0;
    for (let length = 1; length <= MAX_CODE_BITS; length++) {
      code |= take(1) << (MAX_CODE_BITS - length);
      const symbol = tree.get((length << 16) | code);
      if (symbol !== undefined) return symbol;
    }
    throw new StreamError('undecodable code');
  };

  try {
    let literals: Tree | undefined;
    if (hasLiteralTree) ({ tree: literals, next: pos } = readTree(input, pos, 256));
    const { tree: lengths, next: afterLengths } = readTree(input, pos, 64);
    const { tree: distances, next: afterDistances } = readTree(input, afterLengths, 64);
    pos = afterDistances;

    while (pos < input.length || bits > 0) {
      if (take(1)) {
        const byte = literals ? decode(literals) : take(8);
        if (out.room(1) === 0) return stop(out);
        out.bytes[out.length++] = byte;
        continue;
      }
      const low = take(lowDistanceBits);
      const distance = ((decode(distances) << lowDistanceBits) | low) + 1;
      let length = decode(lengths);
      if (length === 63) length += take(8);
      length += minMatch;
      const count = out.room(length);
      // Bytes before the start of the output read as zeros.
      const zeros = Math.max(0, Math.min(count, distance - out.length));
      out.bytes.fill(0, out.length, out.length + zeros);
      out.length += zeros;
      out.repeat(distance, count - zeros);
      if (count < length) return stop(out);
    }
    return 'input-end';
  } catch (caught) {
    if (caught instanceof InputEnd) return 'input-end';
    if (caught instanceof StreamError) return 'error';
    throw caught;
  }
}

function stop(out: OutputBuffer): ExplodeEnd {
  out.truncated = true;
  return 'limit';
}
