/**
 * Mach-O target info (cli_machoheader): crafted 32- and 64-bit files of both byte orders and of
 * the CPUs ClamAV treats differently, valid and broken, checked field by field, then scanned by
 * real clamscan with signatures whose match depends on the parsed entry point and sections (and
 * on the parse succeeding at all), and compared with clamscan's cli_scanmacho debug lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { machoTargetInfo, walkMacho } from '../src/executables/macho-header.js';
import { tempDir } from './support/temp-dir.js';
import { assertWellFormed, differences, type ExecutableFormat, filler, hasClamscan, type Random, randomVariants, sampleOf, type Sample } from './fixtures/executables/target-oracle.js';

const CLAMTS_CLAMSCAN = fileURLToPath(new URL('../../../bin/clamscan', import.meta.url));

// ---------------------------------------------------------------------------------------------
// A small Mach-O writer

const CPU_I386 = 7;
const CPU_X86_64 = 0x100_0007;
const CPU_ARM64 = 0x100_000c;
const CPU_PPC = 18;
const CPU_PPC64 = 0x100_0012;
const LC_SEGMENT = 0x1;
const LC_SEGMENT_64 = 0x19;
const LC_THREAD = 0x4;
const LC_UNIXTHREAD = 0x5;
const LC_MAIN = 0x8000_0028;

interface SectionSpec {
  addr: bigint;
  size: bigint;
  offset: number;
  /** Power of two. */
  align: number;
}

type CommandSpec =
  | {
      kind: 'segment';
      sections: SectionSpec[];
      /** LC_SEGMENT_64 or LC_SEGMENT when not the one of the file's width. */
      wide?: boolean;
      nsects?: number;
      cmdsize?: number;
      /** Bytes inside the command after its sections (counted in cmdsize). */
      extra?: CommandSpec;
    }
  | { kind: 'thread'; cmd?: number; pc: bigint; pcWidth: 4 | 8; pcAt?: number; stateSize: number; cmdsize?: number }
  | { kind: 'main'; entryoff: bigint }
  | { kind: 'other'; cmd: number; bodySize: number; cmdsize?: number };

interface MachoSpec {
  is64: boolean;
  little: boolean;
  cpu: number;
  /** ncmds as written, when not the number of commands. */
  ncmds?: number;
  commands: CommandSpec[];
  /** File size: the commands are cut off where they go past it. */
  size: number;
}

/** Appends fixed-width fields in one byte order. */
class Emitter {
  private readonly out: number[] = [];

  constructor(private readonly little: boolean) {}

  field(width: number, value: bigint | number): this {
    let v = BigInt(value);
    const bytes: number[] = [];
    for (let i = 0; i < width; i++, v >>= 8n) bytes.push(Number(v & 0xffn));
    this.out.push(...(this.little ? bytes : bytes.reverse()));
    return this;
  }

  u32(value: bigint | number): this {
    return this.field(4, value);
  }

  u64(value: bigint | number): this {
    return this.field(8, value);
  }

  name(text: string): this {
    for (let i = 0; i < 16; i++) this.out.push(i < text.length ? text.charCodeAt(i) : 0);
    return this;
  }

  raw(bytes: Uint8Array | number[]): this {
    this.out.push(...bytes);
    return this;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

function command(spec: MachoSpec, c: CommandSpec): Uint8Array {
  const e = new Emitter(spec.little);
  const body = new Emitter(spec.little);
  let cmd: number;
  let cmdsize: number | undefined;
  switch (c.kind) {
    case 'segment': {
      const wide = c.wide ?? spec.is64;
      cmd = wide ? LC_SEGMENT_64 : LC_SEGMENT;
      cmdsize = c.cmdsize;
      const word = (v: bigint | number) => (wide ? body.u64(v) : body.u32(v));
      body.name('__TEXT');
      [0x1000, 0x10000, 0, 0x10000].forEach(word);
      body.u32(7).u32(5).u32(c.nsects ?? c.sections.length).u32(0);
      for (const s of c.sections) {
        body.name('__text').name('__TEXT');
        word(s.addr);
        word(s.size);
        body.u32(s.offset).u32(s.align).u32(0).u32(0).u32(0x80000400).u32(0).u32(0);
        if (wide) body.u32(0);
      }
      if (c.extra) body.raw(command(spec, c.extra));
      break;
    }
    case 'thread': {
      cmd = c.cmd ?? LC_UNIXTHREAD;
      cmdsize = c.cmdsize;
      // Registers other than the program counter are non-zero: only the right one may be taken.
      const state = new Emitter(spec.little).raw(new Array<number>(c.pcAt ?? 0).fill(0x5a));
      state.field(c.pcWidth, c.pc);
      const stateBytes = state.bytes();
      body.u32(1).u32(c.stateSize / 4).raw(stateBytes).raw(new Array<number>(Math.max(0, c.stateSize - stateBytes.length)).fill(0x5a));
      break;
    }
    case 'main':
      cmd = LC_MAIN;
      body.u64(c.entryoff).u64(0);
      break;
    case 'other':
      cmd = c.cmd;
      cmdsize = c.cmdsize;
      body.raw(new Array<number>(c.bodySize).fill(0x11));
      break;
  }
  const payload = body.bytes();
  return e.u32(cmd).u32(cmdsize ?? payload.length + 8).raw(payload).bytes();
}

function buildMacho(spec: MachoSpec): Uint8Array {
  const commands = spec.commands.map((c) => command(spec, c));
  const sizeofcmds = commands.reduce((n, c) => n + c.length, 0);
  const header = new Emitter(spec.little)
    .u32(spec.is64 ? 0xfeedfacf : 0xfeedface)
    .u32(spec.cpu)
    .u32(3)
    .u32(2) // MH_EXECUTE
    .u32(spec.ncmds ?? commands.length)
    .u32(sizeofcmds)
    .u32(0);
  if (spec.is64) header.u32(0);
  const bytes = filler(spec.size, 0x4d4143);
  let at = 0;
  for (const part of [header.bytes(), ...commands]) {
    bytes.set(part.subarray(0, Math.max(0, spec.size - at)), Math.min(at, spec.size));
    at += part.length;
  }
  return bytes;
}

/** The thread state ClamAV reads for each CPU it knows, as its C structures lay it out. */
const thread = (cpu: number, pc: bigint, extra: Partial<Extract<CommandSpec, { kind: 'thread' }>> = {}): CommandSpec => {
  const shapes: Record<number, { stateSize: number; pcWidth: 4 | 8; pcAt: number }> = {
    [CPU_I386]: { stateSize: 64, pcWidth: 4, pcAt: 40 }, // eip, which ClamAV ignores
    [CPU_PPC]: { stateSize: 160, pcWidth: 4, pcAt: 0 },
    [CPU_PPC64]: { stateSize: 312, pcWidth: 8, pcAt: 0 },
    [CPU_X86_64]: { stateSize: 168, pcWidth: 8, pcAt: 128 }, // rip
    [CPU_ARM64]: { stateSize: 272, pcWidth: 8, pcAt: 256 },
  };
  return { kind: 'thread', pc, ...shapes[cpu]!, ...extra };
};

/**
 * A classic executable: an empty __PAGEZERO segment, a __TEXT segment with two sections, a
 * __DATA segment with one, and a thread command whose program counter is 0x1010 (file offset
 * 0x410 through __text); 64-bit files put 1 above bit 32 of every address.
 */
function baseSpec(cpu: number, little: boolean): MachoSpec {
  const is64 = (cpu & 0x100_0000) !== 0;
  const high = is64 ? 0x1_0000_0000n : 0n;
  return {
    is64,
    little,
    cpu,
    commands: [
      { kind: 'segment', sections: [] },
      {
        kind: 'segment',
        sections: [
          { addr: high + 0x1000n, size: 0x300n, offset: 0x400, align: 2 },
          { addr: high + 0x1300n, size: 0x81n, offset: 0x700, align: 4 },
        ],
      },
      { kind: 'segment', sections: [{ addr: high + 0x2000n, size: 0x100n, offset: 0x800, align: 3 }] },
      ...(cpu === CPU_X86_64 || cpu === CPU_ARM64 ? [{ kind: 'main', entryoff: 0x410n } as const] : []),
      thread(cpu, high + 0x1010n),
    ],
    size: 0x1000,
  };
}

const BASE_SECTIONS = [
  { rva: 0x1000, virtualSize: 0x300, rawOffset: 0x400, rawSize: 0x300 },
  { rva: 0x1300, virtualSize: 0x81, rawOffset: 0x700, rawSize: 0x90 },
  { rva: 0x2000, virtualSize: 0x100, rawOffset: 0x800, rawSize: 0x100 },
];

function macho(cpu: number, little: boolean, change: (spec: MachoSpec) => void = () => {}): Uint8Array {
  const spec = baseSpec(cpu, little);
  change(spec);
  return buildMacho(spec);
}

const info = (cpu: number, little: boolean, change?: (spec: MachoSpec) => void) => machoTargetInfo(macho(cpu, little, change));
const segmentAt = (spec: MachoSpec, index: number) => spec.commands[index] as Extract<CommandSpec, { kind: 'segment' }>;
const sectionsOf = (count: number, offset = 0x400): SectionSpec[] =>
  Array.from({ length: count }, (_, i) => ({ addr: BigInt(0x1000 + 16 * i), size: 16n, offset: offset + 16 * i, align: 0 }));

/** 32-bit files of ClamAV's three CPUs with a thread state, in both byte orders. */
const FORMS = [
  { cpu: CPU_PPC, little: false, label: 'PowerPC big-endian', entryPoint: 0x410 },
  { cpu: CPU_PPC, little: true, label: 'PowerPC little-endian', entryPoint: 0x410 },
  { cpu: CPU_PPC64, little: false, label: 'PowerPC64 big-endian', entryPoint: 0x410 },
  { cpu: CPU_PPC64, little: true, label: 'PowerPC64 little-endian', entryPoint: 0x410 },
  { cpu: CPU_I386, little: true, label: 'i386 little-endian', entryPoint: 0 },
  { cpu: CPU_I386, little: false, label: 'i386 big-endian', entryPoint: 0 },
  { cpu: CPU_X86_64, little: true, label: 'x86-64', entryPoint: 0 },
  { cpu: CPU_ARM64, little: true, label: 'arm64', entryPoint: 0 },
];

// ---------------------------------------------------------------------------------------------
// Unit tests

describe('Mach-O target info (cli_machoheader)', () => {
  for (const { cpu, little, label, entryPoint } of FORMS) {
    it(`reads a ${label} executable: ${entryPoint ? 'PowerPC program counter mapped to a file offset' : 'no entry point taken'}`, () => {
      assert.deepEqual(info(cpu, little), { entryPoint, sections: BASE_SECTIONS });
    });
  }

  it('takes the entry point from the last PowerPC thread command, LC_THREAD too', () => {
    const twice = (s: MachoSpec) => s.commands.push(thread(CPU_PPC, 0x1310n, { cmd: LC_THREAD }));
    assert.equal(info(CPU_PPC, false, twice)?.entryPoint, 0x710);
    const zero = (s: MachoSpec) => s.commands.push(thread(CPU_PPC, 0n));
    assert.equal(info(CPU_PPC, false, zero)?.entryPoint, 0);
  });

  it('ignores LC_MAIN, and the thread state of CPUs other than i386 and PowerPC', () => {
    for (const cpu of [CPU_X86_64, CPU_ARM64]) {
      // The state cut off at the end of the file: skipped by cmdsize, never read.
      const cut = info(cpu, true, (s) => {
        s.commands.push(thread(cpu, 0x1010n));
        s.size = lengthOf(s) - 20;
      });
      assert.deepEqual(cut, { entryPoint: 0, sections: BASE_SECTIONS });
    }
    // i386's state is read (so must be there) but its eip is not used.
    assert.equal(info(CPU_I386, true, (s) => (s.size = lengthOf(s) - 1)), undefined);
    assert.equal(info(CPU_I386, true, (s) => (s.size = lengthOf(s)))?.entryPoint, 0);
  });

  it('keeps an entry address as it is when there are no sections, and fails when none holds it', () => {
    const bare = (s: MachoSpec) => (s.commands = [thread(CPU_PPC, 0x123n)]);
    assert.deepEqual(info(CPU_PPC, false, bare), { entryPoint: 0x123, sections: [] });
    assert.equal(info(CPU_PPC, false, (s) => s.commands.push(thread(CPU_PPC, 0x5000n))), undefined);
    // The end of a section is not in it; the sum wraps at 32 bits.
    assert.equal(info(CPU_PPC, false, (s) => s.commands.push(thread(CPU_PPC, 0x1381n))), undefined);
    const wrap = (s: MachoSpec) => {
      s.commands = [{ kind: 'segment', sections: [{ addr: 0xffff_f000n, size: 0x2000n, offset: 0x400, align: 0 }] }, thread(s.cpu, 0xffff_f010n)];
    };
    assert.equal(info(CPU_PPC, false, wrap), undefined);
    assert.equal(info(CPU_PPC64, false, wrap), undefined);
    const wrapFirst = info(CPU_PPC, false, (s) => {
      const sections = [{ addr: 0xffff_f000n, size: 0x2000n, offset: 0x100, align: 0 }, { addr: 0xffff_f000n, size: 0x100n, offset: 0x600, align: 0 }];
      s.commands = [{ kind: 'segment', sections }, thread(s.cpu, 0xffff_f010n)];
    });
    assert.equal(wrapFirst?.entryPoint, 0x610);
  });

  it('follows its own stride after segments and thread states, whatever cmdsize says', () => {
    // A segment command hiding another one after its sections: ClamAV reads it as the next command.
    const hidden = info(CPU_PPC, false, (s) => {
      s.commands = [thread(CPU_PPC, 0x1010n), { kind: 'segment', sections: sectionsOf(1), extra: { kind: 'segment', sections: sectionsOf(2, 0x600) } }];
      s.ncmds = 3;
    });
    assert.equal(hidden?.sections.length, 3);
    assert.equal(hidden?.sections[2]?.rawOffset, 0x610);
    // A PowerPC64 thread command of Apple's size (304-byte state): ClamAV's state is 312 bytes,
    // so it reads the next command 8 bytes late and misses the segment.
    const late = info(CPU_PPC64, false, (s) => {
      s.commands = [thread(CPU_PPC64, 0x1_0000_1010n, { stateSize: 304 }), segmentAt(s, 1)];
    });
    assert.deepEqual(late, { entryPoint: 0x1010, sections: [] });
    // Other commands move on by their cmdsize, by 8 bytes when it is 8 or less.
    const short = info(CPU_PPC, false, (s) => s.commands.unshift({ kind: 'other', cmd: 0x99, bodySize: 0, cmdsize: 0 }));
    assert.equal(short?.entryPoint, 0x410);
    const other = info(CPU_PPC, false, (s) => s.commands.unshift({ kind: 'other', cmd: 0x2, bodySize: 16 }));
    assert.equal(other?.entryPoint, 0x410);
  });

  it('reads only the segment command of the file width', () => {
    const narrow = (s: MachoSpec) => (segmentAt(s, 1).wide = false);
    assert.equal(info(CPU_PPC64, false, narrow), undefined, 'the entry point was in the segment skipped');
    const entryInData = info(CPU_PPC64, false, (s) => (narrow(s), s.commands.push(thread(CPU_PPC64, 0x2010n))));
    assert.deepEqual(entryInData, { entryPoint: 0x810, sections: [BASE_SECTIONS[2]] });
    const wide = info(CPU_PPC, false, (s) => {
      segmentAt(s, 1).wide = true;
      s.commands.push(thread(CPU_PPC, 0x2010n));
    });
    assert.deepEqual(wide, { entryPoint: 0x810, sections: [BASE_SECTIONS[2]] });
  });

  it('rounds raw sizes up to the alignment, refusing what does not fit in 32 bits', () => {
    const aligned = (cpu: number, align: number, size = 0x81n) =>
      info(cpu, false, (s) => Object.assign(segmentAt(s, 1).sections[1]!, { align, size }))?.sections[1]?.rawSize;
    assert.equal(aligned(CPU_PPC, 12), 0x1000);
    assert.equal(aligned(CPU_PPC, 31), 0x8000_0000);
    assert.equal(aligned(CPU_PPC64, 31), 0x8000_0000);
    // Alignments of 2^32 and more are refused (1.4.6's fix of CVE-2026-20347), 64-bit files too.
    for (const cpu of [CPU_PPC, CPU_PPC64]) {
      for (const align of [32, 33, 0xffff_ffff]) assert.equal(aligned(cpu, align), undefined, `${cpu} ${align}`);
    }
    // So is a raw size past 32 bits.
    assert.equal(aligned(CPU_PPC, 4, 0xffff_fff0n), 0xffff_fff0);
    assert.equal(aligned(CPU_PPC, 4, 0xffff_fff1n), undefined);
    assert.equal(aligned(CPU_PPC, 31, 0x8000_0001n), undefined);
    assert.equal(aligned(CPU_PPC64, 4, 0xffff_fff1n), undefined);
    assert.equal(aligned(CPU_PPC64, 0, 0x1_0000_0000n), undefined);
    assert.equal(aligned(CPU_PPC64, 4, 0x5_0000_0011n), undefined);
    // Addresses keep their low 32 bits.
    const high = info(CPU_PPC64, false, (s) => (segmentAt(s, 1).sections[1]!.addr = 0xabc_0000_1300n));
    assert.deepEqual(high?.sections[1], BASE_SECTIONS[1]);
  });

  it('refuses a bad magic, a header cut off and bad load command counts', () => {
    const fat = macho(CPU_PPC, false);
    fat.set([0xca, 0xfe, 0xba, 0xbe]);
    assert.equal(machoTargetInfo(fat), undefined);
    assert.equal(machoTargetInfo(macho(CPU_PPC, false).slice(0, 27)), undefined);
    assert.equal(machoTargetInfo(new Uint8Array(0)), undefined);
    assert.equal(info(CPU_PPC, false, (s) => (s.ncmds = 0)), undefined);
    assert.equal(info(CPU_PPC, false, (s) => (s.ncmds = 1025)), undefined);
    // The 64-bit header's reserved word is skipped, not needed.
    const headerOnly = (is64: boolean) => macho(is64 ? CPU_PPC64 : CPU_PPC, true, (s) => Object.assign(s, { size: 28, ncmds: 1 }));
    assert.equal(machoTargetInfo(headerOnly(false)), undefined);
    assert.equal(machoTargetInfo(headerOnly(true)), undefined);
  });

  it('needs every load command, segment and section in the file, and at most 255 sections a segment', () => {
    const full = lengthOf(baseSpec(CPU_PPC, false));
    assert.equal(info(CPU_PPC, false, (s) => (s.size = full - 1)), undefined);
    assert.equal(info(CPU_PPC, false, (s) => (s.size = 28 + 56 + 56 + 68 + 30)), undefined);
    assert.equal(info(CPU_PPC, false, (s) => (s.size = 28 + 56 + 20)), undefined);
    assert.equal(info(CPU_PPC, false, (s) => (segmentAt(s, 1).nsects = 3)), undefined);
    const many = (count: number) => info(CPU_I386, true, (s) => Object.assign(s, { commands: [{ kind: 'segment', sections: sectionsOf(count) }], size: 0x8000 }));
    assert.equal(many(255)?.sections.length, 255);
    assert.equal(many(256), undefined);
  });

  it("counts sections in ClamAV's 16 bits", () => {
    const segments = (spec: MachoSpec, pc: bigint) => {
      spec.commands = Array.from({ length: 257 }, () => ({ kind: 'segment', sections: sectionsOf(255, 0x100) }) as CommandSpec);
      spec.commands.push({ kind: 'segment', sections: sectionsOf(2, 0x200) }, thread(spec.cpu, pc));
      spec.size = lengthOf(spec) + 0x100;
    };
    const wrapped = info(CPU_PPC, false, (s) => segments(s, 0x1004n));
    assert.equal(wrapped?.sections.length, 1);
    assert.equal(wrapped?.entryPoint, 0x104);
    // The entry point is searched for in the sections ClamAV counts only.
    assert.equal(info(CPU_PPC, false, (s) => segments(s, 0x1014n)), undefined);
  });

  it('never throws, whatever the bytes, debug lines included', () => {
    const noise = filler(8192, 7);
    const debug = (message: string) => assert.equal(typeof message, 'string', 'a debug line');
    for (const { cpu, little } of FORMS) {
      const file = macho(cpu, little);
      for (let size = 0; size < file.length; size += 7) {
        assertWellFormed(machoTargetInfo(file.slice(0, size), { debug }));
        walkMacho(file.slice(0, size), debug);
      }
      for (let n = 0; n < 200; n++) {
        const copy = file.slice();
        for (let k = 0; k < 4; k++) copy[(noise[n * 4 + k]! * 3 + n) % 700] = noise[n + k + 1000]!;
        assertWellFormed(machoTargetInfo(copy, { debug }));
        walkMacho(copy, debug);
      }
    }
  });
});

function lengthOf(spec: MachoSpec): number {
  return (spec.is64 ? 32 : 28) + spec.commands.reduce((n, c) => n + command(spec, c).length, 0);
}

// ---------------------------------------------------------------------------------------------
// Differential tests against real clamscan

/** Target 9; a file that does not parse is probed where the base file has its entry point and sections. */
const MACHO: ExecutableFormat = {
  target: 9,
  parse: machoTargetInfo,
  type: /^Mach-O (?:LE|BE)(?: 64-bit)?$/,
  unparsed: { entryPoint: 0x410, sections: BASE_SECTIONS, numberOfSections: BASE_SECTIONS.length },
};

/** The base file with small random changes to its fields, from values near the rules' edges. */
function randomVariant({ below, pick }: Random): { spec: MachoSpec; changes: Array<() => void> } {
  const form = pick(FORMS);
  const spec = baseSpec(form.cpu, form.little);
  const segment = segmentAt(spec, 1 + below(2));
  const section = segment.sections[below(segment.sections.length)]!;
  const threadCommand = spec.commands.at(-1) as Extract<CommandSpec, { kind: 'thread' }>;
  const changes: Array<() => void> = [
    () => (threadCommand.pc = pick([0n, 0x10n, 0x1000n, 0x12ffn, 0x1300n, 0x1380n, 0x1390n, 0x2050n, 0x1_0000_1300n, 0xffff_ffffn])),
    () => (threadCommand.cmdsize = pick([0, 8, 16, 80, 176, 320, 328])),
    () => (threadCommand.cmd = pick([LC_THREAD, LC_UNIXTHREAD, 0x6])),
    () => (spec.cpu = pick([CPU_I386, CPU_PPC, CPU_PPC64, CPU_X86_64, CPU_ARM64, 12, 14])),
    () => (section.addr = pick([0n, 0x1000n, 0x1200n, 0xffff_ff00n, 0x1_0000_1000n])),
    () => (section.size = pick([0n, 1n, 0x81n, 0x300n, 0x1000n, 0xffff_ffffn, 0x1_0000_0010n])),
    () => (section.offset = pick([0, 0x10, 0x3ff, 0xff8, 0x1000, 0xffff_fff0])),
    () => (section.align = pick([0, 1, 5, 12, 31, 32, 33, 64])),
    () => (segment.nsects = pick([0, 1, 3, 255, 256])),
    () => (segment.cmdsize = pick([0, 8, 56, 200])),
    () => (segment.wide = !(segment.wide ?? spec.is64)),
    () => (spec.ncmds = pick([0, 1, 2, 3, 6, 1024, 1025])),
    () => (spec.size = pick([28, 32, 100, 0x90, 0x200, 0x410, 0x800, 0x1000, 0x2000])),
    () => spec.commands.splice(below(spec.commands.length), 0, { kind: 'other', cmd: pick([0x2, 0x99, LC_MAIN]), bodySize: pick([0, 8, 40]), cmdsize: pick([0, 4, 8, 24]) }),
  ];
  return { spec, changes };
}

/** A universal binary holding one PowerPC executable, with bytes after it. */
function fatBinary(): { fat: Uint8Array; slice: Uint8Array } {
  const slice = macho(CPU_PPC, false);
  const fat = filler(0x1000 + slice.length + 0x100, 0xfa7);
  fat.set(new Emitter(false).u32(0xcafebabe).u32(1).u32(CPU_PPC).u32(0).u32(0x1000).u32(slice.length).u32(12).bytes());
  fat.set(slice, 0x1000);
  return { fat, slice };
}

/** Crafted variants of each form: valid, broken and borderline walks. */
const CRAFTED: Array<[string, (s: MachoSpec) => void]> = [
  ['plain', () => {}],
  ['twoThreads', (s) => s.commands.push(thread(s.cpu, 0x1310n, { cmd: LC_THREAD }))],
  ['threadCut', (s) => (s.size = lengthOf(s) - 20)],
  ['noSections', (s) => (s.commands = [thread(s.cpu, 0x123n)])],
  ['noSectionsHighEntry', (s) => (s.commands = [thread(s.cpu, 0x1_0000_0123n)])],
  ['entryOutside', (s) => s.commands.push(thread(s.cpu, 0x5000n))],
  ['entryAtSectionEnd', (s) => s.commands.push(thread(s.cpu, 0x1300n + 0x81n))],
  ['wrappingSection', (s) => (s.commands = [{ kind: 'segment', sections: [{ addr: 0xffff_f000n, size: 0x2000n, offset: 0x400, align: 0 }] }, thread(s.cpu, 0xffff_f010n)])],
  ['wrappingSectionFirst', (s) => {
    const sections = [{ addr: 0xffff_f000n, size: 0x2000n, offset: 0x100, align: 0 }, { addr: 0xffff_f000n, size: 0x100n, offset: 0x600, align: 0 }];
    s.commands = [{ kind: 'segment', sections }, thread(s.cpu, 0xffff_f010n)];
  }],
  ['hiddenSegment', (s) => {
    s.commands = [thread(s.cpu, 0x1010n), { kind: 'segment', sections: sectionsOf(1), extra: { kind: 'segment', sections: sectionsOf(2, 0x600) } }];
    s.ncmds = 3;
  }],
  ['appleThreadSize', (s) => (s.commands = [thread(s.cpu, 0x1010n, { stateSize: 304 }), segmentAt(s, 1)])],
  ['shortCommand', (s) => s.commands.unshift({ kind: 'other', cmd: 0x99, bodySize: 0, cmdsize: 0 })],
  ['emptySegmentHidesThread', (s) => {
    s.commands[0] = { kind: 'segment', sections: [], extra: thread(s.cpu, 0x2010n) };
    s.ncmds = s.commands.length + 1;
  }],
  ['arm32', (s) => (s.cpu = 12)],
  ['otherWidthSegment', (s) => (segmentAt(s, 1).wide = !s.is64)],
  ['align12', (s) => (segmentAt(s, 1).sections[1]!.align = 12)],
  ['align31', (s) => (segmentAt(s, 1).sections[1]!.align = 31)],
  ['align32', (s) => (segmentAt(s, 1).sections[1]!.align = 32)],
  ['align33', (s) => (segmentAt(s, 1).sections[1]!.align = 33)],
  ['roundingWraps', (s) => Object.assign(segmentAt(s, 1).sections[1]!, { align: 4, size: 0xffff_fff1n })],
  ['roundingFits', (s) => Object.assign(segmentAt(s, 1).sections[1]!, { align: 4, size: 0xffff_fff0n })],
  ['roundingHighSize', (s) => Object.assign(segmentAt(s, 1).sections[1]!, { align: 4, size: 0x1_ffff_fff1n })],
  ['highSize', (s) => Object.assign(segmentAt(s, 1).sections[1]!, { align: 4, size: 0x1_0000_0011n })],
  ['entryOffsetWraps', (s) => {
    segmentAt(s, 1).sections[1]!.offset = 0xffff_ff00;
    s.commands.push(thread(s.cpu, 0x1310n));
  }],
  ['entryHighBitsDiffer', (s) => s.commands.push(thread(s.cpu, 0x2_0000_1310n))],
  ['entryOffsetTop', (s) => {
    segmentAt(s, 1).sections[1]!.offset = 0xffff_fff0;
    s.commands.push(thread(s.cpu, 0x130fn));
  }],
  ['noCommands', (s) => (s.ncmds = 0)],
  ['tooManyCommands', (s) => (s.ncmds = 1025)],
  ['moreCommandsThanThere', (s) => (s.ncmds = s.commands.length + 1)],
  ['headerCut', (s) => (s.size = 27)],
  ['headerOnly', (s) => (s.size = 32)],
  ['sectionCut', (s) => (s.size = (s.is64 ? 32 + 72 + 72 + 80 : 28 + 56 + 56 + 68) + 30)],
  ['nsectsTooMany', (s) => (segmentAt(s, 1).nsects = 3)],
  ['sections255', (s) => Object.assign(s, { commands: [{ kind: 'segment', sections: sectionsOf(255) }, thread(s.cpu, 0x1004n)], size: 0x8000 })],
  ['sections256', (s) => Object.assign(s, { commands: [{ kind: 'segment', sections: sectionsOf(256) }], size: 0x8000 })],
];

/** Writes every crafted variant of every form and 60 random files (from `seed`) to `dir`; their paths. */
function writeSamples(dir: ReturnType<typeof tempDir>, seed: number): string[] {
  const files: string[] = [];
  for (const { cpu, little } of FORMS) {
    const form = `${cpu.toString(16)}${little ? 'le' : 'be'}`;
    for (const [name, change] of CRAFTED) files.push(dir.write(`${form}-${name}`, macho(cpu, little, change)));
  }
  for (const [name, spec] of randomVariants(60, seed, randomVariant)) files.push(dir.write(name, buildMacho(spec)));
  return files;
}

describe('Mach-O target info agrees with clamscan', { skip: hasClamscan ? false : 'clamscan is not installed' }, () => {
  it('on crafted, broken and random Mach-O files', () => {
    const samples = new Map<string, Sample>();
    const add = (id: string, data: Uint8Array) => samples.set(id, sampleOf(MACHO, data));
    for (const { cpu, little } of FORMS) {
      const form = `${cpu.toString(16)}${little ? 'le' : 'be'}`;
      for (const [name, change] of CRAFTED) add(`${form}-${name}`, macho(cpu, little, change));
    }
    for (const [name, spec] of randomVariants(Number(process.env.CLAMTS_MACHO_SAMPLES ?? 80), 0x1b873593, randomVariant)) add(name, buildMacho(spec));
    const manySections = (pc: bigint) =>
      macho(CPU_PPC, false, (s) => {
        s.commands = Array.from({ length: 257 }, () => ({ kind: 'segment', sections: sectionsOf(255, 0x100) }) as CommandSpec);
        s.commands.push({ kind: 'segment', sections: sectionsOf(2, 0x200) }, thread(s.cpu, pc));
        s.size = lengthOf(s) + 0x100;
      });
    add('sections65537', manySections(0x1004n));
    add('sections65537EntryBeyond', manySections(0x1014n));
    // ClamAV types a fat file as binary data, finds the universal binary in it, scans the Mach-O
    // inside with its own target info, then the fat file with target 9 signatures and no target info.
    const { fat, slice } = fatBinary();
    samples.set('fat', { data: fat, scanned: [{ data: fat, info: undefined }, { data: slice, info: machoTargetInfo(slice) }], type: /^binary data$/ });

    const { problems, matched } = differences(MACHO, samples);
    assert.deepEqual(problems, []);
    // Not vacuous: the broken files are there, and so are many matches.
    assert.ok([...samples.values()].filter((s) => s.scanned[0]!.info === undefined).length >= 40);
    assert.ok(matched > 1000, `only ${matched} matches`);
    assert.equal(machoTargetInfo(fat), undefined);
  });

  it("prints cli_scanmacho's debug lines as clamscan does", () => {
    const dir = tempDir('clamts-macho-debug-');
    const files = writeSamples(dir, 0x3c6ef372);
    files.push(dir.write('fat', fatBinary().fat));
    // Names that are not UTF-8 (ClamAV's output replaces each bad sequence), or fill all 16 bytes.
    const oddNames = macho(CPU_PPC, false);
    oddNames.set([0xe9, 0xff, 0x80, 0x41, 0xc3, 0xa9, 0xe2, 0x82, 0x01, 0xf0, 0x9f, 0x98, 0x80, 0x42, 0x43, 0x44], 28 + 8);
    oddNames.set(Buffer.from('sixteen-bytes-xy'), 28 + 8 + 56 + 8);
    files.push(dir.write('odd-names', oddNames));
    // The scan prints every line; the target info read for the raw scan (whatever signatures are
    // loaded) prints the lines about a walk that fails once more.
    const databases = {
      hash: dir.write('none.hdb', `${'0'.repeat(32)}:1:Nothing\n`),
      target: dir.write('entry.ndb', 'Entry:9:EP+0:0badc0de\n'),
    };
    const lines = (command: string[], database: string) => {
      const run = spawnSync(command[0]!, [...command.slice(1), '--debug', '--no-summary', '-d', database, ...files], { encoding: 'latin1', maxBuffer: 1 << 28 });
      return run.stderr.split('\n').filter((line) => /^LibClamAV debug: (MACHO: |cli_scanmacho|Entry Point)/.test(line));
    };
    for (const [kind, database] of Object.entries(databases)) {
      const real = lines(['clamscan'], database);
      assert.ok(real.length > 5000, `clamscan printed ${real.length} lines (${kind})`);
      assert.deepEqual(lines([process.execPath, CLAMTS_CLAMSCAN], database), real, `the same lines (${kind})`);
    }
  });

  it('reports the files whose load commands ClamAV cannot walk as broken, with --alert-broken', () => {
    const dir = tempDir('clamts-macho-broken-');
    const files = writeSamples(dir, 0x2545f491);
    const database = dir.write('none.hdb', `${'0'.repeat(32)}:1:Nothing\n`);
    const reports = (command: string[]) => {
      const run = spawnSync(command[0]!, [...command.slice(1), '--alert-broken', '--no-summary', '-d', database, ...files], { encoding: 'utf8', maxBuffer: 1 << 26 });
      return run.stdout.split('\n').filter((line) => line.length > 0).sort();
    };
    const real = reports(['clamscan']);
    assert.ok(real.filter((line) => line.endsWith('Heuristics.Broken.Executable FOUND')).length >= 40, 'clamscan calls many broken');
    assert.ok(real.filter((line) => line.endsWith(': OK')).length >= 40, 'and many not');
    assert.deepEqual(reports([process.execPath, CLAMTS_CLAMSCAN]), real, 'the same reports');
  });
});
