import type { ExecutableInfo, ExecutableSection } from '../engine/scan-object.js';

/**
 * The entry point and sections of a Mach-O file as ClamAV 1.4's cli_machoheader (cli_scanmacho
 * asked for file info) finds them for its target info (cli_targetinfo, target 9): what `EP+n`,
 * `Sx+n`, `SL+n`, `SEx` offsets and the `EntryPoint` / `NumberOfSections` target descriptions
 * look at. Undefined where ClamAV's parse does not succeed, which disables every relative offset
 * of the scan (`EOF-n` included).
 *
 * Target 9 covers CL_TYPE_MACHO (the four 0xfeedface / 0xfeedfacf magics) and
 * CL_TYPE_MACHO_UNIBIN. Every file type goes through this same parser, so a universal (fat,
 * 0xcafebabe) file fails its magic check and has no target info: its slices are scanned as
 * objects of their own, each with its target info (formats/macho-unibin.ts), then the fat file
 * itself against the target 9 signatures without target info.
 *
 * ClamAV's walk, and its quirks kept here:
 * - 28 header bytes must be there; the magic gives width and byte order. The 64-bit header's
 *   reserved word is skipped without being required.
 * - 1 to 1024 load commands, else failure. Each 8-byte command header must be in the file.
 * - A segment command of the file's width (LC_SEGMENT in 32-bit files, LC_SEGMENT_64 in 64-bit
 *   ones; the other one is skipped like any command) must have its fixed part and every one of its
 *   at most 255 sections in the file. The walk goes on right after the last section, whatever
 *   cmdsize says.
 * - LC_THREAD / LC_UNIXTHREAD count only for i386, PowerPC and PowerPC64: the thread state
 *   (after the flavor and count words) must be in the file, and the walk goes on right after it,
 *   whatever cmdsize says. PowerPC's srr0 becomes the entry address (the last thread command
 *   wins); i386's eip is never taken, so i386 files keep an entry address of 0. LC_MAIN is not
 *   looked at, so x86-64 and ARM files (whose thread states are skipped unread) have entry
 *   address 0 too.
 * - Any other command is skipped by its cmdsize (a cmdsize of 8 or less moves on by 8 bytes).
 * - A non-zero entry address is mapped to a file offset through the first section whose
 *   [addr, addr + size) holds it (32-bit wrapping sum and offset); none holding it fails. With no
 *   sections at all the address is kept as it is. A zero entry address stays 0: `EP+n` is then
 *   file offset n.
 * - Section fields are 32-bit: 64-bit addresses (and PowerPC64's srr0) keep their low 32 bits.
 *   The raw size is the size rounded up to the section's alignment (2^align). ClamAV 1.4.6 (the
 *   fix of CVE-2026-20347; the 1.4.5 source differs) refuses an align of 32 or more and a raw size
 *   that does not fit in 32 bits, in 32- and 64-bit files alike, with its own debug line
 *   (checked against clamscan 1.4.6).
 *
 * With a `log`, the walk gives cli_scanmacho's debug lines: the `MACHO:` description of the
 * header, segments and sections, the entry point, and the `cli_scanmacho:` line of a failure.
 * ClamAV prints all of them when it scans a Mach-O file, and only the failure lines when it
 * reads the target info (machoTargetInfo), which it does for every raw scan of one.
 * - The section count is ClamAV's 16-bit nsections: past 65535 sections it wraps, and only that
 *   many sections can be addressed or searched for the entry point.
 */

const MAX_LOAD_COMMANDS = 1024;
const MAX_SEGMENT_SECTIONS = 255;
const HEADER_SIZE = 28;
const HEADER_64_PADDING = 4;
const LOAD_COMMAND_HEADER_SIZE = 8;
const LC_SEGMENT = 0x1;
const LC_SEGMENT_64 = 0x19;
const LC_THREAD = 0x4;
const LC_UNIXTHREAD = 0x5;
/** The flavor and count words in front of a thread state. */
const THREAD_STATE_PREFIX = 8;
const UINT16_WRAP = 0x1_0000;

/** The width-dependent shapes ClamAV reads. */
interface WidthLayout {
  readonly segmentCommand: number;
  /** Segment command after its 8-byte header, and where its section count sits in that. */
  readonly segmentSize: number;
  readonly segmentSectionCount: number;
  readonly sectionSize: number;
  readonly sectionAddress: number;
  readonly sectionMemorySize: number;
  readonly sectionOffset: number;
  readonly sectionAlign: number;
  readonly is64: boolean;
}

const LAYOUT_32: WidthLayout = {
  segmentCommand: LC_SEGMENT,
  segmentSize: 48,
  segmentSectionCount: 40,
  sectionSize: 68,
  sectionAddress: 32,
  sectionMemorySize: 36,
  sectionOffset: 40,
  sectionAlign: 44,
  is64: false,
};

const LAYOUT_64: WidthLayout = {
  segmentCommand: LC_SEGMENT_64,
  segmentSize: 64,
  segmentSectionCount: 56,
  sectionSize: 80,
  sectionAddress: 32,
  sectionMemorySize: 40,
  sectionOffset: 48,
  sectionAlign: 52,
  is64: true,
};

/**
 * The CPUs whose thread state ClamAV reads, with the size of its (unpacked, x86-64 ABI) C
 * structure for that state and whether the program counter at its start is taken as the entry.
 */
interface ThreadState {
  readonly size: number;
  readonly pc: 'none' | 'u32' | 'u64';
  /** The structure's name in ClamAV's debug line when it is cut. */
  readonly name: string;
}

const THREAD_STATES = new Map<number, ThreadState>([
  [7, { size: 64, pc: 'none', name: 'thread_state_x86' }], // i386: eip is not used
  [18, { size: 160, pc: 'u32', name: 'thread_state_ppc' }], // PowerPC: srr0
  [18 | 0x100_0000, { size: 312, pc: 'u64', name: 'thread_state_ppc64' }], // PowerPC64: srr0 (natural alignment pads cr and vrsave)
]);

/** The CPU names of cli_scanmacho's `MACHO: CPU Type:` line. */
const CPU_NAMES = new Map<number, string>([
  [7, 'Intel 32-bit'],
  [7 | 0x100_0000, 'Intel 64-bit'],
  [12, 'ARM'],
  [14, 'SPARC'],
  [18, 'POWERPC 32-bit'],
  [18 | 0x100_0000, 'POWERPC 64-bit'],
]);

/** The file types of its `MACHO: Filetype:` line, MH_OBJECT (1) to MH_DYLIB_STUB (9). */
const FILE_TYPE_NAMES = [
  'Relocatable object file',
  'Executable',
  'Fixed VM shared library file',
  'Core file',
  'Preloaded executable file',
  'Dynamically bound shared library',
  'Dynamic link editor',
  'Dynamically bound bundle file',
  'Shared library stub for static',
];

/** Where cli_scanmacho's debug lines go (nowhere when only the target info is read). */
export type MachoLog = (message: string) => void;
const SILENT: MachoLog = () => {};
const SEPARATOR = 'MACHO: ------------------';

class MachoReader {
  private readonly view: DataView;

  constructor(
    private readonly data: Uint8Array,
    readonly little: boolean,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  has(at: number, length: number): boolean {
    return at + length <= this.data.length;
  }

  u32(at: number): number {
    return this.view.getUint32(at, this.little);
  }

  /** The low 32 bits of a 64-bit field. */
  low32of64(at: number): number {
    return this.view.getUint32(this.little ? at : at + 4, this.little);
  }

  high32of64(at: number): number {
    return this.view.getUint32(this.little ? at + 4 : at, this.little);
  }

  /**
   * A 16-byte name field as ClamAV copies it (at most 15 bytes, up to the first NUL) and prints
   * it: its debug output is UTF-8 with each invalid sequence replaced by U+FFFD, as Buffer's
   * decoder does.
   */
  name(at: number): string {
    const field = this.data.subarray(at, at + 15);
    const nul = field.indexOf(0);
    return Buffer.from(field.buffer, field.byteOffset, nul < 0 ? field.length : nul).toString('utf8');
  }
}

interface Header {
  readonly log: MachoLog;
  readonly reader: MachoReader;
  readonly layout: WidthLayout;
  readonly thread: ThreadState | undefined;
  readonly commandCount: number;
  readonly firstCommand: number;
}

/**
 * cli_machoheader: the walk without its `MACHO:` lines (ClamAV prints them only when scanning),
 * its `cli_scanmacho:` lines about a walk that fails going to `debug`.
 */
export function machoTargetInfo(data: Uint8Array, options: { readonly debug?: MachoLog } = {}): ExecutableInfo | undefined {
  const { debug } = options;
  const failuresOnly: MachoLog = (message) => {
    if (message.startsWith('cli_scanmacho:')) debug?.(message);
  };
  const walk = walkMacho(data, debug ? failuresOnly : SILENT);
  return 'info' in walk ? walk.info : undefined;
}

/**
 * Where ClamAV's walk of a Mach-O file ends: its target info, or how it failed. cli_scanmacho, the
 * scan of a Mach-O file, calls a failure in the load commands (their count, a command, segment,
 * section or thread state cut by the end of the file, too many sections, a malformed alignment)
 * a broken executable; a short header, a wrong magic or an entry point outside every section
 * only end the walk.
 */
export type MachoWalk = { readonly info: ExecutableInfo } | { readonly failure: 'broken' | 'format' };

export function walkMacho(data: Uint8Array, log: MachoLog = SILENT): MachoWalk {
  const header = readHeader(data, log);
  if (typeof header === 'string') return { failure: header };
  const walked = walkLoadCommands(header);
  if (walked === undefined) return { failure: 'broken' };
  // ClamAV's section count is 16-bit; sections past it are out of reach.
  const sections = walked.sections.slice(0, walked.sections.length % UINT16_WRAP);
  if (walked.entryAddress === 0) return { info: { entryPoint: 0, sections } };
  log(`Entry Point: 0x${walked.entryAddress.toString(16)}`);
  if (walked.sections.length === 0) return { info: { entryPoint: walked.entryAddress, sections } };
  const entryPoint = rawAddress(walked.entryAddress, sections);
  if (entryPoint === undefined) {
    log("cli_scanmacho: Can't calculate EP offset");
    return { failure: 'format' };
  }
  log(`Entry Point file offset: ${entryPoint}`);
  return { info: { entryPoint, sections } };
}

function readHeader(data: Uint8Array, log: MachoLog): Header | 'broken' | 'format' {
  if (data.length < HEADER_SIZE) {
    log("cli_scanmacho: Can't read header");
    return 'format';
  }
  // 0xfeedface / 0xfeedfacf in either byte order: the first byte tells which.
  const [b0, b1, b2, b3] = [data[0], data[1], data[2], data[3]];
  let little: boolean;
  if (b1 === 0xfa && b2 === 0xed && b3 === 0xfe && (b0 === 0xce || b0 === 0xcf)) little = true;
  else if (b0 === 0xfe && b1 === 0xed && b2 === 0xfa && (b3 === 0xce || b3 === 0xcf)) little = false;
  else {
    log('cli_scanmacho: Incorrect magic');
    return 'format';
  }
  const is64 = (little ? b0 : b3) === 0xcf;
  const reader = new MachoReader(data, little);
  const cpu = reader.u32(4);
  const fileType = reader.u32(12);
  const commandCount = reader.u32(16);
  log(`MACHO: CPU Type: ${CPU_NAMES.get(cpu) ?? `** UNKNOWN ** (${cpu})`}`);
  log(`MACHO: Filetype: ${FILE_TYPE_NAMES[fileType - 1] ?? `** UNKNOWN ** (0x${fileType.toString(16)})`}`);
  log(`MACHO: Number of load commands: ${commandCount}`);
  log(`MACHO: Size of load commands: ${reader.u32(20)}`);
  if (commandCount === 0 || commandCount > MAX_LOAD_COMMANDS) {
    log(`cli_scanmacho: Invalid number of load commands (${commandCount})`);
    return 'broken';
  }
  return {
    log,
    reader,
    layout: is64 ? LAYOUT_64 : LAYOUT_32,
    thread: THREAD_STATES.get(cpu),
    commandCount,
    firstCommand: HEADER_SIZE + (is64 ? HEADER_64_PADDING : 0),
  };
}

interface Walked {
  entryAddress: number;
  readonly sections: ExecutableSection[];
}

/** Steps through the load commands the way ClamAV does; undefined where it gives up. */
function walkLoadCommands(header: Header): Walked | undefined {
  const { reader, layout, thread, log } = header;
  const walked: Walked = { entryAddress: 0, sections: [] };
  let at = header.firstCommand;
  for (let i = 0; i < header.commandCount; i++) {
    if (!reader.has(at, LOAD_COMMAND_HEADER_SIZE)) {
      log("cli_scanmacho: Can't read load command");
      return undefined;
    }
    const command = reader.u32(at);
    const commandSize = reader.u32(at + 4);
    at += LOAD_COMMAND_HEADER_SIZE;
    let next: number | undefined;
    if (command === layout.segmentCommand) {
      next = readSegment(header, at, walked.sections);
    } else if (thread !== undefined && (command === LC_THREAD || command === LC_UNIXTHREAD)) {
      next = readThread(header, thread, at, walked);
    } else {
      next = at + (commandSize > LOAD_COMMAND_HEADER_SIZE ? commandSize - LOAD_COMMAND_HEADER_SIZE : 0);
    }
    if (next === undefined) return undefined;
    at = next;
  }
  return walked;
}

/** A segment command's sections, appended to `sections`; the offset after them. */
function readSegment(header: Header, at: number, sections: ExecutableSection[]): number | undefined {
  const { reader, layout, log } = header;
  if (!reader.has(at, layout.segmentSize)) {
    log("cli_scanmacho: Can't read segment command");
    return undefined;
  }
  const count = reader.u32(at + layout.segmentSectionCount);
  // The segment's name opens the command after its header.
  log(`MACHO: Segment name: ${reader.name(at)}`);
  log(`MACHO: Number of sections: ${count}`);
  if (count > MAX_SEGMENT_SECTIONS) {
    log('cli_scanmacho: Invalid number of sections');
    return undefined;
  }
  at += layout.segmentSize;
  for (let j = 0; j < count; j++) {
    if (!reader.has(at, layout.sectionSize)) {
      log("cli_scanmacho: Can't read section");
      return undefined;
    }
    const section = readSection(header, at);
    if (section === undefined) return undefined;
    logSection(log, sections.length, reader.name(at), section);
    sections.push(section);
    at += layout.sectionSize;
  }
  log(SEPARATOR);
  return at;
}

function readSection({ reader, layout, log }: Header, at: number): ExecutableSection | undefined {
  const field = (offset: number) => (layout.is64 ? reader.low32of64(at + offset) : reader.u32(at + offset));
  const rva = field(layout.sectionAddress);
  const virtualSize = field(layout.sectionMemorySize);
  const rawOffset = reader.u32(at + layout.sectionOffset);
  const alignPower = reader.u32(at + layout.sectionAlign);
  // A 64-bit size past 32 bits can only round up to more than 32 bits.
  const sizeFits = !layout.is64 || reader.high32of64(at + layout.sectionMemorySize) === 0;
  const rawSize = sizeFits && alignPower < 32 ? roundUpToAlignment(virtualSize, alignPower) : undefined;
  if (rawSize === undefined) {
    log('cli_scanmacho: Section alignment or size is malformed');
    return undefined;
  }
  return { rva, virtualSize, rawOffset, rawSize };
}

/** cli_scanmacho's lines for section `index` (counted over the whole file), named `name`. */
function logSection(log: MachoLog, index: number, name: string, section: ExecutableSection): void {
  log(`MACHO: --- Section ${index} ---`);
  log(`MACHO: Name: ${name}`);
  log(`MACHO: Virtual address: 0x${section.rva.toString(16)}`);
  log(`MACHO: Virtual size: ${section.virtualSize}`);
  log(`MACHO: Raw size: ${section.rawSize}`);
  if (section.rawOffset !== 0) log(`MACHO: File offset: ${section.rawOffset}`);
}

/** `size` rounded up to a multiple of 2^power; undefined where that does not fit in 32 bits. */
function roundUpToAlignment(size: number, power: number): number | undefined {
  const alignment = 2 ** power;
  const rounded = size + ((alignment - (size % alignment)) % alignment);
  return rounded > 0xffff_ffff ? undefined : rounded;
}

/** A thread command of a CPU ClamAV knows: the entry address it gives; the offset after it. */
function readThread({ reader, log }: Header, thread: ThreadState, at: number, walked: Walked): number | undefined {
  at += THREAD_STATE_PREFIX;
  if (!reader.has(at, thread.size)) {
    log(`cli_scanmacho: Can't read ${thread.name}`);
    return undefined;
  }
  if (thread.pc === 'u32') walked.entryAddress = reader.u32(at);
  else if (thread.pc === 'u64') walked.entryAddress = reader.low32of64(at);
  return at + thread.size;
}

/** cli_rawaddr: the file offset of `address` through the first section holding it. */
function rawAddress(address: number, sections: readonly ExecutableSection[]): number | undefined {
  const holder = sections.find((s) => s.rva <= address && ((s.rva + s.virtualSize) >>> 0) > address);
  return holder === undefined ? undefined : (address - holder.rva + holder.rawOffset) >>> 0;
}
