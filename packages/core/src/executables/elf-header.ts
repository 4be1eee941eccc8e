import type { ExecutableInfo, ExecutableSection } from '../engine/scan-object.js';

/**
 * ClamAV 1.4's two walks of an ELF file's headers (libclamav's elf.c), with their debug lines:
 * - cli_scanelf, when it scans a file of type ELF (before the raw scan; `--scan-elf` and DCONF's
 *   ELF word): every header described, and with `--alert-broken` a file it cannot walk is
 *   `Heuristics.Broken.Executable` (scanElf);
 * - cli_elfheader, for the target info of every raw scan of one (cli_targetinfo, target 6): the
 *   entry point and sections that `EP+n`, `Sx+n`, `SL+n`, `SEx` offsets and the `EntryPoint` /
 *   `NumberOfSections` target descriptions look at (elfTargetInfo). Where it does not succeed,
 *   every relative offset of the scan is disabled (`EOF-n` included).
 *
 * What ClamAV does, step by step:
 * - the file header: 52 bytes must be there, then the magic, the class (1 = 32-bit, 2 = 64-bit,
 *   anything else fails, a broken file to the scan) and, for 64-bit files, the 12 more bytes of the
 *   longer header. The data encoding byte only decides the byte order: 1 is little-endian, every
 *   other value big-endian.
 * - the program headers: more than 128 fail. Only when there are some and the entry address is
 *   not 0 does it look at them: the entry size must be the standard one, every header must be
 *   in the file, and the entry address is mapped to a file offset through the first header of any
 *   type whose [vaddr, vaddr + memsz) holds it (in the class's unsigned word arithmetic); none
 *   holding it fails. Otherwise the entry point offset is 0. Each of these failures is a broken
 *   file to the scan.
 * - the section headers: the target info refuses more than 256, the scan skips (as clean) more
 *   than 2048. The entry size must be the standard one even when there are none, and each header
 *   must be in the file (both broken to the scan). A section keeps its address, file offset and
 *   size, with no virtual size.
 * The entry point and section fields are 32-bit in ClamAV: 64-bit values keep their low 32 bits.
 */

const MAGIC = [0x7f, 0x45, 0x4c, 0x46]; // "\x7fELF"
const CLASS_32 = 1;
const CLASS_64 = 2;
const DATA_LITTLE_ENDIAN = 1;
const MAX_PROGRAM_HEADERS = 128;
const MAX_TARGET_INFO_SECTIONS = 256;
const MAX_SCANNED_SECTIONS = 2048;
const LOW_32_BITS = 0xffff_ffffn;
const E_TYPE = 16;
const E_MACHINE = 18;
const SEPARATOR = '------------------------------------';

/** Where the fields ClamAV reads sit, and how wide an address is, in each class. */
interface ClassLayout {
  readonly bits: 32 | 64;
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
  readonly segmentFileSize: number;
  readonly segmentMemorySize: number;
  readonly sectionHeaderSize: number;
  readonly sectionFlags: number;
  readonly sectionAddress: number;
  readonly sectionOffset: number;
  readonly sectionSize: number;
}

const LAYOUT_32: ClassLayout = {
  bits: 32,
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
  segmentFileSize: 16,
  segmentMemorySize: 20,
  sectionHeaderSize: 40,
  sectionFlags: 8,
  sectionAddress: 12,
  sectionOffset: 16,
  sectionSize: 20,
};

const LAYOUT_64: ClassLayout = {
  bits: 64,
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
  segmentFileSize: 32,
  segmentMemorySize: 40,
  sectionHeaderSize: 64,
  sectionFlags: 8,
  sectionAddress: 16,
  sectionOffset: 24,
  sectionSize: 32,
};

/** The `ELF: File type:` names of e_type 0 to 4 (ClamAV calls ET_DYN "Core" too). */
const FILE_TYPE_NAMES = ['None', 'Relocatable', 'Executable', 'Core', 'Core'];

/** The machines of cli_scanelf's `ELF: Machine type:` line. */
const MACHINE_NAMES = new Map<number, string>([
  [0, 'None'],
  [2, 'SPARC'],
  [3, 'Intel 80386'],
  [4, 'Motorola 68000'],
  [8, 'MIPS RS3000'],
  [9, 'IBM System/370'],
  [15, 'HPPA'],
  [20, 'PowerPC'],
  [21, 'PowerPC 64-bit'],
  [22, 'IBM S390'],
  [40, 'ARM'],
  [41, 'Digital Alpha'],
  [43, 'SPARC v9 64-bit'],
  [50, 'IA64'],
  [62, 'AMD x86-64'],
]);

/** The section types of cli_elf_sectionlog's `ELF: Section type:` line. */
const SECTION_TYPE_NAMES = new Map<number, string>([
  [0x6, 'Dynamic linking information'],
  [0xb, 'Symbols for dynamic linking'],
  [0xf, 'Array of pointers to termination functions'],
  [0x5, 'Symbol hash table'],
  [0xe, 'Array of pointers to initialization functions'],
  [0x8, 'Empty section (NOBITS)'],
  [0x7, 'Note section'],
  [0x0, 'Null (no associated section)'],
  [0x10, 'Array of pointers to preinit functions'],
  [0x1, 'Program information'],
  [0x9, 'Relocation entries w/o explicit addends'],
  [0x4, 'Relocation entries with explicit addends'],
  [0x3, 'String table'],
  [0x2, 'Symbol table'],
  [0x6fff_fffd, 'Provided symbol versions'],
  [0x6fff_fffe, 'Required symbol versions'],
  [0x6fff_ffff, 'Symbol Version Table'],
]);

/** The section flags cli_elf_sectionlog describes, in its order. */
const SECTION_FLAG_LINES: ReadonlyArray<readonly [number, string]> = [
  [0x1, 'ELF: Section contains writable data'],
  [0x2, 'ELF: Section occupies memory'],
  [0x4, 'ELF: Section contains executable code'],
];

/** Where ClamAV's ELF debug lines go. */
export type ElfLog = (message: string) => void;
const SILENT: ElfLog = () => {};

/**
 * How a walk ended: the target info, or how it failed. A `broken` failure is one cli_scanelf
 * reports as `Heuristics.Broken.Executable` with `--alert-broken`; a `format` failure (a header
 * cut short, a wrong magic, too many sections) only ends the walk.
 */
export type ElfWalk = { readonly info: ExecutableInfo } | { readonly failure: 'broken' | 'format' };
type Failure = 'broken' | 'format';

/** One walk over one file: its fields in the file's byte order, and where the debug lines go. */
class ElfWalker {
  private readonly view: DataView;

  constructor(
    private readonly data: Uint8Array,
    readonly layout: ClassLayout,
    private readonly little: boolean,
    /** cli_scanelf (true, ClamAV's ctx set) or cli_elfheader. */
    readonly scanning: boolean,
    readonly log: ElfLog,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** The lines ClamAV prints only when scanning. */
  scanLog(message: string): void {
    if (this.scanning) this.log(message);
  }

  /** Whether `length` bytes at `at` are all in the file: ClamAV's reads are all or nothing. */
  has(at: bigint, length: number): boolean {
    return at + BigInt(length) <= BigInt(this.data.length);
  }

  u16(at: number): number {
    return this.view.getUint16(at, this.little);
  }

  u32(at: number): number {
    return this.view.getUint32(at, this.little);
  }

  word(at: number): bigint {
    return this.layout.bits === 64 ? this.view.getBigUint64(at, this.little) : BigInt(this.view.getUint32(at, this.little));
  }

  /** A word as C's `%d` / `%lld` prints it: the class's word taken as signed. */
  signed(value: bigint): bigint {
    return BigInt.asIntN(this.layout.bits, value);
  }

  /** A word in hex padded to the class's width, as `%.8x` / `%.16llx` print it. */
  paddedHex(value: bigint): string {
    return value.toString(16).padStart(this.layout.bits / 4, '0');
  }
}

/** cli_elfheader: the target info, its debug lines going to `debug`. */
export function elfTargetInfo(data: Uint8Array, options: { readonly debug?: ElfLog } = {}): ExecutableInfo | undefined {
  const log = options.debug ?? SILENT;
  log('in cli_elfheader');
  const walk = walkElf(data, false, log);
  return 'info' in walk ? walk.info : undefined;
}

/** cli_scanelf: the walk of a scanned ELF file, describing it to `log`. */
export function scanElf(data: Uint8Array, log: ElfLog = SILENT): ElfWalk {
  log('in cli_scanelf');
  return walkElf(data, true, log);
}

function walkElf(data: Uint8Array, scanning: boolean, log: ElfLog): ElfWalk {
  const walker = fileHeader(data, scanning, log);
  if (typeof walker === 'string') return { failure: walker };
  if (scanning) describeFile(walker);
  const entryPoint = entryPointOffset(walker);
  if (typeof entryPoint === 'string') return { failure: entryPoint };
  const sections = sectionTable(walker);
  if (typeof sections === 'string') return { failure: sections };
  return { info: { entryPoint: Number(entryPoint & LOW_32_BITS), sections } };
}

/** cli_elf_fileheader: the magic, class and byte order, and a whole header of that class. */
function fileHeader(data: Uint8Array, scanning: boolean, log: ElfLog): ElfWalker | Failure {
  if (data.length < LAYOUT_32.headerSize) {
    log("ELF: Can't read file header");
    return 'format';
  }
  if (MAGIC.some((byte, i) => data[i] !== byte)) {
    log('ELF: Not an ELF file');
    return 'format';
  }
  const elfClass = data[4]!;
  if (elfClass !== CLASS_32 && elfClass !== CLASS_64) {
    log(`ELF: Unknown ELF class (${elfClass})`);
    return 'broken';
  }
  const layout = elfClass === CLASS_64 ? LAYOUT_64 : LAYOUT_32;
  log(`ELF: ELF class ${elfClass} (${layout.bits}-bit)`);
  const little = data[5] === DATA_LITTLE_ENDIAN;
  if (scanning) log(little ? 'ELF: File is little-endian - conversion not required' : 'ELF: File is big-endian - data conversion enabled');
  if (data.length < layout.headerSize) {
    log("ELF: Can't read file header");
    return 'format';
  }
  return new ElfWalker(data, layout, little, scanning, log);
}

/** cli_scanelf's lines about the file and machine types. */
function describeFile(walker: ElfWalker): void {
  const fileType = walker.u16(E_TYPE);
  const machine = walker.u16(E_MACHINE);
  walker.log(`ELF: File type: ${FILE_TYPE_NAMES[fileType] ?? `Unknown (${fileType})`}`);
  walker.log(`ELF: Machine type: ${MACHINE_NAMES.get(machine) ?? `Unknown (0x${machine.toString(16)})`}`);
}

interface Segment {
  readonly offset: bigint;
  readonly address: bigint;
  readonly memorySize: bigint;
}

/** cli_elf_ph32/64: the entry point's file offset (full word width), 0 when not looked for. */
function entryPointOffset(walker: ElfWalker): bigint | Failure {
  const { layout } = walker;
  const count = walker.u16(layout.phnum);
  walker.log(`ELF: Number of program headers: ${count}`);
  if (count > MAX_PROGRAM_HEADERS) {
    walker.log('ELF: Suspicious number of program headers');
    return 'broken';
  }
  const entry = walker.word(layout.entry);
  if (count === 0 || entry === 0n) return 0n;
  if (walker.u16(layout.phentsize) !== layout.programHeaderSize) {
    walker.log(`ELF: phentsize != sizeof(struct elf_program_hdr${layout.bits})`);
    return 'broken';
  }
  const segments = programHeaders(walker, count);
  if (typeof segments === 'string') return segments;
  const holder = segments.find((s) => s.address <= entry && ((s.address + s.memorySize) & layout.wordMask) > entry);
  if (holder === undefined) {
    walker.log("ELF: Can't calculate file offset of entry point");
    return 'broken';
  }
  const offset = (entry - holder.address + holder.offset) & layout.wordMask;
  walker.scanLog(`ELF: Entry point address: 0x${walker.paddedHex(entry)}`);
  walker.scanLog(`ELF: Entry point offset: 0x${walker.paddedHex(offset)} (${walker.signed(offset)})`);
  return offset;
}

/** Every program header, read one after the other from e_phoff. */
function programHeaders(walker: ElfWalker, count: number): Segment[] | Failure {
  const { layout } = walker;
  let at = walker.word(layout.phoff);
  walker.scanLog(`ELF: Program header table offset: ${at}`);
  walker.scanLog(SEPARATOR);
  const segments: Segment[] = [];
  for (let i = 0; i < count; i++) {
    if (!walker.has(at, layout.programHeaderSize)) {
      walker.log(`ELF: Can't read segment #${i}`);
      walker.scanLog('ELF: Possibly broken ELF file');
      return 'broken';
    }
    const base = Number(at);
    const segment = {
      offset: walker.word(base + layout.segmentOffset),
      address: walker.word(base + layout.segmentAddress),
      memorySize: walker.word(base + layout.segmentMemorySize),
    };
    segments.push(segment);
    if (walker.scanning) {
      walker.log(`ELF: Segment #${i}`);
      walker.log(`ELF: Segment type: 0x${walker.u32(base).toString(16)}`);
      walker.log(`ELF: Segment offset: 0x${segment.offset.toString(16)}`);
      walker.log(`ELF: Segment virtual address: 0x${segment.address.toString(16)}`);
      walker.log(`ELF: Segment real size: 0x${walker.word(base + layout.segmentFileSize).toString(16)}`);
      walker.log(`ELF: Segment virtual size: 0x${segment.memorySize.toString(16)}`);
      walker.log(SEPARATOR);
    }
    // The table offset is a word of the class: a 32-bit one wraps.
    at = (at + BigInt(layout.programHeaderSize)) & layout.wordMask;
  }
  return segments;
}

/** cli_elf_sh32/64: the sections in table order. */
function sectionTable(walker: ElfWalker): ExecutableSection[] | Failure {
  const { layout, scanning } = walker;
  const count = walker.u16(layout.shnum);
  walker.log(`ELF: Number of sections: ${count}`);
  if (scanning && count > MAX_SCANNED_SECTIONS) {
    walker.log('ELF: Number of sections > 2048, skipping');
    return 'format';
  }
  if (!scanning && count > MAX_TARGET_INFO_SECTIONS) {
    walker.log('ELF: Suspicious number of sections');
    return 'format';
  }
  if (walker.u16(layout.shentsize) !== layout.sectionHeaderSize) {
    walker.log(`ELF: shentsize != sizeof(struct elf_section_hdr${layout.bits})`);
    return 'broken';
  }
  let at = walker.word(layout.shoff);
  // The 32-bit reader prints the table offset with %d.
  walker.scanLog(`ELF: Section header table offset: ${layout.bits === 32 ? walker.signed(at) : at}`);
  if (count > 0) walker.scanLog(SEPARATOR);
  const sections: ExecutableSection[] = [];
  for (let i = 0; i < count; i++) {
    if (!walker.has(at, layout.sectionHeaderSize)) {
      walker.log("ELF: Can't read section header");
      walker.scanLog('ELF: Possibly broken ELF file');
      return 'broken';
    }
    const base = Number(at);
    const offset = walker.word(base + layout.sectionOffset);
    const size = walker.word(base + layout.sectionSize);
    sections.push({ rva: low32(walker.word(base + layout.sectionAddress)), virtualSize: 0, rawOffset: low32(offset), rawSize: low32(size) });
    if (scanning) describeSection(walker, i, base, offset, size);
    at = (at + BigInt(layout.sectionHeaderSize)) & layout.wordMask;
  }
  return sections;
}

/** cli_scanelf's lines about section `index`, whose header is at `base`. */
function describeSection(walker: ElfWalker, index: number, base: number, offset: bigint, size: bigint): void {
  const type = walker.u32(base + 4);
  // Only the flags' low bits are looked at, in either class.
  const flags = Number(walker.word(base + walker.layout.sectionFlags) & 0x7n);
  walker.log(`ELF: Section ${index}`);
  walker.log(`ELF: Section offset: ${offset}`);
  walker.log(`ELF: Section size: ${size}`);
  walker.log(`ELF: Section type: ${SECTION_TYPE_NAMES.get(type) ?? 'Unknown'}`);
  for (const [bit, line] of SECTION_FLAG_LINES) if (flags & bit) walker.log(line);
  walker.log(SEPARATOR);
}

const low32 = (value: bigint): number => Number(value & LOW_32_BITS);
