import type { ExecutableInfo } from '../engine/scan-object.js';
import { alignDown, alignUp } from './pe-arithmetic.js';

/**
 * A PE file's headers as ClamAV 1.4's cli_peheader reads them (struct cli_exe_info): what
 * signature offsets, the PE scan, its section-hash matching and its unpackers work from. Field
 * names say what a value is; each comment gives the libclamav name, so the unpackers can be
 * checked against it.
 *
 * ClamAV is lenient unless asked to be strict (--alert-broken): misaligned sections, holes
 * between them or a first section away from the headers are then errors. What it always does is
 * kept: section addresses and sizes rounded to the alignments (with its fallback to a 512-byte
 * file alignment), sections past the end of the file emptied (or dropped, when the PE scan asks)
 * and truncated ones cut, values of 2 GiB or more refused, and the entry point mapped to a file
 * offset through the last section that holds it.
 */

/** One section (struct cli_exe_section). */
export interface PeSection {
  /** rva: VirtualAddress rounded down to SectionAlignment. */
  readonly rva: number;
  /** vsz: VirtualSize rounded up to SectionAlignment (from the raw size when it is 0). */
  readonly virtualSize: number;
  /** raw: PointerToRawData rounded down to FileAlignment. */
  readonly rawOffset: number;
  /** rsz: SizeOfRawData rounded up to FileAlignment, emptied or cut at the end of the file. */
  readonly rawSize: number;
  /** chr: Characteristics. */
  readonly characteristics: number;
  /** urva, uvsz, uraw, ursz: the header's own values (ursz cut at the end of the file). */
  readonly declaredRva: number;
  readonly declaredVirtualSize: number;
  readonly declaredRawOffset: number;
  readonly declaredRawSize: number;
}

export interface PeDataDirectory {
  readonly rva: number;
  readonly size: number;
}

export interface PeFile {
  /** e_lfanew: where the PE signature is. */
  readonly peOffset: number;
  /** file_hdr.Machine, TimeDateStamp, SizeOfOptionalHeader, Characteristics. */
  readonly machine: number;
  readonly timeDateStamp: number;
  readonly optionalHeaderSize: number;
  readonly fileCharacteristics: number;
  /** is_pe32plus. */
  readonly isPe32Plus: boolean;
  /** is_dll. */
  readonly isDll: boolean;
  /** pe_opt ImageBase (low 32 bits for PE32+). */
  readonly imageBase: number;
  readonly sectionAlignment: number;
  readonly fileAlignment: number;
  readonly sizeOfImage: number;
  /** pe_opt Subsystem. */
  readonly subsystem: number;
  /** pe_opt.opt32 SizeOfStackReserve (low 32 bits for PE32+). */
  readonly stackReserve: number;
  /** hdr_size: SizeOfHeaders rounded up to SectionAlignment. */
  readonly headersSize: number;
  /** vep: AddressOfEntryPoint. */
  readonly entryRva: number;
  /** ep: the file offset of the entry point. */
  readonly entryPoint: number;
  /** dirs: the data directories, 16 entries (zero past NumberOfRvaAndSizes). */
  readonly directories: readonly PeDataDirectory[];
  /** ndatadirs: NumberOfRvaAndSizes, at most 16. */
  readonly directoryCount: number;
  /** sections (nsections), without the missing ones when the parse was asked to drop them. */
  readonly sections: readonly PeSection[];
  /** min: the lowest section RVA; max: the highest RVA inside a section (rva + vsz). */
  readonly minRva: number;
  readonly maxRva: number;
  /** overlay_start, overlay_size: data after the last section's raw data. */
  readonly overlayStart: number;
  readonly overlaySize: number;
}

export interface PeParseOptions {
  /** CLI_PEHEADER_OPT_REMOVE_MISSING_SECTIONS: drop sections that start past the end of the file. */
  readonly removeMissingSections?: boolean;
  /** CLI_PEHEADER_OPT_STRICT_ON_PE_ERRORS: refuse bad alignments and misplaced sections. */
  readonly strict?: boolean;
}

/**
 * Why a parse failed, as cli_peheader's result: `broken` (CL_EFORMAT, a PE file with broken
 * headers: what --alert-broken reports) or `not-pe` (CL_ERROR: no PE file there at all).
 */
export type PeParseFailure = 'broken' | 'not-pe';

const DOS_SIGNATURE = 0x5a4d; // "MZ"
const DOS_SIGNATURE_OLD = 0x4d5a; // "ZM"
const NT_SIGNATURE = 0x00004550; // "PE\0\0"
const PE32_PLUS_MAGIC = 0x020b;
const DLL_CHARACTERISTIC = 0x2000;
const NATIVE_SUBSYSTEM = 1;
/** e_lfanew: where the DOS header keeps the offset of the PE header. */
const LFANEW_OFFSET = 0x3c;
/** The PE signature and the COFF file header. */
const FILE_HEADER_SIZE = 24;
/** The optional header without its data directories, PE32 and PE32+. */
const OPTIONAL_HEADER_SIZE = 96;
const OPTIONAL_HEADER_PLUS_SIZE = 112;
const DATA_DIRECTORY_SIZE = 8;
const DATA_DIRECTORIES = 16;
const SECTION_HEADER_SIZE = 40;
/** The file alignment ClamAV falls back to when sections are not aligned to the declared one. */
const FALLBACK_FILE_ALIGNMENT = 0x200;
const PAGE = 0x1000;

/**
 * The entry point and sections for signature offsets (cli_pe_targetinfo): the lenient parse,
 * which keeps missing sections emptied. Undefined where it fails, which disables every relative
 * offset of the scan.
 */
export function peTargetInfo(data: Uint8Array): ExecutableInfo | undefined {
  const pe = readPeHeaders(data);
  return typeof pe === 'string' ? undefined : executableInfoOf(pe);
}

/** The entry point and sections of parsed headers. */
export function executableInfoOf(pe: PeFile): ExecutableInfo {
  const sections = pe.sections.map(({ rva, virtualSize, rawOffset, rawSize }) => ({ rva, virtualSize, rawOffset, rawSize }));
  return { entryPoint: pe.entryPoint, sections };
}

/** The headers as the PE scan reads them (missing sections dropped), or undefined. */
export function parsePeFile(data: Uint8Array): PeFile | undefined {
  const parsed = readPeHeaders(data, { removeMissingSections: true });
  return typeof parsed === 'string' ? undefined : parsed;
}

/** cli_peheader: the headers of the PE file `data`, or why they could not be read. */
export function readPeHeaders(data: Uint8Array, options: PeParseOptions = {}): PeFile | PeParseFailure {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const fits = (at: number, length: number) => at + length <= data.length;
  if (!fits(0, 2)) return 'not-pe';
  const dosMagic = view.getUint16(0, true);
  if (dosMagic !== DOS_SIGNATURE && dosMagic !== DOS_SIGNATURE_OLD) return 'not-pe';
  if (!fits(LFANEW_OFFSET, 4)) return 'broken';
  const peOffset = view.getUint32(LFANEW_OFFSET, true);
  if (peOffset === 0 || !fits(peOffset, FILE_HEADER_SIZE)) return 'not-pe';
  if (view.getUint32(peOffset, true) !== NT_SIGNATURE) return 'not-pe';
  const machine = view.getUint16(peOffset + 4, true);
  const sectionCount = view.getUint16(peOffset + 6, true);
  const timeDateStamp = view.getUint32(peOffset + 8, true);
  const optionalHeaderSize = view.getUint16(peOffset + 20, true);
  const fileCharacteristics = view.getUint16(peOffset + 22, true);
  if (sectionCount === 0 || optionalHeaderSize < OPTIONAL_HEADER_SIZE) return 'broken';

  const optional = peOffset + FILE_HEADER_SIZE;
  if (!fits(optional, OPTIONAL_HEADER_SIZE)) return 'broken';
  const isPe32Plus = view.getUint16(optional, true) === PE32_PLUS_MAGIC;
  const fixedSize = isPe32Plus ? OPTIONAL_HEADER_PLUS_SIZE : OPTIONAL_HEADER_SIZE;
  if (isPe32Plus && (optionalHeaderSize < OPTIONAL_HEADER_PLUS_SIZE || !fits(optional, OPTIONAL_HEADER_PLUS_SIZE))) return 'broken';
  // The same offsets in both forms, up to the image base.
  const entryRva = view.getUint32(optional + 16, true);
  const imageBase = view.getUint32(optional + (isPe32Plus ? 24 : 28), true);
  const sectionAlignment = view.getUint32(optional + 32, true);
  let fileAlignment = view.getUint32(optional + 36, true);
  const sizeOfImage = view.getUint32(optional + 56, true);
  const declaredHeadersSize = view.getUint32(optional + 60, true);
  const subsystem = view.getUint16(optional + 68, true);
  const stackReserve = view.getUint32(optional + 72, true);
  const directoryCount = Math.min(view.getUint32(optional + (isPe32Plus ? 108 : 92), true), DATA_DIRECTORIES);

  if (options.strict && subsystem !== NATIVE_SUBSYSTEM) {
    if (sectionAlignment === 0 || sectionAlignment % PAGE !== 0) return 'broken';
    if (fileAlignment === 0 || fileAlignment % FALLBACK_FILE_ALIGNMENT !== 0) return 'broken';
  }
  const directoriesAt = optional + fixedSize;
  const directoriesSize = directoryCount * DATA_DIRECTORY_SIZE;
  if (optionalHeaderSize < fixedSize + directoriesSize) return 'broken';
  if (!fits(directoriesAt, directoriesSize)) return 'not-pe';
  const directories = Array.from({ length: DATA_DIRECTORIES }, (_, i) =>
    i < directoryCount ? { rva: view.getUint32(directoriesAt + i * 8, true), size: view.getUint32(directoriesAt + i * 8 + 4, true) } : { rva: 0, size: 0 },
  );

  const sectionTable = optional + optionalHeaderSize;
  if (!fits(sectionTable, sectionCount * SECTION_HEADER_SIZE)) return 'broken';
  const headers = Array.from({ length: sectionCount }, (_, i) => readSectionHeader(view, sectionTable + i * SECTION_HEADER_SIZE));
  if (fileAlignment !== FALLBACK_FILE_ALIGNMENT && fileAlignment !== 0) {
    const misaligned = headers.some((h) => h.rawSize !== 0 && h.rawOffset % fileAlignment !== 0 && h.rawOffset % FALLBACK_FILE_ALIGNMENT === 0);
    if (misaligned) fileAlignment = FALLBACK_FILE_ALIGNMENT;
  }

  const headersSize = alignUp(declaredHeadersSize, sectionAlignment);
  const sections: PeSection[] = [];
  let minRva = 0;
  let maxRva = 0;
  let overlayStart = 0;
  let remaining = headers.length;
  for (const header of headers) {
    const aligned = alignedSection(header, sectionAlignment, fileAlignment, data.length);
    if (aligned === 'missing' && options.removeMissingSections) {
      if (remaining === 1) return 'broken';
      remaining--;
      continue;
    }
    const section = aligned === 'missing' ? emptied(header, sectionAlignment, fileAlignment) : aligned;
    if (section === 'refused') return 'broken';
    if (options.strict && (sectionAlignment === 0 || section.declaredRva % sectionAlignment !== 0)) return 'broken';
    const previous = sections[sections.length - 1];
    if (previous === undefined) {
      if (options.strict && section.declaredRva !== headersSize) return 'broken';
      minRva = section.rva;
      maxRva = (section.rva + section.rawSize) >>> 0;
    } else {
      if (options.strict && ((section.declaredRva - previous.declaredRva) >>> 0) !== previous.virtualSize) return 'broken';
      minRva = Math.min(minRva, section.rva);
      // ClamAV moves the overlay only when a later section ends higher (never for the first).
      if (((section.rva + section.rawSize) >>> 0) > maxRva) {
        maxRva = (section.rva + section.rawSize) >>> 0;
        overlayStart = (section.rawOffset + section.rawSize) >>> 0;
      }
    }
    sections.push(section);
  }
  const entryPoint = rawAddress(entryRva, sections, data.length, headersSize);
  if (entryPoint === undefined) return 'broken';
  return {
    peOffset,
    machine,
    timeDateStamp,
    optionalHeaderSize,
    fileCharacteristics,
    isPe32Plus,
    isDll: (fileCharacteristics & DLL_CHARACTERISTIC) !== 0,
    imageBase,
    sectionAlignment,
    fileAlignment,
    sizeOfImage,
    subsystem,
    stackReserve,
    headersSize,
    entryRva,
    entryPoint,
    directories,
    directoryCount,
    sections,
    minRva,
    maxRva,
    overlayStart,
    overlaySize: (data.length - overlayStart) >>> 0,
  };
}

interface SectionHeader {
  readonly virtualSize: number;
  readonly rva: number;
  readonly rawSize: number;
  readonly rawOffset: number;
  readonly characteristics: number;
}

function readSectionHeader(view: DataView, at: number): SectionHeader {
  return {
    virtualSize: view.getUint32(at + 8, true),
    rva: view.getUint32(at + 12, true),
    rawSize: view.getUint32(at + 16, true),
    rawOffset: view.getUint32(at + 20, true),
    characteristics: view.getUint32(at + 36, true),
  };
}

/**
 * A section as ClamAV keeps it: addresses rounded down and sizes rounded up to the alignments,
 * raw data running past the end of the file cut. `missing` when its raw data starts past the
 * end; `refused` for values ClamAV refuses (2 GiB or more).
 */
function alignedSection(header: SectionHeader, sectionAlignment: number, fileAlignment: number, fileSize: number): PeSection | 'missing' | 'refused' {
  const section = rounded(header, sectionAlignment, fileAlignment);
  let { rawSize, declaredRawSize } = section;
  if (rawSize !== 0) {
    if (section.rawOffset >= fileSize || header.rawOffset >= fileSize) return 'missing';
    if (!containedInFile(fileSize, section.rawOffset, rawSize)) rawSize = fileSize - section.rawOffset;
    if (!containedInFile(fileSize, header.rawOffset, declaredRawSize)) declaredRawSize = fileSize - header.rawOffset;
  }
  return finished({ ...section, rawSize, declaredRawSize }, sectionAlignment);
}

/** A section past the end of the file that the parse keeps, with no raw data. */
function emptied(header: SectionHeader, sectionAlignment: number, fileAlignment: number): PeSection | 'refused' {
  return finished({ ...rounded(header, sectionAlignment, fileAlignment), rawSize: 0, declaredRawSize: 0 }, sectionAlignment);
}

function rounded(header: SectionHeader, sectionAlignment: number, fileAlignment: number): PeSection {
  return {
    rva: alignDown(header.rva, sectionAlignment),
    virtualSize: alignUp(header.virtualSize, sectionAlignment),
    rawOffset: alignDown(header.rawOffset, fileAlignment),
    rawSize: alignUp(header.rawSize, fileAlignment),
    characteristics: header.characteristics,
    declaredRva: header.rva,
    declaredVirtualSize: header.virtualSize,
    declaredRawOffset: header.rawOffset,
    declaredRawSize: header.rawSize,
  };
}

/** A section without virtual size takes its raw size; values of 2 GiB or more are refused. */
function finished(section: PeSection, sectionAlignment: number): PeSection | 'refused' {
  const virtualSize = section.virtualSize === 0 && section.rawSize !== 0 ? alignUp(section.declaredRawSize, sectionAlignment) : section.virtualSize;
  const tooLarge = (value: number) => value >= 0x8000_0000;
  const { declaredRva, declaredVirtualSize, declaredRawOffset, declaredRawSize, rawSize } = section;
  if (tooLarge(declaredRva) || tooLarge(declaredVirtualSize) || (rawSize !== 0 && tooLarge(declaredRawOffset)) || tooLarge(declaredRawSize)) return 'refused';
  return { ...section, virtualSize };
}

/** ClamAV's CLI_ISCONTAINED_0_TO: a non-empty range inside a non-empty file. */
function containedInFile(fileSize: number, offset: number, size: number): boolean {
  return fileSize > 0 && size > 0 && size <= fileSize && offset + size <= fileSize && offset < fileSize;
}

/** ClamAV's cli_rawaddr: the file offset of an RVA; undefined where it finds none. */
export function rawAddress(rva: number, sections: readonly PeSection[], fileSize: number, headersSize: number): number | undefined {
  if (rva < headersSize) return rva < fileSize ? rva : undefined;
  for (let i = sections.length - 1; i >= 0; i--) {
    const section = sections[i]!;
    if (section.rawSize !== 0 && section.rva <= rva && section.rawSize > rva - section.rva) {
      return (rva - section.rva + section.rawOffset) >>> 0;
    }
  }
  return undefined;
}

/**
 * The first section that has no data in the file but takes memory, followed by one that has
 * both: where UPX, FSG and MEW unpack to.
 */
export function firstEmptySection(pe: PeFile): number | undefined {
  const { sections } = pe;
  for (let i = 0; i + 1 < sections.length; i++) {
    const [empty, next] = [sections[i]!, sections[i + 1]!];
    if (empty.rawSize === 0 && empty.virtualSize !== 0 && next.rawSize !== 0 && next.virtualSize !== 0) return i;
  }
  return undefined;
}
