/**
 * PCRE2's find_minlength(): the minimum subject length a match needs, computed with PCRE2's
 * exact rules. They are not always a true lower bound - a branch that refers back to its own
 * group is left out ("a recursion only makes sense if another branch stops it"), so
 * /.(a|\1*?){2}/ is given a minimum of 3 and PCRE2 never matches "a" - and ClamAV gets PCRE2's
 * answer, so ClamTS must too.
 */
import type { CodeProgram } from './codegen.js';
import * as O from './opcodes.js';

const UINT16_MAX = 0xffff;
const MAX_CACHE_BACKREF = 128;

/** The pattern's minimum match length, or 0 if PCRE2 would not compute one. */
export function minimumLength(program: CodeProgram, dupCaptureUsed: boolean): number {
  if (program.matchEmpty || program.hasAccept || program.topBackref > MAX_CACHE_BACKREF) return 0;
  const finder = new MinLengthFinder(program, dupCaptureUsed);
  const min = finder.find(0, []);
  return min < 0 ? 0 : Math.min(min, UINT16_MAX);
}

class MinLengthFinder {
  private readonly code: Int32Array;
  private count = 0;
  /** PCRE2's backref_cache: [0] is the highest cached group, then lengths (-1 unknown). */
  private readonly backrefCache: number[] = [0];

  constructor(
    private readonly program: CodeProgram,
    private readonly dupCaptureUsed: boolean,
  ) {
    this.code = program.code;
  }

  /** Minimum length of the group whose bracket is at `bracket`; -1 if too complicated. */
  find(bracket: number, recursing: number[]): number {
    const code = this.code;
    const op = code[bracket]!;
    if (op >= O.OP_SBRA && op <= O.OP_SCOND) return 0; // a group that may be empty
    if (this.count++ > 1000) return -1;

    let length = -1;
    let branchLength = 0;
    let prevCapNumber = -1;
    let prevCapLength = 0;
    let prevRecurseNumber = -1;
    let prevRecurseLength = 0;
    let onceFudge = 0;
    let hadRecurse = false;
    let nextBranch = bracket + code[bracket + 1]!;
    let cc = bracket + O.OP_LENGTHS[op]!;

    for (;;) {
      if (branchLength >= UINT16_MAX) {
        branchLength = UINT16_MAX;
        cc = nextBranch;
      }
      const c = code[cc]!;
      switch (c) {
        case O.OP_COND:
        case O.OP_SCOND: {
          // One branch: the implied empty branch makes it add nothing.
          const end = cc + code[cc + 1]!;
          if (code[end] !== O.OP_ALT) {
            cc = end + O.OP_LENGTHS[O.OP_KET]!;
            break;
          }
          const d = this.find(cc, recursing);
          if (d < 0) return d;
          branchLength += d;
          cc = skipBracket(code, cc);
          break;
        }
        case O.OP_BRA:
        case O.OP_ONCE:
        case O.OP_SBRA:
        case O.OP_BRAPOS:
        case O.OP_SBRAPOS: {
          if (c === O.OP_BRA && code[cc + 2] === O.OP_RECURSE && code[cc + 4] === O.OP_KET) {
            // A bracket wrapped around a repeated subroutine call: handle the call here.
            onceFudge = O.OP_LENGTHS[O.OP_KET]!;
            cc += O.OP_LENGTHS[O.OP_BRA]!;
            break;
          }
          const d = this.find(cc, recursing);
          if (d < 0) return d;
          branchLength += d;
          cc = skipBracket(code, cc);
          break;
        }
        case O.OP_CBRA:
        case O.OP_SCBRA:
        case O.OP_CBRAPOS:
        case O.OP_SCBRAPOS: {
          const number = code[cc + 2]!;
          if (this.dupCaptureUsed || number !== prevCapNumber) {
            prevCapNumber = number;
            prevCapLength = this.find(cc, recursing);
            if (prevCapLength < 0) return prevCapLength;
          }
          branchLength += prevCapLength;
          cc = skipBracket(code, cc);
          break;
        }
        case O.OP_ACCEPT:
        case O.OP_ASSERT_ACCEPT:
          return -1;
        case O.OP_ALT:
        case O.OP_KET:
        case O.OP_KETRMAX:
        case O.OP_KETRMIN:
        case O.OP_KETRPOS:
        case O.OP_END:
          // A branch that recursed is ignored unless it is the first.
          if (length < 0 || (!hadRecurse && branchLength < length)) length = branchLength;
          if (c !== O.OP_ALT || length === 0) return length;
          nextBranch = cc + code[cc + 1]!;
          cc += O.OP_LENGTHS[O.OP_ALT]!;
          branchLength = 0;
          hadRecurse = false;
          break;
        case O.OP_ASSERT:
        case O.OP_ASSERT_NOT:
        case O.OP_ASSERTBACK:
        case O.OP_ASSERTBACK_NOT:
        case O.OP_ASSERT_NA:
        case O.OP_ASSERTBACK_NA:
          cc = skipBracket(code, cc);
          break;
        case O.OP_BRAZERO:
        case O.OP_BRAMINZERO:
        case O.OP_BRAPOSZERO:
        case O.OP_SKIPZERO:
          cc = skipBracket(code, cc + 1);
          break;
        case O.OP_CHAR:
        case O.OP_CHARI:
        case O.OP_NOT:
        case O.OP_NOTI:
          branchLength++;
          cc += 2;
          break;
        case O.OP_REPEAT:
          branchLength += code[cc + 3]!;
          cc += O.OP_LENGTHS[c]!;
          break;
        case O.OP_CLASS:
          branchLength += code[cc + 2]!;
          cc += O.OP_LENGTHS[c]!;
          break;
        case O.OP_REF:
        case O.OP_DNREF: {
          const d = c === O.OP_REF ? this.referenceLength(code[cc + 1]!, cc, recursing) : this.duplicateReferenceLength(cc, recursing);
          if (d.hadRecurse) hadRecurse = true;
          if (d.length < 0) return d.length;
          const min = code[cc + 3]!;
          if ((d.length > 0 && Math.floor(0x7fffffff / d.length) < min) || UINT16_MAX - branchLength < min * d.length) {
            branchLength = UINT16_MAX;
          } else {
            branchLength += min * d.length;
          }
          cc += O.OP_LENGTHS[c]!;
          break;
        }
        case O.OP_RECURSE: {
          const target = code[cc + 1]!;
          const number = target === 0 ? -2 : code[target + 2]!;
          if (number === prevRecurseNumber) {
            branchLength += prevRecurseLength;
          } else {
            const end = groupEnd(code, target);
            if ((cc > target && cc < end) || recursing.includes(target)) {
              hadRecurse = true;
            } else {
              prevRecurseLength = this.find(target, [...recursing, target]);
              if (prevRecurseLength < 0) return prevRecurseLength;
              prevRecurseNumber = number;
              branchLength += prevRecurseLength;
            }
          }
          cc += O.OP_LENGTHS[O.OP_RECURSE]! + onceFudge;
          onceFudge = 0;
          break;
        }
        default:
          if (O.isTypeOp(c)) {
            branchLength++;
            cc += 1;
            break;
          }
          // Zero-width items, conditions' tests and verbs.
          cc += O.OP_LENGTHS[c]!;
          break;
      }
    }
  }

  /** Minimum length of back-referenced group `number` (PCRE2's rules and cache). */
  private referenceLength(number: number, cc: number, recursing: number[]): { length: number; hadRecurse: boolean } {
    const cache = this.backrefCache;
    if (number <= cache[0]! && cache[number]! >= 0) return { length: cache[number]!, hadRecurse: false };
    const result = this.groupLength(number, cc, recursing);
    this.cacheLength(number, result.length);
    return result;
  }

  private duplicateReferenceLength(cc: number, recursing: number[]): { length: number; hadRecurse: boolean } {
    if (this.dupCaptureUsed) return { length: 0, hadRecurse: false };
    const cache = this.backrefCache;
    let d = 0x7fffffff;
    let hadRecurse = false;
    for (const number of this.program.groupLists[this.code[cc + 1]!]!) {
      let dd: number;
      if (number <= cache[0]! && cache[number]! >= 0) {
        dd = cache[number]!;
      } else {
        const result = this.groupLength(number, cc, recursing);
        if (result.length < 0) return result;
        if (result.hadRecurse) hadRecurse = true;
        dd = result.length;
        this.cacheLength(number, dd);
      }
      if (dd < d) d = dd;
      if (d <= 0) break;
    }
    return { length: d, hadRecurse };
  }

  /** The length of group `number` as a reference at `cc` sees it. */
  private groupLength(number: number, cc: number, recursing: number[]): { length: number; hadRecurse: boolean } {
    const code = this.code;
    const start = findBracket(code, 0, number);
    const end = groupEnd(code, start);
    if (this.dupCaptureUsed && findBracket(code, end, number) >= 0) return { length: 0, hadRecurse: false };
    if ((cc > start && cc < end) || recursing.includes(start)) return { length: 0, hadRecurse: true };
    return { length: this.find(start, [...recursing, start]), hadRecurse: false };
  }

  private cacheLength(number: number, length: number): void {
    const cache = this.backrefCache;
    cache[number] = length;
    for (let i = cache[0]! + 1; i < number; i++) cache[i] = -1;
    cache[0] = number;
  }
}

function skipBracket(code: Int32Array, pc: number): number {
  return groupEnd(code, pc) + O.OP_LENGTHS[O.OP_KET]!;
}

/** Position of the KET that closes the bracket at `pc`. */
function groupEnd(code: Int32Array, pc: number): number {
  do pc += code[pc + 1]!;
  while (code[pc] === O.OP_ALT);
  return pc;
}

/** First capturing bracket for `number` at or after `from`, or -1 (PCRE2's find_bracket). */
function findBracket(code: Int32Array, from: number, number: number): number {
  for (let pc = from; code[pc] !== O.OP_END; pc += O.OP_LENGTHS[code[pc]!]!) {
    if (O.isCapturingBracket(code[pc]!) && code[pc + 2] === number) return pc;
  }
  return -1;
}
