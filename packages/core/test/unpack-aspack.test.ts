/**
 * ASPack: the block decoder on streams written here from the format as the decoder reads it,
 * and cli_scanpe's ASPack step on clam-aspack.exe, damaged copies of it and copies moved to the
 * other versions' layouts, each checked against clamscan (debug lines and rebuilt file).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parsePeFile } from '../src/executables/pe-file.js';
import { AspackDecoder } from '../src/executables/unpackers/aspack-decoder.js';
import { unpackAspack } from '../src/executables/unpackers/aspack.js';
import { Random } from './fixtures/body/random-signatures.js';
import { clamavUnpacking, haveClamscan, runStep, decisionOf, type StepDecision } from './fixtures/executables/unpack-oracle.js';
import { tempDir } from './support/temp-dir.js';

const SAMPLE = '/usr/share/clamav-testfiles/clam-aspack.exe';
const haveSample = existsSync(SAMPLE);
const needsSample = { skip: !haveSample && 'clamav-testfiles is not installed' };
const needsClamscan = { skip: (!haveSample && 'clamav-testfiles is not installed') || (!haveClamscan && 'clamscan is not installed') };

// ---------------------------------------------------------------------------------------------
// A writer for ASPack's block format, from the decoder's side: a big-endian bit stream; a table
// section (a "keep the last lengths" bit, the code-length code's 19 lengths in 4 bits, then the
// lengths of the three other codes coded with it, as deltas on the last ones or runs); then
// tokens of the main code: literals, matches (slot and length in the symbol, a long length
// through the length code, distance extra bits — their low three through the distance code
// unless its lengths are all 3), and 720 for new tables.

class BitWriter {
  private readonly bytes: number[] = [];
  private current = 0;
  private count = 0;

  bits(value: number, count: number): void {
    for (let k = count - 1; k >= 0; k--) {
      this.current = (this.current << 1) | ((value >>> k) & 1);
      if (++this.count === 8) {
        this.bytes.push(this.current);
        this.current = 0;
        this.count = 0;
      }
    }
  }

  finish(padding = 8): Uint8Array {
    const bytes = [...this.bytes];
    if (this.count > 0) bytes.push(this.current << (8 - this.count));
    return Uint8Array.from([...bytes, ...new Array<number>(padding).fill(0)]);
  }
}

interface Code {
  readonly code: number;
  readonly length: number;
}

/**
 * The canonical code the decoder builds from lengths: shorter codes first, symbols in order
 * within a length. (An incomplete code is written too: the decoder must refuse it.)
 */
function canonical(lengths: readonly number[]): (Code | undefined)[] {
  const codes: (Code | undefined)[] = lengths.map(() => undefined);
  let next = 0;
  for (let length = 1; length <= 15; length++) {
    lengths.forEach((l, symbol) => {
      if (l !== length) return;
      codes[symbol] = { code: next >>> (24 - length), length };
      next += 1 << (24 - length);
    });
  }
  return codes;
}

/** Code-length code: 13 symbols of 4 bits, 6 of 5. */
const CODE_LENGTH_LENGTHS = Array.from({ length: 19 }, (_, s) => (s <= 12 ? 4 : 5));
/** Distance extra bits for the 58 slots, and the length tables (bases and extra bits of 28 symbols). */
const DISTANCE_EXTRA = Array.from({ length: 58 }, (_, s) => (s < 4 ? 0 : Math.min((s >> 1) - 1, 16)));
const LENGTH_EXTRA = Array.from({ length: 28 }, (_, s) => (s < 8 ? 0 : Math.min((s >> 2) - 1, 6)));
const LENGTH_BASES = bases(LENGTH_EXTRA);
const DISTANCE_BASES = bases(DISTANCE_EXTRA);

function bases(extra: readonly number[]): number[] {
  let base = 0;
  return extra.map((bits) => {
    const value = base;
    base += 1 << bits;
    return value;
  });
}

interface Tables {
  main: number[];
  length: number[];
  distance: number[];
}

/** Main code: 303 symbols of 9 bits and 418 of 10 (all 721); length code 4 of 4 bits and 24 of 5. */
function plainTables(distance: number[] = [2, 3, 3, 3, 3, 3, 4, 4]): Tables {
  return {
    main: Array.from({ length: 721 }, (_, s) => (s < 303 ? 9 : 10)),
    length: Array.from({ length: 28 }, (_, s) => (s < 4 ? 4 : 5)),
    distance,
  };
}

class AspackWriter {
  readonly out = new BitWriter();
  /** The bytes the stream decodes to. */
  readonly data: number[] = [];
  private codes: (Code | undefined)[][] = [];
  private previous: number[] = new Array<number>(757).fill(0);
  private distanceCode = false;
  private readonly recent = [0, 0, 0];

  constructor(tables: Tables, keep = false) {
    this.tables(tables, keep);
  }

  /** A table section; with `keep`, the lengths are sent as deltas on the last ones. */
  tables(tables: Tables, keep: boolean): void {
    const lengths = [...tables.main, ...tables.length, ...tables.distance];
    assert.equal(lengths.length, 757);
    this.out.bits(keep ? 1 : 0, 1);
    if (!keep) this.previous.fill(0);
    for (const l of CODE_LENGTH_LENGTHS) this.out.bits(l, 4);
    const lengthCode = canonical(CODE_LENGTH_LENGTHS);
    const put = (symbol: number) => this.put(lengthCode, symbol);
    for (let n = 0; n < lengths.length; ) {
      const zeros = runOf(lengths, n, (l) => l === 0);
      const repeats = n > 0 ? runOf(lengths, n, (l) => l === lengths[n - 1]) : 0;
      if (zeros >= 11) {
        const run = Math.min(zeros, 138);
        put(18);
        this.out.bits(run - 11, 7);
        n += run;
      } else if (zeros >= 3) {
        put(17);
        this.out.bits(zeros - 3, 3);
        n += zeros;
      } else if (repeats >= 3) {
        const run = Math.min(repeats, 6);
        put(16);
        this.out.bits(run - 3, 2);
        n += run;
      } else {
        put((lengths[n]! - this.previous[n]!) & 0xf);
        n++;
      }
    }
    this.previous = lengths;
    this.codes = [canonical(tables.main), canonical(tables.length), canonical(tables.distance)];
    this.distanceCode = tables.distance.some((l) => l !== 3);
  }

  literal(...bytes: number[]): this {
    for (const byte of bytes) {
      this.put(this.codes[0]!, byte);
      this.data.push(byte);
    }
    return this;
  }

  /** A match at a new distance (1 = the last byte). */
  match(distance: number, length: number): this {
    this.recent.unshift(distance - 1);
    this.recent.length = 3;
    return this.token(distance + 2, length, distance);
  }

  /** A match at the distance `which` (0..2) places back in the decoder's history. */
  again(which: number, length: number): this {
    const back = this.recent[which]!;
    if (which !== 0) {
      this.recent[which] = this.recent[0]!;
      this.recent[0] = back;
    }
    return this.token(which, length, back + 1);
  }

  /** Symbol 720: new tables in the middle of the block. */
  newTables(tables: Tables, keep: boolean): this {
    this.put(this.codes[0]!, 720);
    this.tables(tables, keep);
    return this;
  }

  finish(padding?: number): Uint8Array {
    return this.out.finish(padding);
  }

  private token(value: number, length: number, distance: number): this {
    const slot = DISTANCE_BASES.findLastIndex((base) => base <= value);
    const long = length >= 9;
    this.put(this.codes[0]!, 0x100 + slot * 8 + (long ? 7 : length - 2));
    if (long) {
      const symbol = LENGTH_BASES.findLastIndex((base) => base <= length - 9);
      this.put(this.codes[1]!, symbol);
      this.out.bits(length - 9 - LENGTH_BASES[symbol]!, LENGTH_EXTRA[symbol]!);
    }
    const extra = value - DISTANCE_BASES[slot]!;
    const bits = DISTANCE_EXTRA[slot]!;
    if (!this.distanceCode || bits < 3) {
      this.out.bits(extra, bits);
    } else {
      this.out.bits(extra >>> 3, bits - 3);
      this.put(this.codes[2]!, extra & 7);
    }
    for (let k = 0; k < length; k++) this.data.push(this.data[this.data.length - distance]!);
    return this;
  }

  private put(codes: (Code | undefined)[], symbol: number): void {
    const code = codes[symbol];
    assert.ok(code, `symbol ${symbol} has a code`);
    this.out.bits(code.code, code.length);
  }
}

function runOf(values: readonly number[], from: number, test: (value: number) => boolean): number {
  let n = 0;
  while (from + n < values.length && test(values[from + n]!)) n++;
  return n;
}

/** The unpacker's tables as the decoder finds them in the image: length bases, length extra bits, distance extra bits. */
const TABLES_AT = 0x20;
const OUTPUT_AT = 0x200;

interface Decoded {
  ok: boolean;
  output: Uint8Array;
  debug: string[];
}

function decode(input: Uint8Array, size: number, image = new Uint8Array(OUTPUT_AT + size)): Decoded {
  image.set(LENGTH_BASES, TABLES_AT);
  image.set(LENGTH_EXTRA, TABLES_AT + 0x1c);
  image.set(DISTANCE_EXTRA, TABLES_AT + 0x38);
  const debug: string[] = [];
  const decoder = new AspackDecoder(image, TABLES_AT, Uint32Array.from(DISTANCE_BASES), (m) => debug.push(m));
  const ok = decoder.decompressBlock(input, OUTPUT_AT, size);
  return { ok, output: image.slice(OUTPUT_AT, OUTPUT_AT + size), debug };
}

function text(value: string): number[] {
  return [...Buffer.from(value, 'latin1')];
}

describe('ASPack block decoder', () => {
  it('decodes literals, matches at new and remembered distances, long lengths and far distances', () => {
    for (const distance of [[2, 3, 3, 3, 3, 3, 4, 4], [3, 3, 3, 3, 3, 3, 3, 3]]) {
      const writer = new AspackWriter(plainTables(distance))
        .literal(...text('abcdefgh-'))
        .match(9, 8)
        .literal(...text('XYZ'))
        .match(3, 2)
        .again(0, 5)
        .match(17, 4)
        .again(1, 3)
        .again(1, 4)
        .again(2, 6)
        .again(2, 3)
        .again(1, 5)
        .again(0, 2)
        .match(1, 40)
        .literal(...text('0123456789'));
      for (let k = 0; k < 300; k++) writer.literal((k * 7) & 0xff);
      writer.match(290, 12).match(350, 130).again(1, 9).literal(0x7f);
      const { ok, output, debug } = decode(writer.finish(), writer.data.length);
      assert.equal(ok, true);
      assert.deepEqual([...output], writer.data);
      assert.deepEqual(debug, [`Aspack: decrypt size:${writer.data.length.toString(16)}`]);
    }
  });

  it('reads new tables in the middle of a block, fresh or as deltas on the last ones', () => {
    // Far distances then take all their bits from the stream.
    const second = plainTables([3, 3, 3, 3, 3, 3, 3, 3]);
    const writer = new AspackWriter(plainTables())
      .literal(...text('first tables '))
      .match(6, 6)
      .newTables(second, true)
      .literal(...text('second '))
      .match(20, 10)
      .newTables(plainTables(), false)
      .literal(...text('third'))
      .again(0, 4);
    const { ok, output } = decode(writer.finish(), writer.data.length);
    assert.equal(ok, true);
    assert.deepEqual([...output], writer.data);
  });

  it('stops at the size asked for, and fails where a match would run past it', () => {
    const writer = new AspackWriter(plainTables()).literal(...text('abcd')).match(4, 8).literal(0x21);
    assert.deepEqual([...decode(writer.finish(), 4).output], text('abcd'));
    assert.equal(decode(writer.finish(), 4).ok, true);
    assert.equal(decode(writer.finish(), 13).ok, true);
    // The match would end past 10 bytes.
    assert.equal(decode(writer.finish(), 10).ok, false);
  });

  it('fails on distances before the output', () => {
    assert.equal(decode(new AspackWriter(plainTables()).literal(0x41).match(1, 2).finish(), 3).ok, true);
    assert.equal(decode(new AspackWriter(plainTables()).literal(0x41).match(2, 2).finish(), 3).ok, false);
    // The remembered distances start at 1: usable after one byte, not before.
    assert.equal(decode(new AspackWriter(plainTables()).literal(0x41).again(2, 3).finish(), 4).ok, true);
    assert.equal(decode(new AspackWriter(plainTables()).again(0, 2).finish(), 2).ok, false);
  });

  it('fails on unusable tables and on input that runs out', () => {
    // All zeros: every length 0, no code at all.
    assert.equal(decode(new Uint8Array(64), 16).ok, false);
    // Nineteen code-length codes of one bit overfill the code.
    const overfull = new BitWriter();
    overfull.bits(0, 1);
    for (let k = 0; k < 19; k++) overfull.bits(1, 4);
    assert.equal(decode(overfull.finish(), 16).ok, false);
    // A main code one symbol short of complete.
    const incomplete = plainTables();
    incomplete.main[720] = 0;
    assert.equal(decode(new AspackWriter(incomplete).literal(0x41).finish(), 1).ok, false);
    assert.equal(decode(new AspackWriter(plainTables()).literal(0x41).finish(), 1).ok, true);

    const whole = new AspackWriter(plainTables()).literal(...text('a stream that is cut short'));
    // The reader keeps three bytes ahead of what it decodes.
    const bytes = whole.finish(3);
    assert.equal(decode(bytes, whole.data.length).ok, true);
    assert.equal(decode(bytes.subarray(0, bytes.length - 4), whole.data.length).ok, false);
    assert.equal(decode(new Uint8Array(0), 1).ok, false);
  });

  it('never throws nor loops on noise', () => {
    const random = new Random(17);
    for (let n = 0; n < 300; n++) {
      const input = Uint8Array.from({ length: 16 + random.below(400) }, () => random.below(256));
      // Keep the start of a valid table section now and then, so decoding gets further.
      if (n % 2 === 0) input.set(new AspackWriter(plainTables()).finish(0).subarray(0, Math.min(input.length, 12 + random.below(300))));
      const result = decode(input, 1 + random.below(2000));
      assert.equal(typeof result.ok, 'boolean');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// cli_scanpe's ASPack step.

type Run = StepDecision;

const run = (file: Uint8Array, options: { withinLimits?: (size: number) => boolean; entry?: number } = {}): Run =>
  decisionOf(runStep(file, unpackAspack, { withinLimits: options.withinLimits, entryLength: options.entry }));

function sample(): Uint8Array {
  return new Uint8Array(readFileSync(SAMPLE));
}

/** clam-aspack.exe: entry point (less one) at file offset 0xc00, the 2.12 layout. */
const EP = 0xc00;
/** Its section table, and where the last two sections' VirtualSize fields are. */
const SECTION_TABLE = 0x1c0;

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** clam-aspack.exe with a change. */
function changed(edit: (file: Uint8Array) => Uint8Array | void): Uint8Array {
  const file = sample();
  return edit(file) ?? file;
}

interface Layout {
  returnAt: number;
  blocks: number;
  tables: number;
  marker: number;
  originalEntry: number;
}

/**
 * clam-aspack.exe moved to another version's layout: the 2.12 `push 0; ret` broken, the other
 * one written, the block table (as 12-byte entries, with `skipped` entries of size 0xfffffef2
 * after the first), tables, call marker and original entry point moved.
 */
function relaid(layout: Layout, skipped = 0): Uint8Array {
  const original = sample();
  const file = original.slice();
  const entries: [number, number][] = [];
  for (let at = EP + 0x57c; readU32(original, at) !== 0; at += 8) entries.push([readU32(original, at), readU32(original, at + 4)]);
  file[EP + 1 + 0x3b9] = 0x90;
  file.set([0x68, 0, 0, 0, 0, 0xc3], EP + 1 + layout.returnAt);
  file.set(original.subarray(EP + 0x6d6, EP + 0x748), EP + layout.tables);
  file[EP + layout.marker] = original[EP + 0x148]!;
  file.set(original.subarray(EP + 0x39b, EP + 0x39f), EP + layout.originalEntry);
  let at = EP + layout.blocks;
  entries.forEach(([rva, size], k) => {
    file.set([...u32(rva), ...u32(size), ...u32(0x12345678)], at);
    at += 12;
    for (let n = 0; k === 0 && n < skipped; n++, at += 12) file.set([...u32(0x1000), ...u32(0xfffffef2), ...u32(0)], at);
  });
  file.set([...u32(0), ...u32(0)], at);
  return file;
}

const OTHER_LAYOUT: Layout = { returnAt: 0x41f, blocks: 0x5d8, tables: 0x732, marker: 0x13a, originalEntry: 0x401 };
const LAYOUT_242: Layout = { returnAt: 0x42b, blocks: 0x5e4, tables: 0x73e, marker: 0x148, originalEntry: 0x40d };

/** Damaged copies of clam-aspack.exe, each deciding differently somewhere in the step. */
function damagedSamples(): [string, Uint8Array][] {
  const cases: [string, Uint8Array][] = [];
  for (const size of [0x1300, 0x1400, 0x1600, 0x1c00]) cases.push([`cut to ${size.toString(16)}`, sample().subarray(0, size)]);
  for (let k = 0; k < 8; k++) cases.push([`first block, byte ${7 + k * 37} flipped`, changed((f) => void (f[0x600 + 7 + k * 37]! ^= 0x5a))]);
  for (let k = 0; k < 4; k++) cases.push([`third block, byte ${3 + k * 61} flipped`, changed((f) => void (f[0xa00 + 3 + k * 61]! ^= 0x21))]);
  cases.push(['no blocks', changed((f) => f.set(u32(0), EP + 0x57c))]);
  cases.push(['a block past the image', changed((f) => f.set(u32(0x7f000000), EP + 0x57c + 4))]);
  cases.push(['a block of size 0', changed((f) => f.set(u32(0), EP + 0x57c + 12))]);
  cases.push(['tables damaged', changed((f) => { for (let k = 0; k < 0x72; k += 5) f[EP + 0x6d6 + k]! ^= 3; })]);
  cases.push(['distance extra bits of 40 and more', changed((f) => { for (let k = 0; k < 58; k += 3) f[EP + 0x70e + k] = 40 + k; })]);
  cases.push(['call marker changed', changed((f) => void (f[EP + 0x148]! ^= 0xff))]);
  cases.push(['no push 0; ret', changed((f) => void (f[EP + 1 + 0x3b9] = 0x69))]);
  cases.push(['no pusha; call', changed((f) => void (f[EP + 1] = 0x61))]);
  // The entry section's virtual size shrunk below its raw size, the last section moved into the gap left and emptied.
  cases.push(['sections overrun the image', changed((f) => {
    f.set(u32(0x1000), SECTION_TABLE + 4 * 40 + 8);
    f.set([...u32(0), ...u32(0x6000)], SECTION_TABLE + 5 * 40 + 8);
  })]);
  return cases;
}

/** What clamscan's ASPack step said and wrote for `file`. */
function clamav(dir: ReturnType<typeof tempDir>, name: string, file: Uint8Array): { lines: string[]; outputs: Buffer[] } {
  const { debug, outputs } = clamavUnpacking(dir.write(name, file));
  const lines = debug.map((line) => line.slice('LibClamAV debug: '.length)).filter((line) => /^(cli_scanpe: )?Aspack/.test(line) && !/ saved in /.test(line));
  return { lines, outputs };
}

function md5(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** The debug lines of a 2.12 unpacking of clam-aspack.exe's three blocks. */
const SAMPLE_LINES = [
  'Aspack: Attempting to unpack Aspack 2.12.',
  'Aspack: unpacking block rva:2000 - sz:200',
  'Aspack: decrypt size:200',
  'Aspack: decomp block succeed',
  'Aspack: unpacking block rva:3058 - sz:1a8',
  'Aspack: decrypt size:1a8',
  'Aspack: decomp block succeed',
  'Aspack: unpacking block rva:4000 - sz:1000',
  'Aspack: decrypt size:1000',
  'Aspack: decomp block succeed',
  'Aspack: leaving loop all uncompressed',
  'Aspack: successfully rebuilt',
];

describe('ASPack step', () => {
  it('unpacks clam-aspack.exe into the file ClamAV 1.4 writes', needsSample, () => {
    const { outcome, debug } = run(sample());
    assert.equal(outcome.kind, 'unpacked');
    assert.ok(outcome.kind === 'unpacked');
    // ClamAV 1.4.6's rebuilt file: 17408 bytes.
    assert.equal(outcome.data.length, 17408);
    assert.equal(md5(outcome.data), '4a4477a6d2d866b38806e9bfa5a6bb2e');
    assert.deepEqual(debug, SAMPLE_LINES);
  });

  it('unpacks the same blocks from the other versions\' layouts', needsSample, () => {
    const expected = run(sample()).outcome;
    assert.ok(expected.kind === 'unpacked');
    for (const [name, file] of [['>2.12, <2.42', relaid(OTHER_LAYOUT)], ['2.42', relaid(LAYOUT_242, 2)]] as const) {
      const { outcome, debug } = run(file);
      assert.ok(outcome.kind === 'unpacked', name);
      assert.deepEqual(debug, [`Aspack: Attempting to unpack Aspack ${name}.`, ...SAMPLE_LINES.slice(1)]);
      // Only the unpacker's own section (not rebuilt) differs.
      assert.deepEqual(outcome.data, expected.data);
    }
  });

  it('checks the entry code, the size limits and the sections as cli_scanpe does', needsSample, () => {
    assert.deepEqual(run(changed((f) => void (f[EP + 1] = 0x61))), { outcome: { kind: 'next' }, debug: [] });
    assert.deepEqual(run(sample(), { entry: 0x3be }), { outcome: { kind: 'next' }, debug: [] });
    assert.deepEqual(run(sample(), { entry: 0x3bf }).outcome.kind, 'unpacked');
    const sizes: number[] = [];
    const limited = run(sample(), { withinLimits: (size) => (sizes.push(size), false) });
    assert.deepEqual([limited.outcome, limited.debug, sizes], [{ kind: 'stop' }, [], [0x8000]]);
    const hacked = run(damagedSamples().find(([name]) => name === 'sections overrun the image')![1]);
    assert.deepEqual([hacked.outcome, hacked.debug], [{ kind: 'next' }, ['cli_scanpe: Aspack: Probably hacked/damaged Aspack file.']]);
    const failed = run(changed((f) => f.set(u32(0), EP + 0x57c + 12)));
    assert.deepEqual(failed.outcome, { kind: 'next' });
    assert.deepEqual(failed.debug.slice(-3), ['Aspack: leaving loop all uncompressed', 'Aspack: unpacking failure', 'cli_scanpe: Aspack: Unpacking failed']);
  });

  it('leaves out ASPack\'s own two sections only when the last has no data', needsSample, () => {
    const { outcome } = run(sample());
    assert.ok(outcome.kind === 'unpacked');
    assert.equal(parsePeFile(outcome.data)?.sections.length, 4);
    const withData = run(changed((f) => f.set([...u32(0x200), ...u32(0x1c00)], SECTION_TABLE + 5 * 40 + 16)));
    assert.ok(withData.outcome.kind === 'unpacked');
    assert.equal(parsePeFile(withData.outcome.data)?.sections.length, 6);
  });

  it('never throws on damaged copies of clam-aspack.exe', needsSample, () => {
    const random = new Random(99);
    const original = sample();
    const started = Date.now();
    for (let n = 0; n < 300; n++) {
      const file = original.slice(0, n % 5 === 0 ? 0x1300 + random.below(original.length - 0x1300) : original.length);
      for (let k = 1 + random.below(6); k > 0; k--) {
        // Mostly in the packed blocks and the unpacker's tables.
        const at = random.below(2) === 0 ? 0x600 + random.below(0x600) : EP + 0x500 + random.below(0x250);
        if (at < file.length) file[at] = random.below(256);
      }
      const { outcome } = run(file);
      assert.ok(['unpacked', 'next', 'stop'].includes(outcome.kind));
    }
    assert.ok(Date.now() - started < 30_000);
  });
});

describe('ASPack step against clamscan', () => {
  const dir = tempDir('clamts-aspack-');

  it('writes the same rebuilt file as clamscan for clam-aspack.exe', needsClamscan, () => {
    const theirs = clamav(dir, 'clam-aspack.exe', sample());
    const ours = run(sample());
    assert.ok(ours.outcome.kind === 'unpacked');
    assert.equal(theirs.outputs.length, 1);
    assert.deepEqual(Buffer.from(ours.outcome.data), theirs.outputs[0]);
    assert.deepEqual(ours.debug, theirs.lines);
  });

  it('decides as clamscan does on damaged and relaid copies', needsClamscan, () => {
    const cases = [...damagedSamples(), ['>2.12, <2.42 layout', relaid(OTHER_LAYOUT)], ['2.42 layout with skipped entries', relaid(LAYOUT_242, 2)]] as [string, Uint8Array][];
    const kinds = new Set<string>();
    for (const [name, file] of cases) {
      const theirs = clamav(dir, 'damaged.exe', file);
      const ours = run(file);
      kinds.add(ours.outcome.kind);
      assert.deepEqual(ours.debug, theirs.lines, name);
      const written = ours.outcome.kind === 'unpacked' ? [Buffer.from(ours.outcome.data)] : [];
      assert.deepEqual(written, theirs.outputs, name);
    }
    assert.deepEqual([...kinds].sort(), ['next', 'unpacked']);
  });
});
