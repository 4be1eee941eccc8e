/**
 * Every PCRE subsignature of the real main.ldb must compile, and must match exactly like PCRE2
 * on sample data (random bytes and text). Skipped when the signature file is missing; the
 * comparison is skipped when the PCRE2 oracle is missing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compilePcre } from '../src/matching/pcre.js';
import { MAIN_LDB, type PcreSubsig, mainLdbPcres, sampleText } from './pcre-fixtures.js';
import { openOracle } from './pcre-oracle.js';

/**
 * A rough string each pattern is likely to match (first alternatives, escapes resolved,
 * classes reduced to a member, quantifiers to their minimum): put together, they make a buffer
 * on which most real signatures match, so matches (not just failures) get compared.
 */
function examples(subsigs: PcreSubsig[]): Uint8Array {
  const typeExample: Record<string, string> = { s: ' ', d: '1', w: 'a', S: 'a', D: 'a', W: ' ', n: '\n', r: '\r', t: '\t', b: '', B: '' };
  const escape = (p: string, i: number): [string, number] =>
    p[i + 1] === 'x' ? [String.fromCharCode(parseInt(p.slice(i + 2, i + 4), 16)), i + 4] : [typeExample[p[i + 1]!] ?? p[i + 1]!, i + 2];
  const example = (p: string): string => {
    let out = '';
    let depth = 0;
    let skipping = 0; // skip until the group at this depth closes
    for (let i = 0; i < p.length; ) {
      const c = p[i]!;
      if (skipping) {
        if (c === '\\') i++;
        else if (c === '(') depth++;
        else if (c === ')' && --depth < skipping) skipping = 0;
        i++;
        continue;
      }
      let piece = '';
      if (c === '\\') {
        [piece, i] = escape(p, i);
      } else if (c === '[') {
        let j = i + 1;
        piece = p[j] === '^' ? 'Q' : p[j] === '\\' ? escape(p, j)[0] : p[j]!;
        while (j < p.length && p[j] !== ']') j += p[j] === '\\' ? 2 : 1;
        i = j + 1;
      } else if (c === '(') {
        depth++;
        const m = /^\(\?(P?<\w+>|:|i:|=|P=\w+\)|!|<=|<!)/.exec(p.slice(i));
        if (m?.[1]!.startsWith('P=')) depth--;
        if (m?.[1] === '!' || m?.[1] === '<!') skipping = depth;
        i += m ? m[0].length : 1;
        continue;
      } else if (c === ')') {
        depth--;
        i++;
        continue;
      } else if (c === '|') {
        if (depth === 0) break;
        skipping = depth;
        i++;
        continue;
      } else if (c === '^' || c === '$') {
        i++;
        continue;
      } else {
        piece = c === '.' ? 'a' : c;
        i++;
      }
      const q = /^(\*|\+|\?|\{(\d+)(,\d*)?\})[?+]?/.exec(p.slice(i));
      if (q) {
        i += q[0].length;
        piece = piece.repeat(Math.max(1, Math.min(Number(q[2] ?? 1), 2000)));
      }
      out += piece;
    }
    return out;
  };
  return Buffer.from(subsigs.map((s) => example(s.pattern)).join('\n'), 'latin1');
}

describe('PCRE subsignatures of main.ldb', { skip: existsSync(MAIN_LDB) ? false : `${MAIN_LDB} not available` }, () => {
  const subsigs = mainLdbPcres();

  it('all compile', () => {
    assert.ok(subsigs.length > 400, `found ${subsigs.length}`);
    const failures: string[] = [];
    for (const s of subsigs) {
      try {
        compilePcre(s.pattern, s.flags);
      } catch (e) {
        failures.push(`${s.name} /${s.pattern}/${s.flags}: ${(e as Error).message}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('match many crafted examples', () => {
    const data = examples(subsigs);
    const matching = subsigs.filter((s) => compilePcre(s.pattern, s.flags).search(data, 0).status === 'match');
    assert.ok(matching.length > subsigs.length * 0.7, `${matching.length} of ${subsigs.length}`);
  });

  it('match exactly like PCRE2 on random bytes, text and crafted examples', (t) => {
    const oracle = openOracle();
    if (!oracle) return t.skip('python3 with libpcre2-8 not available');
    const crafted = examples(subsigs);
    const samples: [Uint8Array, number][] = [
      [randomBytes(64 * 1024), 0],
      [sampleText(256 * 1024), 0],
      [crafted, 0],
      [crafted, crafted.length >> 1],
    ];
    const regexFlags = (flags: string) => flags.replace(/[gre]/g, '');
    for (const [subject, from] of samples) {
      const expected = oracle.run(subsigs.map((s) => ({ pattern: s.pattern, flags: regexFlags(s.flags), subject, from })));
      const failures: string[] = [];
      subsigs.forEach((s, i) => {
        const r = compilePcre(s.pattern, s.flags).search(subject, from);
        const e = expected[i]!;
        const theirs = 'rc' in e ? (e.rc > 0 ? `${e.start}-${e.end}` : e.rc === -1 ? 'nomatch' : `rc ${e.rc}`) : 'compile error';
        const mine = r.status === 'match' ? `${r.start}-${r.end}` : r.status === 'nomatch' ? 'nomatch' : r.status === 'matchlimit' ? 'rc -47' : r.status;
        const sameNoMatch = mine === 'nomatch' && (theirs === 'rc -47' || theirs === 'rc -53');
        if (mine !== theirs && !sameNoMatch) failures.push(`${s.name} /${s.pattern}/${s.flags}: ClamTS ${mine}, PCRE2 ${theirs}`);
      });
      assert.deepEqual(failures, []);
    }
  });
});
