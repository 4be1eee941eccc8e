import { specialLengths, type Special } from '../signatures/body-pattern.js';
import { isStoredSpecial, isStoredStatic, staticBytesKey, storedSpecialIndex, type StaticKey } from '../signatures/pattern-elements.js';
import type { PatternTable } from './pattern-table.js';

/** The longest search window of the candidate index. */
export const WINDOW_MAX = 4;

/**
 * How rare each byte value is in scanned data, roughly -2·log2 of its frequency: a window's
 * rarity (the sum over its bytes) estimates how seldom it occurs, hence how few candidates it
 * produces. Zeros fill executables and documents, so four zeros are commoner than three
 * ordinary bytes.
 */
const RARITY = new Uint8Array(256).map((_, b) => {
  if (b === 0x00) return 2;
  if (b === 0xff) return 6;
  if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) return 8;
  if ((b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39)) return 10;
  if (b >= 0x41 && b <= 0x5a) return 11;
  return 16;
});

/** The rarity of the rarest possible window. */
const RAREST_WINDOW = WINDOW_MAX * Math.max(...RARITY);

/** A pattern's search window, as the candidate index looks for it: its bytes, and where they are. */
export interface SearchWindow extends StaticKey {
  /** Distance from the start of the pattern proper. */
  offset: number;
  /** 2 to 4 bytes. */
  length: number;
}

/**
 * The byte width of each special in `specials` when it is fixed and not zero, else 0: a search
 * window lies before the first special of width 0. One pass over the specials (a few hundred
 * objects of several shapes), so that the loop over the patterns reads only typed arrays.
 */
export function fixedSpecialWidths(specials: readonly Special[]): Uint32Array {
  return Uint32Array.from(specials, (special) => {
    const [min, max] = specialLengths(special);
    return min === max ? min : 0;
  });
}

/**
 * Pattern `p`'s search window, written to `out`: the rarest (see RARITY) run of 2 to 4 static
 * bytes lying where the distance to the pattern start is fixed and the bytes are inside what
 * ClamAV's size pre-check guarantees, i.e. before the first element of variable or unaccounted
 * length. There is always one: the pattern proper starts with its 2 or 3 byte static key.
 */
export function searchWindow(table: PatternTable, specialWidths: Uint32Array, p: number, out: SearchWindow): void {
  const { elements } = table;
  const start = table.elementStart[p]!;
  const prefixLength = table.prefixLength[p]!;
  const length = prefixLength + table.length[p]!;
  const specialStart = table.specialStart[p]!;
  // The rarest window so far: its rarity, distance from the pattern start, length, and the index
  // of its last element in `elements`.
  let bestScore = 0;
  let bestOffset = 0;
  let bestLength = 0;
  let bestEnd = 0;
  // The rarities of the last WINDOW_MAX (4) bytes of the current run of static bytes, oldest
  // first (0 before the run's start), and how many bytes the run has, up to WINDOW_MAX.
  let r0 = 0;
  let r1 = 0;
  let r2 = 0;
  let r3 = 0;
  let runLength = 0;
  let offset = 0;
  for (let i = prefixLength; i < length; i++) {
    const e = elements[start + i]!;
    if (isStoredStatic(e)) {
      // The widest window ending here: the run's last bytes.
      r0 = r1;
      r1 = r2;
      r2 = r3;
      r3 = RARITY[e & 0xff]!;
      if (runLength < WINDOW_MAX) runLength++;
      const score = r0 + r1 + r2 + r3;
      // The index knows windows of 2 to 4 bytes; among the widest window ending at each byte, the rarest wins.
      if (runLength >= 2 && score > bestScore) {
        bestScore = score;
        bestOffset = offset - runLength + 1;
        bestLength = runLength;
        bestEnd = start + i;
        // No later window can be rarer.
        if (bestScore === RAREST_WINDOW) break;
      }
      offset++;
      continue;
    }
    if (isStoredSpecial(e)) {
      const width = specialWidths[storedSpecialIndex(e, specialStart)]!;
      if (width === 0) break;
      offset += width;
    } else {
      offset++;
    }
    r0 = r1 = r2 = r3 = runLength = 0;
  }
  out.offset = bestOffset;
  out.length = bestLength;
  staticBytesKey(elements, bestEnd - bestLength + 1, bestLength, out);
}
