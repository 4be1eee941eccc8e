import { alignUp, roundUp } from '../pe-arithmetic.js';
import { MAX_ALLOCATION } from './unpacker.js';

/**
 * ClamAV's PE rebuilder (libclamav rebuildpe.c, cli_rebuildpe / cli_rebuildpe_align): the
 * unpackers that recover an image's sections in memory write them out as a new, parsable (not
 * runnable) PE file, which is then scanned like any file. The output must be byte-identical to
 * ClamAV's, since hash signatures may match it: a fixed DOS header and stub, a PE header with the
 * given image base and entry point, a resource directory, and one `.clamNN` section per section
 * (with an `empty` section first when the image leaves a gap before its first section).
 */

/** One section to write: where it lives in the image and in the unpacked buffer. */
export interface RebuildSection {
  readonly rva: number;
  readonly virtualSize: number;
  /** Where its data starts in the buffer given to `rebuildPe`. */
  readonly rawOffset: number;
  readonly rawSize: number;
}

/** cli_rebuildpe writes at most this many sections, the `empty` one included. */
const MAX_SECTIONS = 96;
const PE_OFFSET = 0xd0;
const OPTIONAL_HEADER = PE_OFFSET + 24;
/** The DOS header, stub, PE and optional headers without their data directories. */
const FIXED_HEADERS_SIZE = 0x148;
const DATA_DIRECTORIES_SIZE = 0x80;
const SECTION_HEADER_SIZE = 0x28;
const FILE_ALIGNMENT = 0x200;
const SECTION_ALIGNMENT = 0x1000;
/** Every characteristic bit set, as ClamAV marks its rebuilt sections. */
const ALL_CHARACTERISTICS = 0xffffffff;

const DOS_STUB_CODE = [0x0e, 0x1f, 0xb4, 0x09, 0xba, 0x0d, 0x00, 0xcd, 0x21, 0xb4, 0x4c, 0xcd, 0x21]; // prints the message, exits
const DOS_STUB_MESSAGE = 'This file was created by ClamAV for internal use and should not be run.\r\nClamAV - A GPL virus scanner - http://www.clamav.net\r\n$';

/**
 * The rebuilt file, or undefined where ClamAV's rebuilder gives up (too many sections, too much
 * data). With `alignment`, section addresses and sizes are rounded up to it first
 * (cli_rebuildpe_align).
 */
export function rebuildPe(
  image: Uint8Array,
  sections: readonly RebuildSection[],
  imageBase: number,
  entryRva: number,
  resourceRva: number,
  resourceSize: number,
  alignment = 0,
): Uint8Array | undefined {
  const headersFor = (count: number) => alignUp(FIXED_HEADERS_SIZE + DATA_DIRECTORIES_SIZE + SECTION_HEADER_SIZE * count, FILE_ALIGNMENT);
  const ghost = sections.length > 0 && sections[0]!.rva > alignUp(headersFor(sections.length), SECTION_ALIGNMENT);
  const headersSize = headersFor(sections.length + (ghost ? 1 : 0));
  if (sections.length + (ghost ? 1 : 0) > MAX_SECTIONS) return undefined;
  const aligned = (value: number) => alignUp(value, alignment);
  // Summed in 64 bits: a section's rounded size may pass 2^32 here.
  const dataSize = sections.reduce((sum, section) => sum + roundUp(roundUp(section.rawSize, alignment), FILE_ALIGNMENT), 0);
  if (dataSize > MAX_ALLOCATION || headersSize + dataSize > MAX_ALLOCATION) return undefined;

  const file = new Uint8Array(headersSize + dataSize);
  const view = new DataView(file.buffer);
  writeClamAVHeaders(file, view);
  view.setUint16(PE_OFFSET + 6, sections.length + (ghost ? 1 : 0), true);
  view.setUint32(OPTIONAL_HEADER + 16, entryRva >>> 0, true);
  view.setUint32(OPTIONAL_HEADER + 28, imageBase >>> 0, true);
  view.setUint32(OPTIONAL_HEADER + 60, headersSize, true);
  // The resource directory is the third data directory.
  view.setUint32(FIXED_HEADERS_SIZE + 0x10, resourceRva >>> 0, true);
  view.setUint32(FIXED_HEADERS_SIZE + 0x14, resourceSize >>> 0, true);

  let header = FIXED_HEADERS_SIZE + DATA_DIRECTORIES_SIZE;
  let imageSize = alignUp(headersSize, SECTION_ALIGNMENT);
  if (ghost) {
    const gap = (sections[0]!.rva - imageSize) >>> 0;
    writeSectionHeader(file, view, header, 'empty', gap, imageSize, 0, 0);
    header += SECTION_HEADER_SIZE;
    imageSize = (imageSize + alignUp(gap, SECTION_ALIGNMENT)) >>> 0;
  }
  let raw = headersSize;
  sections.forEach((section, index) => {
    const rawSize = aligned(section.rawSize);
    const name = `.clam${String(index + 1).padStart(2, '0')}`.slice(0, 7);
    writeSectionHeader(file, view, header, name, aligned(section.virtualSize), aligned(section.rva), rawSize, raw);
    file.set(image.subarray(section.rawOffset, section.rawOffset + section.rawSize), raw);
    header += SECTION_HEADER_SIZE;
    raw += alignUp(rawSize, FILE_ALIGNMENT);
    imageSize = (imageSize + alignUp(aligned(section.virtualSize), SECTION_ALIGNMENT)) >>> 0;
  });
  view.setUint32(OPTIONAL_HEADER + 56, imageSize, true);
  return file;
}

/**
 * The fixed part ClamAV's rebuilt files start with: DOS header and stub, then a PE32 header for
 * an i386 GUI program at 0xd0 (UPX's rebuilder writes the same). The section count, entry point,
 * image base, image size and header size are left for the caller.
 */
export function writeClamAVHeaders(file: Uint8Array, view: DataView): void {
  // DOS header: "MZ", its size fields, the stub's stack, relocations at 0x40, PE header at 0xd0.
  const dosWords: [number, number][] = [
    [0x00, 0x5a4d], [0x02, 0x90], [0x04, 2], [0x08, 4], [0x0a, 0x0f], [0x0c, 0xffff], [0x10, 0xb0], [0x18, 0x40], [0x1a, 0x1a],
  ];
  for (const [at, value] of dosWords) view.setUint16(at, value, true);
  view.setUint32(0x3c, PE_OFFSET, true);
  file.set(DOS_STUB_CODE, 0x40);
  for (let i = 0; i < DOS_STUB_MESSAGE.length; i++) file[0x40 + DOS_STUB_CODE.length + i] = DOS_STUB_MESSAGE.charCodeAt(i);

  view.setUint32(PE_OFFSET, 0x00004550, true); // "PE\0\0"
  view.setUint16(PE_OFFSET + 4, 0x14c, true); // i386
  view.setUint32(PE_OFFSET + 8, 0x4d414c43, true); // TimeDateStamp "CLAM"
  view.setUint16(PE_OFFSET + 20, 0xe0, true); // SizeOfOptionalHeader
  view.setUint16(PE_OFFSET + 22, 0x8f83, true); // Characteristics
  const optional: [number, number, 2 | 4][] = [
    [0, 0x10b, 2], // PE32
    [4, 0x1000, 4], // SizeOfCode
    [8, 0x1000, 4], // SizeOfInitializedData
    [20, 0x1000, 4], // BaseOfCode
    [24, 0x1000, 4], // BaseOfData
    [32, SECTION_ALIGNMENT, 4],
    [36, FILE_ALIGNMENT, 4],
    [40, 1, 2], // MajorOperatingSystemVersion
    [48, 3, 2], // MajorSubsystemVersion
    [50, 10, 2], // MinorSubsystemVersion
    [68, 2, 2], // Subsystem: Windows GUI
    [72, 0x100000, 4], // SizeOfStackReserve
    [76, 0x1000, 4], // SizeOfStackCommit
    [80, 0x100000, 4], // SizeOfHeapReserve
    [84, 0x1000, 4], // SizeOfHeapCommit
    [92, 16, 4], // NumberOfRvaAndSizes
  ];
  for (const [at, value, size] of optional) {
    if (size === 2) view.setUint16(OPTIONAL_HEADER + at, value, true);
    else view.setUint32(OPTIONAL_HEADER + at, value, true);
  }
}

/** A section header at `at` with every characteristic bit set, as ClamAV's rebuilders write them. */
export function writeSectionHeader(file: Uint8Array, view: DataView, at: number, name: string, virtualSize: number, rva: number, rawSize: number, rawOffset: number): void {
  for (let i = 0; i < name.length; i++) file[at + i] = name.charCodeAt(i);
  view.setUint32(at + 8, virtualSize >>> 0, true);
  view.setUint32(at + 12, rva >>> 0, true);
  view.setUint32(at + 16, rawSize >>> 0, true);
  view.setUint32(at + 20, rawOffset >>> 0, true);
  view.setUint32(at + 0x24, ALL_CHARACTERISTICS, true);
}
