/**
 * Upack unpacking (cli_scanpe's Upack block and upack.c's unupack), compared with real clamscan
 * on clam-upack.exe, damaged copies of it, and built files of each layout ClamAV knows.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parsePeFile } from '../src/executables/pe-file.js';
import { unpackUpack } from '../src/executables/unpackers/upack.js';
import { Random } from './fixtures/body/random-signatures.js';
import { buildPe, type PeSectionSpec } from './fixtures/executables/pe-builder.js';
import { assertSameDecision, clamavUnpacking, decisionOf, haveClamscan, runStep, type StepDecision } from './fixtures/executables/unpack-oracle.js';
import { tempDir } from './support/temp-dir.js';

const CLAM_UPACK = '/usr/share/clamav-testfiles/clam-upack.exe';
const haveRealFile = existsSync(CLAM_UPACK);

/**
 * clam-upack.exe's packed stream (its file bytes 0x2ae to 0x5b0): Upack's LZMA with lc = 3 and
 * 0x1c00 probabilities, which decodes to the 0x406f-byte image with two marked call targets.
 */
const STREAM = Buffer.from(
  'NQAKfU0ZwLRMj7b9EHHoV6c/+3TB4t38fAURgP2TjQGufWjW++GO6OJHQ4KI+foiltyVqzGAe4joMRP2rHPzmJ8CZXprTyXOL5MU' +
    'rMQqLuWAbgCRORXj6CfOLSAKoprCaHs+0l5zYk9bF6kysTkYAp1vgt70a6s9EPP6QmSfQoMWLsltGa9HzX2LNMZl9hLR6Ems9tf9' +
    'HOsOXgDNefxVCsSRySVcC+OJ6bB0t3lMOfIPRbnTmKV25y/1w3cqJRoDCeibIfKli9pKFcZtllZ1aXY6vx5YrFzArcMCbHDYhMLq' +
    'Ldy2cKI8W85JCudaoPnNnIyAOLvWHjUS7fmoB+v1uzW+/dCcRBGmIWjGLp9vUcN3ezIUqEnoE2C4yCXjkurn2gc4D0s7Eg/SjneiU' +
    'xs5YUcn4eDwGSglsb3+wOOurKlxun6NLpbu2AEpWBzxcfeviYiiaQ3q5veXLgk/MN7BJsI+1JpGTA9xWGmSnXegLdsAQyorSxrQe/s' +
    'UOGVGkM4dgWDWFhmBrn4pdLnhycR/qRh4CJYZGvxk0uPYM8/p7D6fWyub0Mvsa4oVEW+YD3Jc/S8QpvSBLVYczxEovF6yqqbGtpxRz' +
    'T6dijIAlfvhbIxVlJoGEMVMaUmNZNPVBOH1RXkXsrBVJR8jKhj3rIJ0BptfqPzIP2edakydUdXzfkAdf1huDK4RtfBYxkFjftafdfx' +
    'SrMUU3b8Gwti0rk4xu6gQePb42cB8Ht63p45TXa4MxqidLceiD2lTK1lUXAzfGUuVSbCZMj0u/vURijJtjO3ZI0E6u5VWUI+I/xXP5' +
    'pETIijw+w9t71oiC6hJp+cTmPFwAZx0erKa0+PUShfEmQbQ9E/hQpnFhBxcfnzIbAfXuP/9HQjROBhU7iuTeBGuz+gL5GwvMJTwLEZ' +
    'PSXmOzdnn2m3XIVt8ly527y4G+rqGxJvnWUzWi3+QPC71vQXStkx7ra/Z0hDyaym3I1mNpRIy/dxKzhxkUYT/LQH+e6zy86mTF/cmd' +
    '6jkAAAAADPAQI0=',
  'base64',
);
/** The SHA-256 of the 17408-byte file clamscan rebuilds from clam-upack.exe. */
const REBUILT_SHA256 = 'c0940fd8ead71e940ccf37ac7cbce0e2cc445e8da11efc813e6c03e68cf88267';
const OUTPUT_SIZE = 0x406f;
const COUNT_BYTE = 0x1c;
/** The stream's literal shift (8 - lc), and the entry point clam-upack.exe's rebuilt file has. */
const SHIFT = 5;
const ORIGINAL_ENTRY = 0x20;

const BASE = 0x400000;
const u32 = (value: number) => [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Bytes to write at a file offset. */
type Patches = [at: number, bytes: readonly number[] | Uint8Array][];

/** A PE file with the given sections at image base BASE, its data directories cleared, then `patches`. */
function peFile(options: { peOffset: number; optionalHeaderSize: number; entryRva: number; sections: PeSectionSpec[]; size: number }, patches: Patches): Uint8Array {
  const { peOffset, optionalHeaderSize } = options;
  const file = buildPe(
    { ...options, dosMagic: 0x5a4d, peSignature: 0x4550, plus: false, sectionAlignment: 0x1000, fileAlignment: 0x200, headersSize: 0x200, directories: 16 },
    new Random(11),
  );
  new DataView(file.buffer, file.byteOffset).setUint32(peOffset + 24 + 28, BASE, true);
  file.fill(0, peOffset + 24 + 96, peOffset + 24 + optionalHeaderSize);
  for (const [at, bytes] of patches) file.set(bytes, at);
  return file;
}

// ---------------------------------------------------------------------------------------------
// Synthetic Upack files of each layout, with clam-upack.exe's stream and parameters, so that each
// unpacks the same image.

/** Where things go in the image ClamAV unpacks in (`dest`), with the stream and where it decodes to. */
interface Layout {
  readonly stream: Uint8Array;
  /** The byte marking call targets, and how many there are. */
  readonly marker: number;
  readonly calls: number;
  readonly countByte: number;
  readonly shift: number;
}

const DEFAULT_LAYOUT: Layout = { stream: STREAM, marker: 0, calls: 2, countByte: COUNT_BYTE, shift: SHIFT };

/** The three-section layouts' sections: the file's first 0x600 bytes land at the image's start. */
const THREE_SECTIONS: PeSectionSpec[] = [
  { virtualAddress: 0x1000, virtualSize: 0x8000, rawOffset: 0x400, rawSize: 0x200 },
  { virtualAddress: 0x9000, virtualSize: 0x9000, rawOffset: 0x600, rawSize: 0xc00 },
  { virtualAddress: 0x12000, virtualSize: 0x1000, rawOffset: 0x400, rawSize: 0x200 },
];
/** Offset in the image (from the first section) to file offset in the three-section layouts. */
const threeSectionFileAt = (dest: number) => (dest < 0x600 ? dest : dest - 0x8000 + 0x600);

/**
 * The three-section layout (`upack`): the headers and the first section's data (with the entry
 * point) land at the image's start, the second's (Upack's code, tables and the stream) at 0x8000. `variant` picks where the `jecxz` is: 43 bytes into the routine (0.39) or 46
 * (sample 0151477).
 */
function threeSectionFile(variant: '039' | '0151477', layout: Partial<Layout> = {}, extra: Patches = []): Uint8Array {
  const { stream, marker, calls, countByte, shift } = { ...DEFAULT_LAYOUT, ...layout };
  const vma = BASE + 0x1000;
  const file = threeSectionFileAt;
  const entry = 0x400;
  const esiData = 0x440;
  const code = 0x480;
  const head = 0x8100;
  const table = 0x8200;
  const input = 0x8400;
  const model = 0x9000;
  const jecxz = variant === '039' ? head + 43 : head + 46;
  const afterJecxz = jecxz + 0x20 + 1;
  const jumpAt = variant === '039' ? 8 : 7;
  const markerAt = 0x8b00;
  const patches: Patches = [
    [file(entry), [0xbe, ...u32(vma + esiData), 0xad, 0x50, 0xff, 0x76, 0x38, 0xeb, code - entry - 0xc]],
    [file(esiData), [...u32(vma + ORIGINAL_ENTRY), ...u32(0), ...u32(vma + model)]],
    [file(code + 7), [0xbe, ...u32(vma + table)]],
    [file(code + 0x1a), [0xeb, 0x10]],
    [file(code + 0x36), [0xb5, countByte]],
    [file(code + 0x3f), [0xe9, ...u32(head - code - 0x10 - 0x34)]],
    [file(head + 42), [0x90]],
    [file(jecxz - 1), [0xe3, 0x20]],
    [file(afterJecxz + jumpAt), [0xe9, ...u32(markerAt - afterJecxz - jumpAt - 32)]],
    [file(head + (variant === '039' ? 24 : 26)), [0xc1, 0xed, shift]],
    [file(table + 0x98), [...u32(vma + input), 0, 0, 0, 0, ...u32(calls), 0, 0, 0, 0, ...u32(vma)]],
    [file(table + 0x9c + 0x34), u32(vma + OUTPUT_SIZE)],
    [file(input), stream],
    [file(markerAt), [marker]],
    ...extra,
  ];
  return peFile({ peOffset: 0x80, optionalHeaderSize: 0x148, entryRva: 0x1000, size: 0x1200, sections: THREE_SECTIONS }, patches);
}

/**
 * Sample 0297729's layout (three sections, `push [esi]` at the entry): a long jump to Upack's
 * code, a table in the headers' copy, and the output fixed at the first section's address.
 */
function sample0297729File(layout: Partial<Layout> = {}, extra: Patches = []): Uint8Array {
  const { stream, marker, calls, countByte, shift } = { ...DEFAULT_LAYOUT, ...layout };
  const vma = BASE + 0x1000;
  const file = threeSectionFileAt;
  const entry = 0x400;
  const esiData = 0x440;
  const table = 0x500;
  const code = 0x8000;
  const head = 0x8100;
  const input = 0x8400;
  const model = 0x9000;
  const afterJecxz = head + 46 + 0x20 + 1;
  const markerAt = 0x8b00;
  const patches: Patches = [
    [file(entry), [0xbe, ...u32(vma + esiData), 0xff, 0x36, 0xe9, ...u32(code - entry - 0xc)]],
    [file(esiData), [...u32(vma + ORIGINAL_ENTRY), ...u32(0), ...u32(0)]],
    [file(code + 6), [0xbe, ...u32(BASE + table), 0xbf, ...u32(vma + model)]],
    [file(code + 0x25), [0xb5, countByte]],
    [file(code + 0x30), [0xe9, ...u32(head - code - 0x35)]],
    [file(head + 45), [0xe3, 0x20]],
    [file(afterJecxz + 7), [0xe9, ...u32(markerAt - 2 - afterJecxz - 7 - 32)]],
    [file(head + 26), [0xc1, 0xed, shift]],
    [file(table + 0x54), u32(vma + input)],
    [file(table + 0x58 + 0x40), u32(calls)],
    [file(table + 0x58 + 0x64), u32(vma + 0x1000 + OUTPUT_SIZE)],
    [file(input), stream],
    [file(markerAt), [marker]],
    ...extra,
  ];
  return peFile({ peOffset: 0x80, optionalHeaderSize: 0x148, entryRva: 0x1000, size: 0x1200, sections: THREE_SECTIONS }, patches);
}

/** The two-section layouts: an empty first section to unpack into, the second's data at 0x9000. */
const TWO_SECTIONS: PeSectionSpec[] = [
  { virtualAddress: 0x1000, virtualSize: 0x8000, rawOffset: 0, rawSize: 0 },
  { virtualAddress: 0x9000, virtualSize: 0x9000, rawOffset: 0x400, rawSize: 0xc00 },
];
/** Image address to file offset in the two-section layouts (the headers are the file's start). */
const twoSectionFile = (rva: number) => (rva < 0x400 ? rva : rva - 0x9000 + 0x400);

/**
 * Upack 0.39 with two sections (`pusha; call $+9`): a counter after the entry leads back to a
 * header with the table that Upack's code copies to 0xb000; the table gives the output, its end,
 * the stream and the range coder's state.
 */
function twoSection039File(layout: Partial<Layout> = {}, options: { step?: number; entries?: number } = {}): Uint8Array {
  const { stream, marker, calls, countByte, shift } = { ...DEFAULT_LAYOUT, ...layout };
  const file = twoSectionFile;
  const header = 0x9000;
  const code = 0x9400;
  const table = 0xb000;
  const input = 0x9700;
  const words = new Array<number>(0x1b).fill(0);
  const word = (at: number, value: number) => (words[at / 4] = value);
  word(0, options.entries ?? 0xe);
  word(4, BASE + 0x1000);
  word(0x2c, BASE + 0x1000 + OUTPUT_SIZE);
  word(0x3c, 0x400);
  word(0x48, calls);
  word(0x50, BASE + input);
  word(0x58, 0xffffffff);
  for (const at of [0x5c, 0x60, 0x64, 0x68]) word(at, 1);
  const patches: Patches = [
    [file(header), [...u32(header + BASE - (options.step ?? 0)), ...u32(BASE + table), ...u32(words.length), ...words.flatMap(u32)]],
    [file(code), [0x60, 0xe8, ...u32(9), ...u32(code + 6 - header)]],
    [file(code + 0x3a), [countByte]],
    [file(code + 0x5f), [8 - shift]],
    [file(code + 0x1c1), [marker]],
    [file(code + 0x217), u32(ORIGINAL_ENTRY - code - 0x21b)],
    [file(input), stream],
  ];
  return peFile({ peOffset: 0x80, optionalHeaderSize: 0xe0, entryRva: code, size: 0x1000, sections: TWO_SECTIONS }, patches);
}

/** Upack 1.1/1.2 (`mov esi, <headers>; lodsd; mov edi, eax`): its data at 0x130 and 0x148 in the headers. */
function twoSection11File(layout: Partial<Layout> = {}): Uint8Array {
  const { stream, marker, calls, countByte, shift } = { ...DEFAULT_LAYOUT, ...layout };
  const file = twoSectionFile;
  const code = 0x9000;
  const input = 0x9700;
  const model = 0xb000;
  const patches: Patches = [
    [0x130, u32(BASE + 0x1000 + OUTPUT_SIZE)],
    [0x148, [...u32(BASE + model - 4), ...u32(BASE + input), ...u32(BASE + 0x1000)]],
    [file(code), [0xbe, ...u32(BASE + 0x148), 0xad, 0x8b, 0xf8]],
    [file(code + 0x1b), [countByte]],
    [file(code + 0x41), [8 - shift]],
    [file(code + 0x174), u32(calls)],
    [file(code + 0x184), [marker]],
    [file(code + 0x1a4), u32(ORIGINAL_ENTRY - code - 0x1a8)],
    [file(input), stream],
  ];
  // The PE header after Upack's data.
  return peFile({ peOffset: 0x160, optionalHeaderSize: 0xe0, entryRva: code, size: 0x1000, sections: TWO_SECTIONS }, patches);
}

// ---------------------------------------------------------------------------------------------
// Comparison with clamscan.

const run = (file: Uint8Array): StepDecision => decisionOf(runStep(file, unpackUpack));

/** The step's own debug lines: cli_scanpe's Upack block, unupack's, its decoder's. */
const OWN_LINE = /^(cli_scanpe: Upack|Upack|state\[|contain error|$)/;
/** ClamAV prints pointers where ClamTS prints offsets; a message's continuation lines have no prefix. */
const normalised = (line: string) => line.split('\n')[0]!.replace(/-?0x[0-9a-f]+/g, 'P');

function clamav(dir: ReturnType<typeof tempDir>, name: string, file: Uint8Array): { lines: string[]; outputs: Buffer[] } {
  const { debug, outputs } = clamavUnpacking(dir.write(name, file));
  const messages = debug.map((line) => line.slice('LibClamAV debug: '.length));
  const start = messages.findIndex((m) => m.startsWith('cli_scanpe: Upack'));
  const end = messages.findIndex((m) => m.startsWith('***** Scanning'));
  const lines = start < 0 ? [] : messages.slice(start, end < 0 ? undefined : end).filter((m) => OWN_LINE.test(m) && !m.includes(' saved in '));
  return { lines: lines.map(normalised), outputs };
}

function assertSameAsClamAV(dir: ReturnType<typeof tempDir>, name: string, file: Uint8Array): StepDecision {
  const ours = run(file);
  assertSameDecision(ours, clamav(dir, name, file), name, normalised);
  return ours;
}

const unpackedData = ({ outcome }: StepDecision): Uint8Array => {
  assert.equal(outcome.kind, 'unpacked');
  return outcome.kind === 'unpacked' ? outcome.data : new Uint8Array();
};

/** Damaged copies of clam-upack.exe, with what ClamAV (checked with clamscan) ends on. */
const DAMAGES: [name: string, change: (file: Uint8Array) => Uint8Array, outcome: 'unpacked' | 'next', lastLine: string][] = [
  ['cut-in-code', (f) => f.subarray(0, 0x600), 'next', 'cli_scanpe: Upack: Unpacking failed'],
  ['cut-in-stream', (f) => f.subarray(0, 0x400), 'next', 'cli_scanpe: Upack: Unpacking failed'],
  ['cut-in-headers', (f) => f.subarray(0, 0x1f0), 'next', ''],
  ['no-short-jump', (f) => patched(f, [[0x22, [0x90]]]), 'next', 'cli_scanpe: Upack: Unpacking failed'],
  ['context-bits', (f) => patched(f, [[0x641, [0x09]]]), 'next', 'cli_scanpe: Upack: Unpacking failed'],
  ['stream-byte', (f) => patched(f, [[0x300, [f[0x300]! ^ 0xff]]]), 'next', 'cli_scanpe: Upack: Unpacking failed'],
  ['end-before-start', (f) => patched(f, [[0x1c0, u32(BASE)]]), 'next', 'cli_scanpe: Upack: Unpacking failed'],
  ['end-far', (f) => patched(f, [[0x1c0, u32(BASE + 0x80000)]]), 'next', 'cli_scanpe: Upack: Unpacking failed'],
  ['many-calls', (f) => patched(f, [[0x190, u32(0xffff)]]), 'next', 'cli_scanpe: Upack: Unpacking failed'],
  ['no-calls', (f) => patched(f, [[0x190, u32(0)]]), 'unpacked', 'Upack: loops: 00000000 search value: 00'],
  ['marker-outside', (f) => patched(f, [[0x67b, u32(0x7ffffff0)]]), 'next', 'cli_scanpe: Upack: Unpacking failed'],
  ['esi-outside', (f) => patched(f, [[0x19, u32(BASE + 0x100000)]]), 'next', 'cli_scanpe: Upack: Unpacking failed'],
  ['model-too-big', (f) => patched(f, [[0xe3, [0xff]]]), 'next', 'cli_scanpe: Upack: Unpacking failed'],
  ['third-section-vsize', (f) => patched(f, [[0x1b4, u32(0xf000)]]), 'unpacked', 'Upack: loops: 00000002 search value: 00'],
  ['two-sections', (f) => patched(f, [[0x16, [2]]]), 'next', ''],
];

function patched(original: Uint8Array, patches: Patches): Uint8Array {
  const file = Uint8Array.from(original);
  for (const [at, bytes] of patches) file.set(bytes, at);
  return file;
}

describe('Upack unpacking (cli_scanpe Upack block, unupack)', () => {
  const layouts: [string, () => Uint8Array][] = [
    ['three sections, 0.39', () => threeSectionFile('039')],
    ['three sections, 0151477', () => threeSectionFile('0151477')],
    ['two sections, 0.39', () => twoSection039File()],
    ['two sections, 1.1/1.2', () => twoSection11File()],
  ];

  it("unpacks each layout to the image clamscan rebuilds from clam-upack.exe", () => {
    for (const [name, make] of layouts) {
      const { debug, outcome } = run(make());
      assert.equal(outcome.kind, 'unpacked', name);
      assert.equal(sha256(unpackedData({ debug, outcome })), REBUILT_SHA256, name);
      assert.ok(debug.includes('Upack: Context Bits parameter used with lzma: 05, 1c00'), name);
      assert.equal(debug.at(-1), 'Upack: loops: 00000002 search value: 00', name);
    }
    const rebuilt = unpackedData(run(threeSectionFile('039')));
    const pe = parsePeFile(rebuilt)!;
    assert.deepEqual([pe.entryRva, pe.imageBase, pe.sections.map((s) => [s.rva, s.declaredVirtualSize, s.declaredRawSize])], [ORIGINAL_ENTRY, BASE, [[0x1000, OUTPUT_SIZE, OUTPUT_SIZE]]]);
  });

  it('tells the layouts apart by the headers and the entry code', () => {
    assert.ok(run(threeSectionFile('039')).debug.includes('cli_scanpe: Upack: var set'));
    assert.ok(run(twoSection039File()).debug.includes('cli_scanpe: Upack: var NOT set'));
    assert.ok(run(twoSection039File()).debug.includes('Upack: EBX: 00000000'));
    assert.ok(run(twoSection11File()).debug.includes('Upack v 1.1/1.2'));
    const sample = run(sample0297729File());
    assert.equal(sample.outcome.kind, 'unpacked');
    // The output goes to the first section's address (0x1000 in the buffer), the rebuilt section
    // from 0 (and so holds the output's first 0x3000 bytes, as far as the file alignment goes).
    const sampleOutput = unpackedData(sample).subarray(0x400 + 0x1000);
    assert.equal(sampleOutput.length, 0x3000);
    assert.deepEqual(sampleOutput, unpackedData(run(threeSectionFile('039'))).subarray(0x400, 0x400 + sampleOutput.length));
    // Not Upack: entry code of another packer, or three sections without the 0x148 optional header.
    const other = patched(threeSectionFile('039'), [[0x405, [0x90]]]);
    assert.deepEqual(run(other), { outcome: { kind: 'next' }, debug: [] });
    const twoSectionsNoEmpty = twoSection11File();
    new DataView(twoSectionsNoEmpty.buffer).setUint32(0x160 + 24 + 0xe0 + 16, 0x200, true);
    assert.deepEqual(run(twoSectionsNoEmpty), { outcome: { kind: 'next' }, debug: [] });
  });

  it('fixes only the call targets with the marker byte, up to the count', () => {
    const none = unpackedData(run(threeSectionFile('039', { calls: 0 })));
    const two = unpackedData(run(threeSectionFile('039')));
    const differing = [...two.keys()].filter((k) => two[k] !== none[k]);
    // Two targets of four bytes each, after an E8 or E9.
    assert.equal(differing.length > 0 && differing.length <= 8, true);
    for (const at of differing) assert.ok([0xe8, 0xe9].includes(none[at - 1]!) || [0xe8, 0xe9].includes(none[at - 2]!) || [0xe8, 0xe9].includes(none[at - 3]!) || [0xe8, 0xe9].includes(none[at - 4]!));
    const many = run(threeSectionFile('039', { calls: 0x10000 }));
    assert.deepEqual([many.outcome.kind, many.debug.slice(-2)], ['next', ['Upack: callfixerr 0x0 00012000 = 0x12000, 0x12000', 'cli_scanpe: Upack: Unpacking failed']]);
  });

  it('refuses bad parameters as ClamAV does', () => {
    const lastTwo = (file: Uint8Array) => {
      const { outcome, debug } = run(file);
      return [outcome.kind, ...debug.slice(-2)];
    };
    assert.deepEqual(lastTwo(threeSectionFile('039', { shift: 9 })), ['next', 'Upack: context bits out of bounds', 'cli_scanpe: Upack: Unpacking failed']);
    assert.deepEqual(lastTwo(twoSection11File({ shift: 1 })), ['next', 'Upack: context bits out of bounds', 'cli_scanpe: Upack: Unpacking failed']);
    // The model does not fit the buffer with 0xff00 probabilities.
    assert.deepEqual(lastTwo(threeSectionFile('039', { countByte: 0xff })), ['next', 'Upack: Context Bits parameter used with lzma: 05, ff00', 'cli_scanpe: Upack: Unpacking failed']);
    // A stream of zeros: a literal of 0 and then matches further back than the output.
    const zeros = run(threeSectionFile('039', { stream: new Uint8Array(16) }));
    assert.equal(zeros.outcome.kind, 'next');
    // The count of table entries: 0 takes 2^32 of them, which with a step of -4 bytes wraps round to the same place.
    const wrapped = run(twoSection039File({}, { entries: 0, step: -4 }));
    assert.ok(wrapped.debug.includes('Upack: EBX: fffffffc'));
    assert.notEqual(wrapped.debug.at(-1), undefined);
  });

  it('stops where cli_scanpe stops: over the limits or the allocation cap', () => {
    assert.deepEqual(decisionOf(runStep(threeSectionFile('039'), unpackUpack, { withinLimits: () => false })), {
      outcome: { kind: 'stop' },
      debug: ['cli_scanpe: Upack characteristics found.', 'cli_scanpe: Upack: var set'],
    });
    // A first section of 1.25 GiB: sizes within the limits given, but more than ClamAV allocates.
    const huge = threeSectionFile('039');
    new DataView(huge.buffer).setUint32(0x80 + 24 + 0x148 + 8, 0x50000000, true);
    assert.equal(run(huge).outcome.kind, 'stop');
  });

  it('never throws or hangs on damaged files', () => {
    const random = new Random(99);
    const makers = [() => threeSectionFile('039'), () => threeSectionFile('0151477'), () => sample0297729File(), () => twoSection039File(), () => twoSection11File()];
    const started = Date.now();
    for (let n = 0; n < 300; n++) {
      const file = makers[n % makers.length]!();
      for (let k = 0; k < 1 + random.below(4); k++) file[random.below(file.length)] = random.below(256);
      const cut = random.below(4) === 0 ? file.subarray(0, 0x200 + random.below(file.length - 0x200)) : file;
      if (parsePeFile(cut) !== undefined) run(cut);
    }
    assert.ok(Date.now() - started < 60_000);
  });

  it('rebuilds clam-upack.exe byte for byte as clamscan does', { skip: !(haveClamscan && haveRealFile) && 'clamscan or clam-upack.exe is missing' }, () => {
    const ours = assertSameAsClamAV(tempDir('clamts-upack-real-'), 'clam-upack.exe', new Uint8Array(readFileSync(CLAM_UPACK)));
    assert.equal(unpackedData(ours).length, 17408);
    assert.equal(sha256(unpackedData(ours)), REBUILT_SHA256);
  });

  it('decides as ClamAV does on damaged copies of clam-upack.exe', { skip: !haveRealFile && 'clam-upack.exe is missing' }, () => {
    const original = new Uint8Array(readFileSync(CLAM_UPACK));
    assert.equal(sha256(unpackedData(run(original))), REBUILT_SHA256);
    const dir = haveClamscan ? tempDir('clamts-upack-damaged-') : undefined;
    for (const [name, change, kind, lastLine] of DAMAGES) {
      const file = change(original);
      const ours = dir === undefined ? run(file) : assertSameAsClamAV(dir, name, file);
      assert.deepEqual([ours.outcome.kind, ours.debug.at(-1) ?? ''], [kind, lastLine], name);
    }
  });

  it('matches clamscan on the synthetic layouts and their faults', { skip: !haveClamscan && 'clamscan is not installed' }, () => {
    const dir = tempDir('clamts-upack-');
    const files: [string, Uint8Array][] = [
      ...layouts.map(([name, make]): [string, Uint8Array] => [name.replace(/\W+/g, '-'), make()]),
      ['sample-0297729', sample0297729File()],
      ['other-marker', threeSectionFile('039', { marker: 0x40, calls: 1 })],
      ['many-calls', threeSectionFile('039', { calls: 0x10000 })],
      ['v11-shift-out-of-bounds', twoSection11File({ shift: 1 })],
      ['zero-stream', threeSectionFile('039', { stream: new Uint8Array(16) })],
      ['wrapped-entries', twoSection039File({}, { entries: 0, step: -4 })],
      ['negative-words', patched(twoSection039File(), [[twoSectionFile(0x9008), u32(0x80000000)]])],
    ];
    for (const [name, file] of files) assertSameAsClamAV(dir, name, file);
  });
});
