/**
 * libclamav's cli_add_content_match_pattern, which body signatures and `.ftm` type patterns both
 * go through, expands the first `{n}` with 0 < n < 128 into n `??` and starts over, until the
 * first brace is something else. The text before a brace has no brace, so this is one pass from
 * left to right that stops at the first brace not so expanded.
 */

/** The count a brace holds, and the index just after its `}`. */
export interface GapCount {
  readonly count: number;
  readonly end: number;
}

/** Reads `{n}` at `brace`; undefined when the brace does not hold a count. */
export type GapReader = (hex: string, brace: number) => GapCount | undefined;

/** `{n}` below this is expanded to n `??` instead of splitting the pattern. */
const MAX_EXPANDED_GAP = 128;
const GAP_FILL = '??'.repeat(MAX_EXPANDED_GAP - 1);

/** `hex` with its leading expandable `{n}` gaps (as `readGap` reads them) written as `??`. */
export function expandShortGaps(hex: string, readGap: GapReader): string {
  let expanded = '';
  let from = 0;
  for (let brace = hex.indexOf('{'); brace >= 0; brace = hex.indexOf('{', from)) {
    const gap = readGap(hex, brace);
    if (!gap || gap.count === 0 || gap.count >= MAX_EXPANDED_GAP) break;
    expanded += hex.slice(from, brace) + GAP_FILL.slice(0, 2 * gap.count);
    from = gap.end;
  }
  return from === 0 ? hex : expanded + hex.slice(from);
}
