/**
 * PCRE engine: the API, ClamAV's flag letters and error messages, PCRE2 semantics that differ
 * from JavaScript's RegExp, and the match/depth limits at the exact thresholds real ClamAV has.
 *
 * Every expected value below was checked against PCRE2 10.42 (the libpcre2-8 that ClamAV 1.4.6
 * uses) and, for the limits and flags, against clamscan itself; the tests re-check them with
 * the oracle or clamscan when those are installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isClamError } from '../src/errors.js';
import { PCRE_DEFAULT_LIMITS, compilePcre, parsePcreFlags } from '../src/matching/pcre.js';
import { openOracle } from './pcre-oracle.js';

setFlagsFromString('--expose-gc');

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function find(pattern: string, flags: string, subject: string, from = 0): [number, number] | null {
  const m = compilePcre(pattern, flags).exec(bytes(subject), from);
  return m ? [m.start, m.end] : null;
}

function compileError(pattern: string, flags = ''): string {
  try {
    compilePcre(pattern, flags);
  } catch (e) {
    assert.ok(isClamError(e));
    assert.equal(e.code, 'EMALFDB');
    return e.message;
  }
  assert.fail(`/${pattern}/${flags} compiled`);
}

/* [pattern, flags, subject, from, expected [start, end] or null], each checked with PCRE2. */
const SEMANTICS: [string, string, string, number, [number, number] | null][] = [
  // $ matches before a final newline, \z only at the very end; E (DOLLAR_ENDONLY) disables it.
  ['abc$', '', 'abc\n', 0, [0, 3]],
  ['abc$', 'E', 'abc\n', 0, null],
  ['abc\\z', '', 'abc\n', 0, null],
  ['abc\\Z', '', 'abc\n', 0, [0, 3]],
  // ^ in multiline mode matches after \n (not after a final one); only \n is a newline.
  ['^b', 'm', 'a\nb', 0, [2, 3]],
  ['^b', 'm', 'a\rb', 0, null],
  ['a$', 'm', 'a\rb', 0, null],
  // . matches \r but not \n; s makes it match \n. Bytes are bytes: no UTF.
  ['a.b', '', 'a\rb', 0, [0, 3]],
  ['a.b', '', 'a\nb', 0, null],
  ['a.b', 's', 'a\nb', 0, [0, 3]],
  ['\\xff.', '', '\xff\x80', 0, [0, 2]],
  // \s is ASCII white space only (not NBSP 0xA0); \h includes NBSP; case folding is ASCII only.
  ['\\s', '', '\xa0 ', 0, [1, 2]],
  ['\\h', '', '\xa0', 0, [0, 1]],
  ['\xe0', 'i', '\xc0', 0, null],
  ['[[:alpha:]]+', 'i', '12abC3', 0, [2, 5]],
  // An unset group's back reference fails; a group keeps its last iteration's value.
  ['(a)?\\1', '', 'b', 0, null],
  ['(?:(a)|b)+\\1', '', 'aba', 0, [0, 3]],
  // Named groups in Python syntax, as ClamAV signatures write them.
  ['(?P<x>\\w+)=(?P=x)', '', 'ab=ab', 0, [0, 5]],
  // Octal, \x{}, \Q..\E, comments, inline options.
  ['\\x41\\101\\o{102}', '', 'AAB', 0, [0, 3]],
  ['\\Qa.b\\E+', '', 'a.bbb', 0, [0, 5]],
  ['a # comment\n b', 'x', 'ab', 0, [0, 2]],
  ['(?i)ABC', '', 'xabc', 0, [1, 4]],
  ['[\\x2a\\x2d\\2b\\x2f]', '', '\x02', 0, [0, 1]], // \2 in a class is octal 2
  ['W(?P<junk>[a-z]{4-7})', '', 'W(?P', 0, null], // {4-7} is literal text
  // Possessive, atomic, lazy, lookbehind, \K, conditionals, recursion, branch reset, verbs.
  ['a*+a', '', 'aaa', 0, null],
  ['(?>a+)b', '', 'aab', 0, [0, 3]],
  ['a{2,3}?', '', 'aaaa', 0, [0, 2]],
  ['(?<=a)b', '', 'ab', 0, [1, 2]],
  ['a\\Kb', '', 'ab', 0, [1, 2]],
  ['(a)(?(1)b|c)', '', 'ab', 0, [0, 2]],
  ['(\\d+)-(?1)', '', 'x12-345', 0, [1, 7]],
  ['(?|(a)|(b))\\1', '', 'bb', 0, [0, 2]],
  ['a(*COMMIT)b|ac', '', 'ac', 0, null],
  ['.\\R', '', 'a\r\n', 0, [0, 3]],
  // A start offset: lookbehind and \b see before it, ^ does not match at it.
  ['(?<=a)b', '', 'ab', 1, [1, 2]],
  ['\\bb', '', 'ab', 1, null],
  ['^b', '', 'ab', 1, null],
  // PCRE2's own quirks that ClamAV inherits.
  ['.([a-c]|\\1*?){2}\\Z', '', 'a', 0, null], // its minimum length ignores the recursive branch
  ['(?:a|\\Ab){0}\\n', '', 'aa a--\n', 0, null], // its start-of-pattern scan makes this anchored
  ['(*COMMIT)[ab]', '', 'xa', 0, null], // no start bitmap through (*COMMIT)
  ['(*COMMIT)A', '', 'bA', 0, [1, 2]], // but a first code unit
];

describe('PCRE flags', () => {
  it('accepts exactly the letters ClamAV accepts', () => {
    const f = parsePcreFlags('ismxAEUgre');
    assert.deepEqual(f, {
      caseless: true,
      dotall: true,
      multiline: true,
      extended: true,
      anchored: true,
      dollarEndOnly: true,
      ungreedy: true,
      global: true,
      rolling: true,
      encompass: true,
    });
    assert.equal(compilePcre('a', 'gre').flags.global, true);
  });

  it("rejects other letters with libclamav's message (D is not DOLLAR_ENDONLY in ClamAV)", () => {
    assert.equal(compileError('hel+o', 'D'), 'cli_pcre_addpatt: unknown/extra pcre option encountered D');
  });
});

describe('PCRE compile errors', () => {
  it("reports PCRE2's message and offset the way cli_pcre_compile logs them", () => {
    assert.equal(
      compileError('hel(+o'),
      'cli_pcre_compile: PCRE2 compilation failed at offset 4: quantifier does not follow a repeatable item',
    );
    assert.equal(compileError('a('), 'cli_pcre_compile: PCRE2 compilation failed at offset 2: missing closing parenthesis');
    assert.equal(compileError('(?<=a+)b'), 'cli_pcre_compile: PCRE2 compilation failed at offset 0: lookbehind assertion is not fixed length');
    assert.equal(compileError('(abcdefghij){7000}'), 'cli_pcre_compile: PCRE2 compilation failed at offset 18: regular expression is too large');
    assert.equal(compileError('\\p{L}'), 'cli_pcre_compile: PCRE2 compilation failed at offset 1: \\p (Unicode properties) is not supported by ClamTS');
  });

  it('matches clamscan on a broken regex', (t) => {
    const dir = clamscanDir(t);
    if (!dir) return;
    try {
      writeFileSync(join(dir, 'bad.ldb'), 'Test.Pcre.Bad;Engine:81-255,Target:0;0&1;68656c6c6f;0/hel(+o/\n');
      writeFileSync(join(dir, 't.txt'), 'hello\n');
      const out = spawnSync('clamscan', ['--no-summary', '-d', join(dir, 'bad.ldb'), join(dir, 't.txt')], { encoding: 'utf8' });
      assert.match(out.stderr, new RegExp(`LibClamAV Error: ${escapeRegExp(compileError('hel(+o'))}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PCRE semantics (PCRE2, not JavaScript)', () => {
  for (const [pattern, flags, subject, from, expected] of SEMANTICS) {
    it(`/${pattern}/${flags} on ${JSON.stringify(subject)} from ${from}`, () => {
      assert.deepEqual(find(pattern, flags, subject, from), expected);
    });
  }

  it('agrees with PCRE2 on these cases', (t) => {
    const oracle = openOracle();
    if (!oracle) return t.skip('python3 with libpcre2-8 not available');
    const results = oracle.run(SEMANTICS.map(([pattern, flags, subject, from]) => ({ pattern, flags, subject: bytes(subject), from })));
    SEMANTICS.forEach(([pattern, flags, , , expected], i) => {
      const r = results[i]!;
      assert.ok('rc' in r, `/${pattern}/${flags} did not compile in PCRE2`);
      assert.deepEqual(r.rc > 0 ? [r.start, r.end] : null, expected, `/${pattern}/${flags}`);
    });
  });

  it('supports PCRE2_ANCHORED at match time', () => {
    const p = compilePcre('b', '');
    assert.equal(p.exec(bytes('ab'), 0, { anchored: true }), null);
    assert.deepEqual(p.exec(bytes('ab'), 1, { anchored: true }), { start: 1, end: 2 });
    assert.equal(compilePcre('b', 'A').exec(bytes('ab'), 0), null);
  });

  it('ignores callouts, as ClamAV installs no callout function', () => {
    assert.deepEqual(find('a(?C1)b(?C"x")c', '', 'xabc'), [1, 4]);
  });

  it('stops at the first NUL of the pattern, as ClamAV passes a C string', () => {
    assert.deepEqual(find('ab\0c', '', 'xab'), [1, 3]);
  });

  it('finds the leftmost match when it skips ahead to the required literal', () => {
    // Bounded patterns skip the starting positions too far before the literal's next
    // occurrence; the matches must stay the leftmost ones. For these simple patterns
    // JavaScript's RegExp agrees with PCRE2, so it gives the expected positions.
    const filler = 'QWERTY'.repeat(50_000);
    const subject = `ab.exe ${filler} XY.exe ${filler}_ABC.exe ABC_.exe 1A.jar 12B3C.jar`;
    const patterns = [
      '[A-Z]{3}\\.exe', // ABC.exe, far after the first ".exe"
      '[A-Z]{2,3}_?\\.exe', // XY.exe
      '[A-Z]{3}_\\.exe', // starts exactly as far before the literal as the pattern reaches
      '(?:[0-9]{1,2}[A-Z]){2}\\.jar',
      '(?:ab|[A-Z]{4})\\.exe', // alternatives: not skipped
    ];
    for (const pattern of patterns) {
      const expected = new RegExp(pattern).exec(subject);
      assert.ok(expected, pattern);
      assert.deepEqual(find(pattern, '', subject), [expected.index, expected.index + expected[0].length], pattern);
    }
    // Unbounded: not skipped (and on the long subject PCRE2 would hit the match limit).
    assert.deepEqual(find('[A-Z]+Y\\.exe', '', 'ab.exe QWERTY XY.exe'), [14, 20]);
  });

  it('does not keep the searched data alive after the search', async () => {
    // A compiled program lives as long as the engine; the scanned objects must not.
    const gc = runInNewContext('gc') as () => void;
    const program = compilePcre('needle', '');
    let subject: Uint8Array | undefined = bytes('hay needle hay');
    const alive = new WeakRef(subject);
    assert.deepEqual(program.exec(subject, 0), { start: 4, end: 10 });
    assert.equal(program.exec(subject, 5), null);
    subject = undefined;
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(alive.deref(), undefined);
  });
});

describe('PCRE limits', () => {
  const gap = (n: number) => {
    const d = new Uint8Array(n + 4).fill(0x78);
    d.set(bytes('aaa'), 0);
    d[n + 3] = 0x58;
    return d;
  };
  const iterations = (n: number) => {
    const d = new Uint8Array(3 + 2 * n + 1).fill(0x61);
    d.set(bytes('bbb'), 0);
    d[d.length - 1] = 0x58;
    return d;
  };

  it('defaults to libclamav\'s limits', () => {
    assert.deepEqual(PCRE_DEFAULT_LIMITS, { matchLimit: 100000, recursionLimit: 2000 });
  });

  it('gives up at the match limit exactly where ClamAV does', () => {
    // clamscan finds /aaa.*?X/s across 99997 bytes and gives up ("match limit exceeded") at 99998.
    const p = compilePcre('aaa.*?X', 's');
    assert.deepEqual(p.search(gap(99997), 0), { status: 'match', start: 0, end: 100001 });
    assert.deepEqual(p.search(gap(99998), 0), { status: 'matchlimit' });
    assert.equal(p.exec(gap(99998), 0), null);
    const higher = compilePcre('aaa.*?X', 's', { matchLimit: 200000, recursionLimit: 2000 });
    assert.equal(higher.search(gap(99998), 0).status, 'match');
  });

  it('gives up at the depth limit exactly where ClamAV does', () => {
    // clamscan finds /bbb(?:aa)+X/ after 1998 repetitions and gives up at 1999.
    const p = compilePcre('bbb(?:aa)+X', '');
    assert.equal(p.search(iterations(1998), 0).status, 'match');
    assert.deepEqual(p.search(iterations(1999), 0), { status: 'depthlimit' });
  });

  it('matches clamscan at both thresholds', (t) => {
    const dir = clamscanDir(t);
    if (!dir) return;
    try {
      writeFileSync(join(dir, 'lim.ldb'), 'Test.Limit;Engine:81-255,Target:0;0&1;616161;0/aaa.*?X/s\n');
      writeFileSync(join(dir, 'dep.ldb'), 'Test.Depth;Engine:81-255,Target:0;0&1;626262;0/bbb(?:aa)+X/\n');
      const files: [string, Uint8Array, string, boolean][] = [
        ['g1.txt', gap(99997), 'lim.ldb', true],
        ['g2.txt', gap(99998), 'lim.ldb', false],
        ['d1.txt', iterations(1998), 'dep.ldb', true],
        ['d2.txt', iterations(1999), 'dep.ldb', false],
      ];
      for (const [file, data, db, found] of files) {
        writeFileSync(join(dir, file), data);
        const scan: { stdout: string } = spawnSync('clamscan', ['--no-summary', '-d', join(dir, db), join(dir, file)], {
          encoding: 'utf8',
        });
        assert.equal(scan.stdout.includes('FOUND'), found, `${file}: ${scan.stdout}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts per starting position, as PCRE2 does', () => {
    // 65000 + 60000 frames at two positions: neither position alone reaches 100000.
    const data = new Uint8Array(120010).fill(0x78);
    data.set(bytes('aaa'), 0);
    data.set(bytes('aaa'), 60003);
    data[data.length - 1] = 0x58;
    assert.equal(compilePcre('aaa[^X]{0,65000}?X', '').search(data, 0).status, 'match');
  });

  it('lets (*LIMIT_MATCH=n) only lower the limit', () => {
    assert.equal(compilePcre('(*LIMIT_MATCH=50)aaa.*?X', 's').search(gap(100), 0).status, 'matchlimit');
    assert.equal(compilePcre('(*LIMIT_MATCH=999999)aaa.*?X', 's').search(gap(99998), 0).status, 'matchlimit');
  });

  it('returns on a hostile pattern and input instead of hanging', () => {
    // Exponential backtracking: PCRE2 (and ClamAV) give up at the match limit.
    const data = bytes(`${'a'.repeat(40)}b`);
    const start = performance.now();
    assert.equal(compilePcre('^(a+)+$', '').search(data, 0).status, 'matchlimit');
    assert.ok(performance.now() - start < 5000);
  });
});

function clamscanDir(t: { skip: (message: string) => void }): string | null {
  if (spawnSync('clamscan', ['--version']).status !== 0) {
    t.skip('clamscan not available');
    return null;
  }
  return mkdtempSync(join(tmpdir(), 'clamts-pcre-'));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
