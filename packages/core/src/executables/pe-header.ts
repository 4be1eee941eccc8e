import type { ExecutableInfo, ExecutableSection } from '../engine/scan-object.js';

/**
 * The entry point and sections of a PE file as ClamAV 1.4's cli_peheader finds them for its
 * target info (cli_pe_targetinfo): what `EP+n`, `Sx+n`, `SL+n`, `SEx` offsets and the
 * `EntryPoint` / `NumberOfSections` target descriptions look at. Undefined where ClamAV's parse
 * fails, which disables every relative offset of the scan.
 *
 * ClamAV is lenient here: misaligned sections, holes between them or a bad first section only
 * matter to its strict mode, which target info does not use. What it does do is kept: section
 * addresses and sizes rounded to the alignments (with its fallback to a 512-byte file alignment),
 * sections past the end of the file emptied and truncated ones cut, and the entry point mapped
 * to a file offset through the last section that holds it.
 */

const DOS_SIGNATURE = 0x5a4d; // "MZ"
const DOS_SIGNATURE_OLD = 0x4d5a; // "ZM"
const NT_SIGNATURE = 0x00004550; // "PE\0\0"
const PE32_PLUS_MAGIC = 0x020b;
/** e_lfanew: where the DOS header keeps the offset of the PE header. */
const LFANEW_OFFSET = 0x3c;
/** The PE signature and the COFF file header. */
const FILE_HEADER_SIZE = 24;
/** The optional header without its data directories, PE32 and PE32+. */
const OPTIONAL_HEADER_SIZE = 96;
const OPTIONAL_HEADER_PLUS_SIZE = 112;
const DATA_DIRECTORY_SIZE = 8;
const MAX_DATA_DIRECTORIES = 16;
const SECTION_HEADER_SIZE = 40;
/** The file alignment ClamAV falls back to when sections are not aligned to the declared one. */
const FALLBACK_FILE_ALIGNMENT = 0x200;

export function peTargetInfo(data: Uint8Array): ExecutableInfo | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const fits = (at: number, length: number) => at + length <= data.length;
  if (!fits(0, 2)) return undefined;
  const dosMagic = view.getUint16(0, true);
  if (dosMagic !== DOS_SIGNATURE && dosMagic !== DOS_SIGNATURE_OLD) return undefined;
  if (!fits(LFANEW_OFFSET, 4)) return undefined;
  const peOffset = view.getUint32(LFANEW_OFFSET, true);
  if (peOffset === 0 || !fits(peOffset, FILE_HEADER_SIZE)) return undefined;
  if (view.getUint32(peOffset, true) !== NT_SIGNATURE) return undefined;
  const sectionCount = view.getUint16(peOffset + 6, true);
  const optionalHeaderSize = view.getUint16(peOffset + 20, true);
  if (sectionCount === 0 || optionalHeaderSize < OPTIONAL_HEADER_SIZE) return undefined;

  const optional = peOffset + FILE_HEADER_SIZE;
  if (!fits(optional, OPTIONAL_HEADER_SIZE)) return undefined;
  const plus = view.getUint16(optional, true) === PE32_PLUS_MAGIC;
  const fixedSize = plus ? OPTIONAL_HEADER_PLUS_SIZE : OPTIONAL_HEADER_SIZE;
  if (plus && (optionalHeaderSize < OPTIONAL_HEADER_PLUS_SIZE || !fits(optional, OPTIONAL_HEADER_PLUS_SIZE))) return undefined;
  // The same offsets in both forms.
  const entryRva = view.getUint32(optional + 16, true);
  const sectionAlignment = view.getUint32(optional + 32, true);
  let fileAlignment = view.getUint32(optional + 36, true);
  const headersSize = view.getUint32(optional + 60, true);
  const directories = Math.min(view.getUint32(optional + (plus ? 108 : 92), true), MAX_DATA_DIRECTORIES);
  const directoriesSize = directories * DATA_DIRECTORY_SIZE;
  // ClamAV reads the data directories (it needs them elsewhere), so they must be there.
  if (optionalHeaderSize < fixedSize + directoriesSize || !fits(optional + fixedSize, directoriesSize)) return undefined;

  const sectionTable = optional + optionalHeaderSize;
  if (!fits(sectionTable, sectionCount * SECTION_HEADER_SIZE)) return undefined;
  const headers = Array.from({ length: sectionCount }, (_, i) => readSectionHeader(view, sectionTable + i * SECTION_HEADER_SIZE));

  if (fileAlignment !== FALLBACK_FILE_ALIGNMENT && fileAlignment !== 0) {
    const misaligned = headers.some(
      (h) => h.rawSize !== 0 && h.rawOffset % fileAlignment !== 0 && h.rawOffset % FALLBACK_FILE_ALIGNMENT === 0,
    );
    if (misaligned) fileAlignment = FALLBACK_FILE_ALIGNMENT;
  }

  const sections: ExecutableSection[] = [];
  for (const header of headers) {
    const section = alignedSection(header, sectionAlignment, fileAlignment, data.length);
    if (section === undefined) return undefined;
    sections.push(section);
  }
  const entryPoint = rawAddress(entryRva, sections, data.length, alignUp(headersSize, sectionAlignment));
  return entryPoint === undefined ? undefined : { entryPoint, sections };
}

interface SectionHeader {
  readonly virtualSize: number;
  readonly rva: number;
  readonly rawSize: number;
  readonly rawOffset: number;
}

function readSectionHeader(view: DataView, at: number): SectionHeader {
  return {
    virtualSize: view.getUint32(at + 8, true),
    rva: view.getUint32(at + 12, true),
    rawSize: view.getUint32(at + 16, true),
    rawOffset: view.getUint32(at + 20, true),
  };
}

/**
 * A section as ClamAV keeps it: addresses rounded down and sizes rounded up to the alignments,
 * raw data outside the file emptied, raw data running past its end cut. Undefined for values
 * ClamAV refuses (2 GiB or more).
 */
function alignedSection(header: SectionHeader, sectionAlignment: number, fileAlignment: number, fileSize: number): ExecutableSection | undefined {
  const rva = alignDown(header.rva, sectionAlignment);
  let virtualSize = alignUp(header.virtualSize, sectionAlignment);
  const rawOffset = alignDown(header.rawOffset, fileAlignment);
  let rawSize = alignUp(header.rawSize, fileAlignment);
  let unalignedRawSize = header.rawSize;
  if (rawSize !== 0) {
    if (rawOffset >= fileSize || header.rawOffset >= fileSize) {
      rawSize = 0;
      unalignedRawSize = 0;
    } else {
      if (!containedInFile(fileSize, rawOffset, rawSize)) rawSize = fileSize - rawOffset;
      if (!containedInFile(fileSize, header.rawOffset, unalignedRawSize)) unalignedRawSize = fileSize - header.rawOffset;
    }
  }
  if (virtualSize === 0 && rawSize !== 0) virtualSize = alignUp(unalignedRawSize, sectionAlignment);
  const tooLarge = (value: number) => value >= 0x8000_0000;
  if (tooLarge(header.rva) || tooLarge(header.virtualSize) || (rawSize !== 0 && tooLarge(header.rawOffset)) || tooLarge(unalignedRawSize)) {
    return undefined;
  }
  return { rva, virtualSize, rawOffset, rawSize };
}

/** ClamAV's CLI_ISCONTAINED_0_TO: a non-empty range inside a non-empty file. */
function containedInFile(fileSize: number, offset: number, size: number): boolean {
  return fileSize > 0 && size > 0 && size <= fileSize && offset + size <= fileSize && offset < fileSize;
}

/** ClamAV's cli_rawaddr: the file offset of an RVA; undefined where it finds none. */
function rawAddress(rva: number, sections: readonly ExecutableSection[], fileSize: number, headersSize: number): number | undefined {
  if (rva < headersSize) return rva < fileSize ? rva : undefined;
  for (let i = sections.length - 1; i >= 0; i--) {
    const section = sections[i]!;
    if (section.rawSize !== 0 && section.rva <= rva && section.rawSize > rva - section.rva) {
      return (rva - section.rva + section.rawOffset) >>> 0;
    }
  }
  return undefined;
}

/** PEALIGN: down to a multiple of `alignment` (unchanged when it is 0). */
function alignDown(value: number, alignment: number): number {
  return alignment === 0 ? value : Math.floor(value / alignment) * alignment;
}

/** PESALIGN: up to a multiple of `alignment`, in 32-bit arithmetic (unchanged when it is 0). */
function alignUp(value: number, alignment: number): number {
  if (alignment === 0) return value;
  return ((Math.floor(value / alignment) + (value % alignment !== 0 ? 1 : 0)) * alignment) >>> 0;
}
