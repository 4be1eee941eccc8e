/**
 * Compiled AutoIt scripts (ClamAV's autoit.c): the EA05 and EA06 members, their ciphers and
 * compression, and the EA06 script decompiler. Compared with real clamscan (--debug
 * --leave-temps) on Debian's clam.ea05.exe and clam.ea06.exe and on files built here: the same
 * files extracted, byte for byte and in the same order, and the same autoit debug lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { autoitHandler, autoitMembers, FILE_LIMIT_CHECK } from '../src/formats/autoit.js';
import { lameDecrypt, mtDecrypt } from '../src/formats/autoit/ciphers.js';
import { FUNCTIONS, KEYWORDS } from '../src/formats/autoit/tokens.js';
import { formatG } from '../src/util/c-numbers.js';
import {
  AUTOIT_MAGIC,
  type AutoitMember,
  autoitExecutable,
  autoitPayload,
  type AutoitVersion,
  compress,
  encodeLzss,
  lzssOps,
  member,
  type ScriptToken,
  scriptTokens,
} from './fixtures/executables/autoit-builder.js';
import { fuzz, md5, needsClamscan, prose, recordingContext, testfile, needsTestfiles } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

/** md5 of Debian's clam.exe, which both test files carry as a FileInstall'ed member. */
const CLAM_EXE_MD5 = 'aa15bcf478d165efd2065190eb473bcb';

interface Extraction {
  readonly files: string[];
  readonly lines: string[];
}

/** What ClamTS extracts from a file with an AutoIt payload (found by its magic), and its debug lines. */
function clamts(file: Uint8Array, maxObjectSize = 64 * 1024 * 1024): Extraction & { heuristics: string[] } {
  const at = Buffer.from(file.buffer, file.byteOffset, file.length).indexOf(AUTOIT_MAGIC);
  assert.ok(at >= 0, 'the sample carries the AutoIt magic');
  const ctx = recordingContext(maxObjectSize);
  const files = [...autoitMembers(file.subarray(at), ctx)].filter((object) => object !== FILE_LIMIT_CHECK).map((object) => md5(object.data));
  return { files, lines: ctx.debugLines.filter((line) => line.startsWith('autoit: ')), heuristics: ctx.heuristics.map((h) => h.name) };
}

const EXTRACTED_TO = /^autoit: (file|script) extracted to (\/\S+)$/;

/** What real clamscan extracts from the file (and its autoit debug lines, without temporary paths). */
function clamav(file: Uint8Array, options: string[] = []): Extraction {
  const dir = tempDir('clamts-autoit-oracle-');
  const target = dir.write('sample.exe', file);
  const db = dir.write('none.hdb', '00000000000000000000000000000000:1:ClamTS.Oracle.Placeholder\n');
  const temps = join(dir.root, 'temps');
  spawnSync('mkdir', [temps]);
  const run = spawnSync('clamscan', ['--debug', '--leave-temps', `--tempdir=${temps}`, '--no-summary', ...options, '-d', db, target], { encoding: 'latin1' });
  const files: string[] = [];
  const lines: string[] = [];
  for (const raw of run.stderr.split('\n')) {
    if (!raw.startsWith('LibClamAV debug: autoit: ')) continue;
    const line = raw.slice('LibClamAV debug: '.length);
    if (line.startsWith('autoit: Extracting files to')) continue;
    const extracted = EXTRACTED_TO.exec(line);
    if (extracted) {
      files.push(md5(readFileSync(extracted[2]!)));
      lines.push(`autoit: ${extracted[1]} successfully extracted`);
    } else {
      lines.push(line);
    }
  }
  return { files, lines };
}

function assertSameAsClamAV(file: Uint8Array, label: string): Extraction {
  const ours = clamts(file);
  const theirs = clamav(file);
  assert.deepEqual(ours.lines, theirs.lines, `${label}: the same debug lines`);
  assert.deepEqual(ours.files, theirs.files, `${label}: the same files, in order`);
  return ours;
}

const text = (words: string, repeat = 30) => Buffer.from(`${words} `.repeat(repeat), 'latin1');
const utf16 = (value: string) => Buffer.from(`\ufeff${value}`, 'utf16le');

/** A script using every token the decompiler knows. */
const EVERY_TOKEN: ScriptToken[] = [
  { keyword: 0 },
  { keyword: KEYWORDS.length - 1 },
  { function: 0 },
  { function: FUNCTIONS.length - 1 },
  { text: 0x33, value: 'variable' },
  { operator: 0x41 },
  { int32: 0xdeadbeef },
  { operator: 0x49 },
  { int32: -4 },
  'eol',
  { text: 0x30, value: 'construct' },
  { text: 0x31, value: 'command' },
  { text: 0x32, value: 'AutoItVersion' },
  { text: 0x34, value: 'UserFunc' },
  { operator: 0x47 },
  { text: 0x35, value: 'member' },
  { text: 0x36, value: 'Say:"Hi" ünïcode €' },
  { text: 0x37, value: 'include-once' },
  { text: 0x36, value: '' },
  { operator: 0x48 },
  'eol',
  { int64: 0x123456789abcdefn },
  { int64: -1n },
  ...[0, -0, 1, 0.1, -2.5, 123456.5, 1234565, 1e-5, 0.0001, 1e100, -1e-300, 5e-324, Infinity, -Infinity, NaN, 999999.5].map((double) => ({ double })),
  'eol',
  ...Array.from({ length: 0x58 - 0x40 + 1 }, (_, i) => ({ operator: 0x40 + i })),
  'eol',
];

/** A script: the line count, then the tokens. */
const script = (tokens: ScriptToken[], lines = tokens.filter((token) => token === 'eol').length) => scriptTokens(lines, tokens);
const scriptMember = (tokens: ScriptToken[], extra: Partial<AutoitMember> = {}): AutoitMember => ({ data: script(tokens), ...extra });
const fileMember = (data: Uint8Array, extra: Partial<AutoitMember> = {}): AutoitMember => ({ magic: 'C:\\dropped.exe', path: 'C:\\dropped.exe', data, ...extra });

const exe = (version: AutoitVersion, members: Array<AutoitMember | Uint8Array>, tail?: Uint8Array) => autoitExecutable(autoitPayload(version, members, tail));

describe('AutoIt: the key streams', () => {
  it('are their own inverse', () => {
    const data = Uint8Array.from(prose(1500));
    for (const cipher of [(bytes: Uint8Array) => mtDecrypt(bytes, 0x1234), (bytes: Uint8Array) => lameDecrypt(bytes, 0x2477)]) {
      const copy = Uint8Array.from(data);
      cipher(copy);
      assert.notDeepEqual(copy, data, 'the data is changed');
      cipher(copy);
      assert.deepEqual(copy, data, 'and restored');
    }
  });
});

describe('AutoIt: printf("%g")', () => {
  it('formats like glibc, ties to even', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '-0'],
      [123456.5, '123456'],
      [1234565, '1.23456e+06'],
      [1234575, '1.23458e+06'],
      [999999.5, '1e+06'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1e100, '1e+100'],
      [5e-324, '4.94066e-324'],
      [-Infinity, '-inf'],
      [3.14159265, '3.14159'],
    ];
    for (const [value, expected] of cases) assert.equal(formatG(value), expected, `%g of ${value}`);
  });
});

describe('AutoIt: Debian test files against clamscan', { ...needsTestfiles, ...needsClamscan }, () => {
  for (const [name, script] of [
    ['clam.ea05.exe', '144d97bc59d6944c6cf31e3fca78f432'],
    ['clam.ea06.exe', '8903cae272bf36a778c2f361ba282d42'],
  ] as const) {
    it(`extracts ${name} as clamscan does`, () => {
      const ours = assertSameAsClamAV(testfile(name), name);
      assert.deepEqual(ours.files, [script, CLAM_EXE_MD5], `${name}: the script, then clam.exe`);
    });
  }
});

describe('AutoIt: built EA05 payloads against clamscan', needsClamscan, () => {
  const samples: Record<string, Uint8Array> = {
    'compressed and stored members': exe('EA05', [
      { data: utf16(text('MsgBox(0, "hello", "world")').toString('latin1')) },
      fileMember(text('stored plainly'), { compressed: false }),
      fileMember(prose(70000)),
    ]),
    'long matches and an empty member': exe('EA05', [fileMember(Buffer.alloc(5000, 0x41)), fileMember(Buffer.alloc(0)), fileMember(text('after the empty one'))]),
    'a magic string too long to print': exe('EA05', [fileMember(text('x'), { magic: 'M'.repeat(400), path: 'P'.repeat(310) })]),
    'a compressed member too small': exe('EA05', [fileMember(text('first')), fileMember(text('x'), { stored: Buffer.from('EA'), compressionFlag: 1 })]),
    'a bad compression magic': exe('EA05', [fileMember(text('bad magic'), { stored: Buffer.from('EA07\0\0\0\x10garbage garbage') }), fileMember(text('next'))]),
    'a declared size of 0': exe('EA05', [fileMember(text('zero'), { stored: encodeLzss('EA05', lzssOps(text('zero size declared')), 0) })]),
    'a distance past the output': exe('EA05', [fileMember(text('d'), { stored: encodeLzss('EA05', [{ literal: 65 }, { literal: 66 }, { literal: 67 }, { literal: 68 }, { literal: 69 }, { distance: 9, length: 4 }], 100) })]),
    'a stream that ends early': exe('EA05', [fileMember(text('e'), { stored: compress('EA05', prose(3000)).subarray(0, 500) })]),
    'a too short result': exe('EA05', [fileMember(Buffer.from('abc')), fileMember(text('then this'))]),
    'a bad file size': exe('EA05', [fileMember(text('neg'), { rawCompressedSize: 0x80000000 ^ 0x45aa })]),
    'a wrong member magic': exe('EA05', [fileMember(text('first')), fileMember(text('second'), { fileMagic: 0x12345678 })]),
    'a negative string length': exe('EA05', [fileMember(text('first'), { rawPathLength: 0x90000000 })]),
    'a member cut by the end': exe('EA05', [fileMember(text('whole')), member('EA05', fileMember(prose(4000))).subarray(0, 2000)], Buffer.alloc(0)),
  };
  for (const [label, file] of Object.entries(samples)) it(label, () => void assertSameAsClamAV(file, label));

  it('copies nothing for a distance of 0 (ClamAV copies uninitialised memory there)', () => {
    const copyOfNothing = encodeLzss('EA05', [...[65, 66, 67, 68, 69].map((literal) => ({ literal })), { distance: 0, length: 6 }, { literal: 70 }], 12);
    const file = exe('EA05', [fileMember(text('z'), { stored: copyOfNothing })]);
    const ours = clamts(file);
    assert.deepEqual(ours.lines, clamav(file).lines, 'the same debug lines');
    assert.deepEqual(ours.files, [md5(Buffer.from('ABCDE\0\0\0\0\0\0F', 'latin1'))], 'zeros where ClamAV has what its buffer held');
  });
});

describe('AutoIt: built EA06 payloads against clamscan', needsClamscan, () => {
  const samples: Record<string, Uint8Array> = {
    'every token': exe('EA06', [scriptMember(EVERY_TOKEN), fileMember(text('dropped file'))]),
    'an uncompressed script': exe('EA06', [scriptMember(EVERY_TOKEN, { compressed: false })]),
    'a script that looks like HTML': exe('EA06', [scriptMember([{ text: 0x36, value: '<html><body><script>document.write("x")</script></body></html>' }, 'eol'])]),
    'strings that are not UTF-16': exe('EA06', [
      scriptMember([
        { text: 0x36, value: '', bytes: Buffer.from('plain bytes, no zeros here'), characters: 13 },
        { text: 0x36, value: '', bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('marked', 'utf16le')]), characters: 7 },
        'eol',
      ]),
    ]),
    'fewer lines than ends of line': exe('EA06', [{ data: scriptTokens(1, [{ function: 5 }, 'eol', { function: 6 }, 'eol']) }]),
    'no lines': exe('EA06', [{ data: scriptTokens(0, [{ function: 5 }, 'eol']) }, fileMember(text('after'))]),
    'an unknown op': exe('EA06', [scriptMember([{ function: 5 }, { raw: Buffer.from([0x99]) }, { function: 6 }, 'eol'])]),
    'a keyword ID out of range': exe('EA06', [scriptMember([{ function: 1 }, { keyword: KEYWORDS.length }, 'eol'])]),
    'a function ID out of range': exe('EA06', [scriptMember([{ keyword: 3 }, { function: FUNCTIONS.length }, 'eol'])]),
    'an int at the end': exe('EA06', [{ data: Buffer.concat([scriptTokens(2, [{ keyword: 4 }, 'eol']), Buffer.from([0x05, 1, 2, 3, 4])]) }]),
    'an int64 at the end': exe('EA06', [{ data: Buffer.concat([scriptTokens(2, [{ keyword: 4 }, 'eol']), Buffer.from([0x10, 1, 2, 3, 4, 5, 6, 7, 8])]) }]),
    'a double at the end': exe('EA06', [{ data: Buffer.concat([scriptTokens(2, [{ keyword: 4 }, 'eol']), Buffer.from([0x20, 1, 2, 3, 4, 5, 6, 7])]) }]),
    'a keyword at the end': exe('EA06', [{ data: Buffer.concat([scriptTokens(2, [{ keyword: 4 }, 'eol']), Buffer.from([0x00, 1, 0, 0, 0])]) }]),
    'a string too long': exe('EA06', [scriptMember([{ keyword: 4 }, { text: 0x36, value: 'short', characters: 500 }, 'eol'])]),
    'a string length that wraps': exe('EA06', [scriptMember([{ keyword: 4 }, { text: 0x36, value: 'wrap', characters: 0x80000002 }, 'eol', 'eol'])]),
    'a size field at the end': exe('EA06', [{ data: Buffer.concat([scriptTokens(2, [{ keyword: 4 }, 'eol']), Buffer.from([0x33, 1, 0, 0])]) }]),
    'a file, not a script': exe('EA06', [fileMember(script(EVERY_TOKEN)), fileMember(text('stored'), { compressed: false })]),
    'a magic string too long to print': exe('EA06', [fileMember(text('x'), { magic: 'M'.repeat(320), path: 'P'.repeat(301) })]),
    'an empty magic string': exe('EA06', [fileMember(text('x'), { magic: '' })]),
    'a magic string length that wraps': exe('EA06', [fileMember(text('x'), { rawMagicLength: 0x80000001 ^ 0xadbc }), fileMember(text('y'))]),
    'a stream that ends early': exe('EA06', [scriptMember(EVERY_TOKEN, { stored: compress('EA06', script(EVERY_TOKEN)).subarray(0, 100) })]),
    'a wrong member magic': exe('EA06', [fileMember(text('first')), fileMember(text('second'), { fileMagic: 0x52ca436c })]),
    'a compressed member too small': exe('EA06', [fileMember(text('x'), { stored: Buffer.from('EA0'), compressionFlag: 1 }), fileMember(text('next'))]),
    'a member cut by the end': exe('EA06', [fileMember(text('whole')), member('EA06', scriptMember(EVERY_TOKEN)).subarray(0, 150)], Buffer.alloc(0)),
  };
  for (const [label, file] of Object.entries(samples)) it(label, () => void assertSameAsClamAV(file, label));

  it('cuts every few bytes of a payload as clamscan does', () => {
    const payload = autoitPayload('EA06', [scriptMember(EVERY_TOKEN), fileMember(prose(300))], Buffer.alloc(0));
    const full = autoitExecutable(payload);
    const start = full.length - payload.length;
    for (let cut = start + 20; cut < full.length; cut += 97) assertSameAsClamAV(full.subarray(0, cut), `cut at ${cut - start}`);
  });
});

describe('AutoIt: limits', () => {
  it('skips a member whose compressed size is past the budget, and reads on', () => {
    const file = exe('EA05', [fileMember(prose(9000), { compressed: false }), fileMember(text('small'))]);
    const ours = clamts(file, 5000);
    assert.deepEqual(ours.files, [md5(text('small'))], 'only the small member');
    assert.deepEqual(ours.heuristics, ['Heuristics.Limits.Exceeded.MaxFileSize'], 'the limit is reported');
  });

  it('skips a member whose uncompressed size is past the budget', () => {
    const file = exe('EA06', [fileMember(Buffer.alloc(20000, 0x61)), fileMember(text('small'))]);
    const ours = clamts(file, 10000);
    assert.deepEqual(ours.files, [md5(text('small'))], 'only the small member');
  });

  it('matches clamscan --max-filesize', needsClamscan, () => {
    const file = exe('EA05', [fileMember(Buffer.alloc(50000, 0x61)), fileMember(prose(9000), { compressed: false }), fileMember(text('small'))]);
    const theirs = clamav(file, ['--max-filesize=20000']);
    const ours = clamts(file, 20000);
    assert.deepEqual(ours.files, theirs.files, 'the same files');
    assert.equal(ours.files.length, 2, 'all but the big one');
  });
});

describe('AutoIt: hostile input', () => {
  it('survives mutations', () => {
    const samples = [
      autoitPayload('EA05', [{ data: utf16('MsgBox') }, fileMember(prose(500))]),
      autoitPayload('EA06', [scriptMember(EVERY_TOKEN), fileMember(prose(500), { compressed: false })]),
    ];
    fuzz(autoitHandler, samples, { seed: 0xa17 });
  });

  it('does not trust a declared size', () => {
    const huge = autoitPayload('EA06', [fileMember(text('x'), { stored: encodeLzss('EA06', [{ literal: 65 }], 0x7fffffff) })]);
    const started = performance.now();
    const objects = [...autoitHandler.extract(huge, recordingContext(1 << 30))].filter((object) => object !== FILE_LIMIT_CHECK);
    assert.equal(objects.length, 0, 'a one-byte result is too short to scan');
    assert.ok(performance.now() - started < 2000, 'no 2 GiB buffer is filled');
  });
});
