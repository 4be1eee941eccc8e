// The 16-bit stored elements the pattern parser writes give back every 32-bit element.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PLAIN_PART, type PartOptions } from '../src/signatures/body-pattern.js';
import { ANY_BYTE, SPECIAL_FLAG, byteElement } from '../src/signatures/pattern-elements.js';
import { SignatureError } from '../src/matching/signature-error.js';
import { parseTestPart, wideElementsOf } from './support/parsed-part.js';

/** The elements of `hex` parsed as one part, stored, widened again with its specials starting at `specialStart`. */
function parsedElements(hex: string, options: PartOptions = PLAIN_PART, specialStart = 0): number[] {
  return wideElementsOf(parseTestPart(hex, options), specialStart);
}

const hex = (b: number) => b.toString(16).padStart(2, '0');

describe('stored pattern elements', () => {
  it('keep every byte, nibble and wildcard element', () => {
    for (let b = 0; b < 256; b++) {
      const text = `${hex(b)}${hex(b)[0]}?${'?'}${hex(b)[1]}??`;
      assert.deepEqual(parsedElements(text), [byteElement(b), byteElement(b, 0xf0), byteElement(b, 0x0f), ANY_BYTE], text);
    }
  });

  it('read upper-case digits and refuse characters that are not hex', () => {
    assert.deepEqual(parsedElements('ABcDeF?A'), [byteElement(0xab), byteElement(0xcd), byteElement(0xef), byteElement(0x0a, 0x0f)]);
    for (const bad of ['4g41', '41g?', '41?g', '41 42', '41(?']) assert.throws(() => parsedElements(bad), SignatureError, bad);
  });

  it('keep case-insensitive bytes folded to lower case', () => {
    const nocase: PartOptions = { nocase: true, wide: false, modified: true };
    for (let b = 0; b < 256; b++) {
      const lower = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
      assert.deepEqual(parsedElements(`${hex(b)}${hex(b)}4?`, nocase), [byteElement(lower, 0xff, true), byteElement(lower, 0xff, true), byteElement(0x40, 0xf0)]);
    }
  });

  it('keep specials by their index among the pattern own specials', () => {
    for (const start of [0, 5, 123_456]) {
      assert.deepEqual(parsedElements('4142(43|44)45(46|47)', PLAIN_PART, start), [
        byteElement(0x41),
        byteElement(0x42),
        SPECIAL_FLAG | start,
        byteElement(0x45),
        SPECIAL_FLAG | (start + 1),
      ]);
    }
  });

  it('refuse a part with more specials than 15 bits can count', () => {
    assert.throws(() => parsedElements(`4142${'(43|44)'.repeat(0x8001)}`), /too many alternatives/);
    assert.equal(parsedElements(`4142${'(43|44)'.repeat(0x8000)}`).length, 2 + 0x8000);
  });
});
