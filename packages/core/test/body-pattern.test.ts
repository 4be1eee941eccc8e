import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BOUNDARY_LEFT,
  BOUNDARY_RIGHT_NEGATIVE,
  BOUNDARY_RIGHT,
  LINE_MARKER_LEFT,
  PLAIN_PART,
  SplitKind,
  SpecialKind,
  WORD_MARKER_RIGHT,
  applyModifiers,
  parseGap,
  splitPattern,
  type GenericAlternative,
} from '../src/signatures/body-pattern.js';
import { ANY_BYTE, byteElement, byteMatches } from '../src/signatures/pattern-elements.js';
import { ClamError } from '../src/errors.js';
import { BodySignatureBuilder } from '../src/matching/body-signature-builder.js';
import { SignatureError } from '../src/matching/signature-error.js';
import { binarySample, buildDetector, hasClamscan, runClamscan, scanNames, signatureContext } from './fixtures/body/clamscan-oracle.js';
import { CaptureLogger } from './support/capture-logger.js';
import { parseTestPart, wideElementsOf } from './support/parsed-part.js';

/** The messages ClamAV prints for a refused pattern (without the loader's final lines). */
function refusal(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof SignatureError, String(error));
    return error.messages.map((m) => m.text);
  }
  assert.fail('expected a refusal');
}

describe('body pattern elements', () => {
  it('decodes bytes, ?? and nibble wildcards', () => {
    const elements = wideElementsOf(parseTestPart('41??4??2', PLAIN_PART));
    assert.deepEqual(elements, [byteElement(0x41), ANY_BYTE, byteElement(0x40, 0xf0), byteElement(0x02, 0x0f)]);
    assert.ok(byteMatches(elements[2]!, 0x4f));
    assert.ok(!byteMatches(elements[2]!, 0x5f));
    assert.ok(byteMatches(elements[3]!, 0xf2));
    assert.ok(!byteMatches(elements[3]!, 0xf3));
  });

  it('folds case only for ASCII letters with nocase', () => {
    const elements = wideElementsOf(parseTestPart('4162c9', { nocase: true, wide: false, modified: true }));
    assert.ok(byteMatches(elements[0]!, 0x61));
    assert.ok(byteMatches(elements[1]!, 0x42));
    assert.ok(byteMatches(elements[2]!, 0xc9));
    assert.ok(!byteMatches(elements[2]!, 0xe9));
  });

  it('classifies alternatives like ClamAV', () => {
    const single = parseTestPart('41(42|43)44', PLAIN_PART).specials[0]!;
    assert.equal(single.kind, SpecialKind.AltByte);
    const fixed = parseTestPart('41!(4243|4445)46', PLAIN_PART).specials[0]!;
    assert.equal(fixed.kind, SpecialKind.AltFixed);
    assert.equal(fixed.negative, true);
    const generic = parseTestPart('41(42|4343)44', PLAIN_PART).specials[0]!;
    assert.equal(generic.kind, SpecialKind.AltGeneric);
    // Any modifier makes even fixed-length alternatives generic.
    const modified = parseTestPart('41(42|43)44', { nocase: true, wide: false, modified: true }).specials[0]!;
    assert.equal(modified.kind, SpecialKind.AltGeneric);
  });

  it('expands nested generic alternatives depth-first and marks prefixes as not unique', () => {
    const special = parseTestPart('41(42(43|44)|45|4545)46', PLAIN_PART).specials[0]!;
    assert.equal(special.kind, SpecialKind.AltGeneric);
    const alternatives = (special as { alternatives: readonly GenericAlternative[] }).alternatives;
    const hex = alternatives.map((a) => [...a.elements].map((e) => (e & 0xff).toString(16)).join(''));
    assert.deepEqual(hex, ['4243', '4244', '45', '4545']);
    assert.deepEqual(
      alternatives.map((a) => a.unique),
      [true, true, false, false],
    );
  });

  it('turns (B), (L), (W) at the ends into boundary conditions and keeps them inside as specials', () => {
    assert.equal(parseTestPart('(B)4142(B)', PLAIN_PART).boundary, BOUNDARY_LEFT | BOUNDARY_RIGHT);
    assert.equal(parseTestPart('(L)4142!(B)', PLAIN_PART).boundary, LINE_MARKER_LEFT | BOUNDARY_RIGHT | BOUNDARY_RIGHT_NEGATIVE);
    assert.equal(parseTestPart('4142(W)', PLAIN_PART).boundary, WORD_MARKER_RIGHT);
    // A negated class at the very start is not at index 0 of the text: ClamAV keeps it inside.
    const inside = parseTestPart('!(B)4142', PLAIN_PART);
    assert.equal(inside.boundary, 0);
    assert.equal(inside.specials[0]!.kind, SpecialKind.Boundary);
    assert.equal(inside.specials[0]!.negative, true);
  });

  it('reads single-byte anchors on either side, ignoring a ?? anchor', () => {
    const left = parseTestPart('41[2-4]424344', PLAIN_PART);
    assert.deepEqual(left.left, { element: byteElement(0x41), min: 2, max: 4 });
    assert.equal(left.length, 3);
    const right = parseTestPart('424344[0-1]45', PLAIN_PART);
    assert.deepEqual(right.right, { element: byteElement(0x45), min: 0, max: 1 });
    assert.equal(parseTestPart('??[1-2]424344', PLAIN_PART).left, null);
  });
});

describe('splitting patterns into parts', () => {
  it('expands {n} below 128 into ?? and splits at ranges and *', () => {
    const expanded = splitPattern('4142{3}4344');
    assert.equal(expanded.kind, SplitKind.Single);
    assert.equal(expanded.parts[0]!.hex, '4142??????4344');
    const ranged = splitPattern('4142{2-5}4344*4546');
    assert.equal(ranged.kind, SplitKind.Ranged);
    assert.deepEqual(
      ranged.parts.map((p) => [p.hex, p.gap]),
      [
        ['4142', null],
        ['4344', '2-5'],
        ['4546', '*'],
      ],
    );
  });

  it('expands each {n} from the left until a brace that is not one, as ClamAV does one at a time', () => {
    const parts = (hex: string) => splitPattern(hex).parts.map((p) => [p.hex, p.gap]);
    assert.deepEqual(parts('41{1}42{127}43'), [[`41??42${'??'.repeat(127)}43`, null]]);
    assert.deepEqual(parts('41{2}42{128}43{3}44'), [
      ['41????42', null],
      ['43', '128'],
      ['44', '3'],
    ]);
    assert.deepEqual(parts('41{0}42'), [
      ['41', null],
      ['42', '0'],
    ]);
    assert.deepEqual(parts('41{2-3}42{4}43*44'), [
      ['41', null],
      ['42', '2-3'],
      ['43', '4'],
      ['44', '*'],
    ]);
    assert.deepEqual(parts('41{5}42*43'), [
      ['41??????????42', null],
      ['43', '*'],
    ]);
  });

  it('reads a gap count like sscanf("%zu"): blanks, a sign, 64 bits, negated modulo 2^64', () => {
    const parts = (hex: string) => splitPattern(hex).parts.map((p) => [p.hex, p.gap]);
    assert.deepEqual(parts('41{ +3}42'), [['41??????42', null]]);
    assert.deepEqual(parts('41{0000000000000000000002}42'), [['41????42', null]]);
    assert.deepEqual(parts('41{-18446744073709551615}42'), [['41??42', null]]);
    assert.deepEqual(parts('41{-18446744073709551489}42'), [[`41${'??'.repeat(127)}42`, null]]);
    for (const count of ['4294967297', '-5', '-0', '-18446744073709551488', '18446744073709551617', '9007199254740993']) {
      assert.deepEqual(parts(`41{${count}}42`), [
        ['41', null],
        ['42', count],
      ]);
    }
  });

  it('extracts starred parts like cli_strtok (adjacent * merge)', () => {
    const split = splitPattern('4142**4344');
    assert.equal(split.kind, SplitKind.Starred);
    assert.deepEqual(
      split.parts.map((p) => p.hex),
      ['4142', '4344', null],
    );
  });

  it('parses gaps: n, n-, -m, n-m, and the empty forms as unbounded', () => {
    assert.deepEqual(parseGap('3'), { min: 3, max: 3 });
    assert.deepEqual(parseGap('3-'), { min: 3, max: 0 });
    assert.deepEqual(parseGap('-7'), { min: 0, max: 7 });
    assert.deepEqual(parseGap('2-9'), { min: 2, max: 9 });
    assert.deepEqual(parseGap(''), { min: 0, max: 0 });
    assert.deepEqual(parseGap('-'), { min: 0, max: 0 });
    assert.throws(() => parseGap('1-2-3'), SignatureError);
    assert.throws(() => parseGap('x'), SignatureError);
  });
});

describe('subsignature modifiers', () => {
  const all = { nocase: false, fullword: false, wide: false, ascii: false };
  it('widens hex bytes but not wildcard ranges', () => {
    const [wide] = applyModifiers('4142{2-3}??(43|44)', { ...all, wide: true }, 'T');
    assert.equal(wide!.hex, '41004200{2-3}??00(4300|4400)');
    assert.equal(wide!.options.wide, true);
  });

  it('widens like cli_sigopts_handler around markers, anchors, gaps and a lone last digit', () => {
    const widened = (hex: string) => applyModifiers(hex, { ...all, wide: true }, 'T')[0]!.hex;
    assert.equal(widened('414'), '41004');
    assert.equal(widened('4?a???'), '4?00a?00??00');
    assert.equal(widened('41!(B)42'), '4100!(B)4200');
    assert.equal(widened('41[1-2]42'), '4100{1-2}4200');
    assert.equal(widened('ab(W)cd(L)'), 'ab00(W)cd00(L)');
    assert.equal(widened('41{5'), '4100{5}');
    assert.equal(widened('(41|42)*4344'), '(4100|4200)*43004400');
    assert.throws(() => widened('41(4'), SignatureError);
    // Longer than the first output buffer.
    assert.equal(widened('41'.repeat(2000)), '4100'.repeat(2000));
  });

  it('wraps fullword patterns in (W) markers and turns [x-y] into {x-y}', () => {
    const [word] = applyModifiers('41[1-2]4243', { ...all, fullword: true }, 'T');
    assert.equal(word!.hex, '(W)41{1-2}4243(W)');
  });

  it('yields the wide then the ASCII variant for ::wa', () => {
    assert.deepEqual(
      applyModifiers('4142', { ...all, wide: true, ascii: true }, 'T').map((v) => v.hex),
      ['41004200', '4142'],
    );
  });
});

describe('refused patterns', () => {
  // Each case was checked with clamscan 1.4.6 (re-checked below when clamscan is installed).
  const cases: [string, string[]][] = [
    ['A:0:*:68656c6c6', ['cli_mpool_hex2str(): Malformed hexstring: 68656c6c6 (length: 9)']],
    [
      'A:0:*:6865(6c|6d',
      ['cli_ac_addsig: Missing closing parenthesis', 'cli_add_content_match_pattern: Problem adding signature (3).'],
    ],
    ['A:0:*:6865()6c', ['cli_ac_addsig: Empty block', 'cli_add_content_match_pattern: Problem adding signature (3).']],
    ['A:0:*:68', ['cli_bm_addpatt: Signature for A.UNOFFICIAL is too short', 'cli_add_content_match_pattern: Problem adding signature (4).']],
    [
      'A:0:*:41424344{2-3}45',
      [
        'cli_ac_addsig: Signature for A is too short',
        'cli_add_content_match_pattern: Problem adding signature (1).',
        'cli_add_content_match_pattern: Problem adding signature (1b).',
      ],
    ],
    ['A:0:*:4142{2-x}4344', ['cli_add_content_match_pattern: Problem adding signature (1b).']],
    // A gap count is read as a 64-bit size: 2^32 + 1 is no small gap (nor is -5), 2^64 + 1 no gap at all.
    [
      'A:0:*:414243{4294967297}44',
      [
        'cli_ac_addsig: Signature for A is too short',
        'cli_add_content_match_pattern: Problem adding signature (1).',
        'cli_add_content_match_pattern: Problem adding signature (1b).',
      ],
    ],
    [
      'A:0:*:414243{-5}44',
      [
        'cli_ac_addsig: Signature for A is too short',
        'cli_add_content_match_pattern: Problem adding signature (1).',
        'cli_add_content_match_pattern: Problem adding signature (1b).',
      ],
    ],
    ['A:0:*:414243{18446744073709551617}44', ['cli_add_content_match_pattern: Problem adding signature (1b).']],
    // An anchored gap's bounds are read as 32-bit unsigned: 2^64 + 1 saturates, past the limit.
    ['A:0:*:41[18446744073709551617]42434445', ['cli_add_content_match_pattern: Problem adding signature (3).']],
    ['A:0:*:41(42|43*44)45', ['cli_add_content_match_pattern: Alternative match cannot contain unbounded wildcards']],
    ['A:0:*:41(42|43{1-2}44)45', ['cli_add_content_match_pattern: Alternative match contains unsupported ranged wildcard']],
    [
      'A:0:*:4142!(43|4444)',
      [
        "ac_special_altstr: Can't apply negation operation to generic alternate strings",
        'cli_add_content_match_pattern: Problem adding signature (3).',
      ],
    ],
    [
      'A:0:*:????41',
      [
        'cli_ac_addsig: Can\'t find a static subpattern of length 2',
        'cli_add_content_match_pattern: Problem adding signature (3).',
      ],
    ],
    ['A:0:EP+0:41424344', ['cli_caloff: Invalid offset type for target 0', "cli_bm_addpatt: Can't calculate offset for signature A.UNOFFICIAL", 'cli_add_content_match_pattern: Problem adding signature (4).']],
    [':0:*:41??4344', ['cli_mpool_virname: Empty virus name', 'cli_add_content_match_pattern: Problem adding signature (3).']],
  ];

  for (const [line, messages] of cases) {
    it(`refuses ${line}`, () => {
      const logger = refusalLog(line);
      assert.deepEqual(logger.slice(0, -1), messages);
      assert.equal(logger.at(-1), 'Problem parsing database at line 1');
    });
  }

  it('matches clamscan on every refusal above', { skip: !hasClamscan }, () => {
    for (const [line] of cases) {
      const oracle = runClamscan([{ name: 't.ndb', lines: [line] }], new Map());
      const clam = oracle.errors.filter((l) => l.startsWith('LibClamAV Error: ')).map((l) => l.slice(17));
      assert.deepEqual(refusalLog(line), clam.slice(0, -1), line);
    }
  });

  it('refuses through SignatureError with the inner message first', () => {
    assert.deepEqual(refusal(() => parseTestPart('41(42', PLAIN_PART)), ['cli_ac_addsig: Missing closing parenthesis']);
  });
});

describe("patterns ClamAV's q-gram prefilter cannot use", () => {
  // Generic-target patterns that reach ClamAV's filter_add_acpatt (checked with clamscan 1.4.6).
  const cases: [string, string][] = [
    ['A:0:*:????(41|4243)4445', 'filter rejecting A due to very bad score: -2147483647'],
    ['A:0:*:(41|4243)44', 'Subpattern too short: A'],
    ['A:0:*:44(41|4243)4546', "Don't know how to create filter for: A"],
    ['A:0:*:4?(41|4243)4546', "Don't know how to create filter for: A"],
  ];
  const messages = (line: string) => {
    const logger = new CaptureLogger();
    assert.throws(() => new BodySignatureBuilder().addNdb(line, signatureContext('t.ndb', 1, logger)), ClamError);
    return [...logger.warnings.map((w) => `Warning: ${w}`), ...logger.errors.map((e) => `Error: ${e}`)];
  };

  for (const [line, why] of cases) {
    it(`refuses ${line}`, () => {
      assert.deepEqual(messages(line), [
        `Warning: ${why}`,
        'Warning: cli_ac_addsig: cannot use filter for trie',
        'Error: cli_add_content_match_pattern: Problem adding signature (3).',
        'Error: Problem parsing database at line 1',
      ]);
    });
  }

  it('accepts a pattern with one usable pair among wildcards', () => {
    for (const line of ['A:0:*:????(41|42)4344', 'A:0:*:(41|4243)4445', 'A:0:*:41??(42|43)4445']) {
      new BodySignatureBuilder().addNdb(line, signatureContext('t.ndb', 1, new CaptureLogger()));
    }
  });

  it('says what clamscan says for each', { skip: !hasClamscan }, () => {
    for (const [line] of cases) {
      const oracle = runClamscan([{ name: 't.ndb', lines: [line] }], new Map());
      const clam = oracle.errors.filter((l) => l.startsWith('LibClamAV ')).map((l) => l.slice('LibClamAV '.length));
      assert.deepEqual(messages(line), clam.slice(0, -1), line);
    }
  });
});

/** The error lines ClamTS logs when loading a one-line .ndb database (ending with the loader's line). */
function refusalLog(line: string): string[] {
  const logger = new CaptureLogger();
  assert.throws(() => new BodySignatureBuilder().addNdb(line, signatureContext('t.ndb', 1, logger)), ClamError);
  return logger.errors;
}

describe('pattern semantics against clamscan', { skip: !hasClamscan }, () => {
  it('detects what clamscan detects for each wildcard form', () => {
    const lines = [
      'NIB:0:*:4?4?43444546',
      'ANY:0:*:4142??4445',
      'ALT:0:*:4142(43|44)(4546|4748)',
      'NEG:0:*:41!(42|43)4445',
      'GEN:0:*:4142(43|4343)44',
      'GAP:0:*:4142{2-3}4344',
      'STAR:0:*:4a4b*4c4d',
      'ANCH:0:*:61[1-3]62636465',
      'WB:0:*:(B)77686f6c65(B)',
      'LINE:0:*:(L)6c696e65(L)',
    ];
    const samples = new Map(
      Object.entries({
        a: binarySample('xxABCDEFxx'),
        b: binarySample('xxABDGHxxABxDExxABCEF'),
        c: binarySample('xxABCCCDx ABCCDx ABCDx'),
        d: binarySample('ABxxCD ABxCD ABxxxxCD JK........LM'),
        e: binarySample('axxbcde axbcde axxxxbcde'),
        f: binarySample('a whole word, wholesome, (whole)'),
        g: binarySample('line\r\nxline\nline'),
      }),
    );
    const db = [{ name: 's.ndb', lines }];
    const { detector } = buildDetector(db);
    for (const allMatch of [true, false]) {
      const oracle = runClamscan(db, samples, { allMatch });
      for (const [name, data] of samples) {
        assert.deepEqual(scanNames(detector, data, { allMatch }), oracle.detections.get(name), `${name} allMatch=${allMatch}`);
      }
    }
  });
});
