import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indexOfBytes } from '../src/util/byte-search.js';

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

describe('indexOfBytes', () => {
  const haystack = bytes('xx%PDF-1.4 %PDF-1.7');

  it('finds the first occurrence at or after start', () => {
    assert.equal(indexOfBytes(haystack, bytes('%PDF')), 2);
    assert.equal(indexOfBytes(haystack, bytes('%PDF'), 3), 11);
    assert.equal(indexOfBytes(haystack, bytes('%PDF'), 12), -1);
  });

  it('only finds occurrences that end by `end`', () => {
    assert.equal(indexOfBytes(haystack, bytes('%PDF'), 0, 6), 2);
    assert.equal(indexOfBytes(haystack, bytes('%PDF'), 0, 5), -1);
    assert.equal(indexOfBytes(haystack, bytes('%PDF'), 3, 14), -1);
    assert.equal(indexOfBytes(haystack, bytes('%PDF'), 3, 100), 11);
  });

  it('finds an empty needle at start, unless start is past the end', () => {
    assert.equal(indexOfBytes(haystack, new Uint8Array(0), 4), 4);
    assert.equal(indexOfBytes(haystack, new Uint8Array(0), 4, 3), -1);
  });

  it('searches a view at its own offsets', () => {
    const view = haystack.subarray(3);
    assert.equal(indexOfBytes(view, bytes('%PDF')), 8);
    assert.equal(indexOfBytes(view, bytes('PDF'), 0, 3), 0);
  });
});
