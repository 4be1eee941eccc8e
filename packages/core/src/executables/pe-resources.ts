import { rawAddress, type PeFile } from './pe-file.js';

/**
 * ClamAV's findres: a walk of a PE file's resource directory (data directory 2) down its three
 * levels, type, name and language, that hands each matching resource data entry to a visitor.
 *
 * Only the first type directory with the asked type is walked (ClamAV stops there). At the type
 * and name levels an ID (below 2^31) skips the named entries and looks at the ID entries only; at
 * the name level ANY_NAME looks at every entry; all language entries are looked at. Counts are
 * 16-bit, as in ClamAV (named + ID entries wrap). The walk ends at the first entry or directory
 * header that is not in the file.
 */

/** The `name` that matches every name entry. */
export const ANY_NAME = 0xffffffff;

/** A resource data entry the walk found. */
export interface ResourceEntry {
  readonly type: number;
  readonly name: number;
  readonly language: number;
  /** RVA of the resource data entry (its OffsetToData, Size, CodePage). */
  readonly dataEntryRva: number;
}

/** Returns true to end the walk. */
export type ResourceVisitor = (entry: ResourceEntry) => boolean;

const RESOURCE_DIRECTORY = 2;
/** IMAGE_RESOURCE_DIRECTORY: NumberOfNamedEntries at 12, NumberOfIdEntries at 14, entries from 16. */
const DIRECTORY_HEADER_SIZE = 16;
const ENTRY_SIZE = 8;
const SUBDIRECTORY = 0x8000_0000;
/**
 * Entries looked at per walk, at most. ClamAV has no such bound: crafted directories whose
 * entries all lead to one directory of 65535 entries make it visit billions; ClamTS gives up.
 */
const MAX_ENTRIES_VISITED = 1 << 22;

export function findResources(data: Uint8Array, pe: PeFile, type: number, name: number, visit: ResourceVisitor): void {
  if (pe.directoryCount <= RESOURCE_DIRECTORY) return;
  const base = pe.directories[RESOURCE_DIRECTORY]!.rva;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let budget = MAX_ENTRIES_VISITED;

  /** The file offset of a directory header at `rva`, when the whole header is in the file. */
  const directoryAt = (rva: number): number | undefined => {
    const at = rawAddress(rva >>> 0, pe.sections, data.length, pe.headersSize);
    return at !== undefined && at + DIRECTORY_HEADER_SIZE <= data.length ? at : undefined;
  };
  const named = (directory: number) => view.getUint16(directory + 12, true);
  const numbered = (directory: number) => view.getUint16(directory + 14, true);
  /** Calls `each` with the file offsets of `count` entries from `first`; false when one is out of the file. */
  const entries = (first: number, count: number, each: (entry: number) => boolean | 'stop'): boolean => {
    for (let i = 0; i < count; i++) {
      const entry = first + i * ENTRY_SIZE;
      if (entry + ENTRY_SIZE > data.length || budget-- <= 0) return false;
      if (each(entry) === 'stop') return false;
    }
    return true;
  };

  const types = directoryAt(base);
  if (types === undefined) return;
  const typesFirst = types + DIRECTORY_HEADER_SIZE + (isId(type) ? named(types) * ENTRY_SIZE : 0);
  const typeCount = isId(type) ? numbered(types) : named(types);
  entries(typesFirst, typeCount, (typeEntry) => {
    const offset = view.getUint32(typeEntry + 4, true);
    if (view.getUint32(typeEntry, true) !== type || (offset & SUBDIRECTORY) === 0) return true;
    const names = directoryAt(base + (offset & ~SUBDIRECTORY));
    if (names !== undefined) walkNames(names);
    return 'stop';
  });

  function walkNames(names: number): void {
    let first = names + DIRECTORY_HEADER_SIZE;
    let count = named(names);
    if (name === ANY_NAME) count = (count + numbered(names)) & 0xffff;
    else if (isId(name)) {
      first += count * ENTRY_SIZE;
      count = numbered(names);
    }
    entries(first, count, (nameEntry) => {
      const entryName = view.getUint32(nameEntry, true);
      const offset = view.getUint32(nameEntry + 4, true);
      if ((name !== ANY_NAME && entryName !== name) || (offset & SUBDIRECTORY) === 0) return true;
      const languages = directoryAt(base + (offset & ~SUBDIRECTORY));
      if (languages === undefined) return 'stop';
      return walkLanguages(entryName, languages) ? true : 'stop';
    });
  }

  /** False when the walk ends. */
  function walkLanguages(entryName: number, languages: number): boolean {
    const count = (named(languages) + numbered(languages)) & 0xffff;
    return entries(languages + DIRECTORY_HEADER_SIZE, count, (languageEntry) => {
      const offset = view.getUint32(languageEntry + 4, true);
      if ((offset & SUBDIRECTORY) !== 0) return true;
      const entry = { type, name: entryName, language: view.getUint32(languageEntry, true), dataEntryRva: (base + offset) >>> 0 };
      return visit(entry) ? 'stop' : true;
    });
  }
}

/** An ID rather than a name string (whose entries have the top bit set). */
function isId(value: number): boolean {
  return value >>> 31 === 0;
}
