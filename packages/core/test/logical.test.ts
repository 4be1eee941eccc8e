import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateExpression, parseExpression, type Expression } from '../src/matching/logical-expression.js';
import { SignatureError } from '../src/matching/signature-error.js';
import { binarySample, buildDetector, hasClamscan, runClamscan, scanNames } from './fixtures/body/clamscan-oracle.js';

function shape(e: Expression): string {
  if (e.kind === 'subsignature') return `${e.id}${e.modifier}${e.modifier ? e.value : ''}`;
  const modifier = e.modifier ? `${e.modifier}${e.value}${e.distinct ? `,${e.distinct}` : ''}` : '';
  return `(${shape(e.left)}${e.operator}${shape(e.right)})${modifier}`;
}

const parsed = (text: string) => shape(parseExpression(text).root);

function refusal(text: string): string[] {
  try {
    parseExpression(text);
  } catch (error) {
    assert.ok(error instanceof SignatureError);
    return error.messages.map((m) => m.text);
  }
  assert.fail(`${text} was accepted`);
}

describe('logical expression parsing', () => {
  it('splits at the first operator outside parentheses (right-associative)', () => {
    assert.equal(parsed('0&1|2'), '(0&(1|2))');
    assert.equal(parsed('0|1&2&3'), '(0|(1&(2&3)))');
  });

  it('splits a parenthesised block at its last operator (left-associative)', () => {
    assert.equal(parsed('(0&1|2)'), '((0&1)|2)');
    assert.equal(parsed('(0|1&2)>1'), '((0|1)&2)>1');
  });

  it('reads count modifiers on subsignatures and blocks', () => {
    assert.equal(parsed('0>2&1=0'), '(0>2&1=0)');
    assert.equal(parsed('(0|1|2)>5,2&(3|1)'), '(((0|1)|2)>5,2&(3|1))');
    assert.equal(parsed('((0|1))'), '(0|1)');
    assert.equal(parseExpression('(0|5)&2').highestId, 5);
  });

  it('refuses with ClamAV messages', () => {
    assert.deepEqual(refusal('0&'), ['cli_ac_chklsig: Syntax error: Missing right argument']);
    assert.deepEqual(refusal('&0'), ['cli_ac_chklsig: Syntax error: Missing left argument']);
    assert.deepEqual(refusal('(0|1'), ['cli_ac_chklsig: Syntax error: Missing closing parenthesis']);
    assert.deepEqual(refusal('0)'), ['cli_ac_chklsig: Syntax error: Missing opening parenthesis']);
    assert.deepEqual(refusal('0>'), ["chklexpr: Syntax error: Missing number after '>'"]);
    assert.deepEqual(refusal('x'), ["cli_ac_chklsig: Can't parse x"]);
    assert.deepEqual(refusal('0&x'), ["cli_ac_chklsig: Can't parse x", 'cli_ac_chklsig: Calculation of rval failed']);
    // "(0)>2" is refused by ClamAV: the modifier is read back into the parenthesised id.
    assert.deepEqual(refusal('(0)>2'), ['cli_ac_chklsig: Syntax error: Missing opening parenthesis']);
  });
});

describe('logical expression evaluation', () => {
  const holds = (text: string, counts: number[]) => evaluateExpression(parseExpression(text).root, counts);

  it('requires a match for a plain id and compares counts for modifiers', () => {
    assert.equal(holds('0', [0]), false);
    assert.equal(holds('0', [3]), true);
    assert.equal(holds('0=3', [3]), true);
    assert.equal(holds('0>3', [3]), false);
    assert.equal(holds('0<1', [0]), true);
    assert.equal(holds('0=0&1', [0, 1]), true);
  });

  it('counts the matches of the true operands of a block', () => {
    assert.equal(holds('(0|1)>2', [2, 1]), true);
    assert.equal(holds('(0|1)>2', [2, 0]), false);
    assert.equal(holds('(0&1)=3', [2, 1]), true);
    // A false block counts 0.
    assert.equal(holds('(0&1)=0', [5, 0]), true);
  });

  it('checks the number of distinct subsignatures of a block', () => {
    assert.equal(holds('(0|1|2)>2,2', [3, 0, 0]), false);
    assert.equal(holds('(0|1|2)>2,2', [2, 1, 0]), true);
  });
});

describe('logical signatures against clamscan', { skip: !hasClamscan }, () => {
  it('counts overlapping and repeated matches as ClamAV does', () => {
    const lines = [
      'Three;Target:0;0=3;414141',
      'Four;Target:0;0=4;414141',
      'Split;Target:0;0=3;4242*4343',
      'Block;Target:0;(0|1)>3,2;4444;4545',
      'Less;Target:0;0<2&1;4646;4747',
      'Never;Target:0;0=0&1=0;4848;4949',
      // Numbers are read like sscanf's %u: 2^32 + 1 wraps to 1, 2^64 + 1 saturates to 2^32 - 1.
      'Wrapped;Target:0;0=4294967297;414141',
      'Saturated;Target:0;0=18446744073709551617;414141',
      'Below;Target:0;0<18446744073709551617;414141',
      'WrappedId;Target:0;4294967296;414141',
    ];
    const samples = new Map([
      ['six', binarySample('xAAAAAAx')],
      ['three', binarySample('xAAAx')],
      ['split', binarySample('BBxCCxCCxCC')],
      ['block', binarySample('DDxDDxDDxEE')],
      ['block2', binarySample('DDxDDxDDxDD')],
      ['less', binarySample('FFxGG FFFF GG')],
      ['none', binarySample('nothing here')],
    ]);
    const db = [{ name: 'l.ldb', lines }];
    const { detector } = buildDetector(db);
    for (const allMatch of [true, false]) {
      const oracle = runClamscan(db, samples, { allMatch });
      for (const [name, data] of samples) {
        assert.deepEqual(scanNames(detector, data, { allMatch }), oracle.detections.get(name), `${name} allMatch=${allMatch}`);
      }
    }
  });
});
