/**
 * Petite unpacking against real clamscan: Debian's clam-petite.exe byte for byte, damaged copies
 * of it, and built Petite files that reach the paths the sample does not (2.1's layout, a
 * relocated stub, mangled imports, sections that do not fit, too many sections, a bad
 * back-reference). For each, the step's own debug lines, its decision (unpacked, stop, or on to
 * the next packer) and its output must be clamscan's.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parsePeFile } from '../src/executables/pe-file.js';
import { unpackPetite } from '../src/executables/unpackers/petite.js';
import { Random } from './fixtures/body/random-signatures.js';
import { basePeSpec, buildPe } from './fixtures/executables/pe-builder.js';
import { clamavUnpacking, haveClamscan, runStep } from './fixtures/executables/unpack-oracle.js';
import { tempDir } from './support/temp-dir.js';

const CLAM_PETITE = '/usr/share/clamav-testfiles/clam-petite.exe';
const PETITE_LINES = /^(cli_scanpe: )?Petite/;
/** Printed where cli_scanpe has tried every unpacker: the step before it said "next". */
const PE_SCAN_END = 'Bytecode executing hook id 257';

/**
 * Runs the step and clamscan on `data`: the same Petite lines, the same decision, the same bytes.
 * Returns the step's lines.
 */
function assertAsClamAV(dir: ReturnType<typeof tempDir>, name: string, data: Uint8Array): string[] {
  const { outcome, debug } = runStep(data, unpackPetite);
  const real = clamavUnpacking(dir.write(name, data));
  const theirs = real.debug.map((line) => line.slice('LibClamAV debug: '.length)).filter((line) => PETITE_LINES.test(line) && !line.includes('saved in'));
  const mine = debug.filter((line) => PETITE_LINES.test(line));
  assert.deepEqual(mine, theirs, `${name}: the debug lines`);
  const decision = real.outputs.length > 0 ? 'unpacked' : real.debug.some((line) => line.includes(PE_SCAN_END)) ? 'next' : 'stop';
  assert.equal(outcome.kind, decision, `${name}: the decision`);
  if (outcome.kind === 'unpacked') assert.ok(Buffer.from(outcome.data).equals(real.outputs[0]!), `${name}: byte-identical to clamscan's file`);
  return mine;
}

// ---------------------------------------------------------------------------------------------
// Built Petite files.

const IMAGE_BASE = 0x400000;
const STUB_RVA = 0x3000;
const u32 = (value: number) => [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];

/**
 * A Petite-shaped file: section A (0x1000-0x3000, the unpacked sections' home, zeros), the stub's
 * section B (0x3000-0x6000, its entry point `mov eax, B` at 0x3000), and for 2.1 an empty last
 * section C. `contents` maps addresses in B to bytes.
 */
function petiteFile(version: 1 | 2, contents: ReadonlyArray<[number, ArrayLike<number>]>): Uint8Array {
  const sections = [
    { virtualAddress: 0x1000, virtualSize: 0x2000, rawOffset: 0x400, rawSize: 0x200 },
    { virtualAddress: STUB_RVA, virtualSize: 0x3000, rawOffset: 0x600, rawSize: 0x3000 },
  ];
  if (version === 1) sections.push({ virtualAddress: 0x6000, virtualSize: 0x1000, rawOffset: 0x3600, rawSize: 0x200 });
  const size = version === 1 ? 0x3800 : 0x3600;
  const file = buildPe({ ...basePeSpec(), size, entryRva: STUB_RVA, sections }, new Random(version));
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const optional = 0x80 + 24;
  view.setUint32(optional + 28, IMAGE_BASE, true);
  file.fill(0, optional + 96, optional + 0xe0); // no data directories
  file.fill(0, 0x400);
  const put = (rva: number, bytes: ArrayLike<number>) => file.set(bytes, 0x600 + rva - STUB_RVA);
  put(STUB_RVA, [0xb8, ...u32(IMAGE_BASE + STUB_RVA)]);
  for (const [rva, bytes] of contents) put(rva, bytes);
  return file;
}

/** Where each version's table starts in the stub's section, and its stub code's distances from a section's end. */
const LAYOUT = { 1: { table: 0x178, grown: 0x323, skew: 0x34 }, 2: { table: 0x1b8, grown: 0x355, skew: 0x35 } } as const;

/** Petite's coding of `data` with literals only: the first byte as is, then a flag byte (eight zero bits) before each eight literals, xored with the count left. */
function literals(data: ArrayLike<number>): number[] {
  const out = [data[0]!];
  for (let i = 1; i < data.length; i++) {
    if ((i - 1) % 8 === 0) out.push(0);
    out.push(data[i]! ^ ((data.length - i) & 0xff));
  }
  return out;
}

const pattern = (size: number, seed: number) => Array.from({ length: size }, (_, i) => (i * 7 + seed + (i >> 8)) & 0xff);

interface StubCode {
  readonly version: 1 | 2;
  readonly relocated: boolean;
  readonly key: number;
  readonly entry: number;
  readonly imports: number;
  readonly mangled: boolean;
}

/** A section's data ending with Petite's code, from which ClamAV reads the entry point and imports. */
function withStubCode(size: number, code: StubCode): number[] {
  const data = pattern(size, 3);
  const { grown, skew } = LAYOUT[code.version];
  const stub = size - grown - (code.relocated ? skew : 0);
  const set = (at: number, value: number) => data.splice(stub + at, 4, ...u32(value >>> 0));
  set(0x54, 0x645ec033);
  set(0x58, 0x1b8b188b);
  set(0x07, code.key ^ 0x9d6661aa);
  set(0x0b, code.key ^ 0xe908c483);
  set(0x0f, code.entry ^ code.key);
  set(0x121, code.imports);
  set(0x1c0, code.mangled ? 0x0badc0de : 0x90909090);
  return data;
}

/** A section entry of Petite's table (its fourth word is not read). */
const section = (source: number, size: number, rva: number) => [...u32(source), ...u32(size), ...u32(rva), ...u32(0)];
const END = u32(0);

/**
 * Petite 2.2 as it usually is: packed data moved to the end of A, a section fitted to A's start,
 * one holding the stub code (mangled imports, walked for the entry point), a ghost section.
 */
function fullPetite(): Uint8Array {
  const first = literals(pattern(0x100, 9));
  const code = literals(withStubCode(0x600, { version: 2, relocated: false, key: 0x12345678, entry: 0x0c0ffee0, imports: 0x3800, mangled: true }));
  const blob = [...first, ...code];
  while (blob.length % 4 !== 0) blob.push(0);
  const moved = 0x3000 - blob.length;
  const table = [
    ...u32(0x80000000 | (blob.length / 4)), ...u32(0x4000 + blob.length - 4), ...u32(0x2ffc),
    ...section(moved, 0x100, 0x1800),
    ...section(moved + first.length, 0x600, 0x2000),
    ...section(1, 0, 0x2f00),
    ...END,
  ];
  const thunks = [...u32(0x3900), ...u32(0x3a00), ...END];
  const lists: [number, number[]][] = [
    [0x3900, [0x5000, 0x80000001, 0x5004, 0x5008, 0x500c, 0x5010, 0x5014, 0x5018, 0x501c, 0].flatMap(u32)],
    [0x3a00, [0x6000, 0x6010, 0x80000002, 0x6020, 0].flatMap(u32)],
  ];
  return petiteFile(2, [[STUB_RVA + LAYOUT[2].table, table], [0x4000, blob], [0x3800, thunks], ...lists]);
}

/** One section with its stub code, compressed at 0x4000 and unpacked to A. */
function singleSection(version: 1 | 2, relocated: boolean): Uint8Array {
  const data = literals(withStubCode(0x600, { version, relocated, key: 0x5a5a1234, entry: 0x77, imports: 0x3800, mangled: false }));
  const table = [...section(0x4000, 0x600, 0x1000), ...END];
  return petiteFile(version, [[STUB_RVA + LAYOUT[version].table, table], [0x4000, data], [0x3800, [...u32(0x3900), ...END]], [0x3900, [...u32(0x5000), ...END]]]);
}

/** A table of `entries` 16-byte entries. */
function withTable(entries: number[][], extra: ReadonlyArray<[number, ArrayLike<number>]> = []): Uint8Array {
  return petiteFile(2, [[STUB_RVA + LAYOUT[2].table, [...entries.flat(), ...END]], ...extra]);
}

const builtFiles = (): [string, Uint8Array][] => [
  ['full', fullPetite()],
  ['relocated-stub', singleSection(2, true)],
  ['version-2.1', singleSection(1, false)],
  // Six copies of one 4 KiB section: the sixth no longer fits the image when packed together.
  ['too-much-data', withTable(Array.from({ length: 6 }, () => section(0x4000, 0x1000, 0x1000)), [[0x4000, literals(pattern(0x1000, 5))]])],
  ['97-sections', withTable(Array.from({ length: 97 }, (_, i) => section(1, 0, 0x3000 + i * 0x10)))],
  // 96 sections past the rebuilt headers: with the gap before them, one too many to rebuild.
  ['96-sections-and-a-gap', withTable(Array.from({ length: 96 }, () => section(1, 0, 0x3000)))],
  // Flag bits all set: a back-reference whose distance never ends.
  ['endless-distance', withTable([section(0x4000, 0x100, 0x1000)], [[0x4000, [0x41, ...new Array(12).fill(0xff)]]])],
];

// ---------------------------------------------------------------------------------------------

const skip = !haveClamscan ? 'clamscan is not installed' : !existsSync(CLAM_PETITE) ? 'clamav-testfiles is not installed' : false;

describe('Petite unpacking against clamscan (cli_scanpe, petite.c)', { skip }, () => {
  const dir = tempDir('clamts-petite-');

  it('clam-petite.exe: the sections unpacked, the stub stripped, the entry point decrypted, byte for byte', () => {
    const lines = assertAsClamAV(dir, 'clam-petite.exe', readFileSync(CLAM_PETITE));
    assert.ok(lines.includes('Petite: Old EP: 1020'), 'the entry point was decrypted');
  });

  it('damaged copies of clam-petite.exe: the same lines, decision and bytes', () => {
    const original = readFileSync(CLAM_PETITE);
    const pe = parsePeFile(original)!;
    const table = pe.sections[pe.sections.length - 1]!.rawOffset + LAYOUT[2].table;
    const damaged = (change: (copy: Buffer) => Buffer | void) => {
      const copy = Buffer.from(original);
      return change(copy) ?? copy;
    };
    const cases: [string, Uint8Array][] = [
      ['not-petite', damaged((copy) => void (copy[pe.entryPoint] = 0x90))],
      ['level-zero', damaged((copy) => void copy.writeUInt32LE(0x163c988d, pe.entryPoint + 0x80))],
      // The empty third section given a file offset but no size: cli_scanpe gives up.
      ['raw-without-size', damaged((copy) => void copy.writeUInt32LE(0x600, pe.peOffset + 24 + pe.optionalHeaderSize + 2 * 40 + 20))],
      // The first section's source moved off: the unpacking fails.
      ['bad-source', damaged((copy) => void (copy[table + 1] ^= 0x10))],
      // The move entry read as a section entry.
      ['no-move', damaged((copy) => void (copy[table + 0x11] ^= 0x01))],
      // The stub's section unpacked one byte off: its import list is not found, the entry point not decrypted.
      ['moved-stub', damaged((copy) => void (copy[table + 0x34] ^= 0x01))],
      // The stub code's key pair disagrees (a change in the packed data).
      ['bad-key', damaged((copy) => void (copy[0x96e] ^= 0x01))],
      // The file cut in its first section: zeros unpacked in place of data.
      ['cut', damaged((copy) => copy.subarray(0, 0xa00))],
    ];
    const decisions = cases.map(([name, data]) => [name, runStep(data, unpackPetite).outcome.kind]);
    for (const [name, data] of cases) assertAsClamAV(dir, `${name}.exe`, data);
    // The damages reach each decision.
    assert.deepEqual(new Set(decisions.map(([, kind]) => kind)), new Set(['next', 'stop', 'unpacked']));
  });

  it('built Petite files: moved data, fitted and ghost sections, mangled imports, 2.1, limits', () => {
    const seen = new Map<string, string[]>();
    for (const [name, data] of builtFiles()) seen.set(name, assertAsClamAV(dir, `${name}.exe`, data));
    // Each file reaches the path it was built for.
    const has = (name: string, text: string) => assert.ok(seen.get(name)!.some((line) => line.includes(text)), `${name}: ${text}`);
    has('full', 'Petite: Old EP: ');
    has('full', 'Found petite code in sect1(2000)');
    has('relocated-stub', 'Encrypted EP: 77 | Array of imports: 3800');
    has('version-2.1', 'v2.1 compression detected');
    has('version-2.1', 'Old EP: 307c');
    has('too-much-data', 'Skipping section 5, Raw: 5000, RSize:1000');
    has('97-sections', 'maximum number of sections exceeded');
    has('96-sections-and-a-gap', 'Rebuilding failed');
    has('endless-distance', 'probably invalid file');
  });
});

describe('Petite unpacking on its own', () => {
  it('stops where the scan limits refuse the image, and where fewer than 200 bytes follow the entry point', () => {
    const data = fullPetite();
    const refused = runStep(data, unpackPetite, { withinLimits: (size) => size < 0x5000 });
    assert.equal(refused.outcome.kind, 'stop');
    assert.deepEqual(refused.debug, ['cli_scanpe: Petite: v2.2 compression detected']);
    const short = runStep(data, unpackPetite, { entryLength: 199 });
    assert.deepEqual([short.outcome.kind, short.debug], ['stop', []]);
  });

  it('unpacks a built file: the sections in address order, packed together, the entry point from the import walk', () => {
    const { outcome, debug } = runStep(fullPetite(), unpackPetite);
    assert.equal(outcome.kind, 'unpacked');
    assert.deepEqual(debug.filter((line) => line.includes('.SECT')), [
      'Petite: .SECT0 RVA:1000 VSize:1000 ROffset: 0, RSize:900',
      'Petite: .SECT1 RVA:2000 VSize:f00 ROffset: 900, RSize:2ab',
      'Petite: .SECT2 RVA:2f00 VSize:100 ROffset: bab, RSize:0',
    ]);
    // The second section's data (its header is the second after the rebuilt file's directories) is
    // the unpacked section without Petite's code.
    const file = outcome.kind === 'unpacked' ? outcome.data : new Uint8Array();
    const at = new DataView(file.buffer, file.byteOffset).getUint32(0x1c8 + 40 + 20, true);
    assert.deepEqual([...file.subarray(at, at + 0x2ab)], pattern(0x2ab, 3));
  });

  it('never throws on damaged copies: every byte of the real sample and the built file flipped, table words replaced', () => {
    const random = new Random(7);
    const originals = [fullPetite(), ...(existsSync(CLAM_PETITE) ? [readFileSync(CLAM_PETITE)] : [])];
    const kinds = new Set<string>();
    for (const original of originals) {
      const pe = parsePeFile(original)!;
      const table = pe.sections[pe.sections.length - 1]!.rawOffset + LAYOUT[2].table;
      for (let at = 0; at < original.length; at += 3) {
        const copy = Uint8Array.from(original);
        copy[at] ^= 1 << random.below(8);
        if (parsePeFile(copy)) kinds.add(runStep(copy, unpackPetite).outcome.kind);
      }
      for (let n = 0; n < 300; n++) {
        const copy = Uint8Array.from(original);
        new DataView(copy.buffer).setUint32(table + 4 * random.below(20), random.below(4) === 0 ? 0x80000000 + random.below(0x1000) : random.below(0x7000), true);
        kinds.add(runStep(copy, unpackPetite).outcome.kind);
      }
    }
    assert.deepEqual(kinds, new Set(['next', 'stop', 'unpacked']));
  });
});
