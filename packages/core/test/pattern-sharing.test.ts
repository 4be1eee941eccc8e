import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDetector, scanNames } from './fixtures/body/clamscan-oracle.js';

describe('patterns written alike', () => {
  const lines = [1, 2, 3, 4].flatMap((n) => [
    `Same.Single-${n};Engine:51-255,Target:0;0&1;41424344::i;${n === 4 ? '0:' : ''}45464748`,
    `Same.Split-${n};Engine:51-255,Target:0;0;5152*5354`,
  ]);
  const { detector } = buildDetector([{ name: 'same.ldb', lines }]);

  it('are chained as one by the matcher, whatever their offsets', () => {
    const { lists } = detector.programs[0]!.matcher;
    // Load order: per line, Single subsignatures 0 and 1, then the two parts of Split.
    for (let k = 0; k < 4; k++) {
      const members = [0, 1, 2, 3].map((line) => 4 * line + k);
      assert.deepEqual(members.map((p) => lists.chainHead[p]), [k, k, k, k], `pattern ${k} of each line`);
      for (const [i, p] of members.slice(0, -1).entries()) assert.equal(lists.chainNext[p], members[i + 1]);
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

  it('compare string alternatives as a set, and alternatives of mixed lengths in order', () => {
    const mixed = buildDetector([
      {
        name: 'mixed.ldb',
        lines: [
          'Strings.First;Engine:51-255,Target:0;0;6a6b6c(6162|6364)6d',
          'Strings.Swapped;Engine:51-255,Target:0;0;6a6b6c(6364|6162)6d',
          'Mixed.First;Engine:51-255,Target:0;0;6a6b6c(61|6364)6d',
          'Mixed.Swapped;Engine:51-255,Target:0;0;6a6b6c(6364|61)6d',
          'Mixed.Again;Engine:51-255,Target:0;0;6a6b6c(61|6364)6d',
        ],
      },
    ]).detector;
    const { lists } = mixed.programs[0]!.matcher;
    assert.equal(lists.chainHead[1], 0, 'the same strings in another order');
    assert.equal(lists.chainHead[3], 3, 'alternatives of mixed lengths in another order');
    assert.equal(lists.chainHead[4], 2, 'the same alternatives of mixed lengths');
  });
});
