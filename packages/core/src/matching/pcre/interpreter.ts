/**
 * The backtracking matcher, built on PCRE2 10.42's model so that it counts what PCRE2 counts.
 *
 * PCRE2 keeps a vector of "frames", one per pending backtracking point. A frame holds the
 * subject position, the captures and a little scratch state. Every time the matcher must
 * remember an alternative (another branch of a group, one more or one fewer repetition...) it
 * creates a new frame on top and carries on there (RMATCH); when something fails it returns to
 * the frame below (RRETURN) and resumes the code that created the child. The match limit is a
 * count of frames created for one starting position; the depth limit bounds the index of the
 * newest frame. ClamAV sets both (100000 and 2000 by default) and treats hitting either as "no
 * match". This interpreter creates frames at exactly the same opcodes, in the same order, so
 * the limits trigger on the same inputs.
 *
 * Frames live in one Int32Array. Each frame starts with fields that belong to that frame only
 * (where to resume, scratch values) followed by the state a new frame copies from its parent
 * (subject position, captures...). "Resume points" (R_*) name the places that created a child,
 * like PCRE2's RMxx labels.
 */
import type { CodeProgram } from './codegen.js';
import * as O from './opcodes.js';
import { DIGIT_SET, HSPACE_SET, SPACE_SET, VSPACE_SET, WORD_SET, lowerCase, otherCase, setToLookup } from './tables.js';

/* Local copies of the opcode constants: the hot loop must not go through the module object,
   which some loaders (tsx's CommonJS interop) turn into a getter call per access. */
const {
  FAMILY_CHARI,
  FAMILY_NOT,
  FAMILY_NOTI,
  FAMILY_TYPE,
  OP_ACCEPT,
  OP_ALLANY,
  OP_ALT,
  OP_ANY,
  OP_ANYNL,
  OP_ASSERT,
  OP_ASSERTBACK,
  OP_ASSERTBACK_NA,
  OP_ASSERTBACK_NOT,
  OP_ASSERT_ACCEPT,
  OP_ASSERT_NA,
  OP_ASSERT_NOT,
  OP_BRA,
  OP_BRAMINZERO,
  OP_BRAPOS,
  OP_BRAPOSZERO,
  OP_BRAZERO,
  OP_CBRA,
  OP_CBRAPOS,
  OP_CHAR,
  OP_CHARI,
  OP_CIRC,
  OP_CIRCM,
  OP_CLASS,
  OP_CLOSE,
  OP_COMMIT,
  OP_COMMIT_ARG,
  OP_COND,
  OP_CREF,
  OP_DIGIT,
  OP_DNCREF,
  OP_DNREF,
  OP_DNRREF,
  OP_DOLL,
  OP_DOLLM,
  OP_END,
  OP_EOD,
  OP_EODN,
  OP_FAIL,
  OP_FALSE,
  OP_HSPACE,
  OP_KET,
  OP_KETRMAX,
  OP_KETRMIN,
  OP_KETRPOS,
  OP_LENGTHS,
  OP_MARK,
  OP_NOT,
  OP_NOTI,
  OP_NOT_DIGIT,
  OP_NOT_HSPACE,
  OP_NOT_VSPACE,
  OP_NOT_WHITESPACE,
  OP_NOT_WORDCHAR,
  OP_NOT_WORD_BOUNDARY,
  OP_ONCE,
  OP_PRUNE,
  OP_PRUNE_ARG,
  OP_RECURSE,
  OP_REF,
  OP_REPEAT,
  OP_REVERSE,
  OP_RREF,
  OP_SBRA,
  OP_SBRAPOS,
  OP_SCBRA,
  OP_SCBRAPOS,
  OP_SCOND,
  OP_SET_SOM,
  OP_SKIP,
  OP_SKIPZERO,
  OP_SKIP_ARG,
  OP_SOD,
  OP_SOM,
  OP_THEN,
  OP_THEN_ARG,
  OP_TRUE,
  OP_VSPACE,
  OP_WHITESPACE,
  OP_WORDCHAR,
  OP_WORD_BOUNDARY,
  REP_MIN,
  REP_POS,
  RREF_ANY,
} = O;

/* Results of matching at one position (PCRE2's internal codes, and its error numbers). */
export const MATCH_NOMATCH = 0;
export const MATCH_MATCH = 1;
const MATCH_ACCEPT = -999;
const MATCH_KETRPOS = -998;
const MATCH_COMMIT = -997;
const MATCH_PRUNE = -996;
const MATCH_SKIP = -995;
const MATCH_SKIP_ARG = -994;
const MATCH_THEN = -993;
export const ERROR_MATCHLIMIT = -47;
const ERROR_RECURSELOOP = -52;
export const ERROR_DEPTHLIMIT = -53;
const ERROR_HEAPLIMIT = -63;

/* Frame fields. Fields from EPTR on are copied into each new frame. */
const ECODE = 0; // where this frame is in the code
const RID = 1; // resume point used when the child frame returns
const BACK = 2; // cells to go back on return (a multiple of the frame size)
const GFTYPE = 3; // group frame type (GF_*), 0 if not a group frame
const T0 = 4; // scratch: positions
const T1 = 5;
const T2 = 6; // scratch: counts, flags, frame types
const T3 = 7;
const T4 = 8;
const LEN = 9;
const OPF = 10; // the opcode being processed
const EPTR = 11;
const START_MATCH = 12;
const MARK = 13; // 1 + index of the most recent mark, 0 for none
const CUR_RECURSE = 14;
const CAPTURE_LAST = 15;
const LAST_GROUP = 16; // cell offset of the most recent group frame, -1 for none
const OFFSET_TOP = 17;
const OVECTOR = 18;

const GF_CAPTURE = 0x10000;
const GF_NOCAPTURE = 0x20000;
const GF_CONDASSERT = 0x30000;
const GF_RECURSE = 0x40000;
const GF_IDMASK = 0xffff0000 | 0;
const GF_DATAMASK = 0xffff;
const RECURSE_UNSET = -1;

/* Resume points. */
const R_BRA = 1;
const R_GROUPLOOP = 2;
const R_ASSERT = 3;
const R_ASSERT_NOT = 4;
const R_COND_ASSERT = 5;
const R_KETRMIN = 6;
const R_KETRMAX = 7;
const R_POSGROUP = 8;
const R_BRAZERO = 9;
const R_BRAMINZERO = 10;
const R_RECURSE = 11;
const R_MARK = 12;
const R_COMMIT = 13;
const R_PRUNE = 14;
const R_SKIP = 16;
const R_SKIP_ARG = 17;
const R_THEN = 18;
const R_REF_MIN = 20;
const R_REF_MAX = 21;
const R_CLASS_MIN = 23;
const R_CLASS_MAX = 24;
const R_REP_MIN = 25;
const R_REP_MAX = 26;
const R_SCOND = 35;

const LF = 0x0a;
const CR = 0x0d;

/* Frames beyond this many Int32 cells (256 MiB) count as PCRE2's heap limit. */
const MAX_FRAME_CELLS = 1 << 26;

/** Membership tables for the single-character type opcodes. */
const TYPE_TABLES: Uint8Array[] = (() => {
  const tables: Uint8Array[] = [];
  const pair = (op: number, set: Uint8Array, negated: boolean) => {
    tables[op] = setToLookup(set, negated);
  };
  pair(OP_DIGIT, DIGIT_SET, false);
  pair(OP_NOT_DIGIT, DIGIT_SET, true);
  pair(OP_WHITESPACE, SPACE_SET, false);
  pair(OP_NOT_WHITESPACE, SPACE_SET, true);
  pair(OP_WORDCHAR, WORD_SET, false);
  pair(OP_NOT_WORDCHAR, WORD_SET, true);
  pair(OP_HSPACE, HSPACE_SET, false);
  pair(OP_NOT_HSPACE, HSPACE_SET, true);
  pair(OP_VSPACE, VSPACE_SET, false);
  pair(OP_NOT_VSPACE, VSPACE_SET, true);
  const all = new Uint8Array(256).fill(1);
  tables[OP_ALLANY] = all;
  const notNl = new Uint8Array(256).fill(1);
  notNl[LF] = 0;
  tables[OP_ANY] = notNl;
  return tables;
})();

const WORD_TABLE = setToLookup(WORD_SET);
const LOWER = Uint8Array.from({ length: 256 }, (_, c) => lowerCase(c));

/** Pattern properties the matcher needs (limits are given per search, see setSubject). */
export interface InterpreterOptions {
  notEmpty: boolean;
  notEmptyAtStart: boolean;
  dollarEndOnly: boolean;
  hasThen: boolean;
}

const EMPTY_SUBJECT = new Uint8Array(0);

/**
 * Runs a compiled program. One instance is reused for every search with the program; it is not
 * re-entrant.
 */
export class Interpreter {
  private readonly code: Int32Array;
  /** For each OP_REPEAT and OP_CLASS, the membership table of its character item, by pc. */
  private readonly tables: (Uint8Array | undefined)[];
  private readonly frameSize: number;
  private frames: Int32Array;

  private subject: Uint8Array = EMPTY_SUBJECT;
  private end = 0;
  private startOffset = 0;
  private callCount = 0;
  private matchLimit = 0;
  private depthLimit = 0;
  /** The depth limit as a frame offset: a frame starting at or beyond it is too deep. */
  private depthLimitCells = 0;

  /* Per-attempt results and verb bookkeeping (PCRE2's match_block). */
  matchStart = 0;
  matchEnd = 0;
  verbSkipPos = 0;
  private verbSkipName = -1;
  private verbEcode = 0;
  private verbCurrentRecurse = RECURSE_UNSET;
  skipArgCount = 0;
  ignoreSkipArg = 0;
  private assertAcceptFrame = 0;

  constructor(
    private readonly program: CodeProgram,
    private readonly options: InterpreterOptions,
  ) {
    this.code = program.code;
    this.frameSize = OVECTOR + 2 * program.captureCount;
    this.frames = new Int32Array(this.frameSize * 64);
    this.tables = buildTables(program);
  }

  /** Sets the subject for the following calls to match(). */
  setSubject(subject: Uint8Array, startOffset: number, matchLimit: number, depthLimit: number): void {
    this.subject = subject;
    this.end = subject.length;
    this.startOffset = startOffset;
    this.matchLimit = matchLimit;
    this.depthLimit = depthLimit;
    this.depthLimitCells = Math.min(depthLimit, 0x7fffffff / this.frameSize) * this.frameSize;
  }

  /** Forgets the subject, so that the interpreter does not keep it alive between searches. */
  releaseSubject(): void {
    this.subject = EMPTY_SUBJECT;
    this.end = 0;
  }

  /**
   * Tries to match starting exactly at `start` (PCRE2's match()). Returns MATCH_MATCH (see
   * matchStart/matchEnd), MATCH_NOMATCH or another internal code for the bumpalong loop, or a
   * negative error code.
   */
  match(start: number): number {
    const code = this.code;
    const s = this.subject;
    const end = this.end;
    const size = this.frameSize;
    const opts = this.options;
    let fr = this.frames;

    this.callCount = 0;
    this.skipArgCount = 0;

    // The first frame: nothing captured, not recursing, no group open.
    let f = 0;
    for (let i = OVECTOR; i < size; i++) fr[i] = -1;
    fr[BACK] = size;
    fr[GFTYPE] = 0;
    fr[EPTR] = start;
    fr[START_MATCH] = start;
    fr[MARK] = 0;
    fr[CUR_RECURSE] = RECURSE_UNSET;
    fr[CAPTURE_LAST] = 0;
    fr[LAST_GROUP] = -1;
    fr[OFFSET_TOP] = 0;
    if (this.callCount++ >= this.matchLimit) return ERROR_MATCHLIMIT;
    if (this.depthLimit <= 0) return ERROR_DEPTHLIMIT;

    let ecode = 0; // the outer bracket
    let eptr = start;
    let rrc = 0;
    let returning = false; // going back to the previous frame with rrc
    let resuming = false; // resuming the current frame with rrc (its child failed at once)
    let pendingGroupType = 0;
    for (;;) {
      // ---------------------------------------------------------------------------------
      // Returning to a frame: pop, then resume where that frame created its child.
      if (returning) {
        if (f === 0) return rrc;
        f -= fr[f + BACK]!;
        returning = false;
        resuming = true;
      }
      if (resuming) {
        resuming = false;
        ecode = fr[f + ECODE]!;
        eptr = fr[f + EPTR]!;
        switch (fr[f + RID]) {
          case R_BRA: {
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            // Try the next branch; the final one continues in this frame.
            ecode = fr[f + T0]!;
            const next = ecode + code[ecode + 1]!;
            if (code[next] === OP_ALT) {
              fr[f + T0] = next;
              {
                const q = this.quickFail(f, ecode, eptr, R_BRA, ecode + OP_LENGTHS[OP_ALT]!);
                if (q < 0) return q;
                if (q > 0) {
                  rrc = MATCH_NOMATCH;
                  resuming = true;
                  continue;
                }
              }
              f = this.pushFrame(f, ecode, eptr, R_BRA, pendingGroupType);
              pendingGroupType = 0;
              if (f < 0) return f;
              fr = this.frames;
            }
            ecode += OP_LENGTHS[OP_ALT]!;
            break;
          }
          case R_GROUPLOOP: {
            if (rrc === MATCH_THEN) rrc = this.thenInBranch(ecode, rrc);
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            ecode += code[ecode + 1]!;
            if (code[ecode] !== OP_ALT) {
              rrc = MATCH_NOMATCH;
              returning = true;
              continue;
            }
            {
              const q = this.quickFail(f, ecode, eptr, R_GROUPLOOP, ecode + OP_LENGTHS[OP_ALT]!);
              if (q < 0) return q;
              if (q > 0) {
                rrc = MATCH_NOMATCH;
                resuming = true;
                continue;
              }
            }
            pendingGroupType = fr[f + T2]!;
            f = this.pushFrame(f, ecode, eptr, R_GROUPLOOP, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            ecode += OP_LENGTHS[OP_ALT]!;
            break;
          }
          case R_POSGROUP: {
            if (rrc === MATCH_KETRPOS) {
              fr[f + T3] = 1; // matched at least once
              if (eptr === fr[f + T0]) {
                // An empty iteration: stop repeating.
                do ecode += code[ecode + 1]!;
                while (code[ecode] === OP_ALT);
                ecode += OP_LENGTHS[code[ecode]!]!;
                break;
              }
              ecode = fr[f + T1]!;
              fr[f + T0] = eptr;
              pendingGroupType = fr[f + T2]!;
              f = this.pushFrame(f, ecode, eptr, R_POSGROUP, pendingGroupType);
              pendingGroupType = 0;
              if (f < 0) return f;
              fr = this.frames;
              ecode += OP_LENGTHS[code[ecode]!]!;
              break;
            }
            if (rrc === MATCH_THEN) rrc = this.thenInBranch(ecode, rrc);
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            ecode += code[ecode + 1]!;
            if (code[ecode] === OP_ALT) {
              fr[f + T0] = eptr;
              pendingGroupType = fr[f + T2]!;
              f = this.pushFrame(f, ecode, eptr, R_POSGROUP, pendingGroupType);
              pendingGroupType = 0;
              if (f < 0) return f;
              fr = this.frames;
              ecode += OP_LENGTHS[OP_ALT]!;
              break;
            }
            if (fr[f + T3] || fr[f + T4]) {
              ecode += OP_LENGTHS[code[ecode]!]!;
              break;
            }
            rrc = MATCH_NOMATCH;
            returning = true;
            continue;
          }
          case R_BRAZERO: {
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            // Skip the group.
            let next = ecode + 1;
            do next += code[next + 1]!;
            while (code[next] === OP_ALT);
            ecode = next + OP_LENGTHS[OP_KET]!;
            break;
          }
          case R_BRAMINZERO: {
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            ecode += 1; // now try the group
            break;
          }
          case R_RECURSE: {
            const branch = fr[f + T0]!;
            const next = branch + code[branch + 1]!;
            if (rrc >= MATCH_COMMIT && rrc <= MATCH_THEN && this.verbCurrentRecurse === (fr[f + T2]! & GF_DATAMASK)) {
              if (rrc === MATCH_THEN && this.verbEcode < next && (code[branch] === OP_ALT || code[next] === OP_ALT)) {
                rrc = MATCH_NOMATCH;
              } else {
                rrc = MATCH_NOMATCH;
                returning = true;
                continue;
              }
            }
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            if (code[next] !== OP_ALT) {
              rrc = MATCH_NOMATCH;
              returning = true;
              continue;
            }
            fr[f + T0] = next;
            pendingGroupType = fr[f + T2]!;
            f = this.pushFrame(f, ecode, eptr, R_RECURSE, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            ecode = next + OP_LENGTHS[OP_ALT]!;
            break;
          }
          case R_ASSERT: {
            if (rrc === MATCH_ACCEPT) {
              this.copyCapturesFrom(this.assertAcceptFrame, f);
              do ecode += code[ecode + 1]!;
              while (code[ecode] === OP_ALT);
              ecode += OP_LENGTHS[code[ecode]!]!;
              break;
            }
            if (rrc !== MATCH_NOMATCH && rrc !== MATCH_THEN) {
              returning = true;
              continue;
            }
            ecode += code[ecode + 1]!;
            if (code[ecode] !== OP_ALT) {
              rrc = MATCH_NOMATCH;
              returning = true;
              continue;
            }
            pendingGroupType = fr[f + T2]!;
            f = this.pushFrame(f, ecode, eptr, R_ASSERT, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            ecode += OP_LENGTHS[OP_ALT]!;
            break;
          }
          case R_ASSERT_NOT: {
            if (rrc === MATCH_ACCEPT || rrc === MATCH_MATCH) {
              rrc = MATCH_NOMATCH;
              returning = true;
              continue;
            }
            if (rrc === MATCH_NOMATCH || rrc === MATCH_THEN) {
              ecode += code[ecode + 1]!;
              if (code[ecode] === OP_ALT) {
                pendingGroupType = fr[f + T2]!;
                f = this.pushFrame(f, ecode, eptr, R_ASSERT_NOT, pendingGroupType);
                pendingGroupType = 0;
                if (f < 0) return f;
                fr = this.frames;
                ecode += OP_LENGTHS[OP_ALT]!;
                break;
              }
              ecode += OP_LENGTHS[code[ecode]!]!; // the negative assertion succeeds
              break;
            }
            if (rrc === MATCH_COMMIT || rrc === MATCH_SKIP || rrc === MATCH_PRUNE) {
              do ecode += code[ecode + 1]!;
              while (code[ecode] === OP_ALT);
              ecode += OP_LENGTHS[code[ecode]!]!;
              break;
            }
            returning = true;
            continue;
          }
          case R_COND_ASSERT: {
            const positive = fr[f + T2] === 1;
            let condition: boolean;
            if (rrc === MATCH_ACCEPT || rrc === MATCH_MATCH) {
              if (rrc === MATCH_ACCEPT) this.copyCapturesFrom(this.assertAcceptFrame, f);
              condition = positive;
            } else if (rrc === MATCH_NOMATCH || rrc === MATCH_THEN) {
              const branch = fr[f + T0]! + code[fr[f + T0]! + 1]!;
              if (code[branch] === OP_ALT) {
                fr[f + T0] = branch;
                pendingGroupType = GF_CONDASSERT | code[ecode]!;
                f = this.pushFrame(f, ecode, eptr, R_COND_ASSERT, pendingGroupType);
                pendingGroupType = 0;
                if (f < 0) return f;
                fr = this.frames;
                ecode = branch + OP_LENGTHS[OP_ALT]!;
                break;
              }
              condition = !positive;
            } else if (rrc === MATCH_COMMIT || rrc === MATCH_SKIP || rrc === MATCH_PRUNE) {
              condition = !positive;
            } else {
              returning = true;
              continue;
            }
            // ecode is at the assertion; f holds the condition's bookkeeping.
            if (condition) {
              do ecode += code[ecode + 1]!;
              while (code[ecode] === OP_ALT);
            }
            ecode += condition ? OP_LENGTHS[code[ecode]!]! : fr[f + LEN]!;
            if (fr[f + OPF] === OP_SCOND) {
              pendingGroupType = GF_NOCAPTURE | OP_SCOND;
              f = this.pushFrame(f, ecode, eptr, R_SCOND, pendingGroupType);
              pendingGroupType = 0;
              if (f < 0) return f;
              fr = this.frames;
            }
            break;
          }
          case R_SCOND:
            returning = true;
            continue;
          case R_KETRMIN: {
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            ecode -= code[ecode + 1]!; // back to the bracket: one more iteration
            break;
          }
          case R_KETRMAX: {
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            ecode += OP_LENGTHS[code[ecode]!]!;
            break;
          }
          case R_REP_MIN:
          case R_CLASS_MIN: {
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            // One more character, then try the rest again.
            const count = fr[f + T2]!;
            if (count >= fr[f + T3]! || eptr >= end) {
              rrc = MATCH_NOMATCH;
              returning = true;
              continue;
            }
            const next = this.stepOne(fr[f + T4]!, eptr);
            if (next < 0) {
              rrc = MATCH_NOMATCH;
              returning = true;
              continue;
            }
            eptr = next;
            fr[f + T2] = count + 1;
            ecode = fr[f + T1]!;
            {
              const q = this.quickFail(f, ecode, eptr, fr[f + RID]!, ecode);
              if (q < 0) return q;
              if (q > 0) {
                rrc = MATCH_NOMATCH;
                resuming = true;
                continue;
              }
            }
            f = this.pushFrame(f, ecode, eptr, fr[f + RID]!, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            break;
          }
          case R_REP_MAX: {
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            eptr--;
            const start = fr[f + T0]!;
            if (fr[f + T4] === -OP_ANYNL && eptr > start && s[eptr] === LF && s[eptr - 1] === CR) eptr--;
            ecode = fr[f + T1]!;
            if (eptr === start) break; // the last try continues in this frame
            {
              const q = this.quickFail(f, ecode, eptr, R_REP_MAX, ecode);
              if (q < 0) return q;
              if (q > 0) {
                rrc = MATCH_NOMATCH;
                resuming = true;
                continue;
              }
            }
            f = this.pushFrame(f, ecode, eptr, R_REP_MAX, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            break;
          }
          case R_CLASS_MAX: {
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            eptr--;
            if (eptr < fr[f + T0]!) {
              rrc = MATCH_NOMATCH;
              returning = true;
              continue;
            }
            ecode = fr[f + T1]!;
            {
              const q = this.quickFail(f, ecode, eptr, R_CLASS_MAX, ecode);
              if (q < 0) return q;
              if (q > 0) {
                rrc = MATCH_NOMATCH;
                resuming = true;
                continue;
              }
            }
            f = this.pushFrame(f, ecode, eptr, R_CLASS_MAX, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            break;
          }
          case R_REF_MIN: {
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            const count = fr[f + T2]!;
            if (count >= fr[f + T3]!) {
              rrc = MATCH_NOMATCH;
              returning = true;
              continue;
            }
            const length = this.matchRef(f, fr[f + T4]!, fr[f + T0] === 1, eptr);
            if (length < 0) {
              rrc = MATCH_NOMATCH;
              returning = true;
              continue;
            }
            eptr += length;
            fr[f + T2] = count + 1;
            ecode = fr[f + T1]!;
            f = this.pushFrame(f, ecode, eptr, R_REF_MIN, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            break;
          }
          case R_REF_MAX: {
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            eptr -= fr[f + LEN]!;
            if (eptr < fr[f + T0]!) {
              rrc = MATCH_NOMATCH;
              returning = true;
              continue;
            }
            ecode = fr[f + T1]!;
            f = this.pushFrame(f, ecode, eptr, R_REF_MAX, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            break;
          }
          case R_MARK: {
            if (rrc === MATCH_SKIP_ARG && this.program.marks[code[ecode + 1]!] === this.program.marks[this.verbSkipName]) {
              this.verbSkipPos = eptr;
              rrc = MATCH_SKIP;
            }
            returning = true;
            continue;
          }
          case R_COMMIT:
          case R_PRUNE:
          case R_SKIP:
          case R_SKIP_ARG:
          case R_THEN: {
            if (rrc !== MATCH_NOMATCH) {
              returning = true;
              continue;
            }
            const rid = fr[f + RID]!;
            this.verbCurrentRecurse = fr[f + CUR_RECURSE]!;
            if (rid === R_COMMIT) rrc = MATCH_COMMIT;
            else if (rid === R_PRUNE) rrc = MATCH_PRUNE;
            else if (rid === R_SKIP) {
              this.verbSkipPos = eptr;
              rrc = MATCH_SKIP;
            } else if (rid === R_SKIP_ARG) {
              this.verbSkipName = code[ecode + 1]!;
              rrc = MATCH_SKIP_ARG;
            } else {
              this.verbEcode = ecode;
              rrc = MATCH_THEN;
            }
            returning = true;
            continue;
          }
          default:
            throw new Error(`PCRE interpreter: unknown resume point ${fr[f + RID]}`);
        }
        if (returning) continue;
      }

      // ---------------------------------------------------------------------------------
      // Executing the opcode at ecode.
      const op = code[ecode]!;
      switch (op) {
        case OP_END:
        case OP_ACCEPT: {
          const recursing = fr[f + CUR_RECURSE]!;
          if (recursing !== RECURSE_UNSET) {
            // End of a whole-pattern recursion: continue after the (?R) in the calling frame.
            let g = fr[f + LAST_GROUP]!;
            let p = 0;
            for (;;) {
              const n = g;
              p = n - size;
              if ((fr[n + GFTYPE]! & GF_IDMASK) === GF_RECURSE) break;
              g = fr[p + LAST_GROUP]!;
            }
            fr[p + EPTR] = eptr;
            fr[p + MARK] = fr[f + MARK]!;
            fr[p + START_MATCH] = fr[f + START_MATCH]!;
            f = p;
            ecode = fr[f + ECODE]! + OP_LENGTHS[OP_RECURSE]!;
            continue;
          }
          const startMatch = fr[f + START_MATCH]!;
          if (
            eptr === startMatch &&
            (opts.notEmpty || (opts.notEmptyAtStart && startMatch === this.startOffset))
          ) {
            rrc = MATCH_NOMATCH;
            returning = true;
            continue;
          }
          this.matchStart = startMatch;
          this.matchEnd = eptr;
          return MATCH_MATCH;
        }
        case OP_ASSERT_ACCEPT:
          fr[f + EPTR] = eptr;
          this.assertAcceptFrame = f;
          rrc = MATCH_ACCEPT;
          returning = true;
          continue;
        case OP_CLOSE: {
          if (fr[f + CUR_RECURSE] === RECURSE_UNSET) {
            const number = code[ecode + 1]!;
            let g = fr[f + LAST_GROUP]!;
            let p = 0;
            for (;;) {
              const n = g;
              p = n - size;
              if (fr[n + GFTYPE] === (GF_CAPTURE | number)) break;
              g = fr[p + LAST_GROUP]!;
            }
            this.setCapture(f, number, fr[p + EPTR]!, eptr);
          }
          ecode += 2;
          continue;
        }

        // ---- Single characters --------------------------------------------------------
        case OP_ANY:
          if (eptr >= end || s[eptr] === LF) break;
          eptr++;
          ecode++;
          continue;
        case OP_ALLANY:
          if (eptr >= end) break;
          eptr++;
          ecode++;
          continue;
        case OP_NOT_DIGIT:
        case OP_DIGIT:
        case OP_NOT_WHITESPACE:
        case OP_WHITESPACE:
        case OP_NOT_WORDCHAR:
        case OP_WORDCHAR:
        case OP_NOT_HSPACE:
        case OP_HSPACE:
        case OP_NOT_VSPACE:
        case OP_VSPACE:
          if (eptr >= end || TYPE_TABLES[op]![s[eptr]!] === 0) break;
          eptr++;
          ecode++;
          continue;
        case OP_ANYNL: {
          const next = anyNewline(s, eptr, end);
          if (next < 0) break;
          eptr = next;
          ecode++;
          continue;
        }
        case OP_CHAR:
          if (eptr >= end || s[eptr] !== code[ecode + 1]) break;
          eptr++;
          ecode += 2;
          continue;
        case OP_CHARI:
          if (eptr >= end || LOWER[s[eptr]!] !== LOWER[code[ecode + 1]!]) break;
          eptr++;
          ecode += 2;
          continue;
        case OP_NOT: {
          if (eptr >= end || s[eptr] === code[ecode + 1]) break;
          eptr++;
          ecode += 2;
          continue;
        }
        case OP_NOTI: {
          if (eptr >= end || LOWER[s[eptr]!] === LOWER[code[ecode + 1]!]) break;
          eptr++;
          ecode += 2;
          continue;
        }

        // ---- Repeats -------------------------------------------------------------------
        case OP_REPEAT:
        case OP_CLASS: {
          const isClass = op === OP_CLASS;
          const min = code[ecode + (isClass ? 2 : 3)]!;
          const max = code[ecode + (isClass ? 3 : 4)]!;
          const reptype = code[ecode + (isClass ? 4 : 5)]!;
          const anyNl = !isClass && code[ecode + 1] === FAMILY_TYPE && code[ecode + 2] === OP_ANYNL;
          const table = this.tables[ecode]!;
          const next = ecode + (isClass ? 5 : 6);
          // The minimum.
          let ok = true;
          if (anyNl) {
            for (let i = 0; i < min; i++) {
              const p = anyNewline(s, eptr, end);
              if (p < 0) {
                ok = false;
                break;
              }
              eptr = p;
            }
          } else if (min > end - eptr) {
            ok = false;
          } else {
            for (let i = 0; i < min; i++) {
              if (table[s[eptr]!] === 0) {
                ok = false;
                break;
              }
              eptr++;
            }
          }
          if (!ok) break;
          if (min === max) {
            ecode = next;
            continue;
          }
          if (reptype === REP_MIN) {
            // Lazy: try the rest first, then one more character at a time.
            fr[f + T1] = next;
            fr[f + T2] = min;
            fr[f + T3] = max;
            fr[f + T4] = anyNl ? -OP_ANYNL : ecode;
            {
              const q = this.quickFail(f, ecode, eptr, isClass ? R_CLASS_MIN : R_REP_MIN, next);
              if (q < 0) return q;
              if (q > 0) {
                rrc = MATCH_NOMATCH;
                resuming = true;
                continue;
              }
            }
            f = this.pushFrame(f, ecode, eptr, isClass ? R_CLASS_MIN : R_REP_MIN, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            ecode = next;
            continue;
          }
          // Greedy or possessive: take as many as possible.
          const startPos = eptr;
          if (anyNl) {
            for (let i = min; i < max; i++) {
              const p = anyNewline(s, eptr, end);
              if (p < 0) break;
              eptr = p;
            }
          } else {
            const room = end - eptr;
            const limit = max - min < room ? eptr + (max - min) : end;
            if (table === TYPE_TABLES[OP_ALLANY]) eptr = limit;
            else while (eptr < limit && table[s[eptr]!] !== 0) eptr++;
          }
          if (reptype === REP_POS) {
            ecode = next;
            continue;
          }
          fr[f + T0] = startPos;
          fr[f + T1] = next;
          fr[f + T4] = anyNl ? -OP_ANYNL : 0;
          if (isClass) {
            // PCRE2 backtracks a repeated class down to and including its minimum.
            {
              const q = this.quickFail(f, ecode, eptr, R_CLASS_MAX, next);
              if (q < 0) return q;
              if (q > 0) {
                rrc = MATCH_NOMATCH;
                resuming = true;
                continue;
              }
            }
            f = this.pushFrame(f, ecode, eptr, R_CLASS_MAX, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            ecode = next;
            continue;
          }
          ecode = next;
          if (eptr === startPos) continue;
          {
            const q = this.quickFail(f, ecode, eptr, R_REP_MAX, next);
            if (q < 0) return q;
            if (q > 0) {
              rrc = MATCH_NOMATCH;
              resuming = true;
              continue;
            }
          }
          f = this.pushFrame(f, ecode, eptr, R_REP_MAX, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          continue;
        }

        // ---- Back references ---------------------------------------------------------------
        case OP_REF:
        case OP_DNREF: {
          const caseless = code[ecode + 2] === 1;
          const min = code[ecode + 3]!;
          const max = code[ecode + 4]!;
          const reptype = code[ecode + 5]!;
          const next = ecode + 6;
          const offset = op === OP_REF ? 2 * (code[ecode + 1]! - 1) : this.firstSetOf(f, code[ecode + 1]!);
          if (min === 1 && max === 1) {
            const length = this.matchRef(f, offset, caseless, eptr);
            if (length < 0) break;
            eptr += length;
            ecode = next;
            continue;
          }
          if (this.isSet(f, offset)) {
            if (fr[f + OVECTOR + offset] === fr[f + OVECTOR + offset + 1]) {
              ecode = next; // an empty group matches any number of times
              continue;
            }
          } else if (min === 0) {
            ecode = next;
            continue;
          }
          let ok = true;
          for (let i = 0; i < min; i++) {
            const length = this.matchRef(f, offset, caseless, eptr);
            if (length < 0) {
              ok = false;
              break;
            }
            eptr += length;
          }
          if (!ok) break;
          if (min === max) {
            ecode = next;
            continue;
          }
          fr[f + T0] = caseless ? 1 : 0;
          fr[f + T1] = next;
          fr[f + T4] = offset;
          if (reptype === REP_MIN) {
            fr[f + T2] = min;
            fr[f + T3] = max;
            f = this.pushFrame(f, ecode, eptr, R_REF_MIN, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            ecode = next;
            continue;
          }
          const startPos = eptr;
          for (let i = min; i < max; i++) {
            const length = this.matchRef(f, offset, caseless, eptr);
            if (length < 0) break;
            eptr += length;
          }
          fr[f + T0] = startPos;
          fr[f + LEN] = fr[f + OVECTOR + offset + 1]! - fr[f + OVECTOR + offset]!;
          f = this.pushFrame(f, ecode, eptr, R_REF_MAX, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode = next;
          continue;
        }

        // ---- Brackets ----------------------------------------------------------------------
        case OP_BRAZERO: {
          f = this.pushFrame(f, ecode, eptr, R_BRAZERO, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode += 1;
          continue;
        }
        case OP_BRAMINZERO: {
          let next = ecode + 1;
          do next += code[next + 1]!;
          while (code[next] === OP_ALT);
          f = this.pushFrame(f, ecode, eptr, R_BRAMINZERO, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode = next + OP_LENGTHS[OP_KET]!;
          continue;
        }
        case OP_SKIPZERO: {
          ecode += 1;
          do ecode += code[ecode + 1]!;
          while (code[ecode] === OP_ALT);
          ecode += OP_LENGTHS[OP_KET]!;
          continue;
        }
        case OP_BRAPOSZERO:
        case OP_BRAPOS:
        case OP_SBRAPOS:
        case OP_CBRAPOS:
        case OP_SCBRAPOS: {
          fr[f + T4] = op === OP_BRAPOSZERO ? 1 : 0; // zero repeats allowed
          if (op === OP_BRAPOSZERO) ecode += 1;
          const bracket = code[ecode]!;
          fr[f + T2] = bracket === OP_CBRAPOS || bracket === OP_SCBRAPOS ? GF_CAPTURE | code[ecode + 2]! : GF_NOCAPTURE;
          fr[f + T3] = 0; // not matched yet
          fr[f + T1] = ecode;
          fr[f + T0] = eptr;
          pendingGroupType = fr[f + T2]!;
          f = this.pushFrame(f, ecode, eptr, R_POSGROUP, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode += OP_LENGTHS[bracket]!;
          continue;
        }
        case OP_BRA: {
          if (opts.hasThen || f === 0) {
            fr[f + T2] = 0;
            {
              const q = this.quickFail(f, ecode, eptr, R_GROUPLOOP, ecode + OP_LENGTHS[op]!);
              if (q < 0) return q;
              if (q > 0) {
                rrc = MATCH_NOMATCH;
                resuming = true;
                continue;
              }
            }
            f = this.pushFrame(f, ecode, eptr, R_GROUPLOOP, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            ecode += OP_LENGTHS[op]!;
            continue;
          }
          const next = ecode + code[ecode + 1]!;
          if (code[next] !== OP_ALT) {
            ecode += OP_LENGTHS[op]!; // a single (or final) branch continues in this frame
            continue;
          }
          fr[f + T0] = next;
          {
            const q = this.quickFail(f, ecode, eptr, R_BRA, ecode + OP_LENGTHS[op]!);
            if (q < 0) return q;
            if (q > 0) {
              rrc = MATCH_NOMATCH;
              resuming = true;
              continue;
            }
          }
          f = this.pushFrame(f, ecode, eptr, R_BRA, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode += OP_LENGTHS[op]!;
          continue;
        }
        case OP_CBRA:
        case OP_SCBRA:
        case OP_ONCE:
        case OP_SBRA: {
          const type = op === OP_CBRA || op === OP_SCBRA ? GF_CAPTURE | code[ecode + 2]! : GF_NOCAPTURE | op;
          fr[f + T2] = type;
          {
            const q = this.quickFail(f, ecode, eptr, R_GROUPLOOP, ecode + OP_LENGTHS[op]!);
            if (q < 0) return q;
            if (q > 0) {
              rrc = MATCH_NOMATCH;
              resuming = true;
              continue;
            }
          }
          pendingGroupType = type;
          f = this.pushFrame(f, ecode, eptr, R_GROUPLOOP, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode += OP_LENGTHS[op]!;
          continue;
        }
        case OP_RECURSE: {
          const bracket = code[ecode + 1]!;
          const number = bracket === 0 ? 0 : code[bracket + 2]!;
          if (fr[f + CUR_RECURSE] !== RECURSE_UNSET) {
            // The same recursion again without advancing would loop forever.
            let g = fr[f + LAST_GROUP]!;
            while (g !== -1) {
              const n = g;
              const p = n - size;
              if (fr[n + GFTYPE] === (GF_RECURSE | number)) {
                if (eptr === fr[p + EPTR]) return ERROR_RECURSELOOP;
                break;
              }
              g = fr[p + LAST_GROUP]!;
            }
          }
          fr[f + T0] = bracket;
          fr[f + T2] = GF_RECURSE | number;
          pendingGroupType = GF_RECURSE | number;
          f = this.pushFrame(f, ecode, eptr, R_RECURSE, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode = bracket + OP_LENGTHS[code[bracket]!]!;
          continue;
        }
        case OP_ASSERT:
        case OP_ASSERTBACK:
        case OP_ASSERT_NA:
        case OP_ASSERTBACK_NA: {
          fr[f + T2] = GF_NOCAPTURE | op;
          pendingGroupType = GF_NOCAPTURE | op;
          f = this.pushFrame(f, ecode, eptr, R_ASSERT, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode += OP_LENGTHS[op]!;
          continue;
        }
        case OP_ASSERT_NOT:
        case OP_ASSERTBACK_NOT: {
          fr[f + T2] = GF_NOCAPTURE | op;
          pendingGroupType = GF_NOCAPTURE | op;
          f = this.pushFrame(f, ecode, eptr, R_ASSERT_NOT, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode += OP_LENGTHS[op]!;
          continue;
        }
        case OP_COND:
        case OP_SCOND: {
          let length = code[ecode + 1]!;
          if (code[ecode + length] !== OP_ALT) length -= OP_LENGTHS[OP_KET]!;
          ecode += OP_LENGTHS[op]!;
          let condition: boolean;
          const cond = code[ecode]!;
          const recursing = fr[f + CUR_RECURSE]!;
          switch (cond) {
            case OP_RREF: {
              const n = code[ecode + 1]!;
              condition = recursing !== RECURSE_UNSET && (n === RREF_ANY || n === recursing);
              break;
            }
            case OP_DNRREF:
              condition = recursing !== RECURSE_UNSET && this.program.groupLists[code[ecode + 1]!]!.includes(recursing);
              break;
            case OP_CREF:
              condition = this.isSet(f, 2 * (code[ecode + 1]! - 1));
              break;
            case OP_DNCREF:
              condition = this.firstSetOf(f, code[ecode + 1]!) >= 0 && this.isSet(f, this.firstSetOf(f, code[ecode + 1]!));
              break;
            case OP_FALSE:
            case OP_FAIL:
              condition = false;
              break;
            case OP_TRUE:
              condition = true;
              break;
            default: {
              // An assertion: run it like an assertion group, remembering where we are.
              fr[f + T2] = cond === OP_ASSERT || cond === OP_ASSERTBACK ? 1 : 0;
              fr[f + T0] = ecode;
              fr[f + LEN] = length;
              fr[f + OPF] = op;
              pendingGroupType = GF_CONDASSERT | cond;
              f = this.pushFrame(f, ecode, eptr, R_COND_ASSERT, pendingGroupType);
              pendingGroupType = 0;
              if (f < 0) return f;
              fr = this.frames;
              ecode += OP_LENGTHS[cond]!;
              continue;
            }
          }
          ecode += condition ? OP_LENGTHS[cond]! : length;
          if (op === OP_SCOND) {
            pendingGroupType = GF_NOCAPTURE | OP_SCOND;
            f = this.pushFrame(f, ecode, eptr, R_SCOND, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
          }
          continue;
        }
        case OP_REVERSE: {
          const n = code[ecode + 1]!;
          if (n > eptr) break;
          eptr -= n;
          ecode += 2;
          continue;
        }
        case OP_ALT:
          do ecode += code[ecode + 1]!;
          while (code[ecode] === OP_ALT);
          continue;
        case OP_KET:
        case OP_KETRMIN:
        case OP_KETRMAX:
        case OP_KETRPOS: {
          const bracode = ecode - code[ecode + 1]!;
          const bracket = code[bracode]!;
          let p = -1;
          if (bracket !== OP_BRA && bracket !== OP_COND) {
            const n = fr[f + LAST_GROUP]!;
            p = n - size;
            fr[f + LAST_GROUP] = fr[p + LAST_GROUP]!;
            if ((fr[n + GFTYPE]! & GF_IDMASK) === GF_CONDASSERT) {
              // End of a condition's assertion: it is true; captures go back to the condition.
              fr.copyWithin(p + OVECTOR, f + OVECTOR, f + size);
              fr[p + OFFSET_TOP] = fr[f + OFFSET_TOP]!;
              fr[p + MARK] = fr[f + MARK]!;
              fr[f + BACK] = f - p;
              rrc = MATCH_MATCH;
              returning = true;
              continue;
            }
          }
          let handled = false;
          switch (bracket) {
            case OP_ASSERT_NA:
            case OP_ASSERTBACK_NA:
              eptr = fr[p + EPTR]!;
              break;
            case OP_ASSERT:
            case OP_ASSERTBACK:
            case OP_ONCE: {
              // Positive assertions go back to where they started; like atomic groups they
              // discard their backtracking points and their untried branches.
              if (bracket !== OP_ONCE) eptr = fr[p + EPTR]!;
              fr[f + BACK] = f - p;
              let pe = fr[p + ECODE]!;
              for (;;) {
                const y = code[pe + 1]!;
                if (code[pe + y] !== OP_ALT) break;
                pe += y;
              }
              fr[p + ECODE] = pe;
              break;
            }
            case OP_ASSERT_NOT:
            case OP_ASSERTBACK_NOT:
              rrc = MATCH_MATCH;
              returning = true;
              handled = true;
              break;
            case OP_CBRA:
            case OP_CBRAPOS:
            case OP_SCBRA:
            case OP_SCBRAPOS: {
              const number = code[bracode + 2]!;
              if (fr[f + CUR_RECURSE] === number) {
                // End of a subroutine call: restore the caller's captures, continue after it.
                fr.copyWithin(f + OVECTOR, p + OVECTOR, p + size);
                fr[f + OFFSET_TOP] = fr[p + OFFSET_TOP]!;
                fr[f + CAPTURE_LAST] = fr[p + CAPTURE_LAST]!;
                fr[f + CUR_RECURSE] = fr[p + CUR_RECURSE]!;
                ecode = fr[p + ECODE]! + OP_LENGTHS[OP_RECURSE]!;
                handled = true;
                break;
              }
              this.setCapture(f, number, fr[p + EPTR]!, eptr);
              break;
            }
          }
          if (handled) continue;
          if (op === OP_KETRPOS) {
            fr[f + EPTR] = eptr;
            fr.copyWithin(p + EPTR, f + EPTR, f + size);
            rrc = MATCH_KETRPOS;
            returning = true;
            continue;
          }
          if (op !== OP_KET && (p < 0 || eptr !== fr[p + EPTR])) {
            if (op === OP_KETRMIN) {
              f = this.pushFrame(f, ecode, eptr, R_KETRMIN, pendingGroupType);
              pendingGroupType = 0;
              if (f < 0) return f;
              fr = this.frames;
              ecode += OP_LENGTHS[op]!;
              continue;
            }
            f = this.pushFrame(f, ecode, eptr, R_KETRMAX, pendingGroupType);
            pendingGroupType = 0;
            if (f < 0) return f;
            fr = this.frames;
            ecode = bracode;
            continue;
          }
          ecode += OP_LENGTHS[op]!;
          continue;
        }

        // ---- Assertions ----------------------------------------------------------------------
        case OP_CIRC:
        case OP_SOD:
          if (eptr !== 0) break;
          ecode++;
          continue;
        case OP_DOLL:
          if (opts.dollarEndOnly ? eptr < end : !endOrFinalNewline(s, eptr, end)) break;
          ecode++;
          continue;
        case OP_EOD:
          if (eptr < end) break;
          ecode++;
          continue;
        case OP_EODN:
          if (!endOrFinalNewline(s, eptr, end)) break;
          ecode++;
          continue;
        case OP_CIRCM:
          if (eptr !== 0 && (eptr === end || s[eptr - 1] !== LF)) break;
          ecode++;
          continue;
        case OP_DOLLM:
          if (eptr < end && s[eptr] !== LF) break;
          ecode++;
          continue;
        case OP_SOM:
          if (eptr !== this.startOffset) break;
          ecode++;
          continue;
        case OP_SET_SOM:
          fr[f + START_MATCH] = eptr;
          ecode++;
          continue;
        case OP_WORD_BOUNDARY:
        case OP_NOT_WORD_BOUNDARY: {
          const prev = eptr > 0 && WORD_TABLE[s[eptr - 1]!] === 1;
          const cur = eptr < end && WORD_TABLE[s[eptr]!] === 1;
          if (op === OP_WORD_BOUNDARY ? cur === prev : cur !== prev) break;
          ecode++;
          continue;
        }

        // ---- Verbs -------------------------------------------------------------------------
        case OP_FAIL:
          break;
        case OP_MARK: {
          fr[f + MARK] = code[ecode + 1]! + 1;
          f = this.pushFrame(f, ecode, eptr, R_MARK, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode += 2;
          continue;
        }
        case OP_COMMIT:
        case OP_COMMIT_ARG:
        case OP_PRUNE:
        case OP_PRUNE_ARG:
        case OP_SKIP:
        case OP_THEN:
        case OP_THEN_ARG: {
          if (op === OP_COMMIT_ARG || op === OP_PRUNE_ARG || op === OP_THEN_ARG) fr[f + MARK] = code[ecode + 1]! + 1;
          const rid =
            op === OP_COMMIT || op === OP_COMMIT_ARG ? R_COMMIT
            : op === OP_PRUNE || op === OP_PRUNE_ARG ? R_PRUNE
            : op === OP_SKIP ? R_SKIP
            : R_THEN;
          f = this.pushFrame(f, ecode, eptr, rid, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode += OP_LENGTHS[op]!;
          continue;
        }
        case OP_SKIP_ARG: {
          this.skipArgCount++;
          if (this.skipArgCount <= this.ignoreSkipArg) {
            ecode += 2;
            continue;
          }
          f = this.pushFrame(f, ecode, eptr, R_SKIP_ARG, pendingGroupType);
          pendingGroupType = 0;
          if (f < 0) return f;
          fr = this.frames;
          ecode += 2;
          continue;
        }
        default:
          throw new Error(`PCRE interpreter: unexpected opcode ${op} at ${ecode}`);
      }
      // Falling out of the switch means the current item failed.
      rrc = MATCH_NOMATCH;
      returning = true;
    }
  }

  /**
   * Creates a frame for a backtracking point (PCRE2's RMATCH): records in frame `f` where to
   * resume (`rid`) and its state, copies that state into a new frame on top and returns the new
   * frame's offset - or a negative error code when a limit is reached. `groupType` marks a frame
   * that starts a group (GF_*), 0 otherwise.
   */
  private pushFrame(f: number, ecode: number, eptr: number, rid: number, groupType: number): number {
    let fr = this.frames;
    const size = this.frameSize;
    fr[f + ECODE] = ecode;
    fr[f + RID] = rid;
    fr[f + EPTR] = eptr;
    const n = f + size;
    if (n + size > fr.length) {
      if (fr.length * 2 > MAX_FRAME_CELLS) return ERROR_HEAPLIMIT;
      const bigger = new Int32Array(fr.length * 2);
      bigger.set(fr);
      this.frames = fr = bigger;
    }
    // A small loop beats copyWithin() for the few cells of a typical frame.
    for (let i = EPTR; i < size; i++) fr[n + i] = fr[f + i]!;
    fr[n + BACK] = size;
    fr[n + GFTYPE] = groupType;
    if (groupType !== 0) {
      fr[n + LAST_GROUP] = n;
      if ((groupType & GF_IDMASK) === GF_RECURSE) fr[n + CUR_RECURSE] = groupType & GF_DATAMASK;
    }
    if (this.callCount++ >= this.matchLimit) return ERROR_MATCHLIMIT;
    if (n >= this.depthLimitCells) return ERROR_DEPTHLIMIT;
    return n;
  }

  /**
   * A shortcut for the commonest backtracking point: when the code a new frame would run
   * starts with a single-character test that fails at `eptr`, the frame would be created only
   * to return at once. Then count it (it still counts towards both limits) without building it,
   * and record the resume point in frame `f`. Returns 1 if so (the caller resumes frame `f`
   * with "no match"), 0 if a real frame is needed, or a negative limit error.
   */
  private quickFail(f: number, ecode: number, eptr: number, rid: number, target: number): number {
    if (!this.failsAt(target, eptr)) return 0;
    if (this.callCount++ >= this.matchLimit) return ERROR_MATCHLIMIT;
    if (f + this.frameSize >= this.depthLimitCells) return ERROR_DEPTHLIMIT;
    const fr = this.frames;
    fr[f + ECODE] = ecode;
    fr[f + RID] = rid;
    fr[f + EPTR] = eptr;
    return 1;
  }

  /** Whether the item at `pc` is a single-character test that fails at `eptr`. */
  private failsAt(pc: number, eptr: number): boolean {
    const code = this.code;
    const op = code[pc]!;
    const end = this.end;
    const s = this.subject;
    switch (op) {
      case OP_CHAR:
        return eptr >= end || s[eptr] !== code[pc + 1];
      case OP_CHARI:
        return eptr >= end || LOWER[s[eptr]!] !== LOWER[code[pc + 1]!];
      case OP_NOT:
        return eptr >= end || s[eptr] === code[pc + 1];
      case OP_NOTI:
        return eptr >= end || LOWER[s[eptr]!] === LOWER[code[pc + 1]!];
      case OP_REPEAT:
        if (code[pc + 3] === 0 || (code[pc + 1] === FAMILY_TYPE && code[pc + 2] === OP_ANYNL)) return false;
        return eptr >= end || this.tables[pc]![s[eptr]!] === 0;
      case OP_CLASS:
        return code[pc + 2] !== 0 && (eptr >= end || this.tables[pc]![s[eptr]!] === 0);
      default:
        if (op >= OP_NOT_DIGIT && op <= OP_VSPACE && op !== OP_ANYNL) {
          return eptr >= end || TYPE_TABLES[op]![s[eptr]!] === 0;
        }
        return false;
    }
  }

  /** (*THEN) inside a group with alternatives stops at that group's current branch. */
  private thenInBranch(ecode: number, rrc: number): number {
    const next = ecode + this.code[ecode + 1]!;
    if (this.verbEcode < next && (this.code[ecode] === OP_ALT || this.code[next] === OP_ALT)) return MATCH_NOMATCH;
    return rrc;
  }

  /** Consumes one character of a lazy repeat's item at `eptr`; returns the new position or -1. */
  private stepOne(item: number, eptr: number): number {
    if (item === -OP_ANYNL) return anyNewline(this.subject, eptr, this.end);
    return this.tables[item]![this.subject[eptr]!] !== 0 ? eptr + 1 : -1;
  }

  private isSet(f: number, offset: number): boolean {
    return offset >= 0 && offset < this.frames[f + OFFSET_TOP]! && this.frames[f + OVECTOR + offset] !== -1;
  }

  /** Ovector offset of the first set group in a duplicate-name list, or of the last one if none is set. */
  private firstSetOf(f: number, list: number): number {
    const groups = this.program.groupLists[list]!;
    for (const g of groups) if (this.isSet(f, 2 * (g - 1))) return 2 * (g - 1);
    return 2 * (groups[groups.length - 1]! - 1);
  }

  /** Length matched by a back reference at `eptr`, or -1 if it does not match (or is unset). */
  private matchRef(f: number, offset: number, caseless: boolean, eptr: number): number {
    if (!this.isSet(f, offset)) return -1;
    const fr = this.frames;
    const s = this.subject;
    const from = fr[f + OVECTOR + offset]!;
    const length = fr[f + OVECTOR + offset + 1]! - from;
    if (length > this.end - eptr) return -1;
    if (caseless) {
      for (let i = 0; i < length; i++) if (LOWER[s[from + i]!] !== LOWER[s[eptr + i]!]) return -1;
    } else {
      for (let i = 0; i < length; i++) if (s[from + i] !== s[eptr + i]) return -1;
    }
    return length;
  }

  private setCapture(f: number, number: number, start: number, end: number): void {
    const fr = this.frames;
    const offset = 2 * (number - 1);
    fr[f + CAPTURE_LAST] = number;
    fr[f + OVECTOR + offset] = start;
    fr[f + OVECTOR + offset + 1] = end;
    if (offset >= fr[f + OFFSET_TOP]!) fr[f + OFFSET_TOP] = offset + 2;
  }

  private copyCapturesFrom(from: number, to: number): void {
    const fr = this.frames;
    fr.copyWithin(to + OVECTOR, from + OVECTOR, from + this.frameSize);
    fr[to + OFFSET_TOP] = fr[from + OFFSET_TOP]!;
    fr[to + MARK] = fr[from + MARK]!;
  }

  /* Bumpalong results the search loop needs to tell apart. */
  static readonly SKIP = MATCH_SKIP;
  static readonly SKIP_ARG = MATCH_SKIP_ARG;
  static readonly COMMIT = MATCH_COMMIT;
  static readonly PRUNE = MATCH_PRUNE;
  static readonly THEN = MATCH_THEN;
}

/** \R at `p`: the position after one newline sequence (CR LF counts as one), or -1. */
function anyNewline(s: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  const c = s[p]!;
  if (c === CR) return p + 1 < end && s[p + 1] === LF ? p + 2 : p + 1;
  return c === LF || c === 0x0b || c === 0x0c || c === 0x85 ? p + 1 : -1;
}

/** $ and \Z: at the end of the subject, or before a newline that is its last character. */
function endOrFinalNewline(s: Uint8Array, p: number, end: number): boolean {
  return p >= end || (p === end - 1 && s[p] === LF);
}

/** Membership tables for the items of every OP_REPEAT and OP_CLASS, indexed by their pc. */
function buildTables(program: CodeProgram): (Uint8Array | undefined)[] {
  const code = program.code;
  const tables: (Uint8Array | undefined)[] = new Array(code.length);
  const classTables = program.sets.map((set) => setToLookup(set));
  for (let pc = 0; code[pc] !== OP_END; pc += OP_LENGTHS[code[pc]!]!) {
    const op = code[pc]!;
    if (op === OP_CLASS) tables[pc] = classTables[code[pc + 1]!];
    else if (op === OP_REPEAT) tables[pc] = repeatTable(code[pc + 1]!, code[pc + 2]!);
  }
  return tables;
}

function repeatTable(family: number, arg: number): Uint8Array {
  if (family === FAMILY_TYPE) return TYPE_TABLES[arg] ?? new Uint8Array(256);
  const t = new Uint8Array(256);
  const chars = family === FAMILY_CHARI || family === FAMILY_NOTI ? [arg, otherCase(arg)] : [arg];
  const negated = family === FAMILY_NOT || family === FAMILY_NOTI;
  for (let c = 0; c < 256; c++) t[c] = chars.includes(c) !== negated ? 1 : 0;
  return t;
}
