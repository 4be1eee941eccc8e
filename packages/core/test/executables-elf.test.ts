/**
 * ELF headers as ClamAV walks them (cli_elfheader for the target info, cli_scanelf for the scan):
 * crafted files of both classes and byte orders, valid and broken, checked field by field, then
 * scanned by real clamscan with signatures whose match depends on the parsed entry point and
 * sections (and on the parse succeeding at all), with the same debug lines and the same
 * `--alert-broken` reports.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { elfTargetInfo, scanElf } from '../src/executables/elf-header.js';
import { tempDir } from './support/temp-dir.js';
import { assertWellFormed, differences, type ExecutableFormat, filler, hasClamscan, type Random, randomVariants, sampleOf, type Sample } from './fixtures/executables/target-oracle.js';

const CLAMTS_CLAMSCAN = fileURLToPath(new URL('../../../bin/clamscan', import.meta.url));

// ---------------------------------------------------------------------------------------------
// A small ELF writer

interface SegmentSpec {
  type: number;
  offset: bigint;
  vaddr: bigint;
  memsz: bigint;
}

interface SectionSpec {
  type: number;
  /** sh_flags, when not SHF_ALLOC. */
  flags?: number;
  addr: bigint;
  offset: bigint;
  size: bigint;
}

interface ElfSpec {
  is64: boolean;
  little: boolean;
  /** e_type and e_machine, when not ET_EXEC and the class's x86 machine. */
  fileType?: number;
  machine?: number;
  /** e_ident[4] and e_ident[5] as written, when not the ones of `is64` / `little`. */
  classByte?: number;
  dataByte?: number;
  entry: bigint;
  phoff: bigint;
  phentsize?: number;
  /** e_phnum as written, when not the number of segments. */
  phnum?: number;
  segments: SegmentSpec[];
  shoff: bigint;
  shentsize?: number;
  shnum?: number;
  sections: SectionSpec[];
  /** File size: the headers are cut off where they go past it. */
  size: number;
}

const PT_LOAD = 1;
const PT_NOTE = 4;
const PT_PHDR = 6;
const SHT_PROGBITS = 1;
const SHT_STRTAB = 3;
const SHT_NOBITS = 8;

/** Writes fixed-width fields in one byte order, dropping any byte past the end of the buffer. */
class FieldWriter {
  constructor(
    readonly bytes: Uint8Array,
    private readonly little: boolean,
  ) {}

  put(at: bigint | number, width: number, value: bigint | number): void {
    let v = BigInt(value);
    for (let i = 0; i < width; i++) {
      const position = BigInt(at) + BigInt(this.little ? i : width - 1 - i);
      if (position < BigInt(this.bytes.length)) this.bytes[Number(position)] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
}

function buildElf(spec: ElfSpec): Uint8Array {
  const w = new FieldWriter(filler(spec.size, 0x454c46), spec.little);
  const word = spec.is64 ? 8 : 4;
  const phsize = spec.is64 ? 56 : 32;
  const shsize = spec.is64 ? 64 : 40;
  // The tables first: where one overlaps the file header, the header wins, as in a real file.
  spec.segments.forEach((s, i) => {
    const base = spec.phoff + BigInt(i * phsize);
    const values = spec.is64
      ? [[0, 4, s.type], [4, 4, 5], [8, 8, s.offset], [16, 8, s.vaddr], [24, 8, s.vaddr], [32, 8, s.memsz], [40, 8, s.memsz], [48, 8, 0x1000]]
      : [[0, 4, s.type], [4, 4, s.offset], [8, 4, s.vaddr], [12, 4, s.vaddr], [16, 4, s.memsz], [20, 4, s.memsz], [24, 4, 5], [28, 4, 0x1000]];
    for (const [offset, width, value] of values as [number, number, bigint | number][]) w.put(base + BigInt(offset), width, value);
  });
  spec.sections.forEach((s, i) => {
    const base = spec.shoff + BigInt(i * shsize);
    const values = spec.is64
      ? [[0, 4, i], [4, 4, s.type], [8, 8, s.flags ?? 2], [16, 8, s.addr], [24, 8, s.offset], [32, 8, s.size], [40, 4, 0], [44, 4, 0], [48, 8, 16], [56, 8, 0]]
      : [[0, 4, i], [4, 4, s.type], [8, 4, s.flags ?? 2], [12, 4, s.addr], [16, 4, s.offset], [20, 4, s.size], [24, 4, 0], [28, 4, 0], [32, 4, 16], [36, 4, 0]];
    for (const [offset, width, value] of values as [number, number, bigint | number][]) w.put(base + BigInt(offset), width, value);
  });
  [0x7f, 0x45, 0x4c, 0x46].forEach((b, i) => w.put(i, 1, b));
  w.put(4, 1, spec.classByte ?? (spec.is64 ? 2 : 1));
  w.put(5, 1, spec.dataByte ?? (spec.little ? 1 : 2));
  w.put(6, 1, 1);
  for (let i = 7; i < 16; i++) w.put(i, 1, 0);
  w.put(16, 2, spec.fileType ?? 2); // ET_EXEC
  w.put(18, 2, spec.machine ?? (spec.is64 ? 62 : 3));
  w.put(20, 4, 1);
  let at = 24;
  for (const value of [spec.entry, spec.phoff, spec.shoff]) {
    w.put(at, word, value);
    at += word;
  }
  const fields = [0, spec.is64 ? 64 : 52, spec.phentsize ?? phsize, spec.phnum ?? spec.segments.length];
  fields.push(spec.shentsize ?? shsize, spec.shnum ?? spec.sections.length, 0);
  w.put(at, 4, fields[0]!);
  fields.slice(1).forEach((value, i) => w.put(at + 4 + 2 * i, 2, value));
  return w.bytes;
}

/**
 * An executable of `is64` class: a PHDR segment, two loadable ones (the second holding the entry
 * point at file offset 0x1123) and five sections, the table at 0x2800 of a 0x3000-byte file.
 */
function baseSpec(is64: boolean, little: boolean): ElfSpec {
  const base = is64 ? 0x400000n : 0x08048000n;
  const phoff = is64 ? 64n : 52n;
  return {
    is64,
    little,
    entry: base + 0x1123n,
    phoff,
    segments: [
      { type: PT_PHDR, offset: phoff, vaddr: base + phoff, memsz: is64 ? 3n * 56n : 3n * 32n },
      { type: PT_LOAD, offset: 0n, vaddr: base, memsz: 0x1000n },
      { type: PT_LOAD, offset: 0x1000n, vaddr: base + 0x1000n, memsz: 0x1800n },
    ],
    shoff: 0x2800n,
    sections: [
      { type: 0, addr: 0n, offset: 0n, size: 0n },
      { type: SHT_PROGBITS, addr: base + 0x1000n, offset: 0x1000n, size: 0x800n },
      { type: SHT_PROGBITS, addr: base + 0x1800n, offset: 0x1800n, size: 0x400n },
      { type: SHT_NOBITS, addr: base + 0x1c00n, offset: 0x1c00n, size: 0x400n },
      { type: SHT_STRTAB, addr: 0n, offset: 0x2000n, size: 0x100n },
    ],
    size: 0x3000,
  };
}

function elf(is64: boolean, little: boolean, change: (spec: ElfSpec) => void = () => {}): Uint8Array {
  const spec = baseSpec(is64, little);
  change(spec);
  return buildElf(spec);
}

/** ClamAV's sections of the base file: address, file offset and size, no virtual size. */
function baseSections(is64: boolean) {
  const base = is64 ? 0x400000 : 0x08048000;
  return [
    { rva: 0, virtualSize: 0, rawOffset: 0, rawSize: 0 },
    { rva: base + 0x1000, virtualSize: 0, rawOffset: 0x1000, rawSize: 0x800 },
    { rva: base + 0x1800, virtualSize: 0, rawOffset: 0x1800, rawSize: 0x400 },
    { rva: base + 0x1c00, virtualSize: 0, rawOffset: 0x1c00, rawSize: 0x400 },
    { rva: 0, virtualSize: 0, rawOffset: 0x2000, rawSize: 0x100 },
  ];
}

const FORMS = [
  { is64: false, little: true, label: '32-bit little-endian' },
  { is64: false, little: false, label: '32-bit big-endian' },
  { is64: true, little: true, label: '64-bit little-endian' },
  { is64: true, little: false, label: '64-bit big-endian' },
];

// ---------------------------------------------------------------------------------------------
// Unit tests

describe('ELF target info (cli_elfheader)', () => {
  for (const { is64, little, label } of FORMS) {
    it(`reads a ${label} executable: entry point through its segment, every section`, () => {
      assert.deepEqual(elfTargetInfo(elf(is64, little)), { entryPoint: 0x1123, sections: baseSections(is64) });
    });
  }

  it('takes the data encoding byte 1 as little-endian and every other value as big-endian', () => {
    for (const dataByte of [0, 2, 3, 0xff]) {
      assert.equal(elfTargetInfo(elf(false, false, (s) => (s.dataByte = dataByte)))?.entryPoint, 0x1123, `byte ${dataByte}`);
    }
    // A little-endian file that says it is not: its fields read big-endian make no sense.
    assert.equal(elfTargetInfo(elf(false, true, (s) => (s.dataByte = 2))), undefined);
  });

  it('refuses a bad magic, an unknown class and headers cut off', () => {
    const bad = elf(false, true);
    bad[3] = 0x47;
    assert.equal(elfTargetInfo(bad), undefined);
    for (const classByte of [0, 3]) assert.equal(elfTargetInfo(elf(false, true, (s) => (s.classByte = classByte))), undefined);
    // A 32-bit file with no tables needs its 52 header bytes only; a 64-bit one needs 64.
    const bare = (is64: boolean, size: number) =>
      elf(is64, true, (s) => Object.assign(s, { entry: 0n, segments: [], sections: [], size }));
    assert.deepEqual(elfTargetInfo(bare(false, 52)), { entryPoint: 0, sections: [] });
    assert.equal(elfTargetInfo(bare(false, 51)), undefined);
    assert.deepEqual(elfTargetInfo(bare(true, 64)), { entryPoint: 0, sections: [] });
    assert.equal(elfTargetInfo(bare(true, 63)), undefined);
    assert.equal(elfTargetInfo(bare(true, 52)), undefined);
    assert.equal(elfTargetInfo(new Uint8Array(0)), undefined);
  });

  it('counts at most 128 program headers, and reads them only for a non-zero entry address', () => {
    assert.equal(elfTargetInfo(elf(false, true, (s) => (s.phnum = 129))), undefined);
    // 128 headers, the table past the end of the file: cut off.
    assert.equal(elfTargetInfo(elf(true, true, (s) => Object.assign(s, { phnum: 128, phoff: 0x2000n }))), undefined);
    assert.equal(elfTargetInfo(elf(true, true, (s) => Object.assign(s, { phnum: 128, phoff: 0x40n })))?.entryPoint, 0x1123);
    // Entry address 0, or no program headers: entry point 0, nothing else looked at.
    const noEntry = elf(true, true, (s) => Object.assign(s, { entry: 0n, phentsize: 7, phoff: 0xffff_ffffn }));
    assert.equal(elfTargetInfo(noEntry)?.entryPoint, 0);
    assert.equal(elfTargetInfo(elf(false, false, (s) => Object.assign(s, { phnum: 0, phentsize: 0 })))?.entryPoint, 0);
  });

  it('needs the standard program header size and the whole table', () => {
    assert.equal(elfTargetInfo(elf(false, true, (s) => (s.phentsize = 56))), undefined);
    assert.equal(elfTargetInfo(elf(true, true, (s) => (s.phentsize = 32))), undefined);
    assert.equal(elfTargetInfo(elf(false, true, (s) => (s.phoff = 0x3000n - 95n))), undefined);
    assert.equal(elfTargetInfo(elf(true, false, (s) => (s.phoff = 1n << 62n))), undefined);
  });

  it('maps the entry point through the first program header of any type that holds it', () => {
    const note = (s: ElfSpec) => s.segments.unshift({ type: PT_NOTE, offset: 0x200n, vaddr: s.entry - 0x23n, memsz: 0x100n });
    assert.equal(elfTargetInfo(elf(false, true, note))?.entryPoint, 0x223);
    assert.equal(elfTargetInfo(elf(true, false, note))?.entryPoint, 0x223);
    // The end of a segment is not in it.
    assert.equal(elfTargetInfo(elf(false, true, (s) => (s.entry = 0x08048000n + 0x2800n))), undefined);
    assert.equal(elfTargetInfo(elf(false, true, (s) => (s.entry = 0x08048000n + 0x27ffn)))?.entryPoint, 0x27ff);
  });

  it('fails when no segment holds the entry point', () => {
    for (const { is64, little } of FORMS) {
      assert.equal(elfTargetInfo(elf(is64, little, (s) => (s.entry = 0x10n))), undefined);
    }
  });

  it("does ClamAV's arithmetic in the class's word: 32-bit sums wrap, 64-bit offsets keep 32 bits", () => {
    // vaddr + memsz wraps past 2^32 in a 32-bit file: the segment holds nothing.
    const high = (s: ElfSpec) => {
      s.segments = [{ type: PT_LOAD, offset: 0x100n, vaddr: 0xffff_f000n, memsz: 0x2000n }];
      s.entry = 0xffff_f010n;
    };
    assert.equal(elfTargetInfo(elf(false, true, high)), undefined);
    assert.equal(elfTargetInfo(elf(true, true, high))?.entryPoint, 0x110);
    // A 64-bit entry point offset past 4 GiB keeps its low 32 bits; so do section fields.
    const far = elfTargetInfo(
      elf(true, true, (s) => {
        s.segments[2]!.offset = 0x1_0000_1000n;
        s.sections[2] = { type: SHT_PROGBITS, addr: 0x7_0000_1234n, offset: 0x2_0000_0300n, size: 0x1_0000_0040n };
      }),
    );
    assert.equal(far?.entryPoint, 0x1123);
    assert.deepEqual(far?.sections[2], { rva: 0x1234, virtualSize: 0, rawOffset: 0x300, rawSize: 0x40 });
    // The entry offset wraps in a 32-bit file.
    const wrapped = elf(false, true, (s) => (s.segments[2]!.offset = 0xffff_ff00n));
    assert.equal(elfTargetInfo(wrapped)?.entryPoint, 0x23);
  });

  it('counts at most 256 sections and needs the standard section header size even with none', () => {
    const many = (count: number) =>
      elf(false, true, (s) => {
        s.size = 0x2800 + count * 40;
        s.sections = Array.from({ length: count }, (_, i) => ({ type: 1, addr: BigInt(i), offset: BigInt(i * 16), size: 16n }));
      });
    assert.equal(elfTargetInfo(many(256))?.sections.length, 256);
    assert.equal(elfTargetInfo(many(256))?.sections[255]?.rawOffset, 255 * 16);
    assert.equal(elfTargetInfo(many(257)), undefined);
    assert.deepEqual(elfTargetInfo(elf(false, true, (s) => (s.sections = [])))?.sections, []);
    assert.equal(elfTargetInfo(elf(false, true, (s) => Object.assign(s, { sections: [], shentsize: 0 }))), undefined);
    assert.equal(elfTargetInfo(elf(true, true, (s) => (s.shentsize = 40))), undefined);
    assert.equal(elfTargetInfo(elf(false, false, (s) => (s.shentsize = 64))), undefined);
  });

  it('needs the whole section table', () => {
    assert.equal(elfTargetInfo(elf(false, true, (s) => (s.size = 0x2800 + 5 * 40 - 1))), undefined);
    assert.equal(elfTargetInfo(elf(false, true, (s) => (s.size = 0x2800 + 5 * 40)))?.sections.length, 5);
    assert.equal(elfTargetInfo(elf(true, true, (s) => (s.shnum = 200))), undefined);
    assert.equal(elfTargetInfo(elf(true, false, (s) => (s.shoff = 0xffff_ffff_ffff_fff0n))), undefined);
  });

  it('never throws, whatever the bytes', () => {
    const random = filler(4096, 99);
    for (let size = 0; size < 200; size++) {
      for (const is64 of [false, true]) {
        const bytes = elf(is64, size % 2 === 0).slice(0, size);
        assertWellFormed(elfTargetInfo(bytes));
        const noisy = Uint8Array.from(elf(is64, true), (b, i) => (i >= 24 && i < 64 && (i + size) % 3 === 0 ? random[i + size]! : b));
        assertWellFormed(elfTargetInfo(noisy));
        const lines: string[] = [];
        for (const data of [bytes, noisy]) {
          assertWellFormed(elfTargetInfo(data, { debug: (line) => lines.push(line) }));
          scanElf(data, (line) => lines.push(line));
        }
        assert.ok(lines.every((line) => typeof line === 'string' && !line.includes('undefined') && !line.includes('NaN')));
      }
    }
  });
});

describe('ELF scan walk (cli_scanelf)', () => {
  const outcome = (data: Uint8Array) => {
    const walk = scanElf(data);
    return 'failure' in walk ? walk.failure : 'walked';
  };

  it('calls a file broken where ClamAV adds Heuristics.Broken.Executable, and only there', () => {
    const cases: Array<[string, (s: ElfSpec) => void, string]> = [
      ['plain', () => {}, 'walked'],
      ['unknown class', (s) => (s.classByte = 3), 'broken'],
      ['too many program headers', (s) => (s.phnum = 129), 'broken'],
      ['program header size', (s) => (s.phentsize = 40), 'broken'],
      ['program headers cut off', (s) => Object.assign(s, { phnum: 128, phoff: 0x2000n }), 'broken'],
      ['entry point in no segment', (s) => (s.entry = 0x10n), 'broken'],
      ['section header size', (s) => (s.shentsize = 80), 'broken'],
      ['sections cut off', (s) => (s.size = 0x2800 + 4 * 64), 'broken'],
      ['header cut off', (s) => (s.size = 60), 'format'],
      ['more than 2048 sections', (s) => (s.shnum = 2049), 'format'],
      // The target info refuses more than 256 sections; the scan walks up to 2048.
      ['257 sections', (s) => Object.assign(s, { shnum: 257, size: 0x2800 + 257 * 64 }), 'walked'],
      ['no entry point: program headers unread', (s) => Object.assign(s, { entry: 0n, phentsize: 3 }), 'walked'],
    ];
    for (const [label, change, expected] of cases) assert.equal(outcome(elf(true, true, change)), expected, label);
    assert.equal(elfTargetInfo(elf(true, true, (s) => Object.assign(s, { shnum: 257, size: 0x2800 + 257 * 64 }))), undefined);
  });

  it('describes the file, its segments and sections in cli_scanelf\'s words', () => {
    const lines: string[] = [];
    scanElf(elf(true, true, (s) => (s.sections[1]!.flags = 7)), (line) => lines.push(line));
    for (const expected of [
      'in cli_scanelf',
      'ELF: ELF class 2 (64-bit)',
      'ELF: File is little-endian - conversion not required',
      'ELF: File type: Executable',
      'ELF: Machine type: AMD x86-64',
      'ELF: Program header table offset: 64',
      'ELF: Segment virtual address: 0x401000',
      'ELF: Entry point offset: 0x0000000000001123 (4387)',
      'ELF: Section header table offset: 10240',
      'ELF: Section type: Empty section (NOBITS)',
      'ELF: Section contains executable code',
    ]) {
      assert.ok(lines.includes(expected), expected);
    }
    const big: string[] = [];
    scanElf(elf(false, false, (s) => (s.shoff = 0xffff_fff0n)), (line) => big.push(line));
    assert.ok(big.includes('ELF: File is big-endian - data conversion enabled'));
    assert.ok(big.includes('ELF: Section header table offset: -16'), '%d of a 32-bit offset');
  });
});

// ---------------------------------------------------------------------------------------------
// Differential tests against real clamscan

/** Target 6; a file that does not parse is probed at its start (entry point 0, one 16-byte section at 0). */
const ELF: ExecutableFormat = {
  target: 6,
  parse: elfTargetInfo,
  type: /^ELF$/,
  unparsed: { entryPoint: 0, sections: [{ rawOffset: 0, rawSize: 16, rva: 0, virtualSize: 0 }], numberOfSections: 0 },
};

/** The base file with small random changes to its fields, from values near the rules' edges. */
function randomVariant({ below, pick }: Random): { spec: ElfSpec; changes: Array<() => void> } {
  const form = pick(FORMS);
  const spec = baseSpec(form.is64, form.little);
  const segment = spec.segments[below(spec.segments.length)]!;
  const section = spec.sections[below(spec.sections.length)]!;
  const base = form.is64 ? 0x400000n : 0x08048000n;
  const changes: Array<() => void> = [
    () => (spec.entry = pick([0n, 0x10n, base, base + 0x40n, base + 0xfffn, base + 0x1000n, base + 0x27ffn, base + 0x2800n, 0xffff_ffffn])),
    () => (segment.offset = pick([0n, 0x40n, 0xfffn, 0x2fffn, 0x3000n, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n])),
    () => (segment.vaddr = pick([0n, base, base + 0x1100n, 0xffff_f000n, 0x1_0000_0000n])),
    () => (segment.memsz = pick([0n, 1n, 0x123n, 0x1000n, 0xffff_ffffn, 0x1_0000_0000n])),
    () => (section.offset = pick([0n, 0x10n, 0x2fffn, 0x3000n, 0x8000_0000n, 0x1_0000_0010n])),
    () => (section.size = pick([0n, 1n, 8n, 0x2000n, 0xffff_fff0n, 0x1_0000_0008n])),
    () => (spec.phnum = pick([0, 1, 2, 4, 128, 129])),
    () => (spec.phentsize = pick([0, 32, 56, 64])),
    () => (spec.shnum = pick([0, 1, 6, 256, 257, 2048, 2049])),
    () => Object.assign(section, { type: pick([0, 2, 8, 0x6fff_ffff, 0x1234]), flags: pick([0, 1, 5, 7, 0xf0]) }),
    () => Object.assign(spec, { fileType: pick([0, 1, 3, 4, 5]), machine: pick([0, 8, 21, 62, 99]) }),
    () => (spec.shentsize = pick([0, 40, 64])),
    () => (spec.shoff = pick([0n, 0x40n, 0x2f00n, 0x2fd8n, 0x3000n])),
    () => (spec.phoff = pick([0n, 0x2fe0n, 0x3000n])),
    () => (spec.size = pick([0x34, 0x40, 0x100, 0x1124, 0x2800, 0x28c7, 0x28c8, 0x2940])),
    () => (spec.dataByte = pick([0, 1, 2, 5])),
  ];
  return { spec, changes };
}

const CRAFTED: Array<[string, (s: ElfSpec) => void]> = [
  ['plain', () => {}],
  ['dataByte0', (s) => (s.dataByte = 0)],
  ['dataByte2OnLittle', (s) => (s.dataByte = 2)],
  ['noEntry', (s) => Object.assign(s, { entry: 0n, phentsize: 3 })],
  ['noSegments', (s) => Object.assign(s, { segments: [] })],
  ['tooManySegments', (s) => (s.phnum = 129)],
  ['segmentsCutOff', (s) => Object.assign(s, { phnum: 128, phoff: 0x2000n })],
  ['segments128', (s) => (s.phnum = 128)],
  ['badPhentsize', (s) => (s.phentsize = 40)],
  ['entryOutside', (s) => (s.entry = 0x10n)],
  ['entryAtSegmentEnd', (s) => (s.entry = s.segments[2]!.vaddr + 0x1800n)],
  ['entryInNote', (s) => s.segments.unshift({ type: PT_NOTE, offset: 0x200n, vaddr: s.entry - 0x23n, memsz: 0x100n })],
  ['wrappingSegment', (s) => Object.assign(s, { segments: [{ type: PT_LOAD, offset: 0x100n, vaddr: 0xffff_f000n, memsz: 0x2000n }], entry: 0xffff_f010n })],
  ['farOffsets', (s) => {
    s.segments[2]!.offset = 0x1_0000_1000n;
    s.sections[2] = { type: SHT_PROGBITS, addr: 0x7_0000_1234n, offset: 0x2_0000_0300n, size: 0x1_0000_0040n };
  }],
  ['wrappingEntry', (s) => (s.segments[2]!.offset = 0xffff_ff00n)],
  ['noSections', (s) => (s.sections = [])],
  ['noSectionsBadSize', (s) => Object.assign(s, { sections: [], shentsize: 0 })],
  ['badShentsize', (s) => (s.shentsize = 80)],
  ['sectionsCutOff', (s) => (s.size = 0x2800 + 4 * 64)],
  ['sections256', (s) => {
    s.size = 0x2800 + 256 * 64;
    s.sections = Array.from({ length: 256 }, (_, i) => ({ type: 1, addr: 0n, offset: BigInt(i * 32), size: 24n }));
  }],
  ['sections257', (s) => {
    s.size = 0x2800 + 257 * 64;
    s.sections = Array.from({ length: 257 }, (_, i) => ({ type: 1, addr: 0n, offset: BigInt(i * 32), size: 24n }));
  }],
  ['bare', (s) => Object.assign(s, { entry: 0n, segments: [], sections: [], size: s.is64 ? 64 : 52 })],
  ['headerCutOff', (s) => (s.size = s.is64 ? 60 : 50)],
  ['badClass', (s) => (s.classByte = 3)],
  ['sections2049', (s) => (s.shnum = 2049)],
  ['sectionsOddKinds', (s) => {
    const kinds = [0x6, 0xb, 0xf, 0x5, 0xe, 0x7, 0x10, 0x9, 0x4, 0x2, 0x6fff_fffd, 0x6fff_fffe, 0x6fff_ffff, 0x11, 0x7000_0001];
    s.size = 0x2800 + kinds.length * 64;
    s.sections = kinds.map((type, i) => ({ type, flags: i % 8 | (i % 3 === 0 ? 0x8_0000_0000 : 0x10), addr: 0n, offset: BigInt(i * 16), size: 16n }));
  }],
  ['sharedObject', (s) => Object.assign(s, { fileType: 3, machine: 183 })],
  ['oddTypes', (s) => Object.assign(s, { fileType: 0xfe00, machine: 40 })],
];

const REAL_FILES = ['/bin/true', '/usr/bin/env', '/usr/lib/x86_64-linux-gnu/crt1.o', '/usr/lib/x86_64-linux-gnu/libc.so.6'];

/** Writes every crafted variant of every form and 60 random files (from `seed`) to `dir`; their paths. */
function writeSamples(dir: ReturnType<typeof tempDir>, seed: number): string[] {
  const files: string[] = [];
  for (const { is64, little } of FORMS) {
    const form = `${is64 ? 64 : 32}${little ? 'le' : 'be'}`;
    for (const [name, change] of CRAFTED) files.push(dir.write(`${form}-${name}`, elf(is64, little, change)));
  }
  for (const [name, spec] of randomVariants(60, seed, randomVariant)) files.push(dir.write(name, buildElf(spec)));
  return files;
}

describe('ELF target info agrees with clamscan', { skip: hasClamscan ? false : 'clamscan is not installed' }, () => {
  it('on crafted, broken, random and real ELF files', () => {
    const samples = new Map<string, Sample>();
    const add = (id: string, data: Uint8Array) => samples.set(id, sampleOf(ELF, data));
    for (const { is64, little } of FORMS) {
      const form = `${is64 ? 64 : 32}${little ? 'le' : 'be'}`;
      for (const [name, change] of CRAFTED) add(`${form}-${name}`, elf(is64, little, change));
    }
    for (const [name, spec] of randomVariants(Number(process.env.CLAMTS_ELF_SAMPLES ?? 60), 0x2545f491, randomVariant)) add(name, buildElf(spec));
    for (const path of REAL_FILES) {
      if (existsSync(path)) add(path.replaceAll('/', '_'), readFileSync(path));
    }

    const { problems, matched } = differences(ELF, samples);
    assert.deepEqual(problems, []);
    // Not vacuous: the broken files are there, and so are many matches.
    assert.ok([...samples.values()].filter((s) => elfTargetInfo(s.data) === undefined).length >= 30);
    assert.ok(matched > 500, `only ${matched} matches`);
  });

  it("prints cli_scanelf's and cli_elfheader's debug lines as clamscan does", () => {
    const dir = tempDir('clamts-elf-debug-');
    const files = writeSamples(dir, 0x3c6ef372);
    files.push(...REAL_FILES.filter((path) => existsSync(path)));
    // The scan prints every line, the target info read for the raw scan its own few.
    const database = dir.write('entry.ndb', 'Entry:6:EP+0:0badc0de\n');
    const lines = (command: string[]) => {
      const run = spawnSync(command[0]!, [...command.slice(1), '--debug', '--no-summary', '-d', database, ...files], { encoding: 'latin1', maxBuffer: 1 << 28 });
      return run.stderr.split('\n').filter((line) => /^LibClamAV debug: (ELF: |in cli_(scan)?elf|-{36}$)/.test(line));
    };
    const real = lines(['clamscan']);
    assert.ok(real.length > 10000, `clamscan printed ${real.length} lines`);
    assert.deepEqual(lines([process.execPath, CLAMTS_CLAMSCAN]), real);
  });

  it('reports the files whose headers ClamAV cannot walk as broken, with --alert-broken', () => {
    const dir = tempDir('clamts-elf-broken-');
    const files = writeSamples(dir, 0x2545f491);
    const database = dir.write('none.hdb', `${'0'.repeat(32)}:1:Nothing\n`);
    const reports = (command: string[], options: string[]) => {
      const run = spawnSync(command[0]!, [...command.slice(1), ...options, '--no-summary', '-d', database, ...files], { encoding: 'utf8', maxBuffer: 1 << 26 });
      return run.stdout.split('\n').filter((line) => line.length > 0).sort();
    };
    const real = reports(['clamscan'], ['--alert-broken']);
    assert.ok(real.filter((line) => line.endsWith('Heuristics.Broken.Executable FOUND')).length >= 40, 'clamscan calls many broken');
    assert.ok(real.filter((line) => line.endsWith(': OK')).length >= 40, 'and many not');
    assert.deepEqual(reports([process.execPath, CLAMTS_CLAMSCAN], ['--alert-broken']), real, 'the same reports');
    // ELF parsing off, or DCONF's ELF word 0: no walk, nothing broken.
    const elfOff = dir.write('elf-off.cfg', 'ELF:0x0\n');
    for (const off of [['--scan-elf=no'], ['--alert-broken', '--scan-elf=no'], ['--alert-broken', '-d', elfOff]]) {
      const expected = reports(['clamscan'], off);
      assert.ok(!expected.some((line) => line.includes('Broken')), off.join(' '));
      assert.deepEqual(reports([process.execPath, CLAMTS_CLAMSCAN], off), expected, off.join(' '));
    }
  });
});
