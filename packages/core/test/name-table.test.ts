/**
 * Signature names kept as bytes: every reported latin1 name comes back as added (empty ones,
 * bytes 0x80-0xFF, long ones), through shared memory, and a character beyond latin1 is refused
 * rather than cut.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NameTable } from '../src/util/names.js';

describe('name table', () => {
  it('gives back every reported name as added, in shared memory', () => {
    const names = ['Win.Trojan.Agent-1', '', 'Caf\u00e9.\u00ff\u0080.UNOFFICIAL', 'x'.repeat(10_000), 'Doc.Macro.Last'];
    const table = new NameTable();
    names.forEach((name, index) => {
      assert.equal(table.size, index);
      assert.equal(table.addReported(name), index);
    });
    table.freeze();
    assert.deepEqual(names.map((_, index) => table.get(index)), names);
    const shared = table.toShared();
    assert.ok(shared.heap.buffer instanceof SharedArrayBuffer);
    assert.ok(shared.starts.buffer instanceof SharedArrayBuffer);
    const copy = NameTable.fromShared(structuredClone(shared));
    assert.equal(copy.get(2), names[2]);
  });

  it('adds the unofficial suffix only to names added as raw bytes of an unofficial database', () => {
    const table = new NameTable();
    const raw = Buffer.from('Eicar-Test', 'latin1');
    table.add(raw, 0, raw.length, false);
    table.addReported('Eicar-Test.UNOFFICIAL');
    table.freeze();
    assert.equal(table.get(0), 'Eicar-Test.UNOFFICIAL');
    assert.equal(table.get(1), 'Eicar-Test.UNOFFICIAL');
  });

  it('refuses a character beyond latin1', () => {
    const table = new NameTable();
    assert.throws(() => table.addReported('Name.\u0100'), RangeError);
  });
});
