/**
 * NsPack: unsp.c's decoder on LZMA streams from xz(1) and on streams written token by token
 * here (to reach its edge cases), and cli_scanpe's NsPack step on synthetic NsPack-like PE files
 * built from the layout ClamAV reads, compared with clamscan. There is no real NsPack sample
 * to check against: none ships with ClamAV or Debian.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LZMA_PROBABILITIES } from '../src/formats/compression/lzma.js';
import { parsePeFile } from '../src/executables/pe-file.js';
import { unpackNspack, unspDecode } from '../src/executables/unpackers/nspack.js';
import { rebuildPe } from '../src/executables/unpackers/rebuild-pe.js';
import type { UnpackOutcome } from '../src/executables/unpackers/unpacker.js';
import { Random } from './fixtures/body/random-signatures.js';
import { buildPe } from './fixtures/executables/pe-builder.js';
import { clamavUnpacking, haveClamscan, runStep, decisionOf, type StepDecision } from './fixtures/executables/unpack-oracle.js';
import { needsTool, run as runTool } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

// ---------------------------------------------------------------------------------------------
// An LZMA writer for the decoder's probability layout: the range encoder of the LZMA SDK and
// the model driven token by token, so a test says exactly which literals, matches and repeats
// (and end markers, or distances the decoder must refuse) the stream holds.

const {
  isMatch: IS_MATCH,
  isRep: IS_REP,
  isRepG0: IS_REP_G0,
  isRepG1: IS_REP_G1,
  isRepG2: IS_REP_G2,
  isRep0Long: IS_REP0_LONG,
  positionSlots: POSITION_SLOTS,
  specialPositions: SPECIAL_POSITIONS,
  align: ALIGN,
  matchLengths: MATCH_LENGTHS,
  repLengths: REP_LENGTHS,
  literals: LITERALS,
} = LZMA_PROBABILITIES;

class RangeEncoder {
  private low = 0;
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  private readonly bytes: number[] = [];

  constructor(private readonly probabilities: Uint16Array) {}

  bit(index: number, bit: number): void {
    const probability = this.probabilities[index]!;
    const bound = (this.range >>> 11) * probability;
    if (bit === 0) {
      this.range = bound;
      this.probabilities[index] = probability + ((0x800 - probability) >> 5);
    } else {
      this.low += bound;
      this.range -= bound;
      this.probabilities[index] = probability - (probability >> 5);
    }
    this.normalize();
  }

  direct(value: number, count: number): void {
    for (let k = count - 1; k >= 0; k--) {
      this.range >>>= 1;
      if ((value >>> k) & 1) this.low += this.range;
      this.normalize();
    }
  }

  finish(): number[] {
    for (let k = 0; k < 5; k++) this.shiftLow();
    return this.bytes;
  }

  private normalize(): void {
    while (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.shiftLow();
    }
  }

  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= 0x100000000) {
      const carry = this.low >= 0x100000000 ? 1 : 0;
      let byte = this.cache;
      do {
        this.bytes.push((byte + carry) & 0xff);
        byte = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / 0x1000000) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % 0x1000000) * 0x100;
  }
}

class LzmaWriter {
  /** The bytes the stream decodes to. */
  readonly data: number[] = [];
  private readonly rc: RangeEncoder;
  private state = 0;
  private reps = [1, 1, 1, 1];

  constructor(
    readonly lc = 3,
    readonly lp = 0,
    readonly pb = 2,
  ) {
    this.rc = new RangeEncoder(new Uint16Array((0x300 << (lc + lp)) + LITERALS).fill(0x400));
  }

  /** The LZMA properties byte. */
  get properties(): number {
    return (this.pb * 5 + this.lp) * 9 + this.lc;
  }

  literal(...bytes: number[]): this {
    for (const byte of bytes) {
      const position = this.data.length;
      this.rc.bit(IS_MATCH + (this.state << 4) + this.positionState(), 0);
      const previous = this.data[position - 1] ?? 0;
      const base = LITERALS + 0x300 * ((previous >>> (8 - this.lc)) + ((position & ((1 << this.lp) - 1)) << this.lc));
      let symbol = 1;
      let match = this.state >= 7 ? (this.data[position - this.reps[0]!] ?? 0) : -1;
      for (let k = 7; k >= 0; k--) {
        const bit = (byte >>> k) & 1;
        if (match >= 0) {
          const matchBit = (match >>> 7) & 1;
          match = (match << 1) & 0xff;
          this.rc.bit(base + ((matchBit + 1) << 8) + symbol, bit);
          if (matchBit !== bit) match = -1;
        } else {
          this.rc.bit(base + symbol, bit);
        }
        symbol = symbol * 2 + bit;
      }
      this.state = this.state < 4 ? 0 : this.state < 10 ? this.state - 3 : this.state - 6;
      this.data.push(byte);
    }
    return this;
  }

  /** A match at a new distance (1 = the last byte). */
  match(distance: number, length: number): this {
    this.newDistance(distance, length);
    return this.copy(length);
  }

  /** The end marker: a match at distance 0xffffffff + 1. */
  end(): this {
    this.newDistance(0x100000000, 2);
    return this;
  }

  private newDistance(distance: number, length: number): void {
    this.rc.bit(IS_MATCH + (this.state << 4) + this.positionState(), 1);
    this.rc.bit(IS_REP + this.state, 0);
    this.length(MATCH_LENGTHS, length);
    this.state = this.state < 7 ? 7 : 10;
    const value = (distance - 1) >>> 0;
    const slot = value < 4 ? value : 2 * (31 - Math.clz32(value)) + ((value >>> (30 - Math.clz32(value))) & 1);
    this.tree(POSITION_SLOTS + (Math.min(length - 2, 3) << 6), 6, slot);
    if (slot >= 4) {
      const footer = (slot >>> 1) - 1;
      const base = ((2 | (slot & 1)) << footer) >>> 0;
      const reduced = value - base;
      if (slot < 14) {
        this.reverseTree(SPECIAL_POSITIONS - 1 + base - slot, footer, reduced);
      } else {
        this.rc.direct(reduced >>> 4, footer - 4);
        this.reverseTree(ALIGN, 4, reduced & 15);
      }
    }
    this.reps = [distance >>> 0, ...this.reps.slice(0, 3)];
  }

  /** A match at the `which`th (0..3) last distance. */
  rep(which: number, length: number): this {
    this.rc.bit(IS_MATCH + (this.state << 4) + this.positionState(), 1);
    this.rc.bit(IS_REP + this.state, 1);
    if (which === 0) {
      this.rc.bit(IS_REP_G0 + this.state, 0);
      this.rc.bit(IS_REP0_LONG + (this.state << 4) + this.positionState(), 1);
    } else {
      this.rc.bit(IS_REP_G0 + this.state, 1);
      this.rc.bit(IS_REP_G1 + this.state, which === 1 ? 0 : 1);
      if (which > 1) this.rc.bit(IS_REP_G2 + this.state, which - 2);
      const [distance] = this.reps.splice(which, 1);
      this.reps.unshift(distance!);
    }
    this.length(REP_LENGTHS, length);
    this.state = this.state < 7 ? 8 : 11;
    return this.copy(length);
  }

  /** One byte from the last distance. */
  shortRep(): this {
    this.rc.bit(IS_MATCH + (this.state << 4) + this.positionState(), 1);
    this.rc.bit(IS_REP + this.state, 1);
    this.rc.bit(IS_REP_G0 + this.state, 0);
    this.rc.bit(IS_REP0_LONG + (this.state << 4) + this.positionState(), 0);
    this.state = this.state < 7 ? 9 : 11;
    return this.copy(1);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.rc.finish());
  }

  private positionState(): number {
    return this.data.length & ((1 << this.pb) - 1);
  }

  private length(base: number, length: number): void {
    const value = length - 2;
    const positionState = this.positionState();
    if (value < 8) {
      this.rc.bit(base, 0);
      this.tree(base + 2 + positionState * 8, 3, value);
    } else if (value < 16) {
      this.rc.bit(base, 1);
      this.rc.bit(base + 1, 0);
      this.tree(base + 0x82 + positionState * 8, 3, value - 8);
    } else {
      this.rc.bit(base, 1);
      this.rc.bit(base + 1, 1);
      this.tree(base + 0x102, 8, value - 16);
    }
  }

  private tree(base: number, count: number, value: number): void {
    let node = 1;
    for (let k = count - 1; k >= 0; k--) {
      const bit = (value >>> k) & 1;
      this.rc.bit(base + node, bit);
      node = node * 2 + bit;
    }
  }

  private reverseTree(base: number, count: number, value: number): void {
    let node = 1;
    for (let k = 0; k < count; k++) {
      const bit = (value >>> k) & 1;
      this.rc.bit(base + node, bit);
      node = node * 2 + bit;
    }
  }

  /** What the decoder copies (bytes before the start read as undefined: only failing tests do that). */
  private copy(length: number): this {
    for (let k = 0; k < length; k++) this.data.push(this.data[this.data.length - this.reps[0]!]!);
    return this;
  }
}

/** Every kind of token, at distances near and far, with lengths from each length coder branch. */
function everyToken(writer: LzmaWriter): LzmaWriter {
  writer.literal(...Buffer.from('NsPack sample text, NsPack sample text; '));
  writer.match(20, 19).literal(0x21).rep(0, 4).shortRep().shortRep();
  writer.literal(...Buffer.from('abcdefghijklmnop')).match(16, 12).match(5, 3).rep(1, 7).rep(2, 5).rep(3, 2).rep(0, 30);
  for (let k = 0; k < 600; k++) writer.literal((k * 37 + (k >> 3)) & 0xff);
  writer.match(500, 200).match(131, 9).match(700, 273).literal(1, 2, 3).rep(1, 18).shortRep().literal(0x99);
  return writer;
}

function decode(stream: Uint8Array, size: number, properties: { lc: number; lp: number; pb: number } = { lc: 3, lp: 0, pb: 2 }) {
  const output = new Uint8Array(size);
  const debug: string[] = [];
  const ok = unspDecode(stream, output, properties.lc, properties.lp, properties.pb, (m) => debug.push(m));
  return { ok, output, debug };
}

describe('unsp decoder', () => {
  it('decodes every kind of token, for several literal and position settings', () => {
    for (const [lc, lp, pb] of [[3, 0, 2], [0, 2, 0], [8, 0, 4], [4, 4, 4], [1, 1, 1]] as const) {
      const writer = everyToken(new LzmaWriter(lc, lp, pb));
      const { ok, output } = decode(writer.finish(), writer.data.length, { lc, lp, pb });
      assert.equal(ok, true, `lc ${lc} lp ${lp} pb ${pb}`);
      assert.deepEqual([...output], writer.data);
    }
  });

  it('ends at an end marker, leaving the rest of the output as it was', () => {
    const writer = new LzmaWriter().literal(1, 2, 3).match(3, 6).end();
    const { ok, output } = decode(writer.finish(), 32);
    assert.equal(ok, true);
    assert.deepEqual([...output], [1, 2, 3, 1, 2, 3, 1, 2, 3, ...new Array<number>(23).fill(0)]);
  });

  it('stops when the output is full, and fails when a match would run past it', () => {
    const writer = new LzmaWriter().literal(...Buffer.from('0123456789')).match(10, 10).literal(0x41);
    const stream = writer.finish();
    assert.deepEqual(decode(stream, 10), { ok: true, output: Uint8Array.from(writer.data.slice(0, 10)), debug: [] });
    assert.equal(decode(stream, 20).ok, true);
    // The match ends 5 bytes past a 15-byte output: ClamAV prints the output and where the copy went.
    assert.deepEqual(decode(stream, 15).debug, ['0x0 f 0xa a']);
    assert.equal(decode(stream, 15).ok, false);
  });

  it('fails on distances before the start and a repeat at the very start', () => {
    assert.equal(decode(new LzmaWriter().literal(7).match(2, 2).finish(), 3).ok, false);
    assert.equal(decode(new LzmaWriter().literal(7).match(1, 2).finish(), 3).ok, true);
    assert.equal(decode(new LzmaWriter().shortRep().finish(), 2).ok, false);
    assert.equal(decode(new LzmaWriter().literal(7).shortRep().finish(), 2).ok, true);
    // The last distances start at 1: a repeat of them at the start reaches before it.
    assert.equal(decode(new LzmaWriter().rep(2, 3).finish(), 3).ok, false);
  });

  it('fails when the input runs out before the output is full, not when only the last symbol is short', () => {
    const writer = new LzmaWriter().literal(...Buffer.from('some text to decode, some text to decode'));
    const stream = writer.finish();
    assert.equal(decode(stream, writer.data.length).ok, true);
    // The last symbols read past the end (as 0xff bytes) but complete the output: success, as ClamAV's.
    let shortest = stream.length;
    while (shortest > 0 && decode(stream.subarray(0, shortest - 1), writer.data.length).ok) shortest--;
    assert.ok(shortest < stream.length);
    assert.equal(decode(stream.subarray(0, 8), writer.data.length).ok, false);
    assert.equal(decode(new Uint8Array(4), 1).ok, false);
    assert.equal(decode(new Uint8Array(5), 1).ok, true);
  });

  it('decodes raw LZMA streams from xz', needsTool('xz'), () => {
    const text = Buffer.from(Array.from({ length: 400 }, (_, k) => `line ${k % 37} of the NsPack test ${k * k}\n`).join(''));
    const random = new Random(3);
    const mixed = Buffer.concat([text, Buffer.from(Array.from({ length: 3000 }, () => random.below(256))), text]);
    // xz allows lc + lp up to 4.
    for (const [lc, lp, pb] of [[3, 0, 2], [0, 0, 0], [2, 2, 1], [4, 0, 4], [0, 4, 3]] as const) {
      const stream = runTool('xz', ['-c', '--format=raw', `--lzma1=preset=6,lc=${lc},lp=${lp},pb=${pb}`], mixed);
      const { ok, output } = decode(stream, mixed.length, { lc, lp, pb });
      assert.equal(ok, true);
      assert.deepEqual(Buffer.from(output), mixed);
      // xz ends raw streams with an end marker: a larger output stops there.
      const larger = decode(stream, mixed.length + 100, { lc, lp, pb });
      assert.equal(larger.ok, true);
      assert.deepEqual(Buffer.from(larger.output.subarray(0, mixed.length)), mixed);
    }
  });

  it('never throws nor loops on noise', () => {
    const random = new Random(8);
    for (let n = 0; n < 300; n++) {
      const stream = Uint8Array.from({ length: random.below(600) }, () => random.below(256));
      if (n % 3 === 0) stream.fill(0, 0, Math.min(stream.length, 1));
      const result = decode(stream, 1 + random.below(5000), { lc: random.below(9), lp: random.below(5), pb: random.below(5) });
      assert.equal(typeof result.ok, 'boolean');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Synthetic NsPack files: a first section of 0x1000 bytes to unpack into, and the packer's
// section with its entry code (`pushf; pusha; call $+5; pop ebp; mov eax, 7`, the distance back
// to the pointer to its data at +17), that pointer, the data (LZMA properties, packed and
// unpacked sizes, the stream) and the jump to the original entry point at +0x27a.

const BASE = 0x400000;
const ENTRY_CODE = [0x9c, 0x60, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x5d, 0xb8, 0x07, 0x00, 0x00, 0x00];
/** File offsets: the packer's section starts at 0x600 (rva 0x2000); its entry code at rva 0x2100. */
const CODE_RVA = 0x2100;
const CODE_AT = 0x700;
const DATA_AT = 0xa00;
const ORIGINAL_ENTRY = 0x1234;

interface NspackSpec {
  /** The stream (default: every token, then padding to 0x1000 bytes). */
  writer?: LzmaWriter;
  /** The unpacked size in the header. */
  size?: number;
  /** Changes the packed size in the header. */
  packedSize?: (size: number) => number;
  /** A zero word before the header, which cli_scanpe skips. */
  zeroWord?: boolean;
  /** The header's bytes 1-4 (unused; the first three with the properties make the word tested for 0). */
  filler?: number[];
  /** The entry point jumps to the entry code. */
  jump?: boolean;
  /** The distance back from the entry code to the pointer to the data. */
  delta?: number;
  properties?: number;
  patches?: [number, number[]][];
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

/** Every kind of token, then long matches up to 0x1000 bytes. */
function defaultWriter(): LzmaWriter {
  const writer = everyToken(new LzmaWriter());
  for (let rest = 0x1000 - writer.data.length; rest > 0; rest = 0x1000 - writer.data.length) {
    if (rest === 1) writer.literal(0);
    else writer.match(700, Math.min(273, rest));
  }
  return writer;
}

function nspackFile(spec: NspackSpec = {}): { file: Uint8Array; unpacked: number[] } {
  const writer = spec.writer ?? defaultWriter();
  const stream = writer.finish();
  const header = [spec.properties ?? writer.properties, ...(spec.filler ?? [0x4e, 0x73, 0x50, 0x21]), ...u32((spec.packedSize ?? ((n) => n))(13 + stream.length)), ...u32(spec.size ?? 0x1000)];
  const data = [...(spec.zeroWord ? [0, 0, 0, 0] : []), ...header, ...stream];
  const delta = spec.delta ?? 0x20;
  const file = buildPe(
    {
      size: 0x2000,
      dosMagic: 0x5a4d,
      peOffset: 0x80,
      peSignature: 0x4550,
      plus: false,
      optionalHeaderSize: 0xe0,
      entryRva: spec.jump ? 0x2000 : CODE_RVA,
      sectionAlignment: 0x1000,
      fileAlignment: 0x200,
      headersSize: 0x400,
      directories: 16,
      sections: [
        { virtualAddress: 0x1000, virtualSize: 0x1000, rawOffset: 0x400, rawSize: 0x200 },
        { virtualAddress: 0x2000, virtualSize: 0x2000, rawOffset: 0x600, rawSize: 0x1a00 },
      ],
    },
    new Random(11),
  );
  const view = new DataView(file.buffer, file.byteOffset);
  view.setUint32(0x80 + 24 + 28, BASE, true);
  file.fill(0, 0x80 + 24 + 96, 0x80 + 24 + 96 + 128);
  file.set([...ENTRY_CODE, 0, 0, 0, 0, ...u32(0x54 - delta)], CODE_AT);
  if (spec.jump) file.set([0xe9, ...u32(CODE_RVA - 0x2005)], 0x600);
  if (delta <= CODE_AT) file.set(u32(DATA_AT - CODE_AT), CODE_AT - delta);
  assert.ok(DATA_AT + data.length <= file.length);
  file.set(data, DATA_AT);
  const jumpRva = CODE_RVA + 0x27a;
  file.set([0xe9, ...u32(ORIGINAL_ENTRY - (jumpRva + 5))], CODE_AT + 0x27a);
  assert.ok(DATA_AT > CODE_AT + 0x27f);
  for (const [at, bytes] of spec.patches ?? []) file.set(bytes, at);
  return { file, unpacked: writer.data };
}

type Run = StepDecision;

/** ClamAV's default limits, as far as these files reach them: sizes over 100 MiB (--max-filesize) are refused. */
const defaultLimits = (size: number) => size <= 100 * 1024 * 1024;

const run = (file: Uint8Array, withinLimits: (size: number) => boolean = defaultLimits): Run => decisionOf(runStep(file, unpackNspack, { withinLimits }));

function rebuilt(unpacked: number[], size = 0x1000): Uint8Array {
  const image = new Uint8Array(size);
  image.set(unpacked.slice(0, size));
  return rebuildPe(image, [{ rva: 0x1000, virtualSize: size, rawOffset: 0, rawSize: size }], BASE, ORIGINAL_ENTRY, 0, 0)!;
}

const FOUND = 'cli_scanpe: NsPack: Found *start_of_stuff @delta-20';
const OEP = 'cli_scanpe: NsPack: OEP = 00001234';
const TABLE = 'unsp: table size = 15980';

interface Case {
  name: string;
  file: Uint8Array;
  kind: UnpackOutcome['kind'];
  debug: string[];
  /** What the stream decodes to. */
  unpacked?: number[];
  /** Ended by a marker: the rest of ClamAV's output buffer is uninitialised memory. */
  ended?: boolean;
}

/** Synthetic files for both the plain checks and the clamscan comparison, with what the step decides. */
function cases(): Case[] {
  const plain = nspackFile();
  const jumped = nspackFile({ jump: true, zeroWord: true, writer: everyToken(new LzmaWriter(0, 2, 1)).end() });
  const ended = new LzmaWriter().literal(...Buffer.from('short, then an end marker')).end();
  // 10 bytes, then 15 matches of 273: the last would end at 4105.
  const overrun = new LzmaWriter().literal(...Buffer.from('0123456789'));
  for (let k = 0; k < 15; k++) overrun.match(10, 273);
  const smallTable = new LzmaWriter(0, 0, 0).literal(0x55).match(1, 273);
  while (smallTable.data.length < 0x1000) smallTable.match(1, Math.min(273, 0x1000 - smallTable.data.length));
  const failed = 'cli_scanpe: NsPack: Unpacking failed';
  return [
    { name: 'plain', file: plain.file, kind: 'unpacked', debug: [FOUND, OEP, TABLE], unpacked: plain.unpacked },
    { name: 'jump to the entry code, zero word, end marker', file: jumped.file, kind: 'unpacked', debug: [FOUND, OEP, 'unsp: table size = 9836'], unpacked: jumped.unpacked, ended: true },
    { name: 'short stream ended by a marker', file: nspackFile({ writer: ended }).file, kind: 'unpacked', debug: [FOUND, OEP, TABLE], unpacked: ended.data, ended: true },
    { name: 'lc 0, lp 0, pb 0', file: nspackFile({ writer: smallTable }).file, kind: 'unpacked', debug: [FOUND, OEP, 'unsp: table size = 5228'], unpacked: smallTable.data },
    // Properties 0 and zero filler make a zero first word: the header is then read 4 bytes on,
    // the unpacked size from the stream's first bytes, over the limits.
    { name: 'header read as a zero word', file: nspackFile({ writer: new LzmaWriter(0, 0, 0).literal(1, 2, 3), filler: [0, 0, 0, 0] }).file, kind: 'stop', debug: [FOUND] },
    { name: 'a match past the output', file: nspackFile({ writer: overrun }).file, kind: 'next', debug: [FOUND, OEP, TABLE, '0x0 1000 0xef8 111', failed] },
    { name: 'stream cut short', file: nspackFile({ packedSize: () => 40 }).file, kind: 'next', debug: [FOUND, OEP, TABLE, failed] },
    { name: 'packed size of 13', file: nspackFile({ packedSize: () => 13 }).file, kind: 'next', debug: [FOUND, OEP, TABLE, failed] },
    { name: 'properties of 225', file: nspackFile({ properties: 225 }).file, kind: 'next', debug: [FOUND, OEP, failed] },
    { name: 'unpacked size not the first section\'s', file: nspackFile({ size: 0xfff }).file, kind: 'next', debug: [FOUND] },
    { name: 'packed data past the end of the file', file: nspackFile({ packedSize: () => 0x2000 }).file, kind: 'next', debug: [FOUND] },
    { name: 'pointer before the file', file: nspackFile({ delta: 0x800 }).file, kind: 'next', debug: ['cli_scanpe: NsPack: Found *start_of_stuff @delta-800'] },
    { name: 'no entry code', file: nspackFile({ patches: [[CODE_AT + 8, [0xb9]]] }).file, kind: 'next', debug: [] },
    { name: 'original entry jump outside the sections', file: nspackFile({ patches: [[0x80 + 24 + 0xe0 + 40 + 16, u32(0x200)]] }).file, kind: 'next', debug: [FOUND] },
  ];
}

/** The rebuilt file's headers (0x200 bytes for one section) and the section's first `length` bytes. */
function definedPart(file: Uint8Array, length: number): Uint8Array {
  return file.subarray(0, 0x200 + length);
}

describe('NsPack step', () => {
  it('finds the data, checks it and unpacks it as cli_scanpe does', () => {
    for (const { name, file, kind, debug, unpacked } of cases()) {
      const ours = run(file);
      assert.deepEqual(ours.debug, debug, name);
      assert.equal(ours.outcome.kind, kind, name);
      if (unpacked) assert.deepEqual(ours.outcome.kind === 'unpacked' && ours.outcome.data, rebuilt(unpacked), name);
    }
  });

  it('stops the scan over the size limits, with both sizes checked', () => {
    const sizes: number[] = [];
    const stopped = run(nspackFile().file, (size) => (sizes.push(size), false));
    assert.deepEqual([stopped.outcome.kind, stopped.debug, sizes], ['stop', [FOUND], [0x1000]]);
    // The table is checked against the limits too, but its refusal only fails the unpacking.
    const table = run(nspackFile().file, (size) => size !== 15980);
    assert.deepEqual([table.outcome.kind, table.debug], ['next', [FOUND, OEP, 'cli_scanpe: NsPack: Unpacking failed']]);
  });

  it('never throws on damaged files', () => {
    const random = new Random(21);
    const { file } = nspackFile();
    for (let n = 0; n < 300; n++) {
      const copy = file.slice(0, n % 7 === 0 ? 0x800 + random.below(file.length - 0x800) : file.length);
      for (let k = 1 + random.below(4); k > 0; k--) {
        const at = [CODE_AT - 0x20 + random.below(0x40), DATA_AT + random.below(0x300), CODE_AT + 0x27a + random.below(5)][random.below(3)]!;
        if (at < copy.length) copy[at] = random.below(256);
      }
      const parsed = parsePeFile(copy);
      if (parsed === undefined) continue;
      assert.ok(['unpacked', 'next', 'stop'].includes(run(copy).outcome.kind));
    }
  });

  it('decides and writes as clamscan does on the synthetic files', { skip: !haveClamscan && 'clamscan is not installed' }, () => {
    const dir = tempDir('clamts-nspack-');
    for (const { name, file, unpacked, ended } of cases()) {
      const { debug, outputs } = clamavUnpacking(dir.write('nspack.exe', file));
      const lines = debug
        .map((line) => line.slice('LibClamAV debug: '.length))
        .filter((line) => /NsPack|^unsp:|^0x[0-9a-f]+ [0-9a-f]+ 0x[0-9a-f]+ [0-9a-f]+$/.test(line) && !/ saved in |Submodule/.test(line))
        .map(asOffsets);
      // The limits' own line is the host's to print.
      const theirs = lines.filter((line) => !/: (scansize|filesize) exceeded /.test(line));
      const ours = run(file);
      assert.deepEqual(ours.debug, theirs, name);
      assert.equal(ours.outcome.kind === 'stop', theirs.length < lines.length, name);
      const written = ours.outcome.kind === 'unpacked' ? [Buffer.from(ours.outcome.data)] : [];
      if (ended) {
        // Only the headers and what was decoded are defined.
        assert.equal(outputs.length, 1, name);
        assert.equal(written[0]?.length, outputs[0]!.length, name);
        assert.deepEqual(definedPart(written[0]!, unpacked!.length), definedPart(outputs[0]!, unpacked!.length), name);
      } else {
        assert.deepEqual(written, outputs, name);
      }
    }
  });
});

/** ClamAV's `%p %x %p %x` line with its pointers made offsets from the first, as the step prints it. */
function asOffsets(line: string): string {
  const pointers = /^0x([0-9a-f]+) ([0-9a-f]+) 0x([0-9a-f]+) ([0-9a-f]+)$/.exec(line);
  if (!pointers) return line;
  const [, output, size, at, length] = pointers;
  return `0x0 ${size} 0x${(BigInt(`0x${at}`) - BigInt(`0x${output}`)).toString(16)} ${length}`;
}
