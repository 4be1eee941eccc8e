/**
 * Which daemon's details are shown: an index, or -1 for none (the overview of every daemon's
 * tasks). With a single daemon its details are always shown and nothing can be selected.
 * Moving past either end returns to the overview, as in ClamAV's clamdtop.
 */
export function nextSelection(selected: number, daemons: number): number {
  if (daemons <= 1) return -1;
  return selected + 1 >= daemons ? -1 : selected + 1;
}

export function previousSelection(selected: number, daemons: number): number {
  if (daemons <= 1) return -1;
  return selected === -1 ? daemons - 1 : selected - 1;
}

/** The daemon whose details are shown, if any. */
export function detailedIndex(selected: number, daemons: number): number {
  return daemons === 1 ? 0 : selected;
}
