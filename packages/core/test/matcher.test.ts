import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ObjectHashes } from '../src/engine/scan-object.js';
import { binarySample, buildDetector, hasClamscan, runClamscan, scanNames, type DatabaseFile } from './fixtures/body/clamscan-oracle.js';
import { Random, SignatureGenerator } from './fixtures/body/random-signatures.js';

const FEATURES = new URL('./fixtures/body/feature-cases.json', import.meta.url).pathname;

/** Asserts ClamTS detects in every sample what clamscan does, in the same order. */
function assertSameAsClamscan(databases: DatabaseFile[], samples: Map<string, Uint8Array>, modes = [true, false]): number {
  const { detector } = buildDetector(databases);
  let hits = 0;
  for (const allMatch of modes) {
    const oracle = runClamscan(databases, samples, { allMatch });
    assert.equal(oracle.status === 2, false, oracle.errors.join('\n'));
    for (const [name, data] of samples) {
      const expected = oracle.detections.get(name)!;
      hits += expected.length;
      assert.deepEqual(scanNames(detector, data, { allMatch }), expected, `sample ${name}, allMatch=${allMatch}`);
    }
  }
  return hits;
}

/** Random .ndb signatures that ClamTS accepts (clamscan refusing any would fail the whole run). */
function randomNdb(generator: SignatureGenerator, count: number) {
  const lines: string[] = [];
  const makers: (() => number[])[] = [];
  for (let i = 0; i < count; i++) {
    const pattern = generator.pattern();
    const line = `S${i}:0:${generator.offset()}:${pattern.hex}`;
    try {
      buildDetector([{ name: 'r.ndb', lines: [line] }]);
    } catch {
      continue;
    }
    lines.push(line);
    makers.push(() => pattern.generate());
  }
  return { lines, makers };
}

function randomSamples(random: Random, generator: SignatureGenerator, makers: (() => number[])[], count: number) {
  const samples = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const body = generator.filler(random.below(6));
    const pieces = 1 + random.below(3);
    for (let j = 0; j < pieces; j++) body.push(...makers[random.below(makers.length)]!(), ...generator.filler(random.below(4)));
    samples.set(`s${i}`, binarySample(body));
  }
  return samples;
}

describe('body signatures against clamscan', { skip: !hasClamscan }, () => {
  for (const seed of [1, 2, 3]) {
    it(`matches random .ndb signatures like clamscan (seed ${seed})`, () => {
      const random = new Random(seed);
      const generator = new SignatureGenerator(random);
      const { lines, makers } = randomNdb(generator, 200);
      const hits = assertSameAsClamscan([{ name: 'r.ndb', lines }], randomSamples(random, generator, makers, 80));
      assert.ok(hits > 100);
    });
  }

  it('matches around scan window boundaries like clamscan', () => {
    const random = new Random(7);
    const generator = new SignatureGenerator(random);
    const { lines, makers } = randomNdb(generator, 200);
    const samples = new Map<string, Uint8Array>();
    for (let i = 0; i < 24; i++) {
      const body = makers[random.below(makers.length)]!();
      // ClamAV scans 128 KiB windows overlapping by the longest pattern.
      const size = 131072 + 4096 + random.below(131072);
      const big = new Uint8Array(size).map((_, q) => 0x30 + (q % 7));
      const at = [131072 - 9 - random.below(80), 131072 - 9 - random.below(400), 2 * 131072 - 9 - random.below(600), size - 9 - body.length][i % 4]!;
      const where = Math.max(0, Math.min(at, size - 1));
      big.set(body.slice(0, size - where), where);
      samples.set(`b${i}`, binarySample(big));
    }
    assertSameAsClamscan([{ name: 'r.ndb', lines }], samples, [true]);
  });

  for (const seed of [11, 12]) {
    it(`evaluates random logical signatures like clamscan (seed ${seed})`, () => {
      const random = new Random(seed);
      const generator = new SignatureGenerator(random);
      const lines: string[] = [];
      const makers: (() => number[])[] = [];
      for (let i = 0; i < 150; i++) {
        const count = 1 + random.below(3);
        const patterns = Array.from({ length: count }, () => generator.pattern());
        const subsignatures = patterns.map((p, k) => (k > 0 && random.below(5) === 0 ? `${generator.offset()}:` : '') + p.hex);
        const line = `S${i};Target:0;${generator.expression(count)};${subsignatures.join(';')}`;
        try {
          buildDetector([{ name: 'r.ldb', lines: [line] }]);
        } catch {
          continue;
        }
        lines.push(line);
        makers.push(() => {
          const out: number[] = [];
          for (let r = 1 + random.below(3); r > 0; r--) out.push(...patterns[random.below(count)]!.generate(), ...generator.filler(random.below(3)));
          return out;
        });
      }
      assertSameAsClamscan([{ name: 'r.ldb', lines }], randomSamples(random, generator, makers, 60));
    });
  }

  it('handles modifiers, PCRE, byte compares, macros, offsets and anchors like clamscan', () => {
    const cases: { db: string[]; samples: string[] }[] = JSON.parse(readFileSync(FEATURES, 'utf8'));
    for (const { db, samples } of cases) {
      const kind = db[0]!.includes(';') ? 'ldb' : 'ndb';
      // A case may mix logical signatures with the .ndb macro members they refer to.
      const databases: DatabaseFile[] = [
        { name: `c.${kind}`, lines: db.filter((line) => line.includes(';') === (kind === 'ldb')) },
        ...(kind === 'ldb' && db.some((line) => !line.includes(';')) ? [{ name: 'c.ndb', lines: db.filter((line) => !line.includes(';')) }] : []),
      ];
      const sampleMap = new Map(samples.map((s, i) => [`s${i}`, binarySample(s)]));
      let refused = false;
      try {
        buildDetector(databases);
      } catch {
        refused = true;
      }
      // Some cases are signatures both refuse (the whole database then fails to load).
      if (refused) assert.equal(runClamscan(databases, sampleMap).status, 2, db.join(' / '));
      else assertSameAsClamscan(databases, sampleMap);
    }
  });

  it('handles common later parts of split patterns, waiting for their first part, like clamscan', () => {
    // `0000` is part 2 of Split.A and Split.C and, in one chain with them, a fixed-offset pattern
    // and a logical subsignature: ClamTS verifies such a later part only once its first part may
    // have matched (in an earlier window, or earlier in the same window).
    const databases: DatabaseFile[] = [
      { name: 's.ndb', lines: ['Split.A:0:*:41424344*0000', 'Split.C:0:*:45464748{2-9}0000*4a4b4c4d'] },
      { name: 's.ldb', lines: ['Fixed.B;Engine:51-255,Target:0;0;40:0000', 'Logic.D;Engine:51-255,Target:0;0>3;0000'] },
    ];
    const zeros = (n: number) => new Uint8Array(n);
    const filler = (n: number) => new Uint8Array(n).map((_, q) => 0x30 + (q % 7));
    const window = 131072;
    const samples = new Map<string, Uint8Array>([
      ['later part only', binarySample(filler(64), zeros(64))],
      ['later part before first', binarySample(zeros(8), 'xxABCDxx', filler(8))],
      ['first then later, same window', binarySample(zeros(8), 'xxABCDxx', zeros(4))],
      ['first then later, next window', binarySample(filler(200), 'ABCD', filler(window), zeros(4), filler(16))],
      ['later part across the window end', binarySample(filler(window - 30), 'ABCD', filler(11), zeros(8), filler(64))],
      ['three parts', binarySample(filler(16), 'EFGHxx', zeros(2), 'xxJKLM', filler(8))],
      ['three parts, gap too long', binarySample(filler(16), 'EFGHxxxxxxxxxxxx', zeros(2), 'JKLM')],
      ['fixed offset', binarySample(filler(40 - 12), zeros(8))],
      ['few zeros', binarySample(filler(20), zeros(3), filler(20))],
    ]);
    assert.ok(assertSameAsClamscan(databases, samples) > 0);
  });

  it('ends a matcher pass at a potentially unwanted detection outside all-match mode, like clamscan', () => {
    // PUA.A and Strong.N have no wildcards (Boyer-Moore); PUA.W and the logical signature's
    // subsignature go to Aho-Corasick, which runs after Boyer-Moore on each window.
    const databases: DatabaseFile[] = [
      { name: 'p.ndb', lines: ['PUA.A:0:*:41414141', 'Strong.N:0:*:4e4e4e4e', 'PUA.W:0:*:41413f41??', 'Heuristics.D:0:*:44444444'] },
      { name: 'p.ldb', lines: ['Strong.L;Engine:51-255,Target:0;0;43434343'] },
    ];
    const samples = new Map(
      ['AAAAxxCCCCxx', 'AAAAxxNNNNxx', 'AA?AAxxNNNNxx', 'AA?AAxxCCCCxx', 'CCCCxxAA?AAxx', 'DDDDxxAAAAxx'].map((text) => [text, binarySample(text)]),
    );
    assert.ok(assertSameAsClamscan(databases, samples) > 0);
    // Two potentially unwanted names found: without all-match ClamAV prints either, at random.
    assertSameAsClamscan(databases, new Map([['two', binarySample('xxAA?AAAAAxx')]]), [true]);
  });
});

describe('bounded work', () => {
  it('scans pathological patterns on hostile data in bounded time', () => {
    const lines = [
      'Stars:0:*:4141*4141*4141*4141*4141*4141*4141*4141*4142',
      'Gaps:0:*:4141{0-20}4141{0-20}4141{0-20}4141{0-20}4142',
      'Alternatives:0:*:4141(41|4141)(41|4141)(41|4141)(41|4141)(41|4141)(41|4141)(41|4141)(41|4141)42',
      ...Array.from({ length: 300 }, (_, i) => `Short${i}:0:*:4141??${(i % 256).toString(16).padStart(2, '0')}`),
    ];
    const { detector } = buildDetector([{ name: 'p.ndb', lines }]);
    // 300 patterns sharing one key are checked at every position, as in ClamAV (which needs
    // about 14 s for this on 256 KiB); the nested alternatives must not be exponential.
    const data = new Uint8Array(1 << 18).fill(0x41);
    const started = performance.now();
    detector.scan(
      { data, fileType: 'CL_TYPE_BINARY_DATA', depth: 0, containers: [], hashes: new ObjectHashes(data) },
      { report: () => true },
    );
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 20, `took ${seconds.toFixed(1)} s`);
  });
});
