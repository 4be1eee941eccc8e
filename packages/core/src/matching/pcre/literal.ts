/**
 * ClamTS's own shortcut, on top of PCRE2's: a run of literal bytes that every match contains.
 * If it does not occur at or after a starting position, no match can start there or later, so
 * the search stops. PCRE2 would go on trying those positions and fail (possibly by hitting the
 * match limit, which ClamAV also treats as no match), so the result is the same; it is not used
 * with subroutine calls, where PCRE2 can report a "recursion loop" error instead.
 */
import type { Branch } from './ast.js';
import { otherCase } from './tables.js';

/**
 * The longest run of case-sensitive literal bytes that every match must contain: taken from
 * the top-level sequence of a single-branch pattern and from groups in it that must match.
 */
export function requiredLiteral(branches: Branch[]): Uint8Array | null {
  if (branches.length !== 1) return null;
  let best: number[] = [];
  const consider = (run: number[]) => {
    if (run.length >= best.length && run.length > 0) best = run;
  };
  const scan = (branch: Branch) => {
    let run: number[] = [];
    for (const node of branch) {
      if (node.kind === 'char' && !(node.caseless && otherCase(node.c) !== node.c)) {
        run.push(node.c);
        continue;
      }
      consider(run);
      run = [];
      if (node.kind === 'group' && (node.type === 'capture' || node.type === 'noncapture' || node.type === 'atomic')) {
        if (node.branches.length === 1) scan(node.branches[0]!);
      } else if (node.kind === 'quant' && node.min > 0 && node.item.kind === 'group') {
        const g = node.item;
        if ((g.type === 'capture' || g.type === 'noncapture' || g.type === 'atomic') && g.branches.length === 1) {
          scan(g.branches[0]!);
        }
      }
    }
    consider(run);
  };
  scan(branches[0]!);
  return best.length > 0 ? Uint8Array.from(best) : null;
}
