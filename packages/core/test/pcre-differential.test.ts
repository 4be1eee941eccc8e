/**
 * Differential tests against the real PCRE2 (see pcre-oracle.ts): generated patterns and
 * binary subjects, at ClamAV's default limits and at small limits (which exercise the frame
 * counting), a sweep of limits on backtracking-heavy patterns, and malformed patterns (same
 * error text and offset). Skipped when python3 or libpcre2-8 is missing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePcre } from '../src/matching/pcre.js';
import { type OracleCase, type OracleResult, openOracle } from './pcre-oracle.js';

const oracle = openOracle();
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Deterministic generator (mulberry32), so failures are reproducible. */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

/** Random PCRE syntax: literals, classes, types, anchors, groups, lookarounds, quantifiers,
 * back references, conditions, recursion, verbs. Lookbehinds get fixed-length content. */
function patternGenerator(rnd: (n: number) => number): () => string {
  const pick = <T>(list: T[]): T => list[rnd(list.length)]!;
  const literals = ['a', 'b', 'c', 'a', 'b', '\\x00', '\\xff', '\\n', ' ', 'A', '\\.', '-', '\\r', '\\x80'];
  let groups = 0;
  const atom = (depth: number, fixed: boolean): string => {
    const r = rnd(100);
    if (r < 35) return pick(literals);
    if (r < 42) return '.';
    if (r < 52) return pick(['[ab]', '[^a]', '[a-c]', '[^\\n]', '[\\d\\s]', '[[:alpha:]]', '[aA]', '[^b]', '[\\x00-\\x1f]', '[]a]', '[a-]', '[\\x80-\\xff]']);
    if (r < 60) return pick(['\\d', '\\w', '\\s', '\\D', '\\W', '\\S', '\\h', '\\v', '\\N', fixed ? '\\d' : '\\R']);
    if (r < 66) return pick(['^', '$', '\\b', '\\B', '\\A', '\\z', '\\Z', '\\G']);
    if (depth > 2) return pick(literals);
    if (r < 80) {
      const kind = pick(fixed ? ['(', '(?:', '(?>'] : ['(', '(?:', '(?>', '(', '(?:', '(?=', '(?!', '(?<=', '(?<!', '(?|', '(?i:']);
      if (kind === '(') groups++;
      const inner = alternation(depth + 1, fixed || kind.startsWith('(?<'));
      return `${kind}${inner})`;
    }
    if (r < 86 && groups > 0) return pick(['\\1', '\\1', '(?1)', '\\g{-1}', '\\1']);
    if (r < 88 && groups > 0 && !fixed) return `(?(1)${sequence(depth + 1, fixed)}|${sequence(depth + 1, fixed)})`;
    if (r < 90 && !fixed) return pick(['(*SKIP)', '(*PRUNE)', '(*COMMIT)', '(*THEN)', '(*FAIL)', '(*ACCEPT)', '\\K', '(*MARK:x)']);
    return pick(literals);
  };
  const quantifier = (fixed: boolean): string => {
    if (fixed) return rnd(5) === 0 ? pick(['{2}', '{1}', '{0}']) : '';
    if (rnd(100) < 55) return '';
    return pick(['*', '+', '?', '{2}', '{1,3}', '{0,2}', '{2,}', '{0}', '{3,5}']) + pick(['', '', '?', '+']);
  };
  const sequence = (depth: number, fixed: boolean): string => {
    let s = '';
    for (let i = 1 + rnd(4); i > 0; i--) {
      const a = atom(depth, fixed);
      s += a + (/^[\^$]|^\\[bBAzZGK]$|^\(\*/.test(a) ? '' : quantifier(fixed));
    }
    return s;
  };
  const alternation = (depth: number, fixed: boolean): string =>
    rnd(4) === 0 ? `${sequence(depth, fixed)}|${sequence(depth, fixed)}` : sequence(depth, fixed);
  return () => {
    groups = 0;
    return alternation(0, false);
  };
}

function subjectGenerator(rnd: (n: number) => number): () => Uint8Array {
  const alphabet = bytes('abcA\n \x00\xff1-.\r\x80');
  return () => {
    const r = rnd(10);
    const length = r < 5 ? rnd(25) : 30 + rnd(200);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      if (r === 9) out[i] = rnd(4) === 0 ? 0x62 : 0x61; // long runs for backtracking
      else if (r === 8) out[i] = rnd(256); // arbitrary binary
      else out[i] = alphabet[rnd(alphabet.length)]!;
    }
    return out;
  };
}

type Outcome = string;

function engineOutcome(c: OracleCase): Outcome {
  try {
    const limits = { matchLimit: c.matchLimit ?? 100000, recursionLimit: c.depthLimit ?? 2000 };
    const r = compilePcre(c.pattern, c.flags, limits).search(c.subject!, c.from ?? 0, { anchored: c.anchored });
    if (r.status === 'match') return `${r.start}-${r.end}`;
    if (r.status === 'error') return `error ${r.code}`;
    return r.status;
  } catch (e) {
    return `compile error: ${(e as Error).message}`;
  }
}

function oracleOutcome(r: OracleResult): Outcome {
  if ('compileError' in r) return `compile error: cli_pcre_compile: PCRE2 compilation failed at offset ${r.offset}: ${r.compileError}`;
  if (r.rc > 0) return `${r.start}-${r.end}`;
  if (r.rc === -1) return 'nomatch';
  if (r.rc === -47) return 'matchlimit';
  if (r.rc === -53) return 'depthlimit';
  return `error ${r.rc}`;
}

/**
 * Equal outcomes, or "no match" where PCRE2 hit a limit: ClamTS stops searching as soon as a
 * literal every match needs is missing, where PCRE2 keeps trying hopeless positions and may hit
 * the limit there. ClamAV treats both as no match.
 */
function equivalent(mine: Outcome, theirs: Outcome): boolean {
  return mine === theirs || (mine === 'nomatch' && (theirs === 'matchlimit' || theirs === 'depthlimit'));
}

function compareGenerated(seed: number, patterns: number, smallLimits: boolean): void {
  const rnd = random(seed);
  const nextPattern = patternGenerator(rnd);
  const nextSubject = subjectGenerator(rnd);
  const flagLetters = ['i', 's', 'm', 'A', 'E', 'U', 'x'];
  const cases: OracleCase[] = [];
  for (let i = 0; i < patterns; i++) {
    const pattern = nextPattern();
    const flags = flagLetters.filter(() => rnd(7) === 0).join('');
    for (let k = 0; k < 3; k++) {
      const subject = nextSubject();
      cases.push({
        pattern,
        flags,
        subject,
        from: rnd(4) === 0 ? rnd(subject.length + 1) : 0,
        anchored: rnd(10) === 0,
        matchLimit: smallLimits ? 20 + rnd(150) : 100000,
        depthLimit: smallLimits ? 6 + rnd(20) : 2000,
      });
    }
  }
  const expected = oracle!.run(cases).map(oracleOutcome);
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const mine = engineOutcome(c);
    if (!equivalent(mine, expected[i]!) && failures.length < 10) {
      failures.push(
        `/${c.pattern}/${c.flags} on ${JSON.stringify(Buffer.from(c.subject!).toString('latin1'))} ` +
          `from ${c.from} anchored ${c.anchored} limits ${c.matchLimit}/${c.depthLimit}: ClamTS ${mine}, PCRE2 ${expected[i]}`,
      );
    }
  });
  assert.deepEqual(failures, []);
}

describe('PCRE engine against PCRE2', { skip: oracle ? false : 'python3 with libpcre2-8 not available' }, () => {
  it('finds the same matches as PCRE2 on generated patterns and binary subjects', () => {
    compareGenerated(1, 700, false);
    compareGenerated(2, 700, false);
  });

  it('reaches the match and depth limits where PCRE2 does (small limits)', () => {
    compareGenerated(3, 700, true);
    compareGenerated(4, 700, true);
  });

  it('needs exactly as many frames as PCRE2 (sweep of limits)', () => {
    const patterns: [string, string][] = [
      ['a.*b', 's'], ['a.*?b', 's'], ['a.*b', ''], ['(a|b)*c', ''], ['(a+)+c', ''], ['(?:a|aa)*c', ''],
      ['a[ab]*[bc]', ''], ['a[ab]*?[bc]', ''], ['\\w+\\d', ''], ['(\\w+)\\s*=\\s*\\1', ''], ['(a*)*b', ''],
      ['<script.+var', 'si'], ['x(?=a*b)', ''], ['(?>a+)b', ''], ['(a|b){2,5}c', ''], ['(ab){0,3}c', ''],
      ['(?:a(?:b|c)*)+d', ''], ['a{2,}?b', ''], ['^(a+)+$', ''], ['(a)\\1*b', ''], ['(a)\\1*?b', ''],
      ['(?:a|b)+?c', ''], ['[^c]*+c', ''], ['(a)?(?(1)b|c)+d', ''], ['\\d{3,7}[\\x2a\\x2d]', ''],
      ['(\\d{3,7}[\\x2a\\x2d\\2b\\x2f]{1,2})+', ''], ['(?<=a)b+c', ''], ['(?!c)a+c', ''], ['a(*COMMIT)b|a+c', ''],
      ['(a(*THEN)b|a)+c', ''], ['(?:a(*SKIP)b|a)+c', ''], ['(a)(?1)*c', ''], ['(?:a|(?R))c', ''], ['.*foo', 's'],
      ['.*foo', ''], ['(.*)foo', 's'], ['.\\R*x', ''], ['(?|(a)|(b))+\\1c', ''],
    ];
    const subjects = [
      'aaaaaaaaaaaaaaaaaaaa', 'aaaaaaaaaaab', 'ababababababababx', '<script aaaaaaaaaa varx', 'a1a1a1a1a1 a',
      '123-456*789/111', 'abababababac', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad', 'xxfoo\nyyfoo', 'x\r\n\r\n\r\ny',
    ];
    const cases: OracleCase[] = [];
    for (const [pattern, flags] of patterns) {
      for (const s of subjects) {
        for (const matchLimit of [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377]) {
          cases.push({ pattern, flags, subject: bytes(s), matchLimit, depthLimit: 100000 });
        }
        for (const depthLimit of [1, 2, 3, 4, 5, 7, 9, 12, 16, 20, 30, 50]) {
          cases.push({ pattern, flags, subject: bytes(s), matchLimit: 10000000, depthLimit });
        }
      }
    }
    const expected = oracle!.run(cases).map(oracleOutcome);
    const failures = cases
      .map((c, i) => [c, engineOutcome(c), expected[i]!] as const)
      .filter(([, mine, theirs]) => mine !== theirs)
      .slice(0, 10)
      .map(([c, mine, theirs]) => `/${c.pattern}/${c.flags} ${c.matchLimit}/${c.depthLimit}: ClamTS ${mine}, PCRE2 ${theirs}`);
    assert.deepEqual(failures, []);
  });

  it('puts every byte in the same character types and classes as PCRE2', () => {
    const names = ['alpha', 'lower', 'upper', 'alnum', 'ascii', 'blank', 'cntrl', 'digit', 'graph', 'print', 'punct', 'space', 'word', 'xdigit'];
    const types = ['\\d', '\\D', '\\s', '\\S', '\\w', '\\W', '\\h', '\\H', '\\v', '\\V', '.', '\\N'];
    // A type alone, repeated, and in a class; each POSIX class and its negation, also caseless.
    const patterns = [
      ...types.flatMap((type) => [[type, ''], [`${type}+`, 's'], [`[${type}]`, '']]),
      ...names.flatMap((name) => [[`[[:${name}:]]`, ''], [`[[:^${name}:]]`, ''], [`[[:${name}:]]`, 'i']]),
    ];
    const cases = patterns.flatMap(([pattern, flags]) =>
      Array.from({ length: 256 }, (_, byte) => ({ pattern: pattern!, flags: flags!, subject: Uint8Array.of(byte) })),
    );
    const expected = oracle!.run(cases).map(oracleOutcome);
    const failures = cases
      .map((c, i) => [c, engineOutcome(c), expected[i]!] as const)
      .filter(([, mine, theirs]) => mine !== theirs)
      .slice(0, 10)
      .map(([c, mine, theirs]) => `/${c.pattern}/${c.flags} on byte ${c.subject[0]}: ClamTS ${mine}, PCRE2 ${theirs}`);
    assert.deepEqual(failures, []);
  });

  it('rejects the patterns PCRE2 rejects, with the same message and offset', () => {
    const patterns = [
      'a(', 'a)', '(?', '(?<', '(?<a', '(?<1a>x)', '(?P', '(?Px)', '(?P<a', '(?P=a)', '(?P>a)', '\\', 'a\\', '[a',
      '[a-', '[z-a]', '[\\d-z]', '[a-\\d]', '*', 'a**', 'a{2}{3}', '^*', '\\b+', 'a{3,2}', 'a{99999}', 'a{,3}',
      'x{1,', '(?i', '(?z)', '(?-)', '(?^-i)', '\\c', '\\c\\x01', '\\x{', '\\x{zz}', '\\x{100}', '\\o', '\\o{',
      '\\o{8}', '\\o{777}', '\\777', '\\8', '\\18', '\\1', '(a)\\2', '\\g', '\\g{', '\\g{0}', '\\g-1', '\\k',
      '\\k<a>', '\\k<a', '\\F', '\\L', '\\u', '\\U', '\\N{U+41}', '\\N{x}', '\\i', '\\y', '[[:foo:]]',
      '[[:alpha:]', '[:alpha:]', '[[.a.]]', '[[=a=]]', '(?<=a+)', '(?<=a|bc)d', '(?<=(a|bc))d', '(?<!a*)',
      '(?<=\\R)', '(?<=a\\K)', '(?=\\K)', '(a)(?<=\\1)', '(?|(a)|(b))(?<=\\1)', '(?(1)a|b)', '(a)(?(1)a|b|c)',
      '(?(DEFINE)a|b)', '(?(?x)a)', '(?(a)x)', '(?(<a>)x)', '(?(R)a|b|c)', '(?(R2)a)', '(?(VERSION>=10.0)a)',
      '(?(VERSION=x)a)', '(*FOO)', '(*MARK)', '(*:)', '(*', '(*)', '(*pla:a)', '(*xyz:a)', '(?C256)', '(?C|x|)',
      '(?#abc', 'a(?#x)*', '(?R', '(?1)', '(?+1)', '(?-1)', '(?&a)', '(?&1a)', '(?<a>x)(?<a>y)',
      '(?J)(?<a>x)(?<a>y)', '(?|(?<a>x)|(?<b>y))', '[\\b]', '[\\B]', '[\\R]', '[\\N]', '\\Qa\\E*', '\\E*',
      'a{65535}', 'a{65536}', '(?<abcdefghijabcdefghijabcdefghijabc>x)', `(*MARK:${'x'.repeat(256)})`,
      '(abcdefghij){7000}', '((a){1000}){100}', '(?<=a{30000}b{30000}c{10000})', '(?<n>a)(?(<n>)a|b|c)',
      '(?<=(?2))(a)(b+)', '(?=.\\Ka)',
    ];
    const cases = patterns.map((pattern) => ({ pattern, flags: '', subject: bytes('') }));
    const expected = oracle!.run(cases).map(oracleOutcome);
    const failures = cases
      .map((c, i) => [c.pattern, engineOutcome(c), expected[i]!] as const)
      .filter(([, mine, theirs]) => mine.startsWith('compile') !== theirs.startsWith('compile') || (mine.startsWith('compile') && mine !== theirs))
      .map(([pattern, mine, theirs]) => `/${pattern}/: ClamTS ${mine}; PCRE2 ${theirs}`);
    assert.deepEqual(failures, []);
  });
});
