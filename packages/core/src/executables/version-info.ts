import { u16le, u32le } from '../formats/compression/read.js';
import { utf16PairsToBytes } from '../filetypes/unicode.js';
import { hex } from '../util/c-numbers.js';
import { latin1 } from '../util/latin1.js';
import { ANY_NAME, findResources } from './pe-resources.js';
import { rawAddress, type PeFile } from './pe-file.js';

/**
 * The version information of a PE file as ClamAV's cli_peheader reads it for `VI` signature
 * offsets: the file offsets of the String entries (key and value, UTF-16) of every StringTable of
 * the StringFileInfo of each VS_VERSIONINFO resource. A `VI` pattern matches only where it starts
 * at one of them.
 *
 * ClamAV's walk is kept exactly, since it decides what matches: at most 16 RT_VERSION resources;
 * a block larger than its parent, or too small for its header, ends the walk of that resource
 * (only a VarFileInfo block before the StringFileInfo is skipped); a String entry's length is
 * rounded up to 4 before it is compared with what is left of its table; entries whose key has no
 * terminator within the entry are skipped.
 */

const RT_VERSION = 0x10;
/** versioninfo_cb keeps this many resources, then ends the resource walk. */
const MAX_VERSION_RESOURCES = 16;
const RESOURCE_DIRECTORY = 2;
/** A resource data entry: OffsetToData, Size, CodePage, Reserved. */
const DATA_ENTRY_SIZE = 16;
/** wLength, wValueLength, wType: every block starts with them, its key follows. */
const BLOCK_HEADER = 6;

const VS_VERSION_INFO = utf16Key('VS_VERSION_INFO');
const VAR_FILE_INFO = utf16Key('VarFileInfo');
const STRING_FILE_INFO = utf16Key('StringFileInfo');
/** VS_FIXEDFILEINFO: its size (the root block's wValueLength) and signature. */
const FIXED_FILE_INFO_SIZE = 0x34;
const FIXED_FILE_INFO_SIGNATURE = 0xfeef04bd;
/** Header, key, padding to 4, then VS_FIXEDFILEINFO: where the root block's children start. */
const ROOT_CHILDREN = BLOCK_HEADER + VS_VERSION_INFO.length + 2 + FIXED_FILE_INFO_SIZE;
/** Header, key "StringFileInfo": where its StringTables start. */
const STRING_FILE_INFO_CHILDREN = BLOCK_HEADER + STRING_FILE_INFO.length;
/** Header, the 8-character language/code-page key, terminator, padding: where a StringTable's Strings start. */
const STRING_TABLE_CHILDREN = 24;
/** A String entry must be longer than its header, a one-character key and a value. */
const MIN_STRING_ENTRY = BLOCK_HEADER + 2 + 8;

/** `debug` gets ClamAV's debug lines (versioninfo_cb, cli_peheader, VersionInfo). */
export function versionInfoOffsets(data: Uint8Array, pe: PeFile, debug?: (message: string) => void): Set<number> {
  const found = new Set<number>();
  if (pe.directoryCount <= RESOURCE_DIRECTORY || pe.directories[RESOURCE_DIRECTORY]!.size === 0) return found;
  const resources = versionResources(data, pe, debug);
  const fileAt = (rva: number) => rawAddress(rva, pe.sections, data.length, pe.headersSize);
  resources.forEach((entryRva, i) => {
    debug?.(`cli_peheader: parsing version info @ rva ${hex(entryRva)} (${i + 1}/${resources.length})`);
    const entryAt = fileAt(entryRva);
    if (entryAt === undefined || entryAt + DATA_ENTRY_SIZE > data.length) return;
    const size = u32le(data, entryAt + 4);
    const at = fileAt(u32le(data, entryAt));
    if (at === undefined || size === 0 || at + size > data.length) return;
    new VersionInfoWalk(data, found, debug).root(at, size);
  });
  return found;
}

/** versioninfo_cb: the data entry RVAs of the first 16 RT_VERSION resources. */
function versionResources(data: Uint8Array, pe: PeFile, debug: ((message: string) => void) | undefined): number[] {
  const rvas: number[] = [];
  findResources(data, pe, RT_VERSION, ANY_NAME, ({ type, name, language, dataEntryRva }) => {
    debug?.(`versioninfo_cb: type: ${hex(type)}, name: ${hex(name)}, lang: ${hex(language)}, rva: ${hex(dataEntryRva)}`);
    rvas.push(dataEntryRva);
    return rvas.length === MAX_VERSION_RESOURCES;
  });
  return rvas;
}

/** The walk of one VS_VERSIONINFO resource, adding String entry offsets to `found`. */
class VersionInfoWalk {
  constructor(
    private readonly data: Uint8Array,
    private readonly found: Set<number>,
    private readonly debug: ((message: string) => void) | undefined,
  ) {}

  /** The VS_VERSIONINFO block at `at`, in a resource of `size` bytes. */
  root(at: number, size: number): void {
    if (size <= 4) return;
    const length = u16le(this.data, at);
    if (length > size) return;
    const valid =
      length > ROOT_CHILDREN &&
      u16le(this.data, at + 2) === FIXED_FILE_INFO_SIZE &&
      this.keyIs(at, VS_VERSION_INFO) &&
      u32le(this.data, at + BLOCK_HEADER + VS_VERSION_INFO.length + 2) === FIXED_FILE_INFO_SIGNATURE;
    if (valid) this.children(at + ROOT_CHILDREN, length - ROOT_CHILDREN);
  }

  /** The root's children: an optional VarFileInfo, then the StringFileInfo (nothing after it is read). */
  private children(at: number, left: number): void {
    let skippedVarFileInfo = false;
    while (left > BLOCK_HEADER) {
      const length = u16le(this.data, at);
      if (length > left) return;
      if (!skippedVarFileInfo && length > BLOCK_HEADER + VAR_FILE_INFO.length && this.keyIs(at, VAR_FILE_INFO)) {
        at += length;
        left -= length;
        skippedVarFileInfo = true;
        continue;
      }
      if (length > STRING_FILE_INFO_CHILDREN && this.keyIs(at, STRING_FILE_INFO)) {
        this.stringTables(at + STRING_FILE_INFO_CHILDREN, length - STRING_FILE_INFO_CHILDREN);
      }
      return;
    }
  }

  /** The StringTables of a StringFileInfo; a damaged String entry ends them all. */
  private stringTables(at: number, left: number): void {
    while (left > BLOCK_HEADER) {
      const length = u16le(this.data, at);
      if (length > left || length <= STRING_TABLE_CHILDREN) return;
      if (!this.strings(at + STRING_TABLE_CHILDREN, length - STRING_TABLE_CHILDREN)) return;
      at += length;
      left -= length;
    }
  }

  /** The String entries of one StringTable; false at an entry too large or too small. */
  private strings(at: number, left: number): boolean {
    while (left > BLOCK_HEADER) {
      const length = roundUp4(u16le(this.data, at));
      if (length > left || length <= MIN_STRING_ENTRY) return false;
      const valueAt = at + roundUp4(this.keyEnd(at, length));
      if (valueAt < at + length) this.addString(at, valueAt, at + length);
      at += length;
      left -= length;
    }
    return true;
  }

  /** The entry offset just past the key's terminator, or about `length` when it has none. */
  private keyEnd(at: number, length: number): number {
    let end = BLOCK_HEADER;
    for (; end + 1 < length; end += 2) {
      if (this.data[at + end] === 0 && this.data[at + end + 1] === 0) return end + 2;
    }
    return end;
  }

  /** Adds the String entry at `at` whose key starts at `at + 6` and whose value spans [valueAt, end). */
  private addString(at: number, valueAt: number, end: number): void {
    const keyAt = at + BLOCK_HEADER;
    this.found.add(keyAt);
    if (!this.debug) return;
    const key = cText(utf16PairsToBytes(this.data.subarray(keyAt, valueAt)));
    const value = cText(utf16PairsToBytes(this.data.subarray(valueAt, end)));
    const bytes = Buffer.from(this.data.buffer, this.data.byteOffset + keyAt, end - keyAt).toString('hex');
    this.debug(`VersionInfo (${hex(keyAt)}): '${key}'='${value}' - VI:${bytes}`);
  }

  /** Is the key of the block at `at` exactly `key` (UTF-16LE with its terminator)? */
  private keyIs(at: number, key: Uint8Array): boolean {
    const start = at + BLOCK_HEADER;
    for (let i = 0; i < key.length; i++) if (this.data[start + i] !== key[i]) return false;
    return true;
  }
}

/** `text` as UTF-16LE with its terminator. */
function utf16Key(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(`${text}\0`, 'utf16le'));
}

function roundUp4(value: number): number {
  return (value + 3) & ~3;
}

/** What C prints of `bytes` with %s: up to the first NUL. */
function cText(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return latin1(nul < 0 ? bytes : bytes.subarray(0, nul));
}
