import { buildHuffman, readHuffmanSymbol, type HuffmanTable } from '../compression/huffman.js';
import type { RarBitInput } from './rar15-bits.js';

/**
 * What RAR 2.0 introduced and RAR 2.9 kept: canonical Huffman codes of at most 15 bits (sent as
 * code lengths, themselves Huffman coded) and the slot tables that turn a length or distance
 * symbol into a base value plus a number of extra bits.
 */

export const MAX_CODE_BITS = 15;

/** Match lengths: 28 slots. */
export const LENGTH_BASE = new Uint8Array([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224,
]);
export const LENGTH_BITS = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5]);

/**
 * Distances: 60 slots (RAR 2.0 uses the first 48). Extra bits grow by one every two slots up to
 * 16, then 14 more slots of 16 bits and 12 of 18 bits reach the 4 MiB dictionary.
 */
export const DISTANCE_BITS = new Uint8Array(60);
export const DISTANCE_BASE = new Uint32Array(60);
{
  const slotsPerBits = [4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 14, 0, 12];
  let slot = 0;
  let base = 0;
  slotsPerBits.forEach((count, bits) => {
    for (let i = 0; i < count; i++, slot++) {
      DISTANCE_BITS[slot] = bits;
      DISTANCE_BASE[slot] = base;
      base += 2 ** bits;
    }
  });
}

/** Short distances of the length-2 matches: 8 slots. */
export const SHORT_BASE = new Uint8Array([0, 4, 8, 16, 32, 64, 128, 192]);
export const SHORT_BITS = new Uint8Array([2, 2, 3, 4, 5, 6, 6, 6]);

export function huffmanTable(lengths: Uint8Array): HuffmanTable {
  return buildHuffman(lengths, MAX_CODE_BITS);
}

/** Decodes one symbol; a code the table does not hold is corrupt data. */
export function readSymbol(input: RarBitInput, table: HuffmanTable): number {
  return readHuffmanSymbol(input, table, 'RAR');
}
