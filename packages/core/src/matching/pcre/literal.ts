/**
 * ClamTS's own shortcut, on top of PCRE2's: a run of literal bytes that every match contains.
 * If it does not occur at or after a starting position, no match can start there or later, so
 * the search stops. PCRE2 would go on trying those positions and fail (possibly by hitting the
 * match limit, which ClamAV also treats as no match), so the result is the same; it is not used
 * with subroutine calls, where PCRE2 can report a "recursion loop" error instead.
 */
import type { Branch, Node } from './ast.js';
import * as O from './opcodes.js';
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

/**
 * Backtracking choices (the product of the quantifier ranges and alternative counts) above which
 * literalReach gives up: a pattern that simple cannot come near the match limit at a starting
 * position, so skipping positions that cannot match changes nothing PCRE2 would report.
 */
const MAX_CHOICES = 1000;

/**
 * How far after a match's start the required literal can begin, for patterns whose matches are
 * at most a bounded length long: then no match starts more than that far before the literal's
 * next occurrence, and the search skips ahead to there. -1 when the pattern is not that simple:
 * a quantifier without maximum, nested quantifiers, lookarounds, back references, recursion,
 * conditions, verbs or \K, or too many backtracking choices.
 */
export function literalReach(branches: Branch[], literal: Uint8Array): number {
  const measure = new LongestMatch();
  const longest = measure.alternatives(branches);
  if (longest === null || measure.choices > MAX_CHOICES) return -1;
  return longest - literal.length;
}

/** The longest match of a simple pattern, and the backtracking choices it offers. */
class LongestMatch {
  choices = 1;
  private quantified = false;

  alternatives(branches: Branch[]): number | null {
    if (branches.length > 1 && this.quantified) return null;
    this.choices *= branches.length;
    let longest = 0;
    for (const branch of branches) {
      let length = 0;
      for (const node of branch) {
        const item = this.node(node);
        if (item === null) return null;
        length += item;
      }
      longest = Math.max(longest, length);
    }
    return longest;
  }

  private node(node: Node): number | null {
    switch (node.kind) {
      case 'char':
      case 'not':
      case 'class':
        return 1;
      case 'type':
        return node.op === O.OP_ANYNL ? 2 : 1;
      case 'anchor':
        return node.op === O.OP_SET_SOM ? null : 0;
      case 'group':
        return node.type === 'capture' || node.type === 'noncapture' || node.type === 'atomic' ? this.alternatives(node.branches) : null;
      case 'quant': {
        if (node.max === O.UNLIMITED || this.quantified) return null;
        this.quantified = true;
        const item = this.node(node.item);
        this.quantified = false;
        this.choices *= node.max - node.min + 1;
        return item === null ? null : item * node.max;
      }
      default:
        return null;
    }
  }
}
