/**
 * PCRE2's is_anchored() and is_startline(), computed the same way on the same code: whether
 * every alternative starts with \A, \G, ^ or (with dot-all) .*, so that only the start offset
 * can begin a match; or with ^ in multiline mode or .* without dot-all, so that only the start
 * offset or a position just after a newline can.
 */
import type { CodeProgram } from './codegen.js';
import * as O from './opcodes.js';

/** Skips items that do not affect where a match starts (PCRE2's first_significant_code). */
export function firstSignificant(code: Int32Array, pc: number): number {
  for (;;) {
    const op = code[pc]!;
    switch (op) {
      case O.OP_CREF:
      case O.OP_DNCREF:
      case O.OP_RREF:
      case O.OP_DNRREF:
      case O.OP_FALSE:
      case O.OP_TRUE:
      case O.OP_MARK:
      case O.OP_COMMIT_ARG:
      case O.OP_PRUNE_ARG:
      case O.OP_SKIP_ARG:
      case O.OP_THEN_ARG:
        pc += O.OP_LENGTHS[op]!;
        break;
      case O.OP_SKIPZERO:
        // PCRE2 steps over the bracket's first branch only: with alternatives this lands on
        // the second one (which, for example, makes (?:a|\Ab){0}x anchored). Kept as is.
        pc += 1;
        pc += code[pc + 1]! + O.OP_LENGTHS[O.OP_ALT]!;
        break;
      case O.OP_COND:
      case O.OP_SCOND:
        // Only a DEFINE group (never entered) is skipped.
        if (code[pc + 2] !== O.OP_FALSE || code[pc + code[pc + 1]!] !== O.OP_KET) return pc;
        pc += code[pc + 1]! + O.OP_LENGTHS[O.OP_KET]!;
        break;
      default:
        return pc;
    }
  }
}

function isDotStar(code: Int32Array, pc: number, dotOp: number): boolean {
  return (
    code[pc] === O.OP_REPEAT &&
    code[pc + 1] === O.FAMILY_TYPE &&
    code[pc + 2] === dotOp &&
    code[pc + 3] === 0 &&
    code[pc + 4] === O.UNLIMITED
  );
}

function groupBit(n: number): number {
  return n < 32 ? 1 << n : 1;
}

function backrefMap(program: CodeProgram): number {
  let map = 0;
  for (const n of program.backrefGroups) map |= groupBit(n);
  return map;
}

export function isAnchored(
  program: CodeProgram,
  bracket: number,
  bracketMap: number,
  atomCount: number,
  inAssert: boolean,
  hasPruneOrSkip: boolean,
  noDotstar: boolean,
): boolean {
  const code = program.code;
  let pc = bracket;
  do {
    const s = firstSignificant(code, pc + O.OP_LENGTHS[code[pc]!]!);
    const op = code[s]!;
    const recurse = (map: number, atoms: number, assert: boolean) =>
      isAnchored(program, s, map, atoms, assert, hasPruneOrSkip, noDotstar);
    if (op === O.OP_BRA || op === O.OP_BRAPOS || op === O.OP_SBRA || op === O.OP_SBRAPOS) {
      if (!recurse(bracketMap, atomCount, inAssert)) return false;
    } else if (O.isCapturingBracket(op)) {
      if (!recurse(bracketMap | groupBit(code[s + 2]!), atomCount, inAssert)) return false;
    } else if (op === O.OP_ASSERT || op === O.OP_ASSERT_NA) {
      if (!recurse(bracketMap, atomCount, true)) return false;
    } else if (op === O.OP_COND || op === O.OP_SCOND) {
      if (code[s + code[s + 1]!] !== O.OP_ALT) return false;
      if (!recurse(bracketMap, atomCount, inAssert)) return false;
    } else if (op === O.OP_ONCE) {
      if (!recurse(bracketMap, atomCount + 1, inAssert)) return false;
    } else if (code[s] === O.OP_REPEAT && code[s + 1] === O.FAMILY_TYPE && code[s + 3] === 0 && code[s + 4] === O.UNLIMITED) {
      // .* anchors only with dot-all, outside atomic groups, assertions and referenced groups.
      if (
        !isDotStar(code, s, O.OP_ALLANY) || (bracketMap & backrefMap(program)) !== 0 || atomCount > 0 ||
        hasPruneOrSkip || inAssert || noDotstar
      ) {
        return false;
      }
    } else if (op !== O.OP_SOD && op !== O.OP_SOM && op !== O.OP_CIRC) {
      return false;
    }
    pc += code[pc + 1]!;
  } while (code[pc] === O.OP_ALT);
  return true;
}

export function isStartline(
  program: CodeProgram,
  bracket: number,
  bracketMap: number,
  atomCount: number,
  inAssert: boolean,
  hasPruneOrSkip: boolean,
  noDotstar: boolean,
): boolean {
  const code = program.code;
  let pc = bracket;
  do {
    let s = firstSignificant(code, pc + O.OP_LENGTHS[code[pc]!]!);
    let op = code[s]!;
    const recurse = (at: number, map: number, atoms: number, assert: boolean) =>
      isStartline(program, at, map, atoms, assert, hasPruneOrSkip, noDotstar);
    if (op === O.OP_COND) {
      // Both the condition (an assertion) and what follows it must start a line.
      s += O.OP_LENGTHS[op]!;
      const cond = code[s]!;
      if (cond >= O.OP_CREF && cond <= O.OP_TRUE) return false;
      if (cond === O.OP_FAIL) return false;
      if (!recurse(s, bracketMap, atomCount, true)) return false;
      do s += code[s + 1]!;
      while (code[s] === O.OP_ALT);
      s += O.OP_LENGTHS[O.OP_KET]!;
      s = firstSignificant(code, s);
      op = code[s]!;
    }
    if (op === O.OP_BRA || op === O.OP_BRAPOS || op === O.OP_SBRA || op === O.OP_SBRAPOS) {
      if (!recurse(s, bracketMap, atomCount, inAssert)) return false;
    } else if (O.isCapturingBracket(op)) {
      if (!recurse(s, bracketMap | groupBit(code[s + 2]!), atomCount, inAssert)) return false;
    } else if (op === O.OP_ASSERT || op === O.OP_ASSERT_NA) {
      if (!recurse(s, bracketMap, atomCount, true)) return false;
    } else if (op === O.OP_ONCE) {
      if (!recurse(s, bracketMap, atomCount + 1, inAssert)) return false;
    } else if (code[s] === O.OP_REPEAT && code[s + 1] === O.FAMILY_TYPE && code[s + 3] === 0 && code[s + 4] === O.UNLIMITED) {
      if (
        !isDotStar(code, s, O.OP_ANY) || (bracketMap & backrefMap(program)) !== 0 || atomCount > 0 ||
        hasPruneOrSkip || inAssert || noDotstar
      ) {
        return false;
      }
    } else if (op !== O.OP_CIRC && op !== O.OP_CIRCM) {
      return false;
    }
    pc += code[pc + 1]!;
  } while (code[pc] === O.OP_ALT);
  return true;
}
