import { corrupt } from './corrupt.js';

/**
 * Canonical Huffman decoding table (codes assigned by increasing length, then by symbol), as
 * used by LZX, ARJ and other LZH descendants. One flat lookup of `bits` (the longest code
 * length in use) indexed by the next `bits` input bits, MSB first: building it is cheap next
 * to the blocks it decodes, and decoding is one array load.
 */
export interface HuffmanTable {
  /** Number of bits to peek before a lookup (0 for an empty table). */
  readonly bits: number;
  /** Symbol for each `bits`-bit prefix; EMPTY where no code exists (incomplete table). */
  readonly symbols: Uint16Array;
  /** Code length of each symbol. */
  readonly lengths: Uint8Array;
}

export const EMPTY = 0xffff;

/**
 * Builds the table for `lengths` (0 = unused symbol, at most `maxBits`). Throws on an
 * over-subscribed set of lengths; an incomplete set is accepted (LZX allows it) and only a
 * lookup that falls into a hole fails.
 */
export function buildHuffman(lengths: Uint8Array, maxBits = 16): HuffmanTable {
  let bits = 0;
  for (let i = 0; i < lengths.length; i++) if (lengths[i]! > bits) bits = lengths[i]!;
  if (bits > maxBits) throw corrupt('Huffman code too long');
  const symbols = new Uint16Array(bits === 0 ? 1 : 1 << bits).fill(EMPTY);
  let code = 0;
  for (let len = 1; len <= bits; len++) {
    const span = 1 << (bits - len);
    for (let sym = 0; sym < lengths.length; sym++) {
      if (lengths[sym] !== len) continue;
      const start = code * span;
      if (start + span > symbols.length) throw corrupt('over-subscribed Huffman table');
      symbols.fill(sym, start, start + span);
      code++;
    }
    code <<= 1;
  }
  return { bits, symbols, lengths: lengths.slice() };
}

/** A bit source read most significant bit first through a 16-bit window (the RAR bit readers). */
export interface SixteenBitWindow {
  /** The next 16 bits, first bit in bit 15, without consuming them. */
  peek16(): number;
  skip(bits: number): void;
}

/** Decodes one symbol through a 16-bit window; a code the table does not hold is corrupt `format` data. */
export function readHuffmanSymbol(input: SixteenBitWindow, table: HuffmanTable, format: string): number {
  const symbol = table.symbols[input.peek16() >>> (16 - table.bits)]!;
  if (symbol === EMPTY) throw corrupt(`${format}: invalid Huffman code`);
  input.skip(table.lengths[symbol]!);
  return symbol;
}
