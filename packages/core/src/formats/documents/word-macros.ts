/**
 * Word 6/95 (WordBasic) macros as libclamav's cli_wm_readdir and cli_wm_decrypt_macro find
 * them in a `WordDocument` stream: the macro table located by the file information block,
 * then each macro's bytes XOR-decrypted with its one-byte key.
 */
import { FileCursor } from './file-cursor.js';

const FIB_MACRO_TABLE = 0x118;
const MACRO_ENTRY_SIZE = 24;

interface MacroEntry {
  readonly key: number;
  readonly length: number;
  readonly offset: number;
}

/** The decrypted macros of a WordDocument stream, in table order (unreadable ones skipped). */
export function readWordMacros(stream: Uint8Array): Uint8Array[] {
  const entries = readMacroTable(stream);
  const macros: Uint8Array[] = [];
  for (const entry of entries) {
    if (!entry.length || entry.offset + entry.length > stream.length) continue;
    const macro = new Uint8Array(stream.subarray(entry.offset, entry.offset + entry.length)); // a copy
    if (entry.key) for (let i = 0; i < macro.length; i++) macro[i]! ^= entry.key;
    macros.push(macro);
  }
  return macros;
}

function readMacroTable(stream: Uint8Array): MacroEntry[] {
  const cursor = new FileCursor(stream);
  cursor.seek(FIB_MACRO_TABLE);
  const tableOffset = cursor.readUint32();
  const tableLength = cursor.readUint32();
  if (tableOffset === undefined || tableLength === undefined || !tableLength) return [];
  // The first byte of the table is a start marker; records follow until one ends the walk.
  cursor.seek((tableOffset + 1) >>> 0);
  const end = (tableOffset + tableLength) >>> 0;
  while (cursor.pos < end) {
    const id = cursor.readUint8();
    if (id === undefined) return [];
    switch (id) {
      case 0x01:
        return readMacroEntries(cursor);
      case 0x03:
        if (!skipOxo3(cursor)) return [];
        break;
      case 0x05:
        if (!skipCounted(cursor, 12)) return [];
        break;
      case 0x10:
        if (!skipExternalNames(cursor)) return [];
        break;
      case 0x11:
        if (!skipInternalNames(cursor)) return [];
        break;
      default: // 0x40 ends the table; unknown records end the walk too
        return [];
    }
  }
  return [];
}

function readMacroEntries(cursor: FileCursor): MacroEntry[] {
  const count = cursor.readUint16();
  if (!count) return [];
  const table = cursor.read(count * MACRO_ENTRY_SIZE);
  if (!table) return [];
  const entries: MacroEntry[] = [];
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  for (let at = 0; at < table.length; at += MACRO_ENTRY_SIZE) {
    entries.push({ key: table[at + 1]!, length: view.getUint32(at + 12, true), offset: view.getUint32(at + 20, true) });
  }
  return entries;
}

function skipOxo3(cursor: FileCursor): boolean {
  const first = cursor.readUint8();
  if (first === undefined) return false;
  cursor.skip(first * 14);
  let count = cursor.readUint8();
  if (count === undefined) return false;
  if (count === 0) {
    const pair = cursor.read(2);
    if (!pair) return false;
    if (pair[0] !== 2) {
      cursor.skip(-2);
      return true;
    }
    count = pair[1]!;
  }
  if (count > 0) cursor.skip(count * 4 + 1);
  return true;
}

/** A 16-bit count of fixed-size records. */
function skipCounted(cursor: FileCursor, recordSize: number): boolean {
  const count = cursor.readUint16();
  if (count === undefined) return false;
  cursor.skip(count * recordSize);
  return true;
}

function skipExternalNames(cursor: FileCursor): boolean {
  let size = cursor.readUint16();
  if (size === undefined) return false;
  let unicode = false;
  if (size === 0xffff) {
    size = cursor.readUint16();
    if (size === undefined) return false;
    unicode = true;
  }
  const signedSize = size >= 0x8000 ? size - 0x10000 : size;
  // ClamAV subtracts the whole table size per name, so at most one name is skipped.
  if (signedSize > 0) {
    const length = cursor.readUint8();
    if (length === undefined) return false;
    cursor.skip((unicode ? length * 2 + 1 : length) + 2);
  }
  return true;
}

function skipInternalNames(cursor: FileCursor): boolean {
  let count = cursor.readUint16();
  if (count === undefined) return false;
  while (count-- > 0) {
    cursor.skip(2);
    const length = cursor.readUint8();
    if (length === undefined) return false;
    cursor.skip(length + 1);
  }
  return true;
}
