/**
 * PCRE2's auto-possessification: a greedy or lazy single-character repeat followed by an item
 * that cannot match what the repeat matches can never usefully give characters back, so PCRE2
 * makes it possessive (\d+\s becomes \d++\s). The match result is the same, but the repeat no
 * longer creates a backtracking frame per character, which changes when the match limit is
 * reached. This pass applies the same rules, including the cases where PCRE2's rules are
 * stricter or looser than necessary, and PCRE2's budget of 1000 checks per pattern.
 */
import type { CodeProgram } from './codegen.js';
import * as O from './opcodes.js';
import {
  type ByteSet,
  DIGIT_SET,
  HSPACE_SET,
  SPACE_SET,
  VSPACE_SET,
  WORD_SET,
  otherCase,
  setHas,
} from './tables.js';

/** What a single-character item can match, as PCRE2's get_chr_property_list describes it. */
type Item =
  | { kind: 'chars'; chars: number[]; canBeEmpty: boolean } // CHAR/CHARI: the char and its other case
  | { kind: 'not'; chars: number[]; canBeEmpty: boolean }
  | { kind: 'class'; set: ByteSet; canBeEmpty: boolean }
  | { kind: 'op'; op: number; canBeEmpty: boolean }; // a type, or $ \Z \z

/* PCRE2's autoposstab, without the columns for \C \P \p \X that cannot occur in this mode.
   Rows: the repeated type; columns: the item that follows. Order of rows and columns:
   \D \d \S \s \W \w . .+ \R \H \h \V \v, then for columns only \Z \z $ $M.
   A 1 means the repeat can be made possessive. */
const TABLE_OPS = [
  O.OP_NOT_DIGIT, O.OP_DIGIT, O.OP_NOT_WHITESPACE, O.OP_WHITESPACE, O.OP_NOT_WORDCHAR, O.OP_WORDCHAR,
  O.OP_ANY, O.OP_ALLANY, O.OP_ANYNL, O.OP_NOT_HSPACE, O.OP_HSPACE, O.OP_NOT_VSPACE, O.OP_VSPACE,
  O.OP_EODN, O.OP_EOD, O.OP_DOLL, O.OP_DOLLM,
];
const TABLE_ROWS = [
  '0100000000000 0100', // \D
  '1001100010101 1111', // \d
  '0001000010101 1111', // \S
  '0110010000000 0100', // \s
  '0100010000000 0100', // \W
  '0001100010101 1111', // \w
  '0000000010000 0100', // .
  '0000000000000 0100', // .+ (dot matching newline)
  '0101011000100 0100', // \R
  '0000000000100 0100', // \H
  '0110010011001 0100', // \h
  '0000000010001 0100', // \V
  '0110010000110 0100', // \v
];

const POSSESSIFY_OK: ReadonlyMap<number, ReadonlySet<number>> = (() => {
  const map = new Map<number, Set<number>>();
  TABLE_ROWS.forEach((row, i) => {
    const bits = row.replace(' ', '');
    const allowed = new Set<number>();
    for (let j = 0; j < bits.length; j++) if (bits[j] === '1') allowed.add(TABLE_OPS[j]!);
    map.set(TABLE_OPS[i]!, allowed);
  });
  return map;
})();

const TYPE_SETS: ReadonlyMap<number, [ByteSet, boolean]> = new Map([
  [O.OP_DIGIT, [DIGIT_SET, false]],
  [O.OP_NOT_DIGIT, [DIGIT_SET, true]],
  [O.OP_WHITESPACE, [SPACE_SET, false]],
  [O.OP_NOT_WHITESPACE, [SPACE_SET, true]],
  [O.OP_WORDCHAR, [WORD_SET, false]],
  [O.OP_NOT_WORDCHAR, [WORD_SET, true]],
]);

const CR = 0x0d;
const LF = 0x0a;
const VT = 0x0b;
const FF = 0x0c;
const NEL = 0x85;

export function autoPossessify(program: CodeProgram): void {
  new AutoPossessifier(program).run();
}

class AutoPossessifier {
  private readonly code: Int32Array;
  /** PCRE2 gives up (leaving the rest unchanged) after this many comparisons. */
  private budget = 1000;

  constructor(private readonly program: CodeProgram) {
    this.code = program.code;
  }

  run(): void {
    const code = this.code;
    for (let pc = 0; code[pc] !== O.OP_END; pc += O.OP_LENGTHS[code[pc]!]!) {
      const op = code[pc]!;
      if (op === O.OP_REPEAT) {
        const reptype = code[pc + 5]!;
        if (reptype === O.REP_POS) continue;
        const base = this.repeatItem(pc);
        if (this.canPossessify(pc + O.OP_LENGTHS[op]!, base, reptype === O.REP_MAX)) code[pc + 5] = O.REP_POS;
      } else if (op === O.OP_CLASS) {
        const reptype = code[pc + 4]!;
        if ((code[pc + 2] === 1 && code[pc + 3] === 1) || reptype === O.REP_POS) continue;
        const base: Item = { kind: 'class', set: this.program.sets[code[pc + 1]!]!, canBeEmpty: false };
        if (this.canPossessify(pc + O.OP_LENGTHS[op]!, base, reptype === O.REP_MAX)) code[pc + 4] = O.REP_POS;
      }
    }
  }

  /** The character item of an OP_REPEAT. */
  private repeatItem(pc: number): Item {
    const code = this.code;
    const family = code[pc + 1]!;
    const arg = code[pc + 2]!;
    const canBeEmpty = code[pc + 3] === 0;
    switch (family) {
      case O.FAMILY_CHAR:
        return { kind: 'chars', chars: [arg], canBeEmpty };
      case O.FAMILY_CHARI:
        return { kind: 'chars', chars: caseChars(arg), canBeEmpty };
      case O.FAMILY_NOT:
        return { kind: 'not', chars: [arg], canBeEmpty };
      case O.FAMILY_NOTI:
        return { kind: 'not', chars: caseChars(arg), canBeEmpty };
      default:
        return { kind: 'op', op: arg, canBeEmpty };
    }
  }

  /** The item at `pc` if it is one auto-possessification can reason about, else null. */
  private itemAt(pc: number): { item: Item; next: number } | null {
    const code = this.code;
    const op = code[pc]!;
    const next = pc + O.OP_LENGTHS[op]!;
    switch (op) {
      case O.OP_REPEAT:
        return { item: this.repeatItem(pc), next };
      case O.OP_CHAR:
        return { item: { kind: 'chars', chars: [code[pc + 1]!], canBeEmpty: false }, next };
      case O.OP_CHARI:
        return { item: { kind: 'chars', chars: caseChars(code[pc + 1]!), canBeEmpty: false }, next };
      case O.OP_NOT:
        return { item: { kind: 'not', chars: [code[pc + 1]!], canBeEmpty: false }, next };
      case O.OP_NOTI:
        return { item: { kind: 'not', chars: caseChars(code[pc + 1]!), canBeEmpty: false }, next };
      case O.OP_CLASS: {
        const set = this.program.sets[code[pc + 1]!]!;
        return { item: { kind: 'class', set, canBeEmpty: code[pc + 2] === 0 }, next };
      }
      default:
        if (O.isTypeOp(op) || op === O.OP_EODN || op === O.OP_EOD || op === O.OP_DOLL || op === O.OP_DOLLM) {
          return { item: { kind: 'op', op, canBeEmpty: false }, next };
        }
        return null;
    }
  }

  /**
   * Whether `base`, repeated and followed by the code at `pc`, can be made possessive
   * (PCRE2's compare_opcodes). `greedy` is false for lazy repeats, which can only be made
   * possessive when what follows is decided without leaving the current group.
   */
  private canPossessify(pc: number, base: Item, greedy: boolean): boolean {
    const code = this.code;
    if (--this.budget <= 0) return false;
    let enteredGroup = false;
    for (;;) {
      let op = code[pc]!;
      if (op === O.OP_ALT) {
        do pc += code[pc + 1]!;
        while (code[pc] === O.OP_ALT);
        op = code[pc]!;
      }
      switch (op) {
        case O.OP_END:
          return greedy;
        case O.OP_KET:
        case O.OP_KETRPOS: {
          if (!greedy) return false;
          const bracket = code[pc - code[pc + 1]!]!;
          if (O.isCapturingBracket(bracket)) {
            if (this.program.hasRecurse) return false;
          } else if (
            bracket === O.OP_ASSERT || bracket === O.OP_ASSERT_NOT || bracket === O.OP_ASSERTBACK ||
            bracket === O.OP_ASSERTBACK_NOT || bracket === O.OP_ONCE
          ) {
            return !enteredGroup;
          } else if (bracket === O.OP_ASSERT_NA || bracket === O.OP_ASSERTBACK_NA) {
            return false;
          }
          pc += O.OP_LENGTHS[op]!;
          continue;
        }
        case O.OP_ONCE:
        case O.OP_BRA:
        case O.OP_CBRA: {
          let next = pc + code[pc + 1]!;
          pc += O.OP_LENGTHS[op]!;
          while (code[next] === O.OP_ALT) {
            if (!this.canPossessify(pc, base, greedy)) return false;
            pc = next + O.OP_LENGTHS[O.OP_ALT]!;
            next += code[next + 1]!;
          }
          enteredGroup = true;
          continue;
        }
        case O.OP_BRAZERO:
        case O.OP_BRAMINZERO: {
          let next = pc + 1;
          const inner = code[next]!;
          if (inner !== O.OP_BRA && inner !== O.OP_CBRA && inner !== O.OP_ONCE) return false;
          do next += code[next + 1]!;
          while (code[next] === O.OP_ALT);
          next += O.OP_LENGTHS[O.OP_KET]!;
          if (!this.canPossessify(next, base, greedy)) return false;
          pc += 1;
          continue;
        }
      }

      const found = this.itemAt(pc);
      if (found === null) return false;
      const { item } = found;
      if (!disjoint(base, item)) return false;
      if (!item.canBeEmpty) return true;
      pc = found.next;
    }
  }
}

function caseChars(c: number): number[] {
  const other = otherCase(c);
  return other === c ? [c] : [c, other];
}

/** Whether two items can never match the same character (with PCRE2's exact approximations). */
function disjoint(base: Item, next: Item): boolean {
  if (base.kind === 'chars') return charsDisjoint(base.chars, next);
  if (next.kind === 'chars') return charsDisjoint(next.chars, base);
  if (base.kind === 'class' || next.kind === 'class') {
    const [classItem, other] = base.kind === 'class' ? [base, next] : [next as Item & { kind: 'class' }, base];
    let otherSet: ByteSet;
    let invert = false;
    if (other.kind === 'class') {
      otherSet = other.set;
    } else if (other.kind === 'op' && TYPE_SETS.has(other.op)) {
      [otherSet, invert] = TYPE_SETS.get(other.op)!;
    } else {
      return false;
    }
    for (let i = 0; i < 32; i++) {
      const b = invert ? classItem.set[i]! & ~otherSet[i]! : classItem.set[i]! & otherSet[i]!;
      if (b !== 0) return false;
    }
    return true;
  }
  if (base.kind !== 'op' || next.kind !== 'op') return false;
  return POSSESSIFY_OK.get(base.op)?.has(next.op) ?? false;
}

/** Whether none of `chars` can be matched by `other`. */
function charsDisjoint(chars: number[], other: Item): boolean {
  for (const c of chars) {
    switch (other.kind) {
      case 'chars':
        if (other.chars.includes(c)) return false;
        break;
      case 'not':
        if (!other.chars.includes(c)) return false;
        break;
      case 'class':
        if (setHas(other.set, c)) return false;
        break;
      case 'op':
        if (!charAvoidsOp(c, other.op)) return false;
        break;
    }
  }
  return true;
}

function charAvoidsOp(c: number, op: number): boolean {
  const typeSet = TYPE_SETS.get(op);
  if (typeSet) return setHas(typeSet[0], c) === typeSet[1];
  switch (op) {
    case O.OP_HSPACE:
      return !setHas(HSPACE_SET, c);
    case O.OP_NOT_HSPACE:
      return setHas(HSPACE_SET, c);
    case O.OP_ANYNL:
    case O.OP_VSPACE:
      return !setHas(VSPACE_SET, c);
    case O.OP_NOT_VSPACE:
      return setHas(VSPACE_SET, c);
    case O.OP_DOLL:
    case O.OP_EODN:
      return c !== CR && c !== LF && c !== VT && c !== FF && c !== NEL;
    case O.OP_EOD:
      return true;
    default:
      return false;
  }
}
