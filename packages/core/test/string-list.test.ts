/**
 * Signature names in shared memory: every latin1 string comes back as added (empty ones, bytes
 * 0x80-0xFF, names longer than one String.fromCharCode slice), in shared memory, and a character
 * beyond latin1 is refused rather than cut.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StringList, StringListBuilder } from '../src/matching/string-list.js';

describe('string list', () => {
  it('gives back every string as added, in shared memory', () => {
    const names = ['Win.Trojan.Agent-1', '', 'Caf\u00e9.\u00ff\u0080.UNOFFICIAL', 'x'.repeat(10_000), 'Doc.Macro.Last'];
    const builder = new StringListBuilder();
    names.forEach((name, index) => {
      assert.equal(builder.count, index);
      builder.add(name);
    });
    const list = builder.build();
    assert.deepEqual(names.map((_, index) => list.get(index)), names);
    const shared = list.toShared();
    assert.ok(shared.units.buffer instanceof SharedArrayBuffer);
    assert.ok(shared.starts.buffer instanceof SharedArrayBuffer);
    const copy = StringList.fromShared(structuredClone(shared));
    assert.equal(copy.get(2), names[2]);
  });

  it('refuses a character beyond latin1', () => {
    const builder = new StringListBuilder();
    assert.throws(() => builder.add('Name.\u0100'), RangeError);
  });
});
