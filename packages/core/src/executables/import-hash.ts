import { toLower } from '../formats/documents/bytes.js';
import { cStringBytes, u32le } from '../formats/compression/read.js';
import { ordinalNames, startsWithIgnoringCase } from './import-ordinals.js';
import { rawAddress, type PeFile } from './pe-file.js';

/**
 * The text ClamAV hashes for a PE file's import-table signatures (`.imp`), made as libclamav's
 * hash_imptbl makes it: `dll.function` for every imported function, DLL and function names in
 * lower case, the DLL name without an `.dll`, `.ocx` or `.sys` ending, joined with commas (the
 * "imphash" of other tools). Functions imported by ordinal are named from ClamAV's tables, or
 * `ord<n>`. The signature's size is the length of this text.
 *
 * ClamAV's quirks are kept, since they decide what matches: a DLL name is never checked (a
 * function name must be letters, digits, `_` and `.`); a function name without 256 bytes of file
 * after its hint is not read, and left out; in a PE32 file a name RVA outside the
 * file is read from file offset 0; a table of exactly N descriptors stops before the last one.
 */

/** What the import table gave: its hash text, nothing to match (the PE scan goes on), or a fault that ends the PE scan. */
export type ImportTableText = { readonly kind: 'text'; readonly text: Uint8Array } | { readonly kind: 'none' } | { readonly kind: 'fault' };

const NONE: ImportTableText = { kind: 'none' };
const FAULT: ImportTableText = { kind: 'fault' };

const IMPORT_DIRECTORY = 1;
const DESCRIPTOR_SIZE = 20;
/** PE_MAXIMPORTS: the DLLs hashed at most. */
const MAX_DLLS = 1024;
/** PE_MAXNAMESIZE: the longest name read. */
const MAX_NAME = 256;
/** A function's name follows its 16-bit hint. */
const HINT_SIZE = 2;
const THUNK_SIZE = 4;
/**
 * The thunks read at most. ClamAV sets no bound, and crafted tables (every descriptor naming one
 * long thunk list) make it read for hours; no real import table comes near this. Past it ClamTS
 * ends the PE scan as for a table it cannot read.
 */
const MAX_THUNKS = 1 << 16;
const BY_ORDINAL = 0x80000000;
const STRIPPED_ENDINGS = ['.dll', '.ocx', '.sys'];

const COMMA = 0x2c;
const DOT = 0x2e;

/** hash_imptbl for a PE32 file (cli_scanpe stops before it for PE32+). `debug` gets ClamAV's debug lines. */
export function importTableText(data: Uint8Array, pe: PeFile, debug: (message: string) => void): ImportTableText {
  const { rva, size } = pe.directories[IMPORT_DIRECTORY]!;
  if (rva === 0 || size === 0) {
    debug('scan_pe: import table data dir does not exist (skipping .imp scanning)');
    return NONE;
  }
  const tableAt = rawAddress(rva, pe.sections, data.length, pe.headersSize);
  // ClamAV adds in 32 bits: a sum that wraps passes this check and fails the read below.
  if (tableAt === undefined || ((tableAt + size) >>> 0) > data.length) {
    debug('scan_pe: invalid rva for import table data');
    return NONE;
  }
  if (tableAt + size > data.length) {
    debug('scan_pe: failed to acquire fmap buffer');
    return FAULT;
  }
  const text = new HashText();
  const budget = { thunks: MAX_THUNKS };
  const fileAt = (address: number) => rawAddress(address, pe.sections, data.length, pe.headersSize);
  let left = size;
  for (let at = tableAt, dlls = 0; left > DESCRIPTOR_SIZE && dlls < MAX_DLLS; at += DESCRIPTOR_SIZE, dlls++) {
    const nameRva = u32le(data, at + 12);
    if (nameRva === 0) break;
    left -= DESCRIPTOR_SIZE;
    const nameAt = fileAt(nameRva);
    if (nameAt === undefined) {
      debug('scan_pe: invalid rva for dll name');
      return FAULT;
    }
    const dll = cStringBytes(data, nameAt, MAX_NAME);
    const thunksAt = thunkTableAt(u32le(data, at), u32le(data, at + 16), fileAt);
    if (thunksAt === undefined) {
      debug('scan_pe: invalid rva for image first thunk');
      return FAULT;
    }
    if (!addFunctions(data, thunksAt, dll, fileAt, text, budget, debug)) return FAULT;
  }
  return { kind: 'text', text: text.bytes() };
}

/** Where the DLL's thunks are read: the OriginalFirstThunk's table, else the FirstThunk's. */
function thunkTableAt(originalFirstThunk: number, firstThunk: number, fileAt: (rva: number) => number | undefined): number | undefined {
  const original = originalFirstThunk === 0 ? undefined : fileAt(originalFirstThunk);
  return original === undefined || original === 0 ? fileAt(firstThunk) : original;
}

/** hash_impfns for PE32 thunks: adds each named function of one DLL; false on a bad function name. */
function addFunctions(
  data: Uint8Array,
  thunksAt: number,
  dll: Uint8Array,
  fileAt: (rva: number) => number | undefined,
  text: HashText,
  budget: { thunks: number },
  debug: (message: string) => void,
): boolean {
  const dllStem = dll.subarray(0, stemLength(dll));
  for (let at = thunksAt; at + THUNK_SIZE <= data.length; at += THUNK_SIZE) {
    if (budget.thunks-- === 0) {
      debug('scan_pe: import table too long (ClamTS stops reading it)');
      return false;
    }
    const thunk = u32le(data, at);
    if (thunk === 0) break;
    const name = thunk & BY_ORDINAL ? ordinalName(dll, thunk & 0xffff) : functionName(data, fileAt(thunk) ?? 0);
    if (name === undefined) continue;
    if (!isValidFunctionName(name)) {
      debug('scan_pe: invalid name for imported function');
      return false;
    }
    text.add(dllStem, name);
  }
  return true;
}

/** The name after the hint at file offset `at`, when ClamAV reads it (a full MAX_NAME bytes must follow the hint). */
function functionName(data: Uint8Array, at: number): Uint8Array | undefined {
  const nameAt = at + HINT_SIZE;
  return nameAt + MAX_NAME <= data.length ? cStringBytes(data, nameAt, MAX_NAME) : undefined;
}

function ordinalName(dll: Uint8Array, ordinal: number): Uint8Array {
  return Buffer.from(ordinalNames(dll)?.get(ordinal) ?? `ord${ordinal}`, 'latin1');
}

/** The DLL name's length without an `.dll`, `.ocx` or `.sys` after its first dot. */
function stemLength(dll: Uint8Array): number {
  const dot = dll.indexOf(DOT);
  if (dot < 0) return dll.length;
  const ending = dll.subarray(dot);
  return STRIPPED_ENDINGS.some((stripped) => startsWithIgnoringCase(ending, stripped)) ? dot : dll.length;
}

/** validate_impname for a function: letters, digits, `_` and `.` only (an empty name passes). */
function isValidFunctionName(name: Uint8Array): boolean {
  for (const c of name) {
    const valid = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === DOT;
    if (!valid) return false;
  }
  return true;
}

/** The hash text being made: `dll.function` entries, lower-cased, joined with commas. */
class HashText {
  private readonly entries: Uint8Array[] = [];

  add(dllStem: Uint8Array, functionName: Uint8Array): void {
    const comma = this.entries.length > 0 ? 1 : 0;
    const entry = new Uint8Array(comma + dllStem.length + 1 + functionName.length);
    if (comma) entry[0] = COMMA;
    lowerInto(entry, comma, dllStem);
    entry[comma + dllStem.length] = DOT;
    lowerInto(entry, comma + dllStem.length + 1, functionName);
    this.entries.push(entry);
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.entries);
  }
}

function lowerInto(target: Uint8Array, at: number, source: Uint8Array): void {
  for (let i = 0; i < source.length; i++) target[at + i] = toLower(source[i]!);
}
