import { OFFSET_NONE } from '../signatures/offset.js';

/**
 * Per-scan bookkeeping of split patterns (`aa*bb`, `aa{2-5}bb`), as ClamAV's "offset matrix":
 * for each part it remembers where recent matches of the part ended, and a later part matches
 * when one remembered end of the previous part lies at an allowed distance before it.
 *
 * ClamAV keeps the first match and a ring of the 8 most recent ones per part, and reports the
 * start of the first part's first remembered match; both limits shape which files are detected,
 * so they are reproduced exactly.
 */

/** ClamAV's CLI_DEFAULT_AC_TRACKLEN. */
const TRACKED = 8;
/** Row layout: [count, first match, ring of TRACKED matches]. */
const ROW = TRACKED + 2;
const EMPTY = 0xffffffff;

export class PartialTracker {
  /** By split-pattern id (ids are small and dense: 1 to the program's count of split patterns). */
  private readonly matrices: (Uint32Array | undefined)[] = [];

  /** Could part `part` match now, i.e. is it the first part or has the part before it matched? */
  canMatch(id: number, part: number): boolean {
    if (part === 1) return true;
    const m = this.matrices[id];
    return m !== undefined && m[(part - 2) * ROW] !== 0;
  }

  /**
   * Records that part `part` (1-based, `canMatch` true) of the `parts`-part pattern `id` matched from `start` to
   * `end` (object offsets), the gap before it having to lie in [gapMin, gapMax] (0: no bound).
   * Returns the offset ClamAV reports when this completes the pattern, else OFFSET_NONE.
   */
  partMatched(id: number, part: number, parts: number, gapMin: number, gapMax: number, start: number, end: number): number {
    let m = this.matrices[id];
    if (m === undefined) {
      m = new Uint32Array(parts * ROW).fill(EMPTY);
      for (let row = 0; row < parts; row++) m[row * ROW] = 0;
      // Filled up to `id` so that the array keeps fast (non-dictionary) elements.
      while (this.matrices.length <= id) this.matrices.push(undefined);
      this.matrices[id] = m;
    }
    let found = 0;
    if (part !== 1) {
      const row = (part - 2) * ROW;
      for (let j = 1; j <= TRACKED + 1 && m[row + j] !== EMPTY; j++) {
        const previousEnd = m[row + j]!;
        const fits =
          start >= previousEnd &&
          (gapMax === 0 || start - previousEnd <= gapMax) &&
          (gapMin === 0 || start - previousEnd >= gapMin);
        if (fits) {
          found = j;
          break;
        }
      }
    }
    const startsRow = (parts - 1) * ROW;
    if (part === 2 && found > 1) {
      swap(m, 1, found);
      swap(m, startsRow + 1, startsRow + found);
    }
    if (part === 1 || (found && part !== parts)) {
      const row = (part - 1) * ROW;
      if (m[row] === TRACKED + 1) m[row] = 1;
      const slot = ++m[row]!;
      m[row + slot] = end;
      if (part === 1) m[startsRow + slot] = start;
      return OFFSET_NONE;
    }
    return found ? m[startsRow + 1]! : OFFSET_NONE;
  }
}

function swap(m: Uint32Array, a: number, b: number): void {
  const t = m[a]!;
  m[a] = m[b]!;
  m[b] = t;
}
