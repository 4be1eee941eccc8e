import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parsePeFile } from '../src/executables/pe-file.js';
import { mewLzma } from '../src/executables/unpackers/mew-lzma.js';
import { unpackMew } from '../src/executables/unpackers/mew.js';
import { Random } from './fixtures/body/random-signatures.js';
import { buildPe } from './fixtures/executables/pe-builder.js';
import { assertSameDecision, atEmptySection, clamavUnpacking, decisionOf, haveClamscan, runStep, type StepDecision } from './fixtures/executables/unpack-oracle.js';
import { tempDir } from './support/temp-dir.js';

const CLAM_MEW = '/usr/share/clamav-testfiles/clam-mew.exe';

/** An image with text, calls (E8/E9), zeros, noise and a far repeat: every kind of LZMA token. */
function sampleImage(): Uint8Array {
  const bytes: number[] = [];
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'];
  for (let k = 0; k < 90; k++) bytes.push(...Buffer.from(`line ${k}: ${words[k % 7]} ${words[(k * 3) % 7]}\n`, 'latin1'));
  for (let k = 0; k < 40; k++) bytes.push(k % 3 === 0 ? 0xe9 : 0xe8, 0x00, 0x00, 0x10 + (k % 4), k, 0x90);
  for (let k = 0; k < 300; k++) bytes.push(0);
  let x = 0x12345678;
  for (let k = 0; k < 600; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes.push(x & 0xff);
  }
  bytes.push(...bytes.slice(0, 1500));
  for (let k = 0; k < 20; k++) bytes.push(...Buffer.from(`tail ${k * 7919}\n`, 'latin1'));
  return Uint8Array.from(bytes);
}

/**
 * sampleImage() as raw LZMA (lc=4, lp=0, pb=2, with an end marker), made with
 * `xz --format=raw --lzma1=lc=4,lp=0,pb=2,dict=64KiB`.
 */
const SAMPLE_LZMA = Buffer.from(
  'ADYaSh8IoCZMD55WYh1WbtbaqQFdtbPO4HBMba/iqD0T16KWwY7/02Wk24rDvQbBnwfzRbE1g6k5KelnLMKhWTC3QWEsXZsHBsTD' +
  'KT/zVbKcdylfe9EVAa/dmCvSZrvRMUwu0WmkJn0RP+/GZiU5iJC3t7avNMJGhdUWsIrhGXEPTxO2MrxzlP23gwM//JcjZsEIy+kU' +
  'ecxpwDl7yA88djmJvqFFvI3rPgcGTey1VRLJs5Gl27pQPlW2DCBVbzfjmp9upS7NYMkZesU6t3eKBsfPeRrFjcmGxcI05mx/oAgE' +
  'ovoh7R1c3g0X2fkfOmL43f47Y1mfGi0M3w8sQ/S3PkZPQGW0RkzNx00/16iaUL+s50Jaib2qZINEeNEAt4mZWyn8ubh2m1Xf9CTy' +
  'i5xSouhCWi2qd7WhLugmQFXjEAiOT0uBDWfrXzuYMm9kYzPX1CQi9nTwghwF0zEQ41s723CC/ubjG3mtUmjp8oSFOMbDRCQfiN5z' +
  'hA/7HixRfeCHVuKRsw3WizglLYWDy4Gc4oX31j0hTnS+VekpquP9tV9wXv8gxsUQfyCtgge6LxjOx/rUoWrFg3s3YaIx8WeTyxaD' +
  '4gGIkrvuLTsIjDlZGlH0YgiyF6yBeCF2vzqJXUNuCfmuNwfba8WsAX5HkKfp+ZCm/igJZkqacBjUugS2SWafVJOUVNWP9S5Xt/yY' +
  '8CuYgPNV1JaoLY3wzthA24ds5Ume2yO9RhBtxnZL8WBA6IMFJKENYMKwdjo3LIQrekhnSIhhNYg15Qi+iS4L2x2J/AcrBp+I12Il' +
  'J/n+LEBEnZKjG32SwT06Qoi9dZmS7u5CRjXdRmScEORhK+R17vYN79EoSUHqM44d7xoAGxw4fsv9xB833GguzBMneorsTAKQTbA6' +
  '8KYVQzeAUIlFHR7HOHN0hKjC+kbvSSeEA+NvhLmfGWb+0QWK14RjLWvGYFVU6tiZr5H/zYmUWqu+T2/jYPqUbrIE+igpb8wvE4oD' +
  '+dOdSisariJ6a43MGpJRQOgwyJsL5TzYBRvCuj3uB/Gio3YcEmhK35S0ypBaAbjmosxZT+bVBPb1g1+ZpCG2MwNblgqZ0iPgVTCM' +
  'iQ91DBcxAX4k+xu5bHeN/uqrvZ3qMXv+RVacOnyaZUz5YxkSgvrZ4/aUysSWcC8P6Nf/17lg4PpT6lBe6kaZd2NYJEHIUvBVI12k' +
  '5kikk+Ee+GJFZjHLwrzQnuNElwut1ueGW139y2PqWB7h7Yy5j5PR9Hbhdc9aA9V27xBgevNzVLp4w78ZVo79vI/jc1euTy1eAhUa' +
  'o4WABRZZCLGJcOzDZxNSXtdX3XyLAL+pWP5Sz5GIXiHn4JrFI86r61Ng0ylueoACH59aItVtz5h71OtBcPX1HWcfJUR1Ln6Udnq9' +
  'fXQBWQZgWGYKnUp/NR3jAj2sWnKCLgWlxNHyNNKXAAhBa9Z1m326+3fkTarTFYf9aAZeQcNAlXDTPBLJZ5eK/2etxgA=',
  'base64',
);

const u32 = (value: number) => [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];

// ---------------------------------------------------------------------------------------------
// mew_lzma on its own: a buffer holding the model, the output and the block list.

const VMA = 0x400000;
const PROBS = 0x100;
const OUT = 0x8000;

interface Block {
  out: number;
  size: number;
  stream?: Uint8Array;
}

/** A buffer with MEW's LZMA block list at `at`; returns the buffer and `at`. */
function lzmaBuffer(blocks: Block[], options: { special?: number; probs?: number; size?: number } = {}): { buffer: Uint8Array; at: number } {
  const at = 0xc000;
  const list = [
    ...(options.special === undefined ? [] : u32(options.special)),
    ...u32(VMA + (options.probs ?? PROBS)),
    ...blocks.flatMap((block) => {
      const stream = block.stream ?? SAMPLE_LZMA;
      return [...u32(block.size), ...u32(VMA + block.out), ...u32(stream.length), 0x5d, ...stream];
    }),
    ...(options.special === undefined ? u32(0) : []),
  ];
  const buffer = new Uint8Array(options.size ?? 0x10000);
  buffer.set(list.slice(0, buffer.length - at), at);
  return { buffer, at };
}

function runLzma(buffer: Uint8Array, at: number, special = false): { ok: boolean; debug: string[] } {
  const debug: string[] = [];
  const ok = mewLzma(buffer, at, VMA, special, (m) => debug.push(m));
  return { ok, debug };
}

describe("mew_lzma (MEW's LZMA stage)", () => {
  const image = sampleImage();

  it('decodes LZMA (lc=4, lp=0, pb=2) up to the declared size, or to the end marker', () => {
    const { buffer, at } = lzmaBuffer([{ out: OUT, size: image.length }]);
    assert.deepEqual(runLzma(buffer, at), { ok: true, debug: ['MEWlzma: entering do while loop'] });
    assert.deepEqual(buffer.subarray(OUT, OUT + image.length), image);

    const short = lzmaBuffer([{ out: OUT, size: 1000 }]);
    assert.equal(runLzma(short.buffer, short.at).ok, true);
    assert.deepEqual(short.buffer.subarray(OUT, OUT + 1000), image.subarray(0, 1000));
    assert.equal(short.buffer[OUT + 1000], 0);

    const long = lzmaBuffer([{ out: OUT, size: image.length + 0x100 }]);
    assert.equal(runLzma(long.buffer, long.at).ok, true);
    assert.deepEqual(long.buffer.subarray(OUT, OUT + image.length + 1), Uint8Array.from([...image, 0]));
  });

  it('decodes each block of the plain form with a fresh model, up to a zero size', () => {
    const { buffer, at } = lzmaBuffer([{ out: OUT, size: image.length }, { out: 0x1000, size: 200 }]);
    assert.deepEqual(runLzma(buffer, at).debug, ['MEWlzma: entering do while loop', 'MEWlzma: entering do while loop']);
    assert.deepEqual(buffer.subarray(0x1000, 0x1000 + 200), image.subarray(0, 200));
    assert.deepEqual(buffer.subarray(OUT, OUT + image.length), image);
  });

  it('makes call and jump targets relative again in the special form', () => {
    const { buffer, at } = lzmaBuffer([{ out: OUT, size: image.length + 0x100 }], { special: image.length });
    // Ended by the end marker: EDX holds the last tree index of its distance (all ones).
    assert.deepEqual(runLzma(buffer, at, true), { ok: true, debug: ['MEWlzma: entering do while loop', `MEWlen: 0000001f ? ${image.length.toString(16).padStart(8, '0')}`] });
    const first = image.indexOf(0xe9);
    const fixed = buffer.subarray(OUT);
    // E9 00 00 10 00: the big-endian target 0x1000, less its distance from the start and one.
    assert.deepEqual([...fixed.subarray(first, first + 6)], [0xe9, ...u32(0x1000 - first - 1), 0x90]);
    assert.deepEqual([...fixed.subarray(first + 6, first + 12)], [0xe8, ...u32(0x1101 - (first + 6) - 1), 0x90]);
    assert.deepEqual(fixed.subarray(0, first), image.subarray(0, first));

    const none = lzmaBuffer([{ out: OUT, size: image.length }], { special: 4 });
    assert.equal(runLzma(none.buffer, none.at, true).ok, true);
    assert.deepEqual(none.buffer.subarray(OUT, OUT + image.length), image);
  });

  it('skips blocks of size 0 in the special form', () => {
    const { buffer, at } = lzmaBuffer([{ out: 0x2000, size: 0 }, { out: OUT, size: 300 }], { special: 0 });
    assert.equal(runLzma(buffer, at, true).debug.length, 2);
    assert.deepEqual(buffer.subarray(OUT, OUT + 300), image.subarray(0, 300));
    assert.equal(buffer[0x2000], 0);
  });

  it('fails where anything it touches is outside the buffer', () => {
    const outside = (blocks: Block[], options: Parameters<typeof lzmaBuffer>[1]) => {
      const { buffer, at } = lzmaBuffer(blocks, options);
      return runLzma(buffer, at).ok;
    };
    assert.equal(outside([{ out: OUT, size: 100 }], { probs: 0xa000 }), false);
    assert.equal(outside([{ out: OUT, size: 100 }], { probs: -1 >>> 0 }), false);
    assert.equal(outside([{ out: 0xff00, size: 0x200 }], {}), false);
    assert.equal(outside([{ out: OUT - VMA, size: 100 }], {}), false);
    // The stream cut off at the end of the buffer.
    assert.equal(outside([{ out: OUT, size: image.length }], { size: 0xc000 + 17 + 600 }), false);
    // No room for the block list's header.
    assert.equal(outside([{ out: OUT, size: image.length }], { size: 0xc000 + 12 }), false);
  });

  it('never throws or hangs on corrupt streams', () => {
    const random = new Random(77);
    for (let n = 0; n < 200; n++) {
      const stream = Uint8Array.from(SAMPLE_LZMA);
      for (let k = 0; k < 1 + random.below(4); k++) stream[random.below(stream.length)] = random.below(256);
      const { buffer, at } = lzmaBuffer([{ out: OUT, size: image.length + random.below(64), stream }], { special: random.below(2) ? image.length : undefined });
      runLzma(buffer, at, random.below(2) === 1);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Synthetic MEW files: MEW's code at 0x154 (Win9x) or 0x158, the data it points to in the packed
// section: the entry point, the chain of first-stage sections and, when its code calls the LZMA
// routine, the LZMA block list after the chain.

const ROOM = 0x10000;
const PACKED_RVA = 0x1000 + ROOM;
const ENTRY = 0xe00;
const ROUTINE = 0xf00;

/** A literal-only stream of the FSG/MEW first stage. */
function literalStream(data: Uint8Array): number[] {
  const out = [data[0]!];
  let tagAt = -1;
  let bits = 8;
  const bit = (value: number) => {
    if (bits === 8) {
      tagAt = out.length;
      out.push(0);
      bits = 0;
    }
    if (value) out[tagAt]! |= 0x80 >> bits;
    bits++;
  };
  for (const byte of data.subarray(1)) {
    bit(0);
    out.push(byte);
  }
  [1, 1, 0].forEach(bit);
  out.push(0);
  return out;
}

interface MewSpec {
  win9x?: boolean;
  /** Where MEW's data is in the packed section. */
  dataAt?: number;
  /** First-stage sections: where each goes in the image (from its start) and its bytes (or a raw stream). */
  chain?: { at: number; data?: Uint8Array; stream?: number[] }[];
  lzma?: { special?: number; probs: number; blocks: Block[] };
  routine?: number;
  rawSize?: number;
  packedSize?: number;
}

function mewFile(spec: MewSpec): Uint8Array {
  const codeAt = spec.win9x === false ? 0x158 : 0x154;
  const rawSize = spec.rawSize ?? 0x1000;
  const dataAt = spec.dataAt ?? 0x20;
  const chain: NonNullable<MewSpec['chain']> = spec.chain ?? [{ at: 0, data: Buffer.from('MEW first stage, literally.', 'latin1') }];
  const image = (offset: number) => VMA + 0x1000 + offset;
  const data: number[] = [...u32(0), ...u32(image(0x10)), ...u32(image(chain[0]!.at))];
  chain.forEach((section, k) => {
    data.push(...(section.stream ?? literalStream(section.data!)));
    const next = chain[k + 1];
    data.push(...u32(next === undefined ? 0 : image(next.at)));
  });
  if (spec.lzma !== undefined) {
    const { special, probs, blocks } = spec.lzma;
    if (special !== undefined) data.push(...u32(special));
    data.push(...u32(image(probs)));
    for (const block of blocks) {
      const stream = block.stream ?? SAMPLE_LZMA;
      data.push(...u32(block.size), ...u32(image(block.out)), ...u32(stream.length), 0x5d, ...stream);
    }
    if (special === undefined) data.push(...u32(0));
  }
  assert.ok(dataAt + data.length <= ENTRY);
  const packed = new Uint8Array(rawSize);
  packed.set(data, dataAt);
  packed[ROUTINE + 8] = spec.lzma?.special === undefined ? 0x51 : 0x50; // push eax: the special form
  packed.set([0xe9, ...u32(codeAt - (PACKED_RVA + ENTRY + 5))], ENTRY);
  const code = new Uint8Array(0xb0);
  code.set([0xbe, ...u32(VMA + PACKED_RVA + dataAt)]);
  if (spec.lzma !== undefined) code.set([0xe8, ...u32(PACKED_RVA + (spec.routine ?? ROUTINE) - codeAt - 0x80)], 0x7b);

  const file = buildPe(
    {
      size: 0x400 + rawSize,
      dosMagic: 0x5a4d,
      peOffset: 0x208,
      peSignature: 0x4550,
      plus: false,
      optionalHeaderSize: 0xe0,
      entryRva: PACKED_RVA + ENTRY,
      sectionAlignment: 0x1000,
      fileAlignment: 0x200,
      headersSize: 0x400,
      directories: 16,
      sections: [
        { virtualAddress: 0x1000, virtualSize: ROOM, rawOffset: 0, rawSize: 0 },
        { virtualAddress: PACKED_RVA, virtualSize: spec.packedSize ?? 0x2000, rawOffset: 0x400, rawSize },
      ],
    },
    new Random(3),
  );
  new DataView(file.buffer, file.byteOffset).setUint32(0x208 + 24 + 28, VMA, true);
  file.fill(0, 0x208 + 24 + 96, 0x208 + 24 + 96 + 128);
  file.set(code, codeAt);
  file.set(packed, 0x400);
  return file;
}

type Run = StepDecision;

const run = (file: Uint8Array): Run => decisionOf(runStep(file, atEmptySection(unpackMew)));

const OWN_LINE = /^(cli_scanpe: MEW|MEW|Possibly programmer)/;
/** ClamAV prints pointers where ClamTS prints offsets. */
const normalised = (line: string) => line.replace(/-?0x[0-9a-f]+/g, 'P');

function clamav(dir: ReturnType<typeof tempDir>, name: string, file: Uint8Array): { lines: string[]; outputs: Buffer[] } {
  const { debug, outputs } = clamavUnpacking(dir.write(name, file));
  const messages = debug.map((line) => line.slice('LibClamAV debug: '.length));
  const end = messages.findIndex((m) => m.startsWith('***** Scanning'));
  const lines = messages.slice(0, end < 0 ? undefined : end).filter((m) => OWN_LINE.test(m) && !m.includes(' saved in '));
  return { lines: lines.map(normalised), outputs };
}

function assertSameAsClamAV(dir: ReturnType<typeof tempDir>, name: string, file: Uint8Array): Run {
  const ours = run(file);
  assertSameDecision(ours, clamav(dir, name, file), name, normalised);
  return ours;
}

describe('MEW unpacking (cli_scanpe MEW block, unmew11)', () => {
  const image = sampleImage();
  const lzma = (blocks: Block[], special?: number) => ({ chain: [{ at: 0, data: Buffer.from('stage one', 'latin1') }], lzma: { special, probs: 0x100, blocks } });
  const cases: [string, MewSpec][] = [
    ['lzma', lzma([{ out: 0x8000, size: image.length }])],
    ['lzma-blocks', lzma([{ out: 0x8000, size: image.length }, { out: 0xa000, size: image.length + 0x10 }])],
    ['lzma-special', lzma([{ out: 0x8000, size: image.length }], image.length)],
    ['lzma-special-marker', lzma([{ out: 0x8000, size: image.length + 0x10 }], 0x800)],
    ['lzma-special-no-calls', lzma([{ out: 0x8000, size: image.length }], 3)],
    ['lzma-model-outside', { ...lzma([{ out: 0x8000, size: 100 }]), lzma: { probs: 0x20000, blocks: [{ out: 0x8000, size: 100 }] } }],
    ['lzma-output-on-model', lzma([{ out: 0x180, size: image.length }])],
    ['lzma-proc-outside', { ...lzma([{ out: 0x8000, size: 100 }]), routine: 0x3000 }],
    ['two-sections', { chain: [{ at: 0, data: image.subarray(0, 0x30) }, { at: 0x3000, data: image.subarray(0x30, 0x80) }] }],
    ['sections-backwards', { chain: [{ at: 0x3000, data: image.subarray(0, 0x30) }, { at: 0, data: image.subarray(0x30, 0x80) }] }],
    ['section-past-room', { chain: [{ at: ROOM - 8, data: image.subarray(0, 16) }] }],
    ['bad-match', { chain: [{ at: 0, stream: [0x41, 0xc0, 5 << 1] }] }],
    ['past-buffer', { chain: [{ at: ROOM + 0x2000 - 4, data: image.subarray(0, 16) }] }],
    ['esi-outside', { dataAt: 0x3fc }],
    ['size-mismatch', { rawSize: 0x2200 }],
    ['not-win9x', { win9x: false }],
  ];

  it('unpacks both LZMA forms into one section, and a chain of sections into one each', () => {
    const lzmaRun = run(mewFile(cases[0]![1]));
    assert.equal(lzmaRun.outcome.kind, 'unpacked');
    const rebuilt = lzmaRun.outcome.kind === 'unpacked' ? lzmaRun.outcome.data : new Uint8Array();
    const pe = parsePeFile(rebuilt)!;
    assert.deepEqual(pe.sections.map((s) => [s.rva, s.rawSize]), [[0x1000, ROOM]]);
    assert.equal(pe.entryRva, 0x1010);
    assert.deepEqual(rebuilt.subarray(pe.sections[0]!.rawOffset + 0x8000, pe.sections[0]!.rawOffset + 0x8000 + image.length), image);
    assert.ok(lzmaRun.debug.includes('MEW: lzma was used, unpacking'));
    assert.ok(run(mewFile(cases[2]![1])).debug.includes('MEW: lzma special was used, unpacking'));

    const chained = run(mewFile(cases[8]![1]));
    const sections = parsePeFile(chained.outcome.kind === 'unpacked' ? chained.outcome.data : new Uint8Array())!.sections;
    assert.deepEqual(sections.map((s) => [s.rva, s.virtualSize]), [[0x1000, 0x1000], [0x2000, 0x3000]]);
  });

  it('goes on to the next packer where cli_scanpe does', () => {
    for (const [name, line] of [
      ['lzma-proc-outside', 'cli_scanpe: MEW: lzma proc out of bounds!'],
      ['sections-backwards', 'cli_scanpe: MEW: Unpacking failed'],
      ['esi-outside', 'cli_scanpe: MEW: ESI is not in proper section'],
      ['size-mismatch', 'cli_scanpe: MEW: Size mismatch: 00002200'],
    ]) {
      const { outcome, debug } = run(mewFile(cases.find(([n]) => n === name)![1]));
      assert.deepEqual([outcome.kind, debug.at(-1)], ['next', line], name);
    }
    const upx = '/usr/share/clamav-testfiles/clam-upx.exe';
    if (existsSync(upx)) assert.deepEqual(run(new Uint8Array(readFileSync(upx))), { outcome: { kind: 'next' }, debug: [] });
  });

  it('rebuilds clam-mew.exe byte for byte as clamscan does', { skip: !(haveClamscan && existsSync(CLAM_MEW)) && 'clamscan or clam-mew.exe is missing' }, () => {
    const ours = assertSameAsClamAV(tempDir('clamts-mew-real-'), 'clam-mew.exe', new Uint8Array(readFileSync(CLAM_MEW)));
    assert.equal(ours.outcome.kind === 'unpacked' && ours.outcome.data.length, 21504);
  });

  it('matches clamscan on synthetic MEW files', { skip: !haveClamscan && 'clamscan is not installed' }, () => {
    const dir = tempDir('clamts-mew-');
    for (const [name, spec] of cases) assertSameAsClamAV(dir, name, mewFile(spec));
  });

  it('matches clamscan on damaged copies of clam-mew.exe', { skip: !(haveClamscan && existsSync(CLAM_MEW)) && 'clamscan or clam-mew.exe is missing' }, () => {
    const dir = tempDir('clamts-mew-damaged-');
    const original = new Uint8Array(readFileSync(CLAM_MEW));
    const random = new Random(1234);
    for (let n = 0; n < 24; n++) {
      const file = Uint8Array.from(original);
      // Bytes of MEW's data and first-stage streams (from 0x21c), or of the header MEW's code reads.
      for (let k = 0; k < 1 + random.below(3); k++) file[random.below(3) === 0 ? 0x155 + random.below(4) : 0x21c + random.below(0x3fc)] = random.below(256);
      assertSameAsClamAV(dir, `damaged-${n}.exe`, file);
    }
  });
});
