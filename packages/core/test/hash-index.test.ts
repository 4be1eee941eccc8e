import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ANY_SIZE, HashIndexBuilder } from '../src/matching/hash-index.js';

const hex = (data: Uint8Array) => Buffer.from(data).toString('hex');
const addHex = (builder: HashIndexBuilder, digestHex: string, size: number, name: number) =>
  builder.addHex(Buffer.from(digestHex, 'latin1'), 0, digestHex.length, size, name);

describe('hash index', () => {
  it('finds every one of many entries and nothing else', () => {
    const builder = new HashIndexBuilder();
    const digests = Array.from({ length: 20000 }, () => createHash('md5').update(randomBytes(16)).digest());
    digests.forEach((digest, i) => assert.ok(addHex(builder, hex(digest), 100 + (i % 7), i)));
    const index = builder.build();
    digests.forEach((digest, i) => assert.equal(index.lookup('md5', digest, 100 + (i % 7)).sized, i));
    assert.equal(index.lookup('md5', digests[0]!, 99).sized, -1);
    assert.equal(index.lookup('md5', createHash('md5').update('absent').digest(), 100).sized, -1);
    assert.equal(index.count, 20000);
  });

  it('tells apart digests that differ only within the leading bytes its buckets use', () => {
    // A small table buckets on the first byte only, a large one on more bits than two bytes.
    for (const filler of [0, 300_000]) {
      const builder = new HashIndexBuilder();
      const rest = 'ab'.repeat(14);
      for (let i = 0; i < filler; i++) addHex(builder, createHash('md5').update(String(i)).digest('hex'), 5, 1000 + i);
      addHex(builder, `0001${rest}`, 10, 1);
      addHex(builder, `0002${rest}`, 10, 2);
      addHex(builder, `000102${rest.slice(2)}`, 10, 3);
      const index = builder.build();
      const lookup = (digestHex: string) => index.lookup('md5', Buffer.from(digestHex, 'hex'), 10).sized;
      assert.equal(lookup(`0001${rest}`), 1);
      assert.equal(lookup(`0002${rest}`), 2);
      assert.equal(lookup(`000102${rest.slice(2)}`), 3);
      assert.equal(lookup(`0003${rest}`), -1);
      assert.equal(lookup(`0101${rest}`), -1);
    }
  });

  it('keeps the last loaded name for a repeated hash and size, and reports any-size entries apart', () => {
    const builder = new HashIndexBuilder();
    const digest = createHash('sha256').update('x').digest('hex');
    addHex(builder, digest, 68, 1);
    addHex(builder, digest, 68, 2);
    addHex(builder, digest, ANY_SIZE, 3);
    addHex(builder, digest, 70, 4);
    const match = builder.build().lookup('sha256', Buffer.from(digest, 'hex'), 68);
    assert.deepEqual(match, { sized: 2, anySize: 3 });
  });

  it('says which object sizes could match, so digests are only computed when useful', () => {
    const builder = new HashIndexBuilder();
    addHex(builder, createHash('md5').update('a').digest('hex'), 10, 0);
    addHex(builder, createHash('sha1').update('a').digest('hex'), ANY_SIZE, 1);
    const index = builder.build();
    assert.equal(index.wants('md5', 10), true);
    assert.equal(index.wants('md5', 11), false);
    assert.equal(index.wants('sha1', 12345), true);
    assert.equal(index.wants('sha256', 10), false);
  });

  it('rejects digests of the wrong length or with non-hex characters', () => {
    const builder = new HashIndexBuilder();
    assert.equal(addHex(builder, 'abc', 1, 0), false);
    assert.equal(addHex(builder, 'z'.repeat(32), 1, 0), false);
    assert.equal(builder.count, 0);
  });
});
