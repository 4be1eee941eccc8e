/**
 * Checks that need the whole parsed pattern, done between parsing and code generation as
 * PCRE2 does: names and numbers in references must exist, every lookbehind branch must have a
 * fixed length (computed here and stored on the node), and \K may not appear in lookarounds.
 */
import type { Branch, GroupNode, Node, ParsedPattern } from './ast.js';
import { PcreCompileError } from './compile-error.js';
import * as O from './opcodes.js';

const LOOKBEHIND_MAX = 65535;

/** Thrown inside the length computation when a branch has no fixed length. */
class NotFixed extends Error {}

/** Thrown inside the length computation when a branch is longer than PCRE2 allows. */
class LookbehindTooLong extends Error {}

export function resolvePattern(parsed: ParsedPattern): void {
  new Resolver(parsed).run();
}

class Resolver {
  /** Every capturing group by number (several with (?| ), in pattern order. */
  private readonly groups = new Map<number, GroupNode[]>();
  /** For each back reference and subroutine call, the capturing groups it is written inside. */
  private readonly enclosingGroups = new Map<Node, GroupNode[]>();
  /** Branches measured so far by the lookbehind analysis (PCRE2 stops at 2000). */
  private lengthChecks = 0;

  constructor(private readonly parsed: ParsedPattern) {}

  run(): void {
    this.collectGroups(this.parsed.branches);
    this.checkLookbehinds(this.parsed.branches);
    this.resolveBranches(this.parsed.branches, 0);
  }

  private collectGroups(branches: Branch[], enclosing: GroupNode[] = []): void {
    const visit = (node: Node): void => {
      switch (node.kind) {
        case 'group': {
          if (node.type === 'capture') {
            const list = this.groups.get(node.number);
            if (list) list.push(node);
            else this.groups.set(node.number, [node]);
          }
          this.collectGroups(node.branches, node.type === 'capture' ? [...enclosing, node] : enclosing);
          return;
        }
        case 'quant':
          visit(node.item);
          return;
        case 'cond':
          if (node.test.type === 'assert') visit(node.test.assertion);
          this.collectGroups(node.branches, enclosing);
          return;
        case 'backref':
        case 'recurse':
          this.enclosingGroups.set(node, enclosing);
          return;
        default:
          return;
      }
    };
    for (const branch of branches) for (const node of branch) visit(node);
  }

  // ---------------------------------------------------------------------------------------
  // References and \K

  private resolveBranches(branches: Branch[], assertDepth: number): void {
    for (const branch of branches) for (const node of branch) this.resolveNode(node, assertDepth);
  }

  private resolveNode(node: Node, assertDepth: number): void {
    switch (node.kind) {
      case 'anchor':
        if (node.op === O.OP_SET_SOM && assertDepth > 0) throw new PcreCompileError(99, this.parsed.length);
        return;
      case 'backref': {
        if (node.name !== undefined) {
          const numbers = this.parsed.names.get(node.name);
          if (!numbers) throw new PcreCompileError(15, node.offset);
          if (numbers.length === 1) node.number = numbers[0]!;
          else node.numbers = [...numbers].sort((a, b) => a - b);
        }
        if (node.number > this.parsed.captureCount) throw new PcreCompileError(15, node.offset);
        return;
      }
      case 'recurse': {
        if (node.name !== undefined) {
          const numbers = this.parsed.names.get(node.name);
          if (!numbers) throw new PcreCompileError(15, node.offset);
          node.number = numbers[0]!;
        }
        if (node.number > this.parsed.captureCount) throw new PcreCompileError(15, node.offset);
        return;
      }
      case 'quant':
        this.resolveNode(node.item, assertDepth);
        return;
      case 'group': {
        const isAssertion = node.type !== 'capture' && node.type !== 'noncapture' && node.type !== 'atomic';
        this.resolveBranches(node.branches, assertDepth + (isAssertion ? 1 : 0));
        return;
      }
      case 'cond': {
        const test = node.test;
        if (test.type === 'group' && test.number > this.parsed.captureCount) {
          throw new PcreCompileError(15, node.offset + 2);
        }
        if (test.type === 'name' || test.type === 'recursion_name') {
          const numbers = this.parsed.names.get(test.name);
          const recursion = test.type === 'recursion_name';
          if (numbers) {
            if (numbers.length === 1) {
              node.test = recursion ? { type: 'recursion', number: numbers[0]! } : { type: 'group', number: numbers[0]! };
            } else {
              const sorted = [...numbers].sort((a, b) => a - b);
              node.test = recursion ? { type: 'recursions', numbers: sorted } : { type: 'groups', numbers: sorted };
            }
          } else if (!recursion && /^R\d*$/.test(test.name)) {
            // (?(R) and (?(Rn) test for recursion when no group has that name.
            const number = test.name.length > 1 ? Number(test.name.slice(1)) : 0;
            if (number > this.parsed.captureCount) throw new PcreCompileError(15, test.offset);
            node.test = { type: 'recursion', number };
          } else {
            throw new PcreCompileError(15, test.offset);
          }
        }
        if (node.test.type === 'assert') this.resolveNode(node.test.assertion, assertDepth);
        this.resolveBranches(node.branches, assertDepth);
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Lookbehind lengths

  private checkLookbehinds(branches: Branch[], recursing: GroupNode[] = []): void {
    forEachNode(branches, (node) => {
      if (node.kind === 'group' && isLookbehind(node)) this.setLookbehindLengths(node, recursing);
    });
  }

  private setLookbehindLengths(group: GroupNode, recursing: GroupNode[]): void {
    if (group.lookbehindLengths) return;
    const lengths: number[] = [];
    for (const branch of group.branches) {
      let length: number;
      try {
        length = this.branchLength(branch, recursing);
      } catch (e) {
        if (e instanceof NotFixed) throw new PcreCompileError(25, group.offset);
        if (e instanceof LookbehindTooLong) throw new PcreCompileError(87, group.offset);
        throw e;
      }
      lengths.push(length);
    }
    group.lookbehindLengths = lengths;
  }

  /** The fixed length of a branch; throws NotFixed if it has none. */
  private branchLength(branch: Branch, recursing: GroupNode[]): number {
    // PCRE2 gives up on lookbehinds that take too long to analyse.
    if (++this.lengthChecks > 2000) throw new PcreCompileError(35, this.parsed.length);
    let total = 0;
    for (const node of branch) {
      if (node.kind === 'verb' && (node.verb === 'ACCEPT' || node.verb === 'FAIL')) break;
      total += this.itemLength(node, recursing);
      if (total > LOOKBEHIND_MAX) throw new LookbehindTooLong();
    }
    return total;
  }

  private itemLength(node: Node, recursing: GroupNode[]): number {
    switch (node.kind) {
      case 'char':
      case 'not':
      case 'class':
        return 1;
      case 'type':
        if (node.op === O.OP_ANYNL) throw new NotFixed();
        return 1;
      case 'anchor':
      case 'verb':
        return 0;
      case 'quant': {
        // The item must have a fixed length even when repeated zero times; a quantifier on a
        // lookahead is ignored.
        const length = this.itemLength(node.item, recursing);
        if (node.item.kind === 'group' && isLookahead(node.item)) return length;
        if (node.min !== node.max) throw new NotFixed();
        return node.min * length;
      }
      case 'group':
        if (isLookahead(node)) {
          this.checkLookbehinds(node.branches, recursing);
          return 0;
        }
        if (isLookbehind(node)) {
          this.setLookbehindLengths(node, recursing);
          return 0;
        }
        return this.groupLength(node.branches, recursing);
      case 'cond':
        if (node.test.type === 'define') return 0;
        if (node.test.type === 'assert') this.itemLength(node.test.assertion, recursing);
        return this.groupLength(node.branches, recursing);
      case 'backref': {
        if (this.parsed.dupCaptureUsed || node.numbers) throw new NotFixed();
        return this.calledGroupLength(node, node.number, recursing);
      }
      case 'recurse':
        if (node.number === 0) throw new NotFixed();
        return this.calledGroupLength(node, node.number, recursing);
    }
  }

  private groupLength(branches: Branch[], recursing: GroupNode[]): number {
    let length = -1;
    for (const branch of branches) {
      const b = this.branchLength(branch, recursing);
      if (length === -1) length = b;
      else if (length !== b) throw new NotFixed();
    }
    return length;
  }

  /**
   * Length of the group a back reference or subroutine call refers to. A reference inside the
   * group it refers to, or a cycle of references, has no fixed length.
   */
  private calledGroupLength(reference: Node, number: number, recursing: GroupNode[]): number {
    const group = this.groups.get(number)?.[0];
    if (!group) throw new NotFixed();
    if (this.enclosingGroups.get(reference)?.includes(group) || recursing.includes(group)) throw new NotFixed();
    return this.groupLength(group.branches, [...recursing, group]);
  }
}

function isLookbehind(group: GroupNode): boolean {
  return group.type === 'lookbehind' || group.type === 'neglookbehind' || group.type === 'lookbehind_na';
}

function isLookahead(group: GroupNode): boolean {
  return group.type === 'lookahead' || group.type === 'neglookahead' || group.type === 'lookahead_na';
}

/** Visits every node, depth first, including condition assertions and quantified items. */
export function forEachNode(branches: Branch[], visit: (node: Node) => void): void {
  for (const branch of branches) {
    for (const node of branch) walk(node, visit);
  }
}

function walk(node: Node, visit: (node: Node) => void): void {
  visit(node);
  if (node.kind === 'quant') walk(node.item, visit);
  else if (node.kind === 'group') forEachNode(node.branches, visit);
  else if (node.kind === 'cond') {
    if (node.test.type === 'assert') walk(node.test.assertion, visit);
    forEachNode(node.branches, visit);
  }
}
