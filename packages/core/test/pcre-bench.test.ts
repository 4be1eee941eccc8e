/**
 * Speed of the PCRE engine on the real PCRE subsignatures of main.ldb, over 1 MiB of random
 * bytes and 1 MiB of text, compared with a naive search (the same engine trying every starting
 * position: PCRE2's (*NO_START_OPT)) and, for scale, with JavaScript's RegExp on a latin1
 * string (an approximate translation; it cannot bound backtracking, see pcre.ts).
 *
 * Not part of the normal run: PCRE_BENCH=1 node --import tsx --test packages/core/test/pcre-bench.test.ts
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { it } from 'node:test';
import { type PcreProgram, compilePcre } from '../src/matching/pcre.js';
import { MAIN_LDB, mainLdbPcres, sampleText } from './pcre-fixtures.js';

const MIB = 1 << 20;

function timeAll(run: (data: Uint8Array) => void, data: Uint8Array): number {
  run(data.subarray(0, 64 * 1024)); // warm up the JIT
  const start = performance.now();
  run(data);
  return performance.now() - start;
}

it('PCRE engine speed on main.ldb subsignatures', { skip: !process.env.PCRE_BENCH || !existsSync(MAIN_LDB) }, () => {
  const sigs = mainLdbPcres();
  const engine = sigs.map((s) => compilePcre(s.pattern, s.flags));
  const naive = sigs.map((s) => compilePcre(`(*NO_START_OPT)${s.pattern}`, s.flags));
  const regexps = sigs.flatMap((s) => {
    try {
      const source = s.pattern.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
      return [new RegExp(source, s.flags.replace(/[^ism]/g, '') + 'g')];
    } catch {
      return [];
    }
  });
  const runPrograms = (programs: PcreProgram[]) => (data: Uint8Array) => {
    for (const p of programs) p.search(data, 0);
  };
  const runRegExps = (data: Uint8Array) => {
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
    for (const r of regexps) {
      r.lastIndex = 0;
      r.exec(text);
    }
  };
  for (const [name, data] of [['random', randomBytes(MIB)], ['text', sampleText(MIB)]] as const) {
    const report = (label: string, ms: number, count: number) =>
      console.log(
        `${name.padEnd(6)} ${label.padEnd(22)} ${ms.toFixed(0).padStart(6)} ms for ${count} patterns: ` +
          `${((count * 1000) / ms).toFixed(0)} MB/s per pattern`,
      );
    report('ClamTS', timeAll(runPrograms(engine), data), engine.length);
    report('naive (every position)', timeAll(runPrograms(naive), data), naive.length);
    report('JavaScript RegExp', timeAll(runRegExps, data), regexps.length);
  }
});
