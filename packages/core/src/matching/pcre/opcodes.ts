/**
 * The compiled form of a pattern: a flat Int32Array of opcodes and operands laid out the way
 * PCRE2 10.42 lays out its code (brackets carry a link to their next alternative, every
 * alternative ends with a link to the next, the closing ket links back to the bracket).
 *
 * Keeping PCRE2's shape is deliberate. ClamAV runs PCRE2's interpreter with a match limit
 * (100000 by default) and a depth limit (2000), and whether a real signature hits them on a
 * large file decides whether it alerts. Those limits count PCRE2's backtracking frames, which
 * are created at specific opcodes (alternatives, repeats, group ends). Mirroring the opcode
 * structure, including the way PCRE2 replicates bounded repeats of groups, lets the matcher
 * create a frame exactly where PCRE2 does, so the limits trigger on the same inputs.
 *
 * Single-character repeats are one REPEAT opcode with explicit min/max instead of PCRE2's
 * EXACT/UPTO/STAR pairs: the pairs behave the same and need the same frames.
 */

/* Assertions and single-character types (no operands). */
export const OP_END = 0;
export const OP_SOD = 1; // \A
export const OP_SOM = 2; // \G
export const OP_SET_SOM = 3; // \K
export const OP_NOT_WORD_BOUNDARY = 4;
export const OP_WORD_BOUNDARY = 5;
export const OP_NOT_DIGIT = 6;
export const OP_DIGIT = 7;
export const OP_NOT_WHITESPACE = 8;
export const OP_WHITESPACE = 9;
export const OP_NOT_WORDCHAR = 10;
export const OP_WORDCHAR = 11;
export const OP_ANY = 12; // . without s, and \N
export const OP_ALLANY = 13; // . with s, and \C
export const OP_ANYNL = 14; // \R
export const OP_NOT_HSPACE = 15;
export const OP_HSPACE = 16;
export const OP_NOT_VSPACE = 17;
export const OP_VSPACE = 18;
export const OP_EODN = 19; // \Z
export const OP_EOD = 20; // \z
export const OP_DOLL = 21;
export const OP_DOLLM = 22;
export const OP_CIRC = 23;
export const OP_CIRCM = 24;

/* Single characters: [op, c]. The caseless forms compare through the case-flip table. */
export const OP_CHAR = 25;
export const OP_CHARI = 26;
export const OP_NOT = 27;
export const OP_NOTI = 28;

/** [op, family, arg, min, max, reptype]: a repeated character, negated character or type. */
export const OP_REPEAT = 29;
/** [op, set index, min, max, reptype]: a bitmap class, possibly repeated (min = max = 1 if not). */
export const OP_CLASS = 30;
/** [op, group, caseless, min, max, reptype] */
export const OP_REF = 31;
/** [op, name index, caseless, min, max, reptype]: reference to a duplicated name */
export const OP_DNREF = 32;
/** [op, code offset of the called group's bracket] */
export const OP_RECURSE = 33;

/* Bracket structure: [op, link] (+ group number for the capturing ones). */
export const OP_ALT = 34;
export const OP_KET = 35;
export const OP_KETRMAX = 36;
export const OP_KETRMIN = 37;
export const OP_KETRPOS = 38;
/** [op, n]: at the start of each lookbehind branch, step back n bytes. */
export const OP_REVERSE = 39;
export const OP_ASSERT = 40;
export const OP_ASSERT_NOT = 41;
export const OP_ASSERTBACK = 42;
export const OP_ASSERTBACK_NOT = 43;
export const OP_ASSERT_NA = 44;
export const OP_ASSERTBACK_NA = 45;
export const OP_ONCE = 46;
export const OP_BRA = 47;
export const OP_BRAPOS = 48;
export const OP_CBRA = 49;
export const OP_CBRAPOS = 50;
export const OP_COND = 51;
export const OP_SBRA = 52; // "S" forms: repeated groups that can match an empty string
export const OP_SBRAPOS = 53;
export const OP_SCBRA = 54;
export const OP_SCBRAPOS = 55;
export const OP_SCOND = 56;
/** Distance from a bracket opcode to its "may match empty" form. */
export const S_OFFSET = OP_SBRA - OP_BRA;

/* Conditions, right after OP_COND. */
export const OP_CREF = 57; // [op, group]
export const OP_DNCREF = 58; // [op, name index]
export const OP_RREF = 59; // [op, group or RREF_ANY]
export const OP_DNRREF = 60; // [op, name index]
export const OP_FALSE = 61;
export const OP_TRUE = 62;

export const OP_BRAZERO = 63;
export const OP_BRAMINZERO = 64;
export const OP_BRAPOSZERO = 65;

/* Backtracking verbs; the _ARG forms and MARK carry a mark-name index. */
export const OP_MARK = 66;
export const OP_PRUNE = 67;
export const OP_PRUNE_ARG = 68;
export const OP_SKIP = 69;
export const OP_SKIP_ARG = 70;
export const OP_THEN = 71;
export const OP_THEN_ARG = 72;
export const OP_COMMIT = 73;
export const OP_COMMIT_ARG = 74;
export const OP_FAIL = 75;
export const OP_ACCEPT = 76;
export const OP_ASSERT_ACCEPT = 77;
export const OP_CLOSE = 78; // [op, group]: closes a group that (*ACCEPT) leaves open
export const OP_SKIPZERO = 79;

export const RREF_ANY = 0xffff;

/* OP_REPEAT families and repeat types. */
export const FAMILY_CHAR = 0;
export const FAMILY_CHARI = 1;
export const FAMILY_NOT = 2;
export const FAMILY_NOTI = 3;
export const FAMILY_TYPE = 4;

export const REP_MAX = 0; // greedy
export const REP_MIN = 1; // lazy
export const REP_POS = 2; // possessive

/** Marks an unlimited maximum. Repeat counts are limited to 65535 by the syntax. */
export const UNLIMITED = 0x7fffffff;

/** Number of Int32 cells each opcode occupies, operands included. */
export const OP_LENGTHS: readonly number[] = (() => {
  const lengths = new Array<number>(OP_SKIPZERO + 1).fill(1);
  for (const op of [OP_CHAR, OP_CHARI, OP_NOT, OP_NOTI]) lengths[op] = 2;
  lengths[OP_REPEAT] = 6;
  lengths[OP_CLASS] = 5;
  lengths[OP_REF] = 6;
  lengths[OP_DNREF] = 6;
  lengths[OP_RECURSE] = 2;
  for (let op = OP_ALT; op <= OP_SCOND; op++) lengths[op] = 2;
  for (const op of [OP_CBRA, OP_CBRAPOS, OP_SCBRA, OP_SCBRAPOS]) lengths[op] = 3;
  for (const op of [OP_CREF, OP_DNCREF, OP_RREF, OP_DNRREF, OP_CLOSE]) lengths[op] = 2;
  for (const op of [OP_MARK, OP_PRUNE_ARG, OP_SKIP_ARG, OP_THEN_ARG, OP_COMMIT_ARG]) lengths[op] = 2;
  return lengths;
})();

export function isCapturingBracket(op: number): boolean {
  return op === OP_CBRA || op === OP_SCBRA || op === OP_CBRAPOS || op === OP_SCBRAPOS;
}

/** The single-character type opcodes that can be the argument of a FAMILY_TYPE repeat. */
export function isTypeOp(op: number): boolean {
  return op >= OP_NOT_DIGIT && op <= OP_VSPACE;
}
