import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RepeatedTexts } from '../src/matching/repeated-texts.js';
import { buildDetector, scanNames } from './fixtures/body/clamscan-oracle.js';

describe('RepeatedTexts', () => {
  it('remembers a value only for a text seen more than once', () => {
    const texts = new RepeatedTexts();
    assert.equal(texts.get('41424344'), undefined);
    texts.set('41424344', 1);
    assert.equal(texts.get('41424344'), undefined, 'a text seen once is not kept');
    texts.set('41424344', 2);
    assert.equal(texts.get('41424344'), 2);
    assert.equal(texts.get('41424345'), undefined);
  });

  it('keeps its values while its fingerprint table grows', () => {
    const texts = new RepeatedTexts();
    const text = (i: number) => `${i.toString(16)}??4142`;
    for (let i = 0; i < 20_000; i++) texts.get(text(i));
    for (let i = 0; i < 20_000; i++) {
      assert.equal(texts.get(text(i)), undefined);
      texts.set(text(i), i);
    }
    for (let i = 0; i < 20_000; i += 997) assert.equal(texts.get(text(i)), i);
  });
});

describe('patterns written alike', () => {
  const lines = [1, 2, 3, 4].flatMap((n) => [
    `Same.Single-${n};Engine:51-255,Target:0;0&1;41424344::i;${n === 4 ? '0:' : ''}45464748`,
    `Same.Split-${n};Engine:51-255,Target:0;0;5152*5354`,
  ]);
  const { detector } = buildDetector([{ name: 'same.ldb', lines }]);

  it('share the compiled parts of an earlier one from their third occurrence', () => {
    const table = detector.programs[0]!.patterns;
    // Load order: per line, Single subsignatures 0 and 1, then the two parts of Split.
    const first = (line: number) => 4 * line;
    const starts = (line: number) => [0, 1, 2, 3].map((k) => table.elementStart[first(line) + k]);
    assert.notDeepEqual(starts(0), starts(1), 'the second occurrence is compiled again');
    assert.deepEqual(starts(2), starts(1));
    assert.deepEqual(starts(3), starts(1), 'an offset of its own does not change the pattern');
    assert.equal(table.offsetKind[first(3) + 1] === table.offsetKind[first(2) + 1], false);
    // Every column but the entry's own is the template's.
    const entryColumns = ['action', 'owner', 'subsignature', 'offsetKind', 'offsetMin', 'offsetMax', 'partialId', 'partNumber', 'partCount', 'gapMin', 'gapMax'];
    const columns = Object.entries(table.toShared().columns).filter(([name]) => !entryColumns.includes(name));
    assert.ok(columns.length > 16);
    for (let k = 0; k < 4; k++) {
      for (const [name, column] of columns) assert.equal(column[first(2) + k], column[first(1) + k], `${name} of pattern ${first(2) + k}`);
    }
  });

  it('still match, each for its own signature and offset', () => {
    // A binary object is matched twice (raw, then as CL_TYPE_OTHER): each name once here.
    const names = (text: string) => [...new Set(scanNames(detector, new TextEncoder().encode(text), { allMatch: true }))].sort();
    assert.deepEqual(names('EFGH..abcd..QR..ST'), [1, 2, 3, 4].flatMap((n) => [`Same.Single-${n}.UNOFFICIAL`, `Same.Split-${n}.UNOFFICIAL`]).sort());
    assert.deepEqual(names('..EFGH..ABCD..ST..QR'), ['Same.Single-1.UNOFFICIAL', 'Same.Single-2.UNOFFICIAL', 'Same.Single-3.UNOFFICIAL']);
  });
});

describe('patterns ClamAV takes for one', () => {
  // Written differently, compiled alike: upper- and lower-case hex, and the same alternatives in
  // another order. Not alike: another alternative, or a boundary condition.
  const lines = [
    'Case.Lower;Engine:51-255,Target:0;0;6a6b6c(61|62)6d',
    'Case.Upper;Engine:51-255,Target:0;0;6A6B6C(62|61)6D',
    'Other.Alternative;Engine:51-255,Target:0;0;6a6b6c(61|63)6d',
    'Other.Boundary;Engine:51-255,Target:0;0;(B)6a6b6c(61|62)6d',
  ];
  const { detector } = buildDetector([{ name: 'alike.ldb', lines }]);

  it('share one chain, whatever their texts', () => {
    const { lists } = detector.programs[0]!.matcher;
    // One pattern per line, in load order.
    assert.equal(lists.chainHead[1], 0, 'the same elements and specials');
    assert.equal(lists.chainNext[0], 1);
    assert.equal(lists.chainHead[2], 2, 'another alternative');
    assert.equal(lists.chainHead[3], 3, 'a boundary condition');
  });

  it('are still reported each for its own signature', () => {
    const names = (text: string) => [...new Set(scanNames(detector, new TextEncoder().encode(text), { allMatch: true }))].sort();
    assert.deepEqual(names('..jklbm..'), ['Case.Lower.UNOFFICIAL', 'Case.Upper.UNOFFICIAL', 'Other.Boundary.UNOFFICIAL']);
    assert.deepEqual(names('..jklcm..'), ['Other.Alternative.UNOFFICIAL']);
  });
});
