/**
 * The search loop around the interpreter (the "bumpalong" loop of pcre2_match()): choose each
 * starting position as PCRE2 does - skipping to the first code unit, to a line start or to a
 * byte of the start bitmap, stopping when too little subject is left or the required code unit
 * is missing - run the interpreter there, and honour what (*COMMIT), (*PRUNE), (*SKIP) and
 * (*THEN) ask for.
 *
 * The match and depth limits apply to each starting position separately (PCRE2 resets its
 * frame count for every position), and hitting either ends the whole search with an error, as
 * in PCRE2: no later position is tried.
 */
import {
  ERROR_DEPTHLIMIT,
  ERROR_MATCHLIMIT,
  Interpreter,
  MATCH_MATCH,
  MATCH_NOMATCH,
} from './interpreter.js';
import type { StartInfo } from './study.js';
import { indexOfBytes } from '../../util/byte-search.js';

const LF = 0x0a;
/* PCRE2 looks for the required code unit only in subjects shorter than this (anchored) or
   1000 times this (unanchored): past that, the search itself would cost too much. */
const REQ_CU_MAX = 5000;

export type SearchResult =
  | { status: 'match'; start: number; end: number }
  | { status: 'nomatch' }
  /** PCRE2_ERROR_MATCHLIMIT: too many backtracking frames at one starting position. */
  | { status: 'matchlimit' }
  /** PCRE2_ERROR_DEPTHLIMIT: too many nested backtracking frames. */
  | { status: 'depthlimit' }
  /** Another PCRE2 match error (recursion loop -52, heap limit -63), with PCRE2's number. */
  | { status: 'error'; code: number };

const NO_MATCH: SearchResult = { status: 'nomatch' };

export function search(
  interpreter: Interpreter,
  info: StartInfo,
  subject: Uint8Array,
  from: number,
  anchoredOption: boolean,
  matchLimit: number,
  depthLimit: number,
): SearchResult {
  const end = subject.length;
  if (from < 0 || from > end) return NO_MATCH;
  const anchored = anchoredOption || info.anchored;
  const optimize = !info.noStartOptimize;
  const { firstUnit, firstUnit2, startline, startBits, reqUnit, reqUnit2, minLength, requiredLiteral, literalReach } = info;
  interpreter.setSubject(subject, from, matchLimit, depthLimit);
  interpreter.ignoreSkipArg = 0;
  let start = from;
  let reqFound = from - 1; // where the required code unit was last found
  let literalFound = -1; // where ClamTS's required literal was last found
  // Where each case of the first unit occurs next (end if nowhere), remembered so that a
  // case that is absent is not searched for again from every position.
  let nextFirst = -1;
  let nextFirst2 = -1;

  for (;;) {
    if (optimize) {
      if (anchored) {
        // The one position must start with the first unit or a start-bitmap byte.
        if (firstUnit >= 0 || startBits !== null) {
          const c = start < end ? subject[start]! : -1;
          const ok = c >= 0 && ((firstUnit >= 0 && (c === firstUnit || c === firstUnit2)) || (startBits !== null && startBits[c] === 1));
          if (!ok) return NO_MATCH;
        }
      } else if (firstUnit >= 0) {
        if (nextFirst < start) nextFirst = indexOrEnd(subject, firstUnit, start);
        if (firstUnit2 !== firstUnit && nextFirst2 < start) nextFirst2 = indexOrEnd(subject, firstUnit2, start);
        start = firstUnit2 === firstUnit ? nextFirst : Math.min(nextFirst, nextFirst2);
        if (start >= end) return NO_MATCH;
      } else if (startline) {
        if (start > from) while (start < end && subject[start - 1] !== LF) start++;
      } else if (startBits !== null) {
        while (start < end && startBits[subject[start]!] === 0) start++;
        if (start >= end) return NO_MATCH;
      }
      if (end - start < minLength) return NO_MATCH;
      const p = start + (firstUnit >= 0 ? 1 : 0);
      if (reqUnit >= 0 && p > reqFound) {
        const checkLength = end - start;
        if (checkLength < REQ_CU_MAX || (!anchored && checkLength < REQ_CU_MAX * 1000)) {
          // Either case will do: PCRE2 looks for the first case, then for the other.
          let found = indexOrEnd(subject, reqUnit, p);
          if (found >= end && reqUnit2 !== reqUnit) found = indexOrEnd(subject, reqUnit2, p);
          if (found >= end) return NO_MATCH;
          reqFound = found;
        }
      }
      if (requiredLiteral !== null && literalFound < start) {
        literalFound = indexOfBytes(subject, requiredLiteral, start);
        if (literalFound < 0) return NO_MATCH;
      }
      if (literalReach >= 0 && literalFound - literalReach > start) {
        // No match that starts here is long enough to reach the literal.
        if (anchored) return NO_MATCH;
        start = literalFound - literalReach;
        continue;
      }
    }

    const rc = interpreter.match(start);
    let next: number;
    switch (rc) {
      case MATCH_MATCH:
        return { status: 'match', start: interpreter.matchStart, end: interpreter.matchEnd };
      case Interpreter.SKIP_ARG:
        // No (*MARK) matched the (*SKIP:NAME): redo this position ignoring that SKIP.
        next = start;
        interpreter.ignoreSkipArg = interpreter.skipArgCount;
        break;
      case Interpreter.SKIP:
      case MATCH_NOMATCH:
      case Interpreter.PRUNE:
      case Interpreter.THEN:
        // (*SKIP) moves the start to where it was passed, if that is further on.
        if (rc === Interpreter.SKIP && interpreter.verbSkipPos > start) {
          next = interpreter.verbSkipPos;
        } else {
          interpreter.ignoreSkipArg = 0;
          next = start + 1;
        }
        break;
      case Interpreter.COMMIT:
        return NO_MATCH;
      case ERROR_MATCHLIMIT:
        return { status: 'matchlimit' };
      case ERROR_DEPTHLIMIT:
        return { status: 'depthlimit' };
      default:
        return { status: 'error', code: rc };
    }
    start = next;
    if (anchored || start > end) return NO_MATCH;
  }
}

/** First position >= from holding byte c, or the subject length. */
function indexOrEnd(subject: Uint8Array, c: number, from: number): number {
  const at = subject.indexOf(c, from);
  return at < 0 ? subject.length : at;
}
