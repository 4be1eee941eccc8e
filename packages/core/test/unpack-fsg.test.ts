import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { firstEmptySection, parsePeFile } from '../src/executables/pe-file.js';
import { unfsg, type FsgDecodeResult } from '../src/executables/unpackers/fsg-decoder.js';
import { unpackFsg } from '../src/executables/unpackers/fsg.js';
import { Random } from './fixtures/body/random-signatures.js';
import { buildPe, type PeSpec } from './fixtures/executables/pe-builder.js';
import { atEmptySection, clamavUnpacking, haveClamscan, runStep, decisionOf, type StepDecision } from './fixtures/executables/unpack-oracle.js';
import { tempDir } from './support/temp-dir.js';

const TESTFILES = '/usr/share/clamav-testfiles';

// ---------------------------------------------------------------------------------------------
// An encoder for the stream format cli_unfsg reads, written from the decoder's side: each token
// is put out in the order the decoder takes its bits and bytes, so a tag byte lands where the
// decoder fetches it.

type Token = 'literal' | 'zero' | 'near' | 'short' | 'long' | 'repeat';

class FsgPacker {
  private readonly out: number[] = [];
  private tagAt = -1;
  private tagBits = 8;
  /** Whether the last token was a literal or a one-byte match (the decoder's "lostbit"). */
  private afterLiteral = true;
  private lastDistance = 0;
  readonly used = new Set<Token>();

  constructor(first: number) {
    this.out.push(first);
  }

  literal(value: number): void {
    this.bit(0);
    this.byte(value);
    this.note('literal', true);
  }

  /** A zero byte (distance 0) or one byte from 1-15 back. */
  near(distance: number): void {
    this.bits(0b111, 3);
    this.bits(distance, 4);
    this.note(distance === 0 ? 'zero' : 'near', true);
  }

  /** 2 or 3 bytes from 1-127 back. */
  short(distance: number, length: number): void {
    this.bits(0b110, 3);
    this.byte((distance << 1) | (length - 2));
    this.lastDistance = distance;
    this.note('short', false);
  }

  long(distance: number, length: number): void {
    this.bits(0b10, 2);
    this.gamma((distance >> 8) + 2 + (this.afterLiteral ? 1 : 0));
    this.byte(distance & 0xff);
    this.gamma(length - longExtra(distance));
    this.lastDistance = distance;
    this.note('long', false);
  }

  /** A match at the last distance, which only a literal may precede. */
  repeat(length: number): void {
    assert.ok(this.afterLiteral);
    this.bits(0b10, 2);
    this.gamma(2);
    this.gamma(length);
    this.note('repeat', false);
  }

  canRepeat(): number | undefined {
    return this.afterLiteral && this.lastDistance !== 0 ? this.lastDistance : undefined;
  }

  finish(): Uint8Array {
    this.bits(0b110, 3);
    this.byte(0);
    return Uint8Array.from(this.out);
  }

  private note(token: Token, literal: boolean): void {
    this.used.add(token);
    this.afterLiteral = literal;
  }

  private bit(value: number): void {
    if (this.tagBits === 8) {
      this.tagAt = this.out.length;
      this.out.push(0);
      this.tagBits = 0;
    }
    if (value) this.out[this.tagAt]! |= 0x80 >> this.tagBits;
    this.tagBits++;
  }

  private bits(value: number, count: number): void {
    for (let k = count - 1; k >= 0; k--) this.bit((value >> k) & 1);
  }

  private byte(value: number): void {
    this.out.push(value & 0xff);
  }

  /** Elias gamma (value >= 2): the bits after the leading 1, each followed by "more". */
  private gamma(value: number): void {
    const bits = value.toString(2).slice(1);
    for (let k = 0; k < bits.length; k++) {
      this.bit(Number(bits[k]));
      this.bit(k < bits.length - 1 ? 1 : 0);
    }
  }
}

/** How much longer the decoder makes a long match than its length code. */
function longExtra(distance: number): number {
  return (distance >= 0x7d00 ? 1 : 0) + (distance >= 0x500 ? 1 : 0) + (distance <= 0x7f ? 2 : 0);
}

/** Greedy LZ77 over `data`, using every token the format has. */
function pack(data: Uint8Array): { stream: Uint8Array; used: Set<Token> } {
  const packer = new FsgPacker(data[0]!);
  const chains = new Map<number, number[]>();
  const key = (at: number) => data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16);
  const remember = (at: number) => {
    if (at + 2 >= data.length) return;
    const list = chains.get(key(at)) ?? [];
    list.push(at);
    chains.set(key(at), list);
  };
  const matchLength = (at: number, distance: number) => {
    let length = 0;
    while (at + length < data.length && length < 600 && data[at + length] === data[at + length - distance]) length++;
    return length;
  };
  remember(0);
  for (let at = 1; at < data.length; ) {
    let best = { distance: 0, length: 0 };
    const candidates = [...(at + 2 < data.length ? (chains.get(key(at)) ?? []).slice(-48) : []), ...[1, 2, 3, 4, 5, 6, 7, 8].map((d) => at - d)];
    for (const from of candidates) {
      if (from < 0 || from >= at) continue;
      const length = matchLength(at, at - from);
      if (length > best.length || (length === best.length && at - from < best.distance)) best = { distance: at - from, length };
    }
    const repeatDistance = packer.canRepeat();
    const repeatLength = repeatDistance !== undefined && repeatDistance <= at ? matchLength(at, repeatDistance) : 0;
    let taken = 1;
    if (repeatLength >= 2 && repeatLength >= best.length) {
      packer.repeat(repeatLength);
      taken = repeatLength;
    } else if (best.length >= 2 && best.length <= 3 && best.distance <= 127) {
      packer.short(best.distance, best.length);
      taken = best.length;
    } else if (best.length - longExtra(best.distance) >= 2) {
      packer.long(best.distance, best.length);
      taken = best.length;
    } else if (data[at] === 0) {
      packer.near(0);
    } else {
      const near = [...Array(15).keys()].map((k) => k + 1).find((d) => d <= at && data[at - d] === data[at]);
      if (near !== undefined) packer.near(near);
      else packer.literal(data[at]!);
    }
    for (let k = 0; k < taken; k++) remember(at + k);
    at += taken;
  }
  return { stream: packer.finish(), used: packer.used };
}

/** Program-like data: text, zero runs, noise (unless `quiet`) and repeats from near and far. */
function sampleData(size: number, seed: number, quiet = false): Uint8Array {
  const random = new Random(seed);
  const data = new Uint8Array(size);
  let at = 0;
  while (at < size) {
    const kind = quiet ? 1 + 2 * random.below(3) : random.below(6);
    const length = Math.min(size - at, 1 + random.below(kind === 5 ? 400 : 60));
    for (let k = 0; k < length; k++, at++) {
      if (kind === 0) data[at] = 0x61 + random.below(6);
      else if (kind === 1) data[at] = 0;
      else if (kind === 2) data[at] = random.below(256);
      else if (kind === 3 && at >= 40000) data[at] = data[at - 33000 - (length % 7)]!;
      else if (at >= 1500) data[at] = data[at - (kind === 5 ? 1400 : 3 + (length % 200))]!;
      else data[at] = 0x30 + (at % 10);
    }
  }
  return data;
}

function decode(stream: Uint8Array, size: number, input = { start: 0, length: stream.length }): { result: FsgDecodeResult; output: Uint8Array } {
  const output = new Uint8Array(size);
  const result = unfsg({ bytes: stream, ...input }, { bytes: output, start: 0, length: size });
  return { result, output };
}

describe('cli_unfsg (the FSG/MEW decompressor)', () => {
  it('decodes streams of every token kind back to their data, and says where it stopped', () => {
    const used = new Set<Token>();
    for (const [size, seed] of [[3000, 1], [20000, 2], [50000, 3]] as const) {
      const data = sampleData(size, seed);
      const packed = pack(data);
      packed.used.forEach((token) => used.add(token));
      const { result, output } = decode(packed.stream, size + 100);
      assert.deepEqual(result, { ok: true, inputEnd: packed.stream.length, outputEnd: size });
      assert.deepEqual(output.subarray(0, size), data);
    }
    assert.deepEqual([...used].sort(), ['literal', 'long', 'near', 'repeat', 'short', 'zero']);
  });

  it('fails on every truncation of a stream, without throwing', () => {
    const data = sampleData(2000, 9);
    const { stream } = pack(data);
    for (let length = 0; length < stream.length; length++) {
      const { result } = decode(stream, 4000, { start: 0, length });
      assert.equal(result.ok, false, `truncated to ${length}`);
    }
  });

  it('fails when the output has no room for the data', () => {
    const data = sampleData(2000, 11);
    const { stream } = pack(data);
    assert.equal(decode(stream, 1999).result.ok, false);
    assert.equal(decode(stream, 2000).result.ok, true);
  });

  it('takes no tag byte from the last byte of the input (as doubledl refuses it)', () => {
    // 'A', then a tag byte saying 1 1 0 (a short match), then the end marker's byte 0.
    assert.deepEqual(decode(Uint8Array.from([0x41, 0xc0, 0x00]), 4).result, { ok: true, inputEnd: 3, outputEnd: 1 });
    assert.equal(decode(Uint8Array.from([0x41, 0xc0]), 4).result.ok, false);
    // A tag byte saying "literal" is refused at the end (no byte read), taken before it.
    const reason = (result: FsgDecodeResult) => (result.ok ? 'ok' : result.reason);
    assert.equal(reason(decode(Uint8Array.from([0x41, 0x00]), 4).result), 'input');
    assert.equal(reason(decode(Uint8Array.from([0x41, 0x00, 0x42, 0x43]), 4, { start: 0, length: 3 }).result), 'literal');
    // A tag byte at the end with data after it in the array but outside the window.
    assert.equal(decode(Uint8Array.from([0x41, 0x00, 0x42, 0xc0, 0x00]), 4, { start: 0, length: 2 }).result.ok, false);
  });

  it('reports a match reaching before the output window, a literal past it, and empty windows', () => {
    // A short match 5 back after one byte.
    const far = decode(Uint8Array.from([0x41, 0xc0, 5 << 1]), 16).result;
    assert.deepEqual(far, { ok: false, reason: 'match', inputAt: 3, outputAt: 1, matchLength: 2, matchDistance: 5 });
    // Three literals into two bytes of room.
    const full = decode(Uint8Array.from([0x41, 0x00, 0x42, 0x43, 0x44]), 2).result;
    assert.equal(full.ok === false && full.reason, 'literal');
    assert.equal(decode(Uint8Array.from([0x41, 0xc0, 0x00]), 0).result.ok, false);
    assert.equal(decode(Uint8Array.from([0x41, 0xc0, 0x00]), 4, { start: 0, length: 0 }).result.ok, false);
    assert.equal(decode(Uint8Array.from([0x41, 0xc0, 0x00]), 4, { start: 0, length: -5 }).result.ok, false);
  });

  it('never reads before the output window, whatever the array holds there', () => {
    const array = new Uint8Array(32).fill(0x77);
    // 'A', then one byte 2 back: before the window, though inside the array.
    const stream = Uint8Array.from([0x41, 0b1110010_0, 0x00]);
    const result = unfsg({ bytes: stream, start: 0, length: stream.length }, { bytes: array, start: 10, length: 10 });
    assert.deepEqual(result, { ok: false, reason: 'match', inputAt: 2, outputAt: 11, matchLength: 1, matchDistance: 2 });
    assert.deepEqual([array[10], array[11]], [0x41, 0x77]);
  });
});

// ---------------------------------------------------------------------------------------------
// Synthetic FSG-packed files: sections as FSG leaves them (an empty one, then the packed data),
// the unpacker's entry code as cli_scanpe looks for it, checked against clamscan byte for byte.

const BASE = 0x400000;

interface Section {
  rva: number;
  size: number;
  raw?: number;
  rawSize?: number;
}

/** A PE file with these sections and bytes put at file offsets; everything else is noise. */
function peWith(sections: Section[], entryRva: number, fileSize: number, patches: [number, Uint8Array | number[]][], base = BASE): Uint8Array {
  const spec: PeSpec = {
    size: fileSize,
    dosMagic: 0x5a4d,
    peOffset: 0x80,
    peSignature: 0x4550,
    plus: false,
    optionalHeaderSize: 0xe0,
    entryRva,
    sectionAlignment: 0x1000,
    fileAlignment: 0x200,
    headersSize: 0x400,
    directories: 16,
    sections: sections.map((s) => ({ virtualAddress: s.rva, virtualSize: s.size, rawOffset: s.raw ?? 0, rawSize: s.rawSize ?? 0 })),
  };
  const file = buildPe(spec, new Random(5));
  const view = new DataView(file.buffer, file.byteOffset);
  view.setUint32(0x80 + 24 + 28, base, true);
  // No data directories: nothing else in the PE scan should look at the noise.
  file.fill(0, 0x80 + 24 + 96, 0x80 + 24 + 96 + 128);
  for (const [at, bytes] of patches) file.set(bytes, at);
  return file;
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

function u16(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff];
}

/** FSG 2.0: the entry point swaps in a stack (inside the packed section) that says where things are. */
function fsg200(change: { destination?: number; source?: number; stackCell?: number; stack?: number; functions?: number; stream?: Uint8Array; room?: number; rawSize?: number } = {}) {
  const image = sampleData(0x2800, 21, true);
  const stream = change.stream ?? pack(image).stream;
  assert.ok(stream.length <= 0x400);
  const packed = 0x4000;
  const code = [0x87, 0x25, ...u32(BASE + (change.stackCell ?? packed))];
  const stack = change.stack ?? packed + 0x100;
  const frame = [...u32(BASE + (change.destination ?? 0x1000)), ...u32(BASE + (change.source ?? packed + 0x200)), 0, 0, 0, 0, 0, 0, 0, 0, ...u32(BASE + (change.functions ?? packed + 0x140)), 0, 0, 0, 0];
  const rawSize = change.rawSize ?? 0x600;
  const file = peWith(
    [{ rva: 0x1000, size: change.room ?? 0x3000 }, { rva: packed, size: 0x1000, raw: 0x400, rawSize }],
    packed + 0x10,
    0x400 + rawSize,
    [
      [0x400, u32(BASE + stack)],
      [0x410, code],
      // The frame, as far as it is inside the section.
      ...(stack >= packed ? [[0x400 + stack - packed, frame.slice(0, rawSize - (stack - packed))] as [number, number[]]] : []),
      [0x540 + 12, u32(BASE + 0x1234)],
      [0x600, stream],
    ],
  );
  return { file, image };
}

/** FSG 1.33: `mov esi, <support>` in the headers' padding, listing the original sections. */
function fsg133(change: { extra?: number[]; source?: number; destination?: number; terminator?: boolean; streams?: Uint8Array[]; base?: number; dsize?: number; supportAt?: number } = {}) {
  const base = change.base ?? BASE;
  const extra = change.extra ?? [0x3000, 0x2000];
  const images = [0x300, 0x200, 0x380].map((size, k) => sampleData(size, 30 + k, true));
  const streams = change.streams ?? images.map((image) => pack(image).stream);
  const packedRva = 0x1000 + (change.dsize ?? 0x4000);
  const supportAt = change.supportAt ?? 0x300;
  const support = [
    ...u32(0),
    ...u32(base + (change.destination ?? 0x1000)),
    ...u32(base + (change.source ?? packedRva + 0x100)),
    ...extra.flatMap((rva) => u32(base + rva + 1)),
    ...(change.terminator === false ? [] : u32(0)),
  ];
  const data = Uint8Array.from(streams.flatMap((stream) => [...stream]));
  assert.ok(data.length <= 0x500);
  const entryRva = packedRva + 0x10;
  const code = new Uint8Array(168);
  code.set([0xbe, ...u32(base + supportAt)]);
  code.set(u32(0x2000 - (entryRva + 167)), 163);
  const file = peWith(
    [{ rva: 0x1000, size: change.dsize ?? 0x4000 }, { rva: packedRva, size: 0x1000, raw: 0x400, rawSize: 0x600 }],
    entryRva,
    0xa00,
    [
      [supportAt, support],
      [0x410, code],
      [0x500, data],
    ],
    base,
  );
  return { file, images };
}

/** FSG 1.31: `mov ebx, <support>; mov edi, <dest>; mov esi, <source>`, the sections as page numbers. */
function fsg131(change: { pages?: number[]; end?: number; mark?: number; source?: number; call?: boolean; base?: number } = {}) {
  const base = change.base ?? BASE;
  const pages = change.pages ?? [0x3000, 0x2000].map((rva) => ((base + rva) >>> 12) + 2);
  const images = [0x300, 0x200, 0x280].map((size, k) => sampleData(size, 40 + k, true));
  const data = Uint8Array.from(images.flatMap((image) => [...pack(image).stream]));
  assert.ok(data.length <= 0x1f0);
  const packedRva = 0x4000;
  const entryRva = 0x7f40;
  const code = new Uint8Array(168);
  code.set([0xbb, ...u32(base + 0x300), 0xbf, ...u32(base + 0x1000), 0xbe, ...u32(base + (change.source ?? packedRva + 0x10))]);
  if (change.call) code[16] = 0xe8;
  const jump = 0xda + (change.call ? 6 : 0);
  const support = [...pages.flatMap(u16), ...u16(change.end ?? 1), 0, 0, 0, 0, ...u32(change.mark ?? 2)];
  const file = peWith(
    [
      { rva: 0x1000, size: 0x3000 },
      { rva: packedRva, size: 0x1000, raw: 0x400, rawSize: 0x200 },
      { rva: 0x5000, size: 0x4000, raw: 0x600, rawSize: 0x4000 },
    ],
    entryRva,
    0x4600,
    [
      [0x300, support],
      [0x600 + (entryRva - 0x5000), code],
      [0x410, data],
      [0x400 + jump + 2 + (entryRva - packedRva), u32(0x1000 - (entryRva + jump + 6))],
    ],
    base,
  );
  return { file, images };
}

type Run = StepDecision;

const run = (file: Uint8Array, withinLimits?: (size: number) => boolean): Run => decisionOf(runStep(file, atEmptySection(unpackFsg), { withinLimits }));

/** The rebuilt file's sections, as [rva, data]. */
function sectionsOf(rebuilt: Uint8Array): [number, Uint8Array][] {
  const pe = parsePeFile(rebuilt);
  assert.ok(pe);
  return pe.sections.map((s) => [s.rva, rebuilt.subarray(s.rawOffset, s.rawOffset + s.rawSize)]);
}

const OWN_LINE = /^(cli_scanpe: (FSG|Can't)|FSG:)/;

/**
 * clamscan's FSG lines for `file`, without those naming its temporary files; what it unpacked;
 * and whether it went on to the next packer (UPX, which always says something).
 */
function clamav(dir: ReturnType<typeof tempDir>, name: string, file: Uint8Array): { lines: string[]; outputs: Buffer[]; movedOn: boolean } {
  const { debug, outputs } = clamavUnpacking(dir.write(name, file));
  const messages = debug.map((line) => line.slice('LibClamAV debug: '.length));
  const end = messages.findIndex((m) => m.startsWith('***** Scanning'));
  const before = messages.slice(0, end < 0 ? undefined : end);
  const lines = before.filter((m) => OWN_LINE.test(m) && !m.includes(' saved in '));
  return { lines, outputs, movedOn: before.some((m) => m.startsWith('cli_scanpe: UPX:')) };
}

describe('FSG unpacking (cli_scanpe FSG blocks, unfsg_200, unfsg_133)', () => {
  it('unpacks FSG 2.0 into a one-section PE file at the old entry point', () => {
    const { file, image } = fsg200();
    const { outcome, debug } = run(file);
    assert.equal(outcome.kind, 'unpacked');
    assert.deepEqual(debug, ['cli_scanpe: FSG: found old EP @1234']);
    const rebuilt = outcome.kind === 'unpacked' ? outcome.data : new Uint8Array();
    const [[rva, data]] = sectionsOf(rebuilt) as [[number, Uint8Array]];
    assert.equal(rva, 0x1000);
    assert.deepEqual(data.subarray(0, image.length), image);
    assert.equal(parsePeFile(rebuilt)?.entryRva, 0x1234);
  });

  it('unpacks FSG 1.33 into the listed sections, sorted by address', () => {
    const { file, images } = fsg133();
    const { outcome, debug } = run(file);
    assert.equal(outcome.kind, 'unpacked');
    assert.deepEqual(debug, [
      'cli_scanpe: FSG: found old EP @2000',
      'FSG: .SECT0 RVA:1000 VSize:1000 ROffset: 0, RSize:300',
      'FSG: .SECT1 RVA:2000 VSize:1000 ROffset: 500, RSize:380',
      'FSG: .SECT2 RVA:3000 VSize:2000 ROffset: 300, RSize:200',
    ]);
    const sections = sectionsOf(outcome.kind === 'unpacked' ? outcome.data : new Uint8Array());
    assert.deepEqual(sections.map(([rva]) => rva), [0x1000, 0x2000, 0x3000]);
    assert.deepEqual(sections[0]![1].subarray(0, 0x300), images[0]);
    assert.deepEqual(sections[1]![1].subarray(0, 0x380), images[2]);
    assert.deepEqual(sections[2]![1].subarray(0, 0x200), images[1]);
  });

  it('unpacks FSG 1.31 (both forms of its jump to the old entry point)', () => {
    for (const call of [false, true]) {
      const { outcome, debug } = run(fsg131({ call }).file);
      assert.equal(outcome.kind, 'unpacked');
      assert.equal(debug[0], 'cli_scanpe: FSG: found old EP @1000');
    }
  });

  it('scans the bare decompressed image when there are too many sections to rebuild', () => {
    const extra = Array.from({ length: 96 }, (_, k) => 0x2000 + k * 0x1000);
    const streams = Array.from({ length: 97 }, (_, k) => pack(Uint8Array.from([k + 1, 2, 3, 0, 0, 0, k])).stream);
    const { file } = fsg133({ extra, streams, dsize: 0x62000, supportAt: 0x1d0 });
    const { outcome, debug } = run(file);
    assert.deepEqual(debug.slice(-2), ['FSG: Rebuilding failed', 'cli_scanpe: FSG: Successfully decompressed']);
    assert.equal(outcome.kind === 'unpacked' && outcome.data.length, 0x62000);
  });

  it('goes on to the next packer, or stops, where cli_scanpe does', () => {
    const next = (file: Uint8Array, ...lines: string[]) => {
      const { outcome, debug } = run(file);
      assert.deepEqual([outcome.kind, debug], ['next', lines]);
    };
    next(fsg200({ stackCell: 0x5000 }).file, 'cli_scanpe: FSG: xchg out of bounds (5000), giving up');
    next(fsg200({ stack: 0x3000 }).file, 'cli_scanpe: FSG: New ESP (3000) is wrong');
    const sizes = run(fsg200({ room: 0x1000, rawSize: 0x1000 }).file);
    assert.deepEqual([sizes.outcome.kind, sizes.debug], ['stop', ['cli_scanpe: FSG: Size mismatch (ssize: 4096, dsize: 4096)']]);
    next(fsg200({ stack: 0x45f0 }).file, 'cli_scanpe: FSG: New stack out of bounds');
    next(fsg200({ destination: 0x2000 }).file, 'cli_scanpe: FSG: Bad destination buffer (edi is 2000 should be 1000)');
    next(fsg200({ source: 0x4600 }).file, 'cli_scanpe: FSG: Source buffer out of section bounds');
    next(fsg200({ functions: 0x45f8 }).file, 'cli_scanpe: FSG: Array of functions out of bounds');
    next(fsg200({ stream: Uint8Array.from([0x41, 0xc0, 5 << 1]) }).file, 'cli_scanpe: FSG: found old EP @1234', 'cli_scanpe: FSG: Unpacking failed');
    next(fsg133({ extra: [0x3000, 0x9000] }).file, 'cli_scanpe: FSG: Original section 2 is out of bounds');
    next(fsg133({ terminator: false, extra: Array.from({ length: 61 }, () => 0x2000) }).file);
    next(fsg131({ mark: 3 }).file);
    next(fsg131({ source: 0x4300 }).file, 'cli_scanpe: FSG: found old EP @1000', 'cli_scanpe: FSG: Unpacking failed');
    next(fsg131({ base: 0x8000000 }).file, 'cli_scanpe: FSG: Original section 1 is out of bounds');

    const stopped = run(fsg200().file, () => false);
    assert.deepEqual([stopped.outcome.kind, stopped.debug], ['stop', []]);
  });

  it('matches clamscan byte for byte and line for line on synthetic FSG files', { skip: !haveClamscan && 'clamscan is not installed' }, () => {
    const dir = tempDir('clamts-fsg-');
    const extra = Array.from({ length: 96 }, (_, k) => 0x2000 + k * 0x1000);
    const streams = Array.from({ length: 97 }, (_, k) => pack(Uint8Array.from([k + 1, 2, 3, 0, 0, 0, k])).stream);
    const cases: [string, Uint8Array][] = [
      ['fsg200', fsg200().file],
      ['fsg200-xchg', fsg200({ stackCell: 0x5000 }).file],
      ['fsg200-esp', fsg200({ stack: 0x3000 }).file],
      ['fsg200-stack', fsg200({ stack: 0x45f0 }).file],
      ['fsg200-edi', fsg200({ destination: 0x2000 }).file],
      ['fsg200-esi', fsg200({ source: 0x4600 }).file],
      ['fsg200-functions', fsg200({ functions: 0x45f8 }).file],
      ['fsg200-sizes', fsg200({ room: 0x1000, rawSize: 0x1000 }).file],
      ['fsg200-corrupt', fsg200({ stream: Uint8Array.from([0x41, 0xc0, 5 << 1]) }).file],
      ['fsg133', fsg133().file],
      ['fsg133-many', fsg133({ extra, streams, dsize: 0x62000, supportAt: 0x1d0 }).file],
      ['fsg133-misaligned', fsg133({ extra: [0x3000, 0x2800] }).file],
      ['fsg133-outside', fsg133({ extra: [0x3000, 0x9000] }).file],
      ['fsg133-unterminated', fsg133({ terminator: false, extra: Array.from({ length: 61 }, () => 0x2000) }).file],
      ['fsg133-edi', fsg133({ destination: 0x2000 }).file],
      ['fsg133-esi', fsg133({ source: 0x5600 }).file],
      ['fsg131', fsg131().file],
      ['fsg131-call', fsg131({ call: true }).file],
      ['fsg131-mark', fsg131({ mark: 3 }).file],
      ['fsg131-end2', fsg131({ end: 2 }).file],
      ['fsg131-signed', fsg131({ base: 0x8000000 }).file],
      ['fsg131-esi', fsg131({ source: 0x4400 }).file],
      ['fsg131-esi-raw', fsg131({ source: 0x4300 }).file],
    ];
    for (const [name, file] of cases) {
      const ours = run(file);
      const theirs = clamav(dir, name, file);
      assert.deepEqual(ours.debug, theirs.lines, name);
      assert.equal(theirs.movedOn, ours.outcome.kind === 'next', name);
      assert.equal(theirs.outputs.length, ours.outcome.kind === 'unpacked' ? 1 : 0, name);
      if (ours.outcome.kind === 'unpacked') assert.ok(Buffer.from(ours.outcome.data).equals(theirs.outputs[0]!), `${name}: output differs`);
    }
  });

  it('leaves clam-upx.exe to UPX, as clamscan does; clam-fsg.exe has no empty section', { skip: !existsSync(`${TESTFILES}/clam-upx.exe`) && 'clamav-testfiles is not installed' }, () => {
    const upx = run(new Uint8Array(readFileSync(`${TESTFILES}/clam-upx.exe`)));
    assert.deepEqual(upx, { outcome: { kind: 'next' }, debug: [] });
    const fsg = new Uint8Array(readFileSync(`${TESTFILES}/clam-fsg.exe`));
    // Neither the file nor the PE file embedded in it (at 6112) has an empty section: cli_scanpe
    // never reaches the FSG blocks (clamscan prints no "empty section found" for it).
    for (const data of [fsg, fsg.subarray(6112)]) assert.equal(firstEmptySection(parsePeFile(data)!), undefined);
    if (haveClamscan) {
      const dir = tempDir('clamts-fsg-real-');
      assert.deepEqual(clamav(dir, 'upx.exe', readFileSync(`${TESTFILES}/clam-upx.exe`)).lines, []);
      const debug = clamavUnpacking(`${TESTFILES}/clam-fsg.exe`).debug;
      assert.equal(debug.filter((line) => /empty section found|FSG:/.test(line) && !/Submodule/.test(line)).length, 0);
    }
  });
});
