/**
 * What a search needs to know to skip starting positions, computed as pcre2_compile() and
 * pcre2_study() compute it: anchoring, the first code unit (or the start bitmap, or the
 * "start of line" flag), the required code unit and the minimum length. The search (search.ts)
 * uses them exactly as pcre2_match() does. They are not just speed-ups: (*COMMIT) and (*SKIP)
 * act at the positions actually tried, and PCRE2's minimum length can exclude real matches
 * (see min-length.ts).
 */
import type { ParsedPattern } from './ast.js';
import { firstSignificant, isAnchored, isStartline } from './anchoring.js';
import type { CodeProgram } from './codegen.js';
import { literalReach, requiredLiteral } from './literal.js';
import { minimumLength } from './min-length.js';
import * as O from './opcodes.js';
import { startBits } from './start-bits.js';
import { otherCase, setHas, setToLookup } from './tables.js';
import { REQ_CASELESS, REQ_NONE, REQ_VARY } from './units.js';

export interface StartInfo {
  /** Only the start offset can begin a match (option A, or the pattern says so). */
  anchored: boolean;
  /** (*NO_START_OPT): try every position, skip nothing. */
  noStartOptimize: boolean;
  /** The byte every match starts with, or -1; firstUnit2 is its other case (or the same). */
  firstUnit: number;
  firstUnit2: number;
  /** Matches start only at the start offset or just after a newline. */
  startline: boolean;
  /** byte -> 1 for the bytes a match can start with, when PCRE2 has a start bitmap. */
  startBits: Uint8Array | null;
  /** A byte every match contains after its first byte, or -1; reqUnit2 its other case. */
  reqUnit: number;
  reqUnit2: number;
  minLength: number;
  /** ClamTS's own extra check (see literal.ts), or null. */
  requiredLiteral: Uint8Array | null;
  /** How far after a match's start the required literal can begin, -1 if unbounded (see literal.ts). */
  literalReach: number;
}

export function studyPattern(parsed: ParsedPattern, program: CodeProgram): StartInfo {
  const settings = parsed.settings;
  const anchored =
    parsed.anchored || isAnchored(program, 0, 0, 0, false, parsed.hasPruneOrSkip, settings.noDotstarAnchor);
  const info: StartInfo = {
    anchored,
    noStartOptimize: settings.noStartOptimize,
    firstUnit: -1,
    firstUnit2: -1,
    startline: false,
    startBits: null,
    reqUnit: -1,
    reqUnit2: -1,
    minLength: 0,
    requiredLiteral: null,
    literalReach: -1,
  };
  if (settings.noStartOptimize) return info;

  let { first, firstFlags } = program.units;
  const { req } = program.units;
  // A match can end at (*ACCEPT) before any required unit.
  const reqFlags = program.hasAccept ? REQ_NONE : program.units.reqFlags;
  let minMinLength = 0;
  if (firstFlags >= REQ_NONE) ({ first, flags: firstFlags } = firstAssertedUnit(program.code, 0, 0));
  if (firstFlags < REQ_NONE) {
    setFirst(info, first, (firstFlags & REQ_CASELESS) !== 0);
    minMinLength++;
  } else if (!anchored && isStartline(program, 0, 0, 0, false, parsed.hasPruneOrSkip, settings.noDotstarAnchor)) {
    info.startline = true;
  }
  if (reqFlags < REQ_NONE) {
    minMinLength++;
    // For an anchored pattern the required unit is only useful after a variable item.
    if (!anchored || (reqFlags & REQ_VARY) !== 0) {
      info.reqUnit = req;
      info.reqUnit2 = (reqFlags & REQ_CASELESS) !== 0 ? otherCase(req) : req;
    }
  }

  let mapSet = false;
  if (info.firstUnit < 0 && !info.startline) {
    const bits = startBits(program);
    if (bits !== null) {
      const single = oneCaselessByte(bits);
      // One byte (or a byte and its other case) becomes a first unit, unless it is also the
      // required unit: the required-unit search starts after a first unit.
      if (single !== null && info.reqUnit !== single[0] && (single[1] < 0 || info.reqUnit !== single[1])) {
        setFirst(info, single[0], single[1] >= 0);
      } else {
        info.startBits = setToLookup(bits);
        mapSet = true;
      }
    }
  }
  if (mapSet && minMinLength === 0) minMinLength = 1;
  info.minLength = Math.max(minimumLength(program, parsed.dupCaptureUsed), minMinLength);

  if (!program.hasAccept && !program.hasRecurse) info.requiredLiteral = requiredLiteral(parsed.branches);
  if (info.requiredLiteral !== null) info.literalReach = literalReach(parsed.branches, info.requiredLiteral);
  return info;
}

function setFirst(info: StartInfo, c: number, caseless: boolean): void {
  info.firstUnit = c;
  info.firstUnit2 = caseless ? otherCase(c) : c;
}

/**
 * If the bitmap holds one byte, or a byte and its other case, returns [byte, other or -1]
 * (lowest first, as PCRE2 scans it); else null.
 */
function oneCaselessByte(bits: Uint8Array): [number, number] | null {
  let a = -1;
  let b = -1;
  for (let c = 0; c < 256; c++) {
    if (!setHas(bits, c)) continue;
    if (a < 0) a = c;
    else if (b < 0 && otherCase(c) === a) b = c;
    else return null;
  }
  return a < 0 ? null : [a, b];
}

/**
 * PCRE2's find_firstassertedcu(): a first code unit stated by a positive lookahead at the start
 * of every branch, such as the 'a' of /(?=a)\w+/.
 */
function firstAssertedUnit(code: Int32Array, bracket: number, inAssert: number): { first: number; flags: number } {
  let c = 0;
  let cflags = REQ_NONE;
  let pc = bracket;
  do {
    const s = firstSignificantSkippingAssertions(code, pc + O.OP_LENGTHS[code[pc]!]!);
    const op = code[s]!;
    switch (op) {
      case O.OP_BRA:
      case O.OP_BRAPOS:
      case O.OP_CBRA:
      case O.OP_SCBRA:
      case O.OP_CBRAPOS:
      case O.OP_SCBRAPOS:
      case O.OP_ASSERT:
      case O.OP_ASSERT_NA:
      case O.OP_ONCE: {
        const d = firstAssertedUnit(code, s, inAssert + (op === O.OP_ASSERT || op === O.OP_ASSERT_NA ? 1 : 0));
        if (d.flags >= REQ_NONE) return { first: 0, flags: REQ_NONE };
        if (cflags >= REQ_NONE) {
          c = d.first;
          cflags = d.flags;
        } else if (c !== d.first || cflags !== d.flags) {
          return { first: 0, flags: REQ_NONE };
        }
        break;
      }
      case O.OP_CHAR:
      case O.OP_CHARI:
      case O.OP_REPEAT: {
        // A literal, or a literal repeated at least once (PCRE2's EXACT and PLUS forms).
        let ch: number;
        let caseless: boolean;
        if (op === O.OP_REPEAT) {
          const family = code[s + 1]!;
          if ((family !== O.FAMILY_CHAR && family !== O.FAMILY_CHARI) || code[s + 3] === 0) return { first: 0, flags: REQ_NONE };
          ch = code[s + 2]!;
          caseless = family === O.FAMILY_CHARI;
        } else {
          ch = code[s + 1]!;
          caseless = op === O.OP_CHARI;
        }
        if (inAssert === 0 || (caseless && ch >= 0x80)) return { first: 0, flags: REQ_NONE };
        const flags = caseless ? REQ_CASELESS : 0;
        if (cflags >= REQ_NONE) {
          c = ch;
          cflags = flags;
        } else if (c !== ch) {
          return { first: 0, flags: REQ_NONE };
        }
        break;
      }
      default:
        return { first: 0, flags: REQ_NONE };
    }
    pc += code[pc + 1]!;
  } while (code[pc] === O.OP_ALT);
  return { first: c, flags: cflags };
}

/** first_significant_code() with skipassert: also skips lookbehinds, negative lookaheads and \b. */
function firstSignificantSkippingAssertions(code: Int32Array, pc: number): number {
  for (;;) {
    pc = firstSignificant(code, pc);
    const op = code[pc]!;
    if (op === O.OP_ASSERT_NOT || op === O.OP_ASSERTBACK || op === O.OP_ASSERTBACK_NOT || op === O.OP_ASSERTBACK_NA) {
      do pc += code[pc + 1]!;
      while (code[pc] === O.OP_ALT);
      pc += O.OP_LENGTHS[O.OP_KET]!;
    } else if (op === O.OP_WORD_BOUNDARY || op === O.OP_NOT_WORD_BOUNDARY) {
      pc += 1;
    } else {
      return pc;
    }
  }
}
