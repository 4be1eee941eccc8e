import { scanSize } from '../util/c-numbers.js';

/**
 * libclamav's cli_add_content_match_pattern, which body signatures and `.ftm` type patterns both
 * go through, expands the first `{n}` with 0 < n < 128 into n `??` and starts over, until the
 * first brace is something else. The text before a brace has no brace, so this is one pass from
 * left to right that stops at the first brace not so expanded.
 */

/** `{n}` below this is expanded to n `??` instead of splitting the pattern. */
const MAX_EXPANDED_GAP = 128;
const GAP_FILL = '??'.repeat(MAX_EXPANDED_GAP - 1);

/** `hex` with its leading expandable `{n}` gaps written as `??`. */
export function expandShortGaps(hex: string): string {
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

/**
 * `{n}` at `brace` as ClamAV reads it, sscanf("%c%zu%c"): blanks, a sign and digits (see
 * scanSize), then `}`. Gives the count and the index just after the `}`.
 */
function readGap(hex: string, brace: number): { count: number; end: number } | undefined {
  const count = scanSize(hex, brace + 1);
  return count && hex[count.end] === '}' ? { count: count.value, end: count.end + 1 } : undefined;
}
