/**
 * The parsed form of a pattern. Option letters (i m s x U n J) are resolved while parsing, so
 * every node already says how it matches: a character knows whether it is caseless, a dot
 * whether it matches newline, a quantifier whether it is greedy. Nothing here depends on
 * options that change later in the pattern.
 */
import type { ByteSet } from './tables.js';

export type Node =
  | CharNode
  | NotCharNode
  | TypeNode
  | ClassNode
  | AnchorNode
  | GroupNode
  | CondNode
  | QuantNode
  | BackrefNode
  | RecurseNode
  | VerbNode;

export type Branch = Node[];

/** A literal byte. */
export interface CharNode {
  kind: 'char';
  c: number;
  caseless: boolean;
}

/** A one-character negated class such as [^x]. */
export interface NotCharNode {
  kind: 'not';
  c: number;
  caseless: boolean;
}

/** A character type: one of the OP_DIGIT ... OP_VSPACE opcodes (\d, ., \R, \h ...). */
export interface TypeNode {
  kind: 'type';
  op: number;
}

export interface ClassNode {
  kind: 'class';
  set: ByteSet;
}

/** A zero-width item: ^ $ \A \z \Z \G \b \B \K (an OP_ constant). */
export interface AnchorNode {
  kind: 'anchor';
  op: number;
}

export type GroupType =
  | 'capture'
  | 'noncapture'
  | 'atomic'
  | 'lookahead'
  | 'neglookahead'
  | 'lookbehind'
  | 'neglookbehind'
  | 'lookahead_na'
  | 'lookbehind_na';

export interface GroupNode {
  kind: 'group';
  type: GroupType;
  /** Capture number for 'capture' groups, else 0. */
  number: number;
  branches: Branch[];
  /** Pattern offset of the opening parenthesis (for error messages). */
  offset: number;
  /** For lookbehinds, the fixed length of each branch (set by resolve.ts). */
  lookbehindLengths?: number[];
}

export type CondTest =
  | { type: 'group'; number: number }
  | { type: 'groups'; numbers: number[] } // a duplicated name: true if any is set
  | { type: 'name'; name: string; offset: number }
  | { type: 'recursion'; number: number } // (?(R) is number 0
  | { type: 'recursions'; numbers: number[] }
  | { type: 'recursion_name'; name: string; offset: number }
  | { type: 'define' }
  | { type: 'version'; result: boolean }
  | { type: 'assert'; assertion: GroupNode };

export interface CondNode {
  kind: 'cond';
  test: CondTest;
  branches: Branch[];
  offset: number;
}

export type QuantMode = 'greedy' | 'lazy' | 'possessive';

export interface QuantNode {
  kind: 'quant';
  item: Node;
  min: number;
  /** UNLIMITED for no maximum. */
  max: number;
  mode: QuantMode;
}

export interface BackrefNode {
  kind: 'backref';
  /** Group number, or 0 when referring by name. */
  number: number;
  name?: string;
  /** For a duplicated name, every group with that name (set by resolve.ts). */
  numbers?: number[];
  caseless: boolean;
  offset: number;
}

export interface RecurseNode {
  kind: 'recurse';
  /** Group number (0 is the whole pattern), or -1 when calling by name. */
  number: number;
  name?: string;
  offset: number;
}

export type VerbName = 'ACCEPT' | 'FAIL' | 'COMMIT' | 'PRUNE' | 'SKIP' | 'THEN' | 'MARK';

export interface VerbNode {
  kind: 'verb';
  verb: VerbName;
  /** The (*VERB:NAME) argument, if any. */
  name?: string;
}

/** Settings that PCRE2 reads from (*...) items at the very start of a pattern. */
export interface StartSettings {
  notEmpty: boolean;
  notEmptyAtStart: boolean;
  noAutoPossess: boolean;
  noDotstarAnchor: boolean;
  noStartOptimize: boolean;
  /** Pattern-set limits; they only ever lower the caller's limits. */
  limitMatch?: number;
  limitDepth?: number;
}

export interface ParsedPattern {
  branches: Branch[];
  /** Length of the pattern in bytes (up to a NUL); errors found after parsing point here. */
  length: number;
  captureCount: number;
  /** Group names in order of definition; a name may map to several numbers with (?J) or (?|. */
  names: Map<string, number[]>;
  /** (?| was used, so two groups can share a number. */
  dupCaptureUsed: boolean;
  /** The pattern contains (*THEN) (which disables an optimization of the matcher). */
  hasThen: boolean;
  /** The pattern contains (*PRUNE) or (*SKIP) (which disables automatic anchoring). */
  hasPruneOrSkip: boolean;
  /** The pattern contains (*COMMIT). */
  hasCommit: boolean;
  settings: StartSettings;
  anchored: boolean;
  dollarEndOnly: boolean;
}
