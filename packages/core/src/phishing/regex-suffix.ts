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

export type RegexSuffixes =
  | { readonly ok: true; readonly suffixes: readonly string[] }
  /** `malformed`: ClamAV's parser gave up (CL_EMALFDB); `too-short`: a suffix under 2 characters (CL_EMEM). */
  | { readonly ok: false; readonly error: 'malformed' | 'too-short'; readonly suffixes: readonly string[] };

/**
 * cli_regex2suffix after cli_regcomp accepted `pattern`: its suffixes in ClamAV's order (forward
 * text, not reversed), or why ClamAV refuses it, with the suffixes it had added by then.
 */
export function regexSuffixes(pattern: string): RegexSuffixes {
  const bytes = Buffer.from(pattern, 'latin1');
  const tree = new RegexParser(bytes).parse();
  if (!tree) return { ok: false, error: 'malformed', suffixes: [] };
  const collector = new SuffixCollector();
  tree.parent = { kind: 'concat' };
  collector.root = tree.parent;
  collector.descend(tree);
  return collector.tooShort ? { ok: false, error: 'too-short', suffixes: collector.suffixes } : { ok: true, suffixes: collector.suffixes };
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

function duplicate(node: RegexNode): RegexNode {
  switch (node.kind) {
    case 'leaf':
      return { kind: 'leaf', char: node.char };
    case 'class':
      return { kind: 'class', members: node.members };
    case 'optional':
      return adopt({ kind: 'optional', left: node.left && duplicate(node.left) });
    default:
      return adopt({ kind: node.kind, left: node.left && duplicate(node.left), right: node.right && duplicate(node.right) });
  }
}

/**
 * parse_regex and parse_char_class. A part that fails (an empty group, a broken class) yields no
 * tree for its level, which fails its callers only where ClamAV checks (a group, `+`, a class).
 */
class RegexParser {
  private at = 0;

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

/** build_suffixtree_descend / build_suffixtree_ascend: suffixes collected back to front. */
class SuffixCollector {
  readonly suffixes: string[] = [];
  root?: RegexNode;
  tooShort = false;
  private readonly text: number[] = [];

  descend(start: RegexNode | undefined): void {
    let node = start;
    while (node?.kind === 'concat') node = node.right;
    if (!node || this.tooShort) return;
    if (node.kind === 'alternate') {
      const length = this.text.length;
      this.descend(node.left);
      this.text.length = length;
      this.descend(node.right);
      this.text.length = length;
    } else if (node.kind === 'optional') this.emit();
    else if (node.kind === 'leaf' || node.kind === 'class') this.ascend(node, undefined);
  }

  private ascend(start: RegexNode, from: RegexNode | undefined): void {
    let node: RegexNode | undefined = start;
    let previous = from;
    while (node && !this.tooShort) {
      const current: RegexNode = node;
      if (current === this.root || current.kind === 'optional') return this.emit();
      if (current.kind === 'leaf') {
        this.text.push(current.char);
        node = current.parent;
      } else if (current.kind === 'class') {
        return this.expandClass(current);
      } else if (current.kind === 'concat' && previous !== current.left) {
        return this.descend(current.left);
      } else node = current.parent;
      previous = current;
    }
  }

  private expandClass(node: Extract<RegexNode, { kind: 'class' }>): void {
    const members: number[] = [];
    for (let c = 0; c < 255; c++) if (node.members[c >> 3]! & (1 << (c & 7))) members.push(c);
    if (members.length > LARGEST_EXPANDED_CLASS) return this.emit();
    for (const member of members) {
      const length = this.text.length;
      this.text.push(member);
      this.ascend(node.parent!, node);
      this.text.length = length;
      if (this.tooShort) return;
    }
  }

  /** The callback: the suffix as collected (back to front) turned round; too short ends it all. */
  private emit(): void {
    if (this.text.length < SHORTEST_SUFFIX) {
      this.tooShort = true;
      return;
    }
    this.suffixes.push(Buffer.from(this.text.slice().reverse()).toString('latin1'));
  }
}
