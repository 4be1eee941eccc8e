import { scanUnsigned } from '../util/c-numbers.js';
import { SignatureError } from './signature-error.js';

/**
 * Logical expressions of logical signatures (`(0&1)|2>3,2`) and of PCRE triggers, parsed and
 * evaluated with the semantics of ClamAV's cli_ac_chklsig, which are not those of a usual
 * grammar:
 * - outside parentheses an expression splits at its first `&`/`|` (so `0&1|2` is `0&(1|2)`),
 *   inside a parenthesised block at its last one (so `(0&1|2)` is `(0&1)|2`);
 * - a count modifier applies to a subsignature (`0>2`) or to a whole block (`(0|1)=3,2`, where
 *   the second number is the least number of distinct subsignatures); a block's count is the sum
 *   of the counts of its true operands;
 * - `A=0` and `A<n` can be true without any match.
 */

export type Expression = SubsignatureTerm | BinaryTerm;

export interface SubsignatureTerm {
  readonly kind: 'subsignature';
  readonly id: number;
  /** '' (none), '=', '<', '>', or ')' which ClamAV parses but never satisfies. */
  readonly modifier: string;
  readonly value: number;
}

export interface BinaryTerm {
  readonly kind: 'binary';
  readonly operator: '&' | '|';
  readonly left: Expression;
  readonly right: Expression;
  /** Count modifier of the whole block, '' when none. */
  readonly modifier: string;
  readonly value: number;
  /** Least number of distinct subsignatures (`,Y`), 0 when absent. */
  readonly distinct: number;
}

export interface ParsedExpression {
  readonly root: Expression;
  /** The highest subsignature id used (ClamAV's "parse only" result), as a 32-bit unsigned value. */
  readonly highestId: number;
}

function isModifierChar(c: string | undefined): boolean {
  return c === '>' || c === '<' || c === '=';
}

function isDigitChar(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * Parses an expression; throws SignatureError with ClamAV's messages (innermost first) when
 * ClamAV would refuse it.
 */
export function parseExpression(text: string): ParsedExpression {
  let highestId = 0;
  const parse = (start: number, end: number): Expression => {
    const len = end - start;
    let depth = 0;
    let operator = '';
    let operatorAt = 0;
    let blockOperator = '';
    let blockOperatorAt = 0;
    let modifier = '';
    let modifierAt = 0;
    let blockEnd = 0;
    let blockModifier = '';
    let blockValue = 0;
    let blockDistinct = 0;
    for (let i = 0; i < len; i++) {
      const c = text[start + i]!;
      if (c === '(') {
        depth++;
      } else if (c === ')' || isModifierChar(c)) {
        if (c === ')') {
          if (depth === 0) throw new SignatureError('cli_ac_chklsig: Syntax error: Missing opening parenthesis');
          depth--;
        }
        modifier = c;
        modifierAt = i;
      } else if (c === '&' || c === '|') {
        if (depth === 0) {
          operator = c;
          operatorAt = i;
        } else if (depth === 1) {
          blockOperator = c;
          blockOperatorAt = i;
        }
      }
      if (operator) break;
      if (blockOperator && depth === 0) {
        blockEnd = i;
        // ClamAV looks one character past the end of the range, into the enclosing expression.
        const next = text[start + i + 1];
        if (isModifierChar(next)) {
          blockModifier = next!;
          const first = scanUnsigned(text, start + i + 2);
          if (!first) throw new SignatureError(`chklexpr: Syntax error: Missing number after '${next}'`);
          blockValue = first.value;
          const second = text[first.end] === ',' ? scanUnsigned(text, first.end + 1) : null;
          // sscanf writes the second number only when both convert.
          if (second) blockDistinct = second.value;
          for (i += 2; i + 1 < len && (isDigitChar(text[start + i + 1]) || text[start + i + 1] === ','); i++);
        }
        if (start + i + 1 === end) break;
        blockModifier = '';
      }
    }
    if (depth !== 0) throw new SignatureError('cli_ac_chklsig: Syntax error: Missing closing parenthesis');

    if (!operator && !blockOperator) {
      if (text[start] === '(') return parse(start + 1, end - 1);
      const id = scanUnsigned(text, start);
      if (!id) throw new SignatureError(`cli_ac_chklsig: Can't parse ${text.slice(start)}`);
      let value = 0;
      if (modifier) {
        const number = scanUnsigned(text, start + modifierAt + 1);
        if (!number) throw new SignatureError(`chklexpr: Syntax error: Missing number after '${modifier}'`);
        value = number.value;
      }
      highestId = Math.max(highestId, id.value);
      return { kind: 'subsignature', id: id.value, modifier, value };
    }

    let leftStart = start;
    let rightEnd = end;
    if (!operator) {
      operator = blockOperator;
      operatorAt = blockOperatorAt;
      leftStart = start + 1;
      rightEnd = start + blockEnd;
    }
    if (operatorAt === 0) throw new SignatureError('cli_ac_chklsig: Syntax error: Missing left argument');
    if (operatorAt + 1 === len) throw new SignatureError('cli_ac_chklsig: Syntax error: Missing right argument');
    let left: Expression;
    let right: Expression;
    try {
      left = parse(leftStart, start + operatorAt);
    } catch (error) {
      throw (error as SignatureError).because('cli_ac_chklsig: Calculation of lval failed');
    }
    try {
      right = parse(start + operatorAt + 1, rightEnd);
    } catch (error) {
      throw (error as SignatureError).because('cli_ac_chklsig: Calculation of rval failed');
    }
    return {
      kind: 'binary',
      operator: operator as '&' | '|',
      left,
      right,
      modifier: blockModifier,
      value: blockValue,
      distinct: blockModifier ? blockDistinct : 0,
    };
  };
  const root = parse(0, text.length);
  return { root, highestId };
}

/** Match counts of the subsignatures of one logical signature. */
export interface SubsignatureCounts {
  readonly [id: number]: number;
}

/** Accumulates what ClamAV's evaluation passes upwards: a match count and the ids that matched. */
class Tally {
  count = 0;
  low = 0;
  high = 0;

  addId(id: number): void {
    if (id < 32) this.low = (this.low | (1 << id)) >>> 0;
    else if (id < 64) this.high = (this.high | (1 << (id - 32))) >>> 0;
  }

  distinctIds(): number {
    return popcount(this.low) + popcount(this.high);
  }
}

function popcount(v: number): number {
  let n = 0;
  for (let x = v; x !== 0; x &= x - 1) n++;
  return n;
}

function compare(modifier: string, actual: number, expected: number): boolean {
  switch (modifier) {
    case '=':
      return actual === expected;
    case '<':
      return actual < expected;
    case '>':
      return actual > expected;
    default:
      return false;
  }
}

function evaluateInto(expression: Expression, counts: SubsignatureCounts, tally: Tally): boolean {
  if (expression.kind === 'subsignature') {
    const count = counts[expression.id] ?? 0;
    if (expression.modifier ? !compare(expression.modifier, count, expression.value) : count === 0) return false;
    tally.count += count;
    tally.addId(expression.id);
    return true;
  }
  const left = new Tally();
  const right = new Tally();
  const l = evaluateInto(expression.left, counts, left);
  const r = evaluateInto(expression.right, counts, right);
  const result = expression.operator === '&' ? l && r : l || r;
  if (!expression.modifier) {
    if (result) {
      tally.count += left.count + right.count;
      tally.low = (tally.low | left.low | right.low) >>> 0;
      tally.high = (tally.high | left.high | right.high) >>> 0;
    }
    return result;
  }
  const block = new Tally();
  if (result) {
    block.count = left.count + right.count;
    block.low = (left.low | right.low) >>> 0;
    block.high = (left.high | right.high) >>> 0;
  }
  if (!compare(expression.modifier, block.count, expression.value)) return false;
  if (expression.distinct && block.distinctIds() < expression.distinct) return false;
  // As in ClamAV, a block with a modifier passes its count up but not its ids.
  tally.count += block.count;
  return true;
}

/** Is the expression true for these subsignature match counts? */
export function evaluateExpression(expression: Expression, counts: SubsignatureCounts): boolean {
  return evaluateInto(expression, counts, new Tally());
}
