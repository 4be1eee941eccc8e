// The pattern table's 16-bit element storage gives back every element the pattern parser makes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SPECIAL_FLAG, byteElement } from '../src/signatures/body-pattern.js';
import { storedElement, wideElement } from '../src/matching/pattern-table.js';

describe('stored pattern elements', () => {
  it('keep every byte, nibble, wildcard and nocase element', () => {
    const elements = [byteElement(0), byteElement(0xff), byteElement(0x61, 0xff, true), byteElement(0, 0)];
    for (let b = 0; b < 256; b++) elements.push(byteElement(b), byteElement(b, 0xf0), byteElement(b, 0x0f), byteElement(b, 0xff, true));
    for (const element of elements) {
      const stored = storedElement(element, 7);
      assert.ok(stored < 0x10000);
      assert.equal(wideElement(stored, 7), element);
    }
  });

  it('keep specials by their index among the pattern own specials', () => {
    for (const start of [0, 5, 123_456]) {
      for (const local of [0, 1, 0x7fff]) {
        const element = SPECIAL_FLAG | (start + local);
        assert.equal(wideElement(storedElement(element, start), start), element);
      }
    }
  });

  it('refuse a pattern with more specials than 15 bits can count', () => {
    assert.throws(() => storedElement(SPECIAL_FLAG | 0x8000, 0), /too many alternatives/);
  });
});
