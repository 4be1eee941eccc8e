/** emptyObjectArray: an empty array that V8 already keeps as an array of objects. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { emptyObjectArray } from '../src/util/object-array.js';

setFlagsFromString('--allow-natives-syntax');
// Compiled after the flag is set, so that V8 takes `%HaveSameMap` (same hidden class and elements kind).
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: unknown, b: unknown) => boolean;

describe('emptyObjectArray', () => {
  it('is empty and has the layout of an array holding objects', () => {
    const array = emptyObjectArray<{ n: number }>();
    assert.equal(array.length, 0);
    assert.deepEqual(array, []);
    assert.equal(haveSameMap(array, [{ n: 1 }]), true);
    // The comparison tells the kinds apart: a plain empty array has another layout.
    assert.equal(haveSameMap([], [{ n: 1 }]), false);
  });

  it('keeps that layout when objects are added, and each call makes a new array', () => {
    const first = emptyObjectArray<{ n: number }>();
    const second = emptyObjectArray<{ n: number }>();
    first.push({ n: 1 }, { n: 2 });
    assert.deepEqual(first, [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(second, []);
    assert.equal(haveSameMap(first, second), true);
  });
});
