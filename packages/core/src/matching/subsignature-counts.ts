import { OFFSET_NONE } from '../signatures/offset.js';

/**
 * Per-scan match counts of logical-signature subsignatures, kept like ClamAV's lsig_sub_matched:
 * a match counts only if it starts after the previous counted one (at or after for split
 * patterns), so the overlapping windows ClamAV scans do not count a match twice, while
 * overlapping occurrences (`AAA` three times in `AAAAA`) all count.
 *
 * Only the logical signatures that saw a match get state, so scanning a small object does not
 * pay for the tens of thousands of logical signatures of a real database.
 */

/** A macro subsignature `${min-max}group$` that follows subsignature `index` of its signature. */
export interface MacroLink {
  readonly min: number;
  readonly max: number;
  readonly group: number;
}

/** Per signature: [counts | first match offsets | last counted offsets], one slot per subsignature. */
export class SubsignatureCounts {
  private readonly states = new Map<number, Uint32Array>();
  /** Start of the last match of each macro group (ClamAV keeps 32 groups). */
  readonly macroLast = new Uint32Array(32).fill(OFFSET_NONE);

  constructor(private readonly subsignatureCount: (signature: number) => number) {}

  /** Signatures that saw at least one match, in ascending order. */
  touched(): number[] {
    return [...this.states.keys()].sort((a, b) => a - b);
  }

  /** Counts of one signature's subsignatures, or undefined when none matched yet. */
  counts(signature: number): Uint32Array | undefined {
    const state = this.states.get(signature);
    return state?.subarray(0, this.subsignatureCount(signature));
  }

  lastOffset(signature: number, subsignature: number): number {
    const state = this.states.get(signature);
    return state === undefined ? OFFSET_NONE : state[2 * this.subsignatureCount(signature) + subsignature]!;
  }

  private state(signature: number): Uint32Array {
    let state = this.states.get(signature);
    if (state === undefined) {
      const n = this.subsignatureCount(signature);
      state = new Uint32Array(3 * n);
      state.fill(OFFSET_NONE, n);
      this.states.set(signature, state);
    }
    return state;
  }

  /** Counts a match that has no position (byte compares). */
  increment(signature: number, subsignature: number): void {
    this.state(signature)[subsignature]!++;
  }

  /**
   * Records a match of `subsignature` starting at `offset` (OFFSET_NONE: only re-check the macro),
   * `partial` for split patterns. `macro` is the macro subsignature that follows it, if any.
   */
  matched(signature: number, subsignature: number, offset: number, partial: boolean, macro: MacroLink | undefined): void {
    const state = this.state(signature);
    const n = this.subsignatureCount(signature);
    const first = n + subsignature;
    const last = 2 * n + subsignature;
    if (offset !== OFFSET_NONE) {
      if (state[first] === OFFSET_NONE) state[first] = offset;
      if (state[last] !== OFFSET_NONE && (partial ? offset < state[last]! : offset <= state[last]!)) return;
      state[subsignature]!++;
      if (state[subsignature]! <= 1 || macro === undefined) state[last] = offset;
    }
    if (macro !== undefined && state[subsignature]! > 1) {
      // The previous match must have been followed by a match of the macro group at the right
      // distance; if it was not, it did not count after all.
      const macroStart = this.macroLast[macro.group]!;
      const previous = state[last]!;
      if (macroStart === OFFSET_NONE || (previous + macro.min) >>> 0 > macroStart || (previous + macro.max) >>> 0 < macroStart) {
        state[subsignature]!--;
        state[last] = offset;
      } else {
        state[subsignature + 1]!++;
        state[last + 1] = macroStart;
      }
    }
  }
}
