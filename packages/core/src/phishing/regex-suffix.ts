/**
 * libclamav's regex suffixes (regex_suffix.c): the literal texts a URL-list regex must end with,
 * read by ClamAV's own simplified parser. ClamAV tries a regex on a lookup buffer only when one of
 * its suffixes occurs in it (an Aho-Corasick automaton over the suffixes, regex_list.c), so a
 * suffix the parser misreads (`{n}` counts and `^` are plain characters to it, `*` and `?` make
 * everything before them optional, a class toggles its characters on and off) decides what can
 * match. A suffix shorter than 2 characters cannot enter ClamAV's automaton and the line is
 * refused.
 */

/** A node of ClamAV's regex tree (regex_suffix.c struct node). */
type RegexNode =
  | { kind: 'concat' | 'alternate'; left?: RegexNode; right?: RegexNode; parent?: RegexNode }
  | { kind: 'optional'; left?: RegexNode; parent?: RegexNode }
  | { kind: 'leaf'; char: number; parent?: RegexNode }
  | { kind: 'class'; members: Uint8Array; parent?: RegexNode };

/** The characters a class stands for (32-byte bitmap as in ClamAV, bit c set for character c). */
const ANY_CHARACTER = new Uint8Array(32).fill(0xff);
/** A class of more characters than this ends a suffix; smaller ones are expanded. */
const LARGEST_EXPANDED_CLASS = 16;
/** cli_ac_init's minimum depth for the suffix automaton. */
const SHORTEST_SUFFIX = 2;
/**
 * Bounds ClamAV lacks: `+` copies everything before it and each small class multiplies the
 * suffixes, so a crafted line can make ClamAV build trees and suffix lists until memory runs out
 * (then it refuses the line). ClamTS refuses it at these sizes.
 */
const MAX_TREE_NODES = 1 << 20;
const MAX_SUFFIX_TEXT = 1 << 24;

export type RegexSuffixes =
  | { readonly ok: true; readonly suffixes: readonly string[] }
  /**
   * `malformed`: ClamAV's parser gave up (CL_EMALFDB); `too-short`: a suffix under 2 characters
   * (CL_EMEM); `too-large`: over ClamTS's bounds (CL_EMEM, ClamAV's end when memory runs out).
   */
  | { readonly ok: false; readonly error: 'malformed' | 'too-short' | 'too-large'; readonly suffixes: readonly string[] };

/**
 * cli_regex2suffix after cli_regcomp accepted `pattern`: its suffixes in ClamAV's order (forward
 * text, not reversed), or why ClamAV refuses it, with the suffixes it had added by then.
 */
export function regexSuffixes(pattern: string): RegexSuffixes {
  const bytes = Buffer.from(pattern, 'latin1');
  const tree = new RegexParser(bytes).parse();
  if (!tree) return { ok: false, error: 'malformed', suffixes: [] };
  const root: RegexNode = { kind: 'concat' };
  tree.parent = root;
  const collector = new SuffixCollector(root);
  collector.collect(tree);
  if (collector.stopped) return { ok: false, error: collector.stopped, suffixes: collector.suffixes };
  return { ok: true, suffixes: collector.suffixes };
}

/** A static pattern (`H:`/`M:` host with its `/`): refused by ClamAV's automaton when under 2 characters. */
export function staticPatternFits(pattern: string): boolean {
  return pattern.length >= SHORTEST_SUFFIX;
}

function concat(left: RegexNode | undefined, right: RegexNode | undefined): RegexNode | undefined {
  if (!left) return right;
  if (!right) return left;
  return adopt({ kind: 'concat', left, right });
}

function adopt<T extends RegexNode>(node: T): T {
  if ('left' in node && node.left) node.left.parent = node;
  if ('right' in node && node.right) node.right.parent = node;
  return node;
}

/** The children of a node that has any, and a way to set one. */
function childrenOf(node: RegexNode): (RegexNode | undefined)[] {
  if (node.kind === 'leaf' || node.kind === 'class') return [];
  return node.kind === 'optional' ? [node.left] : [node.left, node.right];
}

function shallowCopy(node: RegexNode): RegexNode {
  if (node.kind === 'leaf') return { kind: 'leaf', char: node.char };
  if (node.kind === 'class') return { kind: 'class', members: node.members };
  return node.kind === 'optional' ? { kind: 'optional' } : { kind: node.kind };
}

/** dup_node, without recursion. */
function duplicate(source: RegexNode): RegexNode {
  const top = shallowCopy(source);
  const pending: [RegexNode, RegexNode][] = [[source, top]];
  while (pending.length > 0) {
    const [from, to] = pending.pop()!;
    childrenOf(from).forEach((child, side) => {
      if (!child || to.kind === 'leaf' || to.kind === 'class') return;
      const copy = shallowCopy(child);
      copy.parent = to;
      if (side === 0) to.left = copy;
      else if (to.kind !== 'optional') to.right = copy;
      pending.push([child, copy]);
    });
  }
  return top;
}

function treeSize(tree: RegexNode): number {
  let size = 0;
  const pending: (RegexNode | undefined)[] = [tree];
  while (pending.length > 0) {
    const node = pending.pop();
    if (!node) continue;
    size++;
    pending.push(...childrenOf(node));
  }
  return size;
}

/**
 * parse_regex and parse_char_class. A part that fails (an empty group, a broken class) yields no
 * tree for its level, which fails its callers only where ClamAV checks (a group, `+`, a class).
 */
class RegexParser {
  private at = 0;
  /** Nodes made by `+` copies so far (the others are bounded by the pattern's length). */
  private copied = 0;

  constructor(private readonly pattern: Uint8Array) {}

  private char(offset = 0): number {
    return this.pattern[this.at + offset] ?? 0;
  }

  parse(): RegexNode | undefined {
    let node: RegexNode | undefined;
    while (this.char() !== 0x24 && this.char() !== 0) {
      const c = this.char();
      if (c === 0x7c) {
        this.at++;
        node = adopt({ kind: 'alternate', left: node, right: this.parse() });
      } else if (c === 0x2a || c === 0x3f) {
        node = adopt({ kind: 'optional', left: node });
        this.at++;
      } else if (c === 0x2b) {
        if (!node) return undefined;
        this.copied += treeSize(node);
        if (this.copied > MAX_TREE_NODES) return undefined;
        node = concat(adopt({ kind: 'optional', left: node }), duplicate(node));
        this.at++;
      } else if (c === 0x28) {
        this.at++;
        const group = this.parse();
        if (!group) return undefined;
        this.at++;
        node = concat(node, group);
      } else if (c === 0x29) {
        return node;
      } else if (c === 0x2e) {
        node = concat(node, { kind: 'class', members: ANY_CHARACTER });
        this.at++;
      } else if (c === 0x5b) {
        this.at++;
        const members = this.parseClass();
        if (!members) return undefined;
        node = concat(node, { kind: 'class', members });
        this.at++;
      } else {
        if (c === 0x5c) this.at++;
        node = concat(node, { kind: 'leaf', char: this.char() });
        this.at++;
      }
    }
    return node;
  }

  /** One step on inside a class; false (ClamAV's "Invalid char class") at the pattern's end. */
  private step(): boolean {
    if (this.at + 1 >= this.pattern.length) return false;
    this.at++;
    return true;
  }

  /** parse_char_class: each character toggles its bit; ranges toggle all after their start. */
  private parseClass(): Uint8Array | undefined {
    const members = new Uint8Array(32);
    const toggle = (c: number) => (members[c >> 3] ^= 1 << (c & 7));
    if (this.char() === 0x5e) {
      members.fill(0xff);
      if (!this.step()) return undefined;
    }
    let rangeStart = 0;
    let hasPrevious = false;
    do {
      const c = this.char();
      if (c === 0x2d && hasPrevious) {
        if (rangeStart === 0 || !this.step()) return undefined;
        if (this.char() === 0x5b && this.char(1) === 0x2e) return this.skipCollatingRange();
        const rangeEnd = this.char();
        for (let member = rangeStart + 1; member <= rangeEnd; member++) toggle(member);
        hasPrevious = false;
      } else {
        toggle(c);
        rangeStart = c;
        if (!this.step()) return undefined;
        hasPrevious = true;
      }
    } while (this.char() !== 0x5d);
    return members;
  }

  /** A range ending in a collating element: any character, as ClamAV gives up on it. */
  private skipCollatingRange(): Uint8Array | undefined {
    while (this.char() !== 0x5d) if (!this.step()) return undefined;
    if (!this.step()) return undefined;
    while (this.char() !== 0x5d) if (!this.step()) return undefined;
    return ANY_CHARACTER;
  }
}

/**
 * A step of build_suffixtree_descend / build_suffixtree_ascend, with the length the suffix text
 * had when it was planned (and, for a class member, the character it adds).
 */
type Step =
  | { readonly walk: 'descend'; readonly node: RegexNode | undefined; readonly length: number }
  | { readonly walk: 'ascend'; readonly node: RegexNode; readonly from: RegexNode; readonly length: number; readonly member: number };

/**
 * build_suffixtree_descend / build_suffixtree_ascend: suffixes collected back to front, walking
 * the tree from its end. ClamAV recurses; an explicit stack keeps deep trees off the call stack.
 */
class SuffixCollector {
  readonly suffixes: string[] = [];
  /** Why collecting stopped: a suffix ClamAV's automaton refuses, or too many. */
  stopped?: 'too-short' | 'too-large';
  private readonly text: number[] = [];
  private readonly steps: Step[] = [];
  private collected = 0;

  constructor(private readonly root: RegexNode) {}

  collect(tree: RegexNode): void {
    this.steps.push({ walk: 'descend', node: tree, length: 0 });
    while (this.steps.length > 0 && !this.stopped) {
      const step = this.steps.pop()!;
      this.text.length = step.length;
      if (step.walk === 'descend') this.descend(step.node);
      else {
        this.text.push(step.member);
        this.ascend(step.node, step.from);
      }
    }
  }

  private descend(start: RegexNode | undefined): void {
    const leaf = this.descendToEnd(start);
    if (leaf) this.ascend(leaf, undefined);
  }

  /**
   * build_suffixtree_descend: to the end of a subtree. Returns the leaf or class to ascend from;
   * an alternation plans both branches, an optional part ends the suffix.
   */
  private descendToEnd(start: RegexNode | undefined): RegexNode | undefined {
    let node = start;
    while (node?.kind === 'concat') node = node.right;
    if (node?.kind === 'alternate') {
      const length = this.text.length;
      this.steps.push({ walk: 'descend', node: node.right, length }, { walk: 'descend', node: node.left, length });
    } else if (node?.kind === 'optional') this.emit();
    else if (node?.kind === 'leaf' || node?.kind === 'class') return node;
    return undefined;
  }

  private ascend(start: RegexNode, from: RegexNode | undefined): void {
    let node: RegexNode | undefined = start;
    let previous = from;
    while (node) {
      const current: RegexNode = node;
      if (current === this.root || current.kind === 'optional') return this.emit();
      if (current.kind === 'class') return this.expandClass(current);
      if (current.kind === 'concat' && previous !== current.left) {
        node = this.descendToEnd(current.left);
        previous = undefined;
        continue;
      }
      if (current.kind === 'leaf') this.text.push(current.char);
      node = current.parent;
      previous = current;
    }
  }

  /** A class of up to 16 characters: the suffix goes on once for each (in character order). */
  private expandClass(node: Extract<RegexNode, { kind: 'class' }>): void {
    const members: number[] = [];
    for (let c = 0; c < 255; c++) if (node.members[c >> 3]! & (1 << (c & 7))) members.push(c);
    if (members.length > LARGEST_EXPANDED_CLASS) return this.emit();
    const length = this.text.length;
    for (let i = members.length - 1; i >= 0; i--) this.steps.push({ walk: 'ascend', node: node.parent!, from: node, length, member: members[i]! });
  }

  /** The callback: the suffix as collected (back to front) turned round; a refused one ends it all. */
  private emit(): void {
    if (this.text.length < SHORTEST_SUFFIX) {
      this.stopped = 'too-short';
      return;
    }
    this.collected += this.text.length;
    if (this.collected > MAX_SUFFIX_TEXT) {
      this.stopped = 'too-large';
      return;
    }
    this.suffixes.push(Buffer.from(this.text.slice().reverse()).toString('latin1'));
  }
}
