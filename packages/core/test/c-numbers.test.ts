import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scanSize, scanUnsigned } from '../src/util/c-numbers.js';

const value = (scanned: { value: number } | null) => scanned?.value;

describe("glibc's unsigned scan conversions", () => {
  it('skip blanks, take one sign and need a digit', () => {
    assert.deepEqual(scanUnsigned(' \t+12}'), { value: 12, end: 5 });
    assert.deepEqual(scanSize('x{ 7}', 2), { value: 7, end: 4 });
    assert.equal(scanUnsigned('+-1'), null);
    assert.equal(scanSize(' }'), null);
    assert.equal(value(scanSize('0000000000000000000000005')), 5);
  });

  it('%zu: 64 bits, saturating past 2^64 - 1, a minus sign negating modulo 2^64', () => {
    assert.equal(value(scanSize('4294967297')), 4294967297);
    assert.equal(value(scanSize('-18446744073709551615')), 1);
    assert.equal(value(scanSize('-18446744073709551489')), 127);
    assert.equal(value(scanSize('-0')), 0);
    assert.equal(value(scanSize('-5')), 2 ** 64 - 5);
    assert.equal(value(scanSize('18446744073709551617')), 2 ** 64);
    assert.equal(value(scanSize('-18446744073709551617')), 2 ** 64);
  });

  it('%u: the low 32 bits of the same value', () => {
    assert.equal(value(scanUnsigned('4294967297')), 1);
    assert.equal(value(scanUnsigned('-1')), 0xffffffff);
    assert.equal(value(scanUnsigned('-4294967295')), 1);
    assert.equal(value(scanUnsigned('18446744073709551617')), 0xffffffff);
    assert.equal(value(scanUnsigned('18446744073709551615')), 0xffffffff);
    assert.equal(value(scanUnsigned('18446744069414584321')), 1);
  });
});
