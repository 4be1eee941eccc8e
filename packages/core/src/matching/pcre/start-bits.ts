/**
 * PCRE2's set_start_bits(): the set of bytes a match can start with, built from the compiled
 * code with PCRE2's exact rules (including where it gives up, such as at any backtracking verb,
 * back reference or dot), because the starting positions PCRE2 skips are observable.
 */
import type { CodeProgram } from './codegen.js';
import * as O from './opcodes.js';
import { type ByteSet, DIGIT_SET, SPACE_SET, WORD_SET, emptySet, otherCase, setAdd, setUnion, setUnionNegated } from './tables.js';

const enum Ssb {
  Fail,
  Done, // found the mandatory starting bytes
  Continue, // found optional starting bytes; what follows must be scanned too
  TooDeep,
}

const TYPE_BITS: ReadonlyMap<number, [ByteSet, boolean]> = new Map([
  [O.OP_DIGIT, [DIGIT_SET, false]],
  [O.OP_NOT_DIGIT, [DIGIT_SET, true]],
  [O.OP_WHITESPACE, [SPACE_SET, false]],
  [O.OP_NOT_WHITESPACE, [SPACE_SET, true]],
  [O.OP_WORDCHAR, [WORD_SET, false]],
  [O.OP_NOT_WORDCHAR, [WORD_SET, true]],
]);

/** The start bitmap of the pattern, or null when PCRE2 would not set one. */
export function startBits(program: CodeProgram): ByteSet | null {
  const bits = emptySet();
  const depth = { count: 0 };
  return setStartBits(program, 0, bits, depth) === Ssb.Done ? bits : null;
}

/** Adds the bytes a single-character type can match; false if it can match any byte. */
function addTypeBits(bits: ByteSet, type: number): boolean {
  const entry = TYPE_BITS.get(type);
  if (entry) {
    if (entry[1]) setUnionNegated(bits, entry[0]);
    else setUnion(bits, entry[0]);
    return true;
  }
  switch (type) {
    case O.OP_HSPACE:
      for (const c of [0x09, 0x20, 0xa0]) setAdd(bits, c);
      return true;
    case O.OP_ANYNL:
    case O.OP_VSPACE:
      for (const c of [0x0a, 0x0b, 0x0c, 0x0d, 0x85]) setAdd(bits, c);
      return true;
    default:
      return false; // . \N \C \H \V
  }
}

function addChar(bits: ByteSet, c: number, caseless: boolean): void {
  setAdd(bits, c);
  if (caseless) setAdd(bits, otherCase(c));
}

/** Skips a bracket (and its alternatives) at `pc`, returning the position after its KET. */
function skipBracket(code: Int32Array, pc: number): number {
  do pc += code[pc + 1]!;
  while (code[pc] === O.OP_ALT);
  return pc + O.OP_LENGTHS[O.OP_KET]!;
}

function setStartBits(program: CodeProgram, bracket: number, bits: ByteSet, depth: { count: number }): Ssb {
  const code = program.code;
  if (++depth.count > 1000) return Ssb.TooDeep;
  let result = Ssb.Done;
  let pc = bracket;
  do {
    let t = pc + O.OP_LENGTHS[code[pc]!]!;
    let tryNext = true;
    while (tryNext) {
      const op = code[t]!;
      switch (op) {
        case O.OP_CIRC:
          t += 1;
          break;
        case O.OP_WORD_BOUNDARY:
        case O.OP_NOT_WORD_BOUNDARY:
          t += 1;
          break;
        case O.OP_BRA:
        case O.OP_SBRA:
        case O.OP_CBRA:
        case O.OP_SCBRA:
        case O.OP_BRAPOS:
        case O.OP_SBRAPOS:
        case O.OP_CBRAPOS:
        case O.OP_SCBRAPOS:
        case O.OP_ONCE:
        case O.OP_ASSERT:
        case O.OP_ASSERT_NA: {
          const rc = setStartBits(program, t, bits, depth);
          if (rc === Ssb.Done) tryNext = false;
          else if (rc === Ssb.Continue) t = skipBracket(code, t);
          else return rc;
          break;
        }
        case O.OP_ALT:
          result = Ssb.Continue;
          tryNext = false;
          break;
        case O.OP_KET:
        case O.OP_KETRMAX:
        case O.OP_KETRMIN:
        case O.OP_KETRPOS:
          return Ssb.Continue;
        case O.OP_ASSERT_NOT:
        case O.OP_ASSERTBACK:
        case O.OP_ASSERTBACK_NOT:
        case O.OP_ASSERTBACK_NA:
          t = skipBracket(code, t);
          break;
        case O.OP_BRAZERO:
        case O.OP_BRAMINZERO:
        case O.OP_BRAPOSZERO: {
          t += 1;
          const rc = setStartBits(program, t, bits, depth);
          if (rc === Ssb.Fail || rc === Ssb.TooDeep) return rc;
          t = skipBracket(code, t);
          break;
        }
        case O.OP_SKIPZERO:
          t = skipBracket(code, t + 1);
          break;
        case O.OP_CHAR:
        case O.OP_CHARI:
          addChar(bits, code[t + 1]!, op === O.OP_CHARI);
          tryNext = false;
          break;
        case O.OP_REPEAT: {
          const family = code[t + 1]!;
          const arg = code[t + 2]!;
          const optional = code[t + 3] === 0;
          if (family === O.FAMILY_CHAR || family === O.FAMILY_CHARI) {
            addChar(bits, arg, family === O.FAMILY_CHARI);
          } else if (family === O.FAMILY_TYPE) {
            if (!addTypeBits(bits, arg)) return Ssb.Fail;
          } else {
            return Ssb.Fail; // negated characters
          }
          if (optional) t += O.OP_LENGTHS[op]!;
          else tryNext = false;
          break;
        }
        case O.OP_CLASS:
          setUnion(bits, program.sets[code[t + 1]!]!);
          if (code[t + 2] === 0) t += O.OP_LENGTHS[op]!;
          else tryNext = false;
          break;
        default:
          if (O.isTypeOp(op)) {
            if (!addTypeBits(bits, op)) return Ssb.Fail;
            tryNext = false;
            break;
          }
          // Anything else means no starting bytes can be known: \A $ back references,
          // conditions, verbs, negated characters...
          return Ssb.Fail;
      }
    }
    pc += code[pc + 1]!;
  } while (code[pc] === O.OP_ALT);
  return result;
}
