import type { ExecutableInfo, ExecutableSection } from '../engine/scan-object.js';

/**
 * The entry point and sections of an ELF file as ClamAV 1.4's cli_elfheader finds them for its
 * target info (cli_targetinfo, target 6): what `EP+n`, `Sx+n`, `SL+n`, `SEx` offsets and the
 * `EntryPoint` / `NumberOfSections` target descriptions look at. Undefined where ClamAV's parse
 * does not succeed, which disables every relative offset of the scan (`EOF-n` included).
 *
 * What ClamAV does, step by step:
 * - the file header: 52 bytes must be there, then the magic, the class (1 = 32-bit, 2 = 64-bit,
 *   anything else fails) and, for 64-bit files, the 12 more bytes of the longer header. The data
 *   encoding byte only decides the byte order: 1 is little-endian, every other value big-endian.
 * - the program headers: more than 128 fail. Only when there are some and the entry address is
 *   not 0 does it look at them: the entry size must be the standard one, every header must be
 *   in the file, and the entry address is mapped to a file offset through the first header of any
 *   type whose [vaddr, vaddr + memsz) holds it (in the class's unsigned word arithmetic); none
 *   holding it fails. Otherwise the entry point offset is 0.
 * - the section headers: more than 256 fail, and the entry size must be the standard one even
 *   when there are none. Each header must be in the file; a section keeps its address, file
 *   offset and size, with no virtual size.
 * The entry point and section fields are 32-bit in ClamAV: 64-bit values keep their low 32 bits.
 */

const MAGIC = [0x7f, 0x45, 0x4c, 0x46]; // "\x7fELF"
const CLASS_32 = 1;
const CLASS_64 = 2;
const DATA_LITTLE_ENDIAN = 1;
const MAX_PROGRAM_HEADERS = 128;
const MAX_SECTIONS = 256;
const LOW_32_BITS = 0xffff_ffffn;

/** Where the fields ClamAV reads sit, and how wide an address is, in each class. */
interface ClassLayout {
  readonly headerSize: number;
  readonly wordMask: bigint;
  readonly entry: number;
  readonly phoff: number;
  readonly shoff: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shentsize: number;
  readonly shnum: number;
  readonly programHeaderSize: number;
  readonly segmentOffset: number;
  readonly segmentAddress: number;
  readonly segmentMemorySize: number;
  readonly sectionHeaderSize: number;
  readonly sectionAddress: number;
  readonly sectionOffset: number;
  readonly sectionSize: number;
}

const LAYOUT_32: ClassLayout = {
  headerSize: 52,
  wordMask: LOW_32_BITS,
  entry: 24,
  phoff: 28,
  shoff: 32,
  phentsize: 42,
  phnum: 44,
  shentsize: 46,
  shnum: 48,
  programHeaderSize: 32,
  segmentOffset: 4,
  segmentAddress: 8,
  segmentMemorySize: 20,
  sectionHeaderSize: 40,
  sectionAddress: 12,
  sectionOffset: 16,
  sectionSize: 20,
};

const LAYOUT_64: ClassLayout = {
  headerSize: 64,
  wordMask: 0xffff_ffff_ffff_ffffn,
  entry: 24,
  phoff: 32,
  shoff: 40,
  phentsize: 54,
  phnum: 56,
  shentsize: 58,
  shnum: 60,
  programHeaderSize: 56,
  segmentOffset: 8,
  segmentAddress: 16,
  segmentMemorySize: 40,
  sectionHeaderSize: 64,
  sectionAddress: 16,
  sectionOffset: 24,
  sectionSize: 32,
};

/** Reads the file's fields in its byte order; words (addresses, offsets, sizes) as bigints. */
class ElfReader {
  private readonly view: DataView;

  constructor(
    private readonly data: Uint8Array,
    readonly layout: ClassLayout,
    private readonly little: boolean,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Whether `length` bytes at `at` are all in the file: ClamAV's reads are all or nothing. */
  has(at: bigint, length: number): boolean {
    return at + BigInt(length) <= BigInt(this.data.length);
  }

  u16(at: number): number {
    return this.view.getUint16(at, this.little);
  }

  word(at: number): bigint {
    return this.layout === LAYOUT_64 ? this.view.getBigUint64(at, this.little) : BigInt(this.view.getUint32(at, this.little));
  }
}

export function elfTargetInfo(data: Uint8Array): ExecutableInfo | undefined {
  const reader = fileHeader(data);
  if (reader === undefined) return undefined;
  const entryPoint = entryPointOffset(reader);
  if (entryPoint === undefined) return undefined;
  const sections = sectionTable(reader);
  if (sections === undefined) return undefined;
  return { entryPoint: Number(entryPoint & LOW_32_BITS), sections };
}

/** cli_elf_fileheader: the magic, class and byte order, and a whole header of that class. */
function fileHeader(data: Uint8Array): ElfReader | undefined {
  if (data.length < LAYOUT_32.headerSize) return undefined;
  if (MAGIC.some((byte, i) => data[i] !== byte)) return undefined;
  const elfClass = data[4];
  if (elfClass !== CLASS_32 && elfClass !== CLASS_64) return undefined;
  const layout = elfClass === CLASS_64 ? LAYOUT_64 : LAYOUT_32;
  if (data.length < layout.headerSize) return undefined;
  return new ElfReader(data, layout, data[5] === DATA_LITTLE_ENDIAN);
}

/** cli_elf_ph32/64: the entry point's file offset (full word width), 0 when not looked for. */
function entryPointOffset(reader: ElfReader): bigint | undefined {
  const { layout } = reader;
  const count = reader.u16(layout.phnum);
  if (count > MAX_PROGRAM_HEADERS) return undefined;
  const entry = reader.word(layout.entry);
  if (count === 0 || entry === 0n) return 0n;
  if (reader.u16(layout.phentsize) !== layout.programHeaderSize) return undefined;
  const segments = programHeaders(reader, count);
  if (segments === undefined) return undefined;
  const holder = segments.find((s) => s.address <= entry && ((s.address + s.memorySize) & layout.wordMask) > entry);
  if (holder === undefined) return undefined;
  return (entry - holder.address + holder.offset) & layout.wordMask;
}

interface Segment {
  readonly offset: bigint;
  readonly address: bigint;
  readonly memorySize: bigint;
}

/** Every program header, read one after the other from e_phoff; undefined if one is cut off. */
function programHeaders(reader: ElfReader, count: number): Segment[] | undefined {
  const { layout } = reader;
  let at = reader.word(layout.phoff);
  const segments: Segment[] = [];
  for (let i = 0; i < count; i++) {
    if (!reader.has(at, layout.programHeaderSize)) return undefined;
    const base = Number(at);
    segments.push({
      offset: reader.word(base + layout.segmentOffset),
      address: reader.word(base + layout.segmentAddress),
      memorySize: reader.word(base + layout.segmentMemorySize),
    });
    // The table offset is a word of the class: a 32-bit one wraps.
    at = (at + BigInt(layout.programHeaderSize)) & layout.wordMask;
  }
  return segments;
}

/** cli_elf_sh32/64: the sections in table order; undefined if the table is refused or cut off. */
function sectionTable(reader: ElfReader): ExecutableSection[] | undefined {
  const { layout } = reader;
  const count = reader.u16(layout.shnum);
  if (count > MAX_SECTIONS) return undefined;
  if (reader.u16(layout.shentsize) !== layout.sectionHeaderSize) return undefined;
  let at = reader.word(layout.shoff);
  const sections: ExecutableSection[] = [];
  for (let i = 0; i < count; i++) {
    if (!reader.has(at, layout.sectionHeaderSize)) return undefined;
    const base = Number(at);
    sections.push({
      rva: low32(reader.word(base + layout.sectionAddress)),
      virtualSize: 0,
      rawOffset: low32(reader.word(base + layout.sectionOffset)),
      rawSize: low32(reader.word(base + layout.sectionSize)),
    });
    at = (at + BigInt(layout.sectionHeaderSize)) & layout.wordMask;
  }
  return sections;
}

const low32 = (value: bigint): number => Number(value & LOW_32_BITS);
