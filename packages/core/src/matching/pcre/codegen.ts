/**
 * Turns the resolved pattern tree into opcodes (see opcodes.ts), following the code PCRE2
 * 10.42's compiler generates: the same bracket kinds, the same replication of repeated groups
 * (nested BRAZERO copies for optional repeats, KETRMAX for unlimited ones), the same choice
 * between BRA and SBRA, the same one-character-class shortcuts. The matcher's backtracking
 * frames, and so ClamAV's match and depth limits, depend on that shape.
 */
import type { Branch, CondNode, GroupNode, Node, ParsedPattern } from './ast.js';
import { PcreCompileError } from './compile-error.js';
import * as O from './opcodes.js';
import type { ByteSet } from './tables.js';
import { BranchUnits, REQ_NONE, UnitContext, type Units, mergeBranchUnits } from './units.js';

export interface CodeProgram {
  code: Int32Array;
  /** Class bitmaps, indexed by the OP_CLASS operand. */
  sets: ByteSet[];
  /** (*MARK) and verb names, indexed by the operand of the _ARG opcodes. */
  marks: string[];
  /** Group lists for OP_DNREF, OP_DNCREF and OP_DNRREF, indexed by their operand. */
  groupLists: number[][];
  captureCount: number;
  /** Groups that are the target of a back reference. */
  backrefGroups: Set<number>;
  hasRecurse: boolean;
  hasAccept: boolean;
  /** The whole pattern can match an empty string. */
  matchEmpty: boolean;
  /** PCRE2's first and required code units for the whole pattern (see units.ts). */
  units: Units;
  /** The highest group number referenced by a back reference or condition. */
  topBackref: number;
}

/* PCRE2 refuses patterns whose compiled form exceeds 64K code units (LINK_SIZE 2). */
const MAX_PATTERN_SIZE = 1 << 16;

/** What compiling an item tells the item that contains it. */
interface ItemInfo {
  /** The item always consumes at least one character (PCRE2's "matched_char"). */
  matched: boolean;
  /** For groups: -1 if the group can match an empty string, 1 if not. */
  groupReturn: number;
}

/** What compiling a group tells its parent. */
interface GroupInfo {
  groupReturn: number;
  units: Units;
}

const NOT_MATCHED: ItemInfo = { matched: false, groupReturn: 0 };
const MATCHED: ItemInfo = { matched: true, groupReturn: 0 };

export function generateCode(parsed: ParsedPattern): CodeProgram {
  return new CodeGenerator(parsed).run();
}

class CodeGenerator {
  private readonly code: number[] = [];
  private readonly sets: ByteSet[] = [];
  private readonly marks: string[] = [];
  private readonly groupLists: number[][] = [];
  private readonly backrefGroups = new Set<number>();
  /** Capture groups open at this point, innermost last, with the assertion depth they opened at. */
  private readonly openCaptures: { number: number; assertDepth: number }[] = [];
  private assertDepth = 0;
  private hasRecurse = false;
  private hasAccept = false;
  private topBackref = 0;
  private readonly unitContext = new UnitContext();

  constructor(private readonly parsed: ParsedPattern) {}

  run(): CodeProgram {
    const top = this.compileGroup(O.OP_BRA, 0, this.parsed.branches);
    this.code.push(O.OP_END);
    const code = Int32Array.from(this.code);
    this.fixRecursions(code);
    if (pcre2CodeSize(code, this.marks) > MAX_PATTERN_SIZE) throw new PcreCompileError(20, this.parsed.length);
    return {
      code,
      sets: this.sets,
      marks: this.marks,
      groupLists: this.groupLists,
      captureCount: this.parsed.captureCount,
      backrefGroups: this.backrefGroups,
      hasRecurse: this.hasRecurse,
      hasAccept: this.hasAccept,
      matchEmpty: top.groupReturn < 0,
      units: top.units,
      topBackref: this.topBackref,
    };
  }

  /**
   * Subroutine calls hold a group number until the code is final (repeats move code around);
   * then, as in PCRE2, each calls the first bracket with that number.
   */
  private fixRecursions(code: Int32Array): void {
    const firstBracket = new Map<number, number>();
    for (let pc = 0; code[pc] !== O.OP_END; pc += O.OP_LENGTHS[code[pc]!]!) {
      if (O.isCapturingBracket(code[pc]!) && !firstBracket.has(code[pc + 2]!)) firstBracket.set(code[pc + 2]!, pc);
    }
    for (let pc = 0; code[pc] !== O.OP_END; pc += O.OP_LENGTHS[code[pc]!]!) {
      if (code[pc] === O.OP_RECURSE) {
        const number = code[pc + 1]!;
        code[pc + 1] = number === 0 ? 0 : firstBracket.get(number)!;
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Groups and branches

  /**
   * Emits a bracket with its branches and closing KET. `prefix` is compiled at the start of
   * the first branch (the assertion of a conditional group).
   */
  private compileGroup(
    op: number,
    number: number,
    branches: Branch[],
    extra?: { lookbehindLengths?: number[]; condition?: () => void; prefix?: Node },
  ): GroupInfo {
    const code = this.code;
    const start = code.length;
    code.push(op, 0);
    if (op === O.OP_CBRA) {
      code.push(number);
      this.openCaptures.push({ number, assertDepth: this.assertDepth });
    }
    extra?.condition?.();
    let groupReturn = 1;
    let units: Units | null = null;
    let linkAt = start + 1;
    branches.forEach((branch, i) => {
      if (i > 0) {
        code[linkAt] = code.length - (linkAt - 1);
        linkAt = code.length + 1;
        code.push(O.OP_ALT, 0);
      }
      const reverse = extra?.lookbehindLengths?.[i] ?? 0;
      if (reverse > 0) code.push(O.OP_REVERSE, reverse);
      const items = i === 0 && extra?.prefix ? [extra.prefix, ...branch] : branch;
      const branchUnits = new BranchUnits(this.unitContext);
      if (this.compileBranch(items, branchUnits) < 0) groupReturn = -1;
      units = mergeBranchUnits(units, branchUnits);
    });
    code[linkAt] = code.length - (linkAt - 1);
    code.push(O.OP_KET, code.length - start);
    if (op === O.OP_CBRA) this.openCaptures.pop();
    return { groupReturn, units: units! };
  }

  /** Returns 1 if the branch always consumes a character before any (*ACCEPT), else -1. */
  private compileBranch(items: Branch, units: BranchUnits): number {
    let result = -1;
    let hadAccept = false;
    for (let i = 0; i < items.length; i++) {
      const node = items[i]!;
      const info = this.compileItem(node, units);
      if (node.kind === 'verb' && node.verb === 'ACCEPT') hadAccept = true;
      else if (info.matched && !hadAccept) result = 1;
    }
    return result;
  }

  private compileItem(node: Node, units: BranchUnits, quantified = false): ItemInfo {
    const code = this.code;
    switch (node.kind) {
      case 'char':
        code.push(node.caseless ? O.OP_CHARI : O.OP_CHAR, node.c);
        units.literal(node.c, node.caseless);
        return MATCHED;
      case 'not':
        code.push(node.caseless ? O.OP_NOTI : O.OP_NOT, node.c);
        units.notChar();
        return MATCHED;
      case 'type':
        code.push(node.op);
        units.nonLiteral();
        return MATCHED;
      case 'class':
        code.push(O.OP_CLASS, this.sets.length, 1, 1, O.REP_MAX);
        this.sets.push(node.set);
        units.nonLiteral();
        return MATCHED;
      case 'anchor':
        code.push(node.op);
        if (node.op === O.OP_CIRCM) units.circumflexMultiline();
        else if (node.op !== O.OP_CIRC && node.op !== O.OP_DOLL && node.op !== O.OP_DOLLM) units.zeroWidthEscape();
        return NOT_MATCHED;
      case 'backref':
        this.compileBackref(node.number, node.numbers, node.caseless);
        units.backref(node.numbers !== undefined);
        return NOT_MATCHED;
      case 'recurse':
        code.push(O.OP_RECURSE, node.number);
        this.hasRecurse = true;
        units.recursion();
        return NOT_MATCHED;
      case 'verb':
        this.compileVerb(node.verb, node.name);
        if (node.verb === 'ACCEPT') units.accept();
        return NOT_MATCHED;
      case 'group':
        return this.compileGroupItem(node, units, quantified);
      case 'cond':
        return this.compileCond(node, units);
      case 'quant':
        return this.compileQuantified(node.item, node.min, node.max, node.mode, units);
    }
  }

  private compileBackref(number: number, numbers: number[] | undefined, caseless: boolean): void {
    if (numbers) {
      this.code.push(O.OP_DNREF, this.groupLists.length, caseless ? 1 : 0, 1, 1, O.REP_MAX);
      this.groupLists.push(numbers);
      for (const n of numbers) this.backrefGroups.add(n);
      this.noteReference(Math.max(...numbers));
    } else {
      this.code.push(O.OP_REF, number, caseless ? 1 : 0, 1, 1, O.REP_MAX);
      this.backrefGroups.add(number);
      this.noteReference(number);
    }
  }

  private noteReference(group: number): void {
    if (group > this.topBackref) this.topBackref = group;
  }

  private compileVerb(verb: string, name: string | undefined): void {
    const code = this.code;
    const markIndex = () => {
      this.marks.push(name!);
      return this.marks.length - 1;
    };
    switch (verb) {
      case 'ACCEPT':
        this.hasAccept = true;
        // Close the capture groups (*ACCEPT) jumps out of, innermost first.
        for (let i = this.openCaptures.length - 1; i >= 0; i--) {
          const open = this.openCaptures[i]!;
          if (open.assertDepth < this.assertDepth) break;
          code.push(O.OP_CLOSE, open.number);
        }
        code.push(this.assertDepth > 0 ? O.OP_ASSERT_ACCEPT : O.OP_ACCEPT);
        return;
      case 'FAIL':
        code.push(O.OP_FAIL);
        return;
      case 'MARK':
        code.push(O.OP_MARK, markIndex());
        return;
      case 'COMMIT':
        code.push(...(name === undefined ? [O.OP_COMMIT] : [O.OP_COMMIT_ARG, markIndex()]));
        return;
      case 'PRUNE':
        code.push(...(name === undefined ? [O.OP_PRUNE] : [O.OP_PRUNE_ARG, markIndex()]));
        return;
      case 'SKIP':
        code.push(...(name === undefined ? [O.OP_SKIP] : [O.OP_SKIP_ARG, markIndex()]));
        return;
      case 'THEN':
        code.push(...(name === undefined ? [O.OP_THEN] : [O.OP_THEN_ARG, markIndex()]));
        return;
    }
  }

  private compileGroupItem(node: GroupNode, units: BranchUnits, quantified: boolean): ItemInfo {
    if (node.type === 'neglookahead' && !quantified && node.branches.length === 1 && node.branches[0]!.length === 0) {
      // (?!) can never match.
      this.code.push(O.OP_FAIL);
      return NOT_MATCHED;
    }
    const op = GROUP_OPS[node.type];
    const isAssertion = op < O.OP_ONCE;
    const reqVaryBefore = this.unitContext.reqVaryOpt;
    if (isAssertion) this.assertDepth++;
    const group = this.compileGroup(op, node.number, node.branches, {
      lookbehindLengths: node.lookbehindLengths,
    });
    if (isAssertion) this.assertDepth--;
    units.group(isAssertion, op === O.OP_ASSERT || op === O.OP_ASSERT_NA, group.units, reqVaryBefore);
    return { matched: !isAssertion && group.groupReturn > 0, groupReturn: group.groupReturn };
  }

  private compileCond(node: CondNode, units: BranchUnits): ItemInfo {
    const test = node.test;
    const condition = () => {
      const code = this.code;
      switch (test.type) {
        case 'group':
          code.push(O.OP_CREF, test.number);
          this.noteReference(test.number);
          return;
        case 'groups':
          code.push(O.OP_DNCREF, this.groupLists.length);
          this.groupLists.push(test.numbers);
          this.noteReference(Math.max(...test.numbers));
          return;
        case 'recursion':
          code.push(O.OP_RREF, test.number === 0 ? O.RREF_ANY : test.number);
          return;
        case 'recursions':
          code.push(O.OP_DNRREF, this.groupLists.length);
          this.groupLists.push(test.numbers);
          return;
        case 'define':
          code.push(O.OP_FALSE);
          return;
        case 'version':
          code.push(test.result ? O.OP_TRUE : O.OP_FALSE);
          return;
        default:
          return; // an assertion is compiled as the first item of the first branch
      }
    };
    const prefix = test.type === 'assert' ? test.assertion : undefined;
    const reqVaryBefore = this.unitContext.reqVaryOpt;
    const group = this.compileGroup(O.OP_COND, 0, node.branches, { condition, prefix });
    if (test.type === 'define') return { matched: false, groupReturn: 0 };
    // A one-branch condition has an implicit empty second branch.
    const twoBranches = node.branches.length === 2;
    const sub = twoBranches ? group.units : { first: 0, firstFlags: REQ_NONE, req: 0, reqFlags: REQ_NONE };
    units.group(false, false, sub, reqVaryBefore);
    return { matched: twoBranches && group.groupReturn > 0, groupReturn: group.groupReturn };
  }

  // ---------------------------------------------------------------------------------------
  // Quantifiers

  private compileQuantified(
    item: Node,
    min: number,
    max: number,
    mode: 'greedy' | 'lazy' | 'possessive',
    units: BranchUnits,
  ): ItemInfo {
    const code = this.code;
    const start = code.length;
    const lazy = mode === 'lazy' ? 1 : 0;
    const reptype = mode === 'possessive' ? O.REP_POS : mode === 'lazy' ? O.REP_MIN : O.REP_MAX;
    const quantifiedMatched = (info: ItemInfo) => ({ matched: info.matched && min > 0, groupReturn: info.groupReturn });

    if (item.kind === 'verb' && item.verb === 'ACCEPT') {
      // A quantified (*ACCEPT) is wrapped in a non-capturing group.
      const wrapped: GroupNode = { kind: 'group', type: 'noncapture', number: 0, branches: [[item]], offset: 0 };
      return this.compileQuantified(wrapped, min, max, mode, units);
    }

    const info = this.compileItem(item, units, true);
    const op = code[start]!;
    const isDefine = item.kind === 'cond' && item.test.type === 'define';
    units.repeat(
      min,
      max,
      item.kind === 'char' ? { c: item.c, caseless: item.caseless } : undefined,
      (item.kind === 'group' || item.kind === 'cond') && !isDefine,
    );

    if (item.kind === 'char' || item.kind === 'not' || item.kind === 'type') {
      if (max === 0) {
        code.length = start;
        return NOT_MATCHED;
      }
      if (min === 1 && max === 1) return quantifiedMatched(info);
      const family =
        op === O.OP_CHAR ? O.FAMILY_CHAR
        : op === O.OP_CHARI ? O.FAMILY_CHARI
        : op === O.OP_NOT ? O.FAMILY_NOT
        : op === O.OP_NOTI ? O.FAMILY_NOTI
        : O.FAMILY_TYPE;
      const arg = family === O.FAMILY_TYPE ? op : code[start + 1]!;
      code.length = start;
      code.push(O.OP_REPEAT, family, arg, min, max, reptype);
      return quantifiedMatched(info);
    }

    if (item.kind === 'class' || item.kind === 'backref') {
      if (max === 0) {
        code.length = start;
        return NOT_MATCHED;
      }
      if (min === 1 && max === 1) return quantifiedMatched(info);
      const at = item.kind === 'class' ? start + 2 : start + 3;
      code[at] = min;
      code[at + 1] = max;
      // Classes have possessive repeat opcodes; back references are wrapped in an atomic group.
      code[at + 2] = item.kind === 'class' ? reptype : mode === 'possessive' ? O.REP_MAX : reptype;
      if (item.kind === 'backref' && mode === 'possessive') this.wrapInOnce(start);
      return quantifiedMatched(info);
    }

    let groupReturn = info.groupReturn;
    let repeatMin = min;
    let repeatMax = max;
    if (item.kind === 'recurse') {
      if (min === 1 && max === 1 && mode !== 'possessive') return NOT_MATCHED;
      // Copies of the call for the minimum, then the last copy in a group for the rest.
      if (min > 0 && (min !== 1 || max !== O.UNLIMITED)) {
        const copies = min === max ? min - 1 : min;
        const call = code.slice(start);
        for (let i = 0; i < copies; i++) code.push(...call);
        if (min === max) {
          if (mode === 'possessive') this.wrapInOnce(start);
          return NOT_MATCHED;
        }
        if (max !== O.UNLIMITED) repeatMax = max - min;
        repeatMin = 0;
      }
      const last = code.length - 2;
      const call = code.slice(last);
      code.length = last;
      code.push(O.OP_BRA, 4, ...call, O.OP_KET, 4);
      groupReturn = -1;
      this.repeatGroup(last, repeatMin, repeatMax, lazy, mode === 'possessive', groupReturn, start, min);
      return NOT_MATCHED;
    }

    this.repeatGroup(start, repeatMin, repeatMax, lazy, mode === 'possessive', groupReturn, start, min);
    return quantifiedMatched(info);
  }

  /**
   * Repeats the group whose code starts at `groupStart` (and runs to the end of the code),
   * the way PCRE2 does it: copies for the minimum, nested optional copies behind BRAZERO for
   * a bounded maximum, a KETRMAX/KETRMIN (or KETRPOS) closing bracket for an unlimited one.
   * `itemStart` is where the whole quantified item began (for the final atomic wrapper).
   */
  private repeatGroup(
    groupStart: number,
    min: number,
    max: number,
    lazy: number,
    possessiveIn: boolean,
    groupReturn: number,
    itemStart: number,
    originalMin: number,
  ): void {
    const code = this.code;
    let possessive = possessiveIn;
    const body = code.slice(groupStart);
    const opPrevious = body[0]!;
    if (min === 1 && max === 1 && !possessive) return;
    // Repeating a DEFINE group (a one-branch condition that is always false) is ignored.
    if (opPrevious === O.OP_COND && body[2] === O.OP_FALSE && body[body[1]!] !== O.OP_ALT) return;
    // An assertion repeated without limit is repeated one more time than the minimum.
    if (opPrevious < O.OP_ONCE && max === O.UNLIMITED) max = min + 1;

    code.length = groupStart;
    let brazeroAt = -1;
    const openBrackets: number[] = [];
    const openBracket = () => {
      openBrackets.push(code.length);
      code.push(O.OP_BRA, 0);
    };

    if (min === 0) {
      if (max <= 1 || max === O.UNLIMITED) {
        if (max === 0) {
          code.push(O.OP_SKIPZERO, ...body);
          return;
        }
        brazeroAt = code.length;
        code.push(O.OP_BRAZERO + lazy);
      } else {
        code.push(O.OP_BRAZERO + lazy);
        openBracket();
      }
      code.push(...body);
      if (max !== O.UNLIMITED) max--;
    } else {
      for (let i = 0; i < min; i++) code.push(...body);
      if (max !== O.UNLIMITED) max -= min;
    }

    if (max !== O.UNLIMITED) {
      for (let i = max; i >= 1; i--) {
        code.push(O.OP_BRAZERO + lazy);
        if (i !== 1) openBracket();
        code.push(...body);
      }
      for (let i = openBrackets.length - 1; i >= 0; i--) {
        const bra = openBrackets[i]!;
        code[bra + 1] = code.length - bra;
        code.push(O.OP_KET, code.length - bra);
      }
    } else {
      const ket = code.length - 2;
      const bra = ket - code[ket + 1]!;
      if (code[bra] === O.OP_ONCE && possessive) code[bra] = O.OP_BRA;
      if (code[bra] === O.OP_ONCE) {
        code[ket] = O.OP_KETRMAX + lazy;
      } else {
        if (groupReturn < 0) code[bra]! += O.S_OFFSET;
        if (code[bra] === O.OP_COND && code[bra + code[bra + 1]!] !== O.OP_ALT) code[bra] = O.OP_SCOND;
        if (possessive) {
          if (code[bra] === O.OP_COND || code[bra] === O.OP_SCOND) {
            const posOp = code[bra] === O.OP_COND ? O.OP_BRAPOS : O.OP_SBRAPOS;
            this.wrap(bra, posOp, O.OP_KETRPOS);
          } else {
            code[bra]! += 1;
            code[ket] = O.OP_KETRPOS;
          }
          if (brazeroAt >= 0) code[brazeroAt] = O.OP_BRAPOSZERO;
          if (originalMin < 2) possessive = false;
        } else {
          code[ket] = O.OP_KETRMAX + lazy;
        }
      }
    }
    if (possessive) this.wrapInOnce(itemStart);
  }

  private wrapInOnce(start: number): void {
    this.wrap(start, O.OP_ONCE, O.OP_KET);
  }

  /** Encloses code[start..end) in a one-branch bracket. */
  private wrap(start: number, open: number, close: number): void {
    const code = this.code;
    const inner = code.slice(start);
    code.length = start;
    const length = inner.length + 2;
    code.push(open, length, ...inner, close, length);
  }
}

const GROUP_OPS: Record<GroupNode['type'], number> = {
  capture: O.OP_CBRA,
  noncapture: O.OP_BRA,
  atomic: O.OP_ONCE,
  lookahead: O.OP_ASSERT,
  neglookahead: O.OP_ASSERT_NOT,
  lookbehind: O.OP_ASSERTBACK,
  neglookbehind: O.OP_ASSERTBACK_NOT,
  lookahead_na: O.OP_ASSERT_NA,
  lookbehind_na: O.OP_ASSERTBACK_NA,
};

/** The size PCRE2's compiled code would have, in its 8-bit code units with LINK_SIZE 2. */
function pcre2CodeSize(code: Int32Array, marks: string[]): number {
  let size = 0;
  for (let pc = 0; ; pc += O.OP_LENGTHS[code[pc]!]!) {
    const op = code[pc]!;
    if (op === O.OP_END) return size + 1;
    if (op === O.OP_REPEAT) {
      size += singleRepeatSize(code[pc + 1] === O.FAMILY_TYPE, code[pc + 3]!, code[pc + 4]!);
    } else if (op === O.OP_CLASS || op === O.OP_REF || op === O.OP_DNREF) {
      const base = op === O.OP_CLASS ? 33 : op === O.OP_REF ? 3 : 5;
      const at = op === O.OP_CLASS ? pc + 2 : pc + 3;
      const min = code[at]!;
      const max = code[at + 1]!;
      const simple = (min === 0 || min === 1) && (max === 1 || max === O.UNLIMITED);
      size += base + (min === 1 && max === 1 ? 0 : simple ? 1 : 5);
    } else if (op === O.OP_MARK || op === O.OP_PRUNE_ARG || op === O.OP_SKIP_ARG || op === O.OP_THEN_ARG || op === O.OP_COMMIT_ARG) {
      size += 3 + marks[code[pc + 1]!]!.length;
    } else if (op === O.OP_CHAR || op === O.OP_CHARI || op === O.OP_NOT || op === O.OP_NOTI) {
      size += 2;
    } else if (op >= O.OP_ALT && op <= O.OP_SCOND) {
      size += O.isCapturingBracket(op) ? 5 : 3;
    } else if (op === O.OP_RECURSE || op === O.OP_CREF || op === O.OP_RREF || op === O.OP_CLOSE) {
      size += 3;
    } else if (op === O.OP_DNCREF || op === O.OP_DNRREF) {
      size += 5;
    } else {
      size += 1;
    }
  }
}

/** PCRE2 size of a repeated character or type: EXACT/UPTO/STAR/PLUS/QUERY combinations. */
function singleRepeatSize(isType: boolean, min: number, max: number): number {
  const item = isType ? 1 : 2;
  const variable = (count: number) => (count === O.UNLIMITED || count === 1 ? 2 : 4);
  if (min === 0) return variable(max);
  if (min === 1) return max === O.UNLIMITED ? 2 : item + 4;
  if (min === max) return 4;
  return 4 + variable(max === O.UNLIMITED ? O.UNLIMITED : max - min);
}
