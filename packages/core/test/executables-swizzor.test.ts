/**
 * The Trojan.Swizzor heuristic: verdicts on made-up and ordinary resource text, the statistics
 * behind them (the debug lines), the conditions on the file, and mutated resources, which must
 * never throw or hang. The comparison with real clamscan is test/conformance/swizzor.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePeFile } from '../src/executables/pe-file.js';
import { looksLikeSwizzor } from '../src/executables/swizzor.js';
import { Random } from './fixtures/body/random-signatures.js';
import { madeUpWords, ordinaryWords, peWithTexts } from './fixtures/executables/swizzor-builder.js';
import { mutate, prng } from './support/archive-samples.js';

function judge(file: Uint8Array): { verdict: boolean; lines: string[] } {
  const pe = parsePeFile(file);
  assert.ok(pe, 'the sample parses');
  const lines: string[] = [];
  return { verdict: looksLikeSwizzor(file, pe, (line) => lines.push(line)), lines };
}

const madeUp = (seed: number, count = 30, words = 300) => {
  const random = new Random(seed);
  return peWithTexts(Array.from({ length: count }, () => madeUpWords(words, random)), seed);
};

describe('Trojan.Swizzor heuristic', () => {
  it('finds made-up words and not ordinary text', () => {
    assert.equal(judge(madeUp(1)).verdict, true, 'made-up words');
    const ordinary = judge(peWithTexts(Array.from({ length: 30 }, () => ordinaryWords(600)), 2));
    assert.equal(ordinary.verdict, false, 'ordinary text');
    assert.ok(ordinary.lines.includes('swizz_j48: 39, 0, 984'), 'ordinary text repeats its trigrams');
    assert.ok(ordinary.lines.includes('cli_detect_swizz_str: ok, 599 words'), 'and is ok');
  });

  it('counts words and trigrams as ClamAV does (digits dropped, other characters end a word)', () => {
    const text = `${'Ab1c-de, FGh '.repeat(40)}${madeUpWords(200, new Random(3))}`;
    const { lines } = judge(peWithTexts(Array.from({ length: 30 }, () => text), 3));
    assert.ok(lines.some((line) => /^cli_detect_swizz_str: suspicious, 319 words$/.test(line)), 'the words of the text');
  });

  it('looks only at files above 64 KiB with more than one section and resources', () => {
    const small = judge(madeUp(4, 3, 100));
    assert.deepEqual(small, { verdict: false, lines: [] }, 'a small file is not looked at');
    const languages = judge(peWithTexts(['x'], 5, { languages: 1 }));
    assert.equal(languages.verdict, false, 'a one-letter text');
  });

  it('reads only English resources of the text types', () => {
    const random = new Random(6);
    const texts = Array.from({ length: 30 }, () => madeUpWords(300, random));
    assert.equal(judge(peWithTexts(texts, 6, { type: 3 })).verdict, false, 'RT_ICON is not read');
    assert.ok(judge(peWithTexts(texts, 6, { type: 4 })).verdict, 'RT_MENU is read');
  });

  it('never throws or hangs on mutated resources', () => {
    const random = prng(23);
    const samples = [madeUp(7, 12, 400), peWithTexts(Array.from({ length: 12 }, () => ordinaryWords(900)), 8)];
    const iterations = Number(process.env.CLAMTS_FUZZ_ITERATIONS) || 500;
    for (let i = 0; i < iterations; i++) {
      const file = mutate(samples[i % samples.length]!, random);
      const pe = parsePeFile(file);
      const started = performance.now();
      try {
        if (pe) looksLikeSwizzor(file, pe, () => {});
      } catch (error) {
        assert.fail(`iteration ${i} threw ${String(error)}`);
      }
      assert.ok(performance.now() - started < 1000, `iteration ${i} finished in time`);
    }
  });
});
