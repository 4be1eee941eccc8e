/**
 * The VBA project text ClamAV builds from a `dir` stream (cli_vba_readdir_new): the records of
 * the MS-OVBA PROJECT structure written as `REM …` lines, each module's source decompressed,
 * converted to UTF-8 from the project code page and normalised. Signatures for macros are
 * written against this text, so it is reproduced byte for byte, warnings included.
 *
 * Any malformed record rejects the whole project, as in ClamAV.
 */
import { ascii, readUint16LE, readUint32LE } from './bytes.js';
import { CODEPAGE_ISO8859_1, CODEPAGE_UTF16_LE, codepageToUtf8 } from './codepages.js';
import { propertyName } from './ole2-reader.js';
import { inflateVba, normaliseVba } from './vba.js';

export interface VbaDirResult {
  /** The `dir` stream decompressed: ClamAV counts the document as having macros from here on. */
  readonly inflated: boolean;
  /** The project text, when every record could be read. */
  readonly text?: Uint8Array;
}

/** Fails the project: ClamAV's CL_EREAD out of the record loop, some with a warning. */
class MalformedProject extends Error {
  constructor(readonly warning?: string) {
    super(warning ?? 'malformed VBA project');
  }
}

const hex = (value: number, digits: number): string => value.toString(16).padStart(digits, '0');
const ERROR_STRING = '<error decoding string>';

const SYS_KINDS: Readonly<Record<number, string>> = {
  0: 'Windows 16 bit',
  1: 'Windows 32 bit',
  2: 'Macintosh',
  3: 'Windows 64 bit',
};

class Output {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  text(value: string): void {
    this.bytes(ascii(value));
  }

  bytes(value: Uint8Array): void {
    this.parts.push(value);
    this.size += value.length;
  }

  result(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

class RecordReader {
  offset = 0;
  codepage = CODEPAGE_ISO8859_1;

  constructor(
    readonly data: Uint8Array,
    readonly warn: (message: string) => void,
  ) {}

  get remaining(): number {
    return this.data.length - this.offset;
  }

  need(bytes: number, warning?: string): void {
    if (bytes > this.remaining) throw new MalformedProject(warning && `vba_readdir_new: ${warning}`);
  }

  u16(warning?: string): number {
    this.need(2, warning);
    const value = readUint16LE(this.data, this.offset);
    this.offset += 2;
    return value;
  }

  u32(warning?: string): number {
    this.need(4, warning);
    const value = readUint32LE(this.data, this.offset);
    this.offset += 4;
    return value;
  }

  /** A record header that must have the given id: its size, checked against the data left. */
  expect(id: number | readonly number[]): { id: number; size: number } {
    this.need(6);
    const found = this.u16();
    if (typeof id === 'number' ? found !== id : !id.includes(found)) throw new MalformedProject();
    const size = this.u32();
    return { id: found, size };
  }

  take(size: number): Uint8Array {
    this.need(size);
    const bytes = this.data.subarray(this.offset, this.offset + size);
    this.offset += size;
    return bytes;
  }
}

/**
 * Writes `bytes` converted to UTF-8 (from the project code page, or UTF-16LE), or ClamAV's
 * error marker; returns the converted text for the name/unicode-name comparison.
 */
function writeConverted(out: Output, bytes: Uint8Array, codepage: number, warn: (message: string) => void): Uint8Array | undefined {
  if (!bytes.length) return undefined;
  const utf8 = codepageToUtf8(bytes, codepage, warn);
  out.bytes(utf8 ?? ascii(ERROR_STRING));
  return utf8;
}

function differ(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return !!a && !!b && (a.length !== b.length || a.some((value, i) => value !== b[i]));
}

/**
 * Builds the project text from a `dir` stream. `moduleStreams(name)` returns the streams with
 * that (ClamAV-normalised) name that sit in the same storage as the `dir` stream, in document
 * order: the first one whose source decompresses at the module offset is used. `warn` receives
 * the warnings ClamAV prints on the way.
 */
export function readVbaDirProject(
  dirStream: Uint8Array,
  moduleStreams: (name: string) => readonly Uint8Array[],
  limit: number,
  warn: (message: string) => void,
): VbaDirResult {
  const data = inflateVba(dirStream, 0, limit);
  if (!data) return { inflated: false };
  const out = new Output();
  out.text('REM VBA project extracted from Microsoft Office document\n\n');
  const reader = new RecordReader(data, warn);
  try {
    while (reader.offset < data.length) {
      const id = reader.u16('Failed to read record type from dir');
      const size = reader.u32('Failed to read record size from dir');
      reader.need(size, 'Record stretches past the end of the file');
      if (!writeRecord(reader, out, id, size, moduleStreams, limit)) break;
    }
  } catch (error) {
    if (!(error instanceof MalformedProject)) throw error;
    if (error.warning) warn(error.warning);
    return { inflated: true };
  }
  return { inflated: true, text: out.result() };
}

function fixedSize(size: number, expected: number): void {
  if (size !== expected) throw new MalformedProject();
}

/** One PROJECT record; false at the terminator. */
function writeRecord(
  reader: RecordReader,
  out: Output,
  id: number,
  size: number,
  moduleStreams: (name: string) => readonly Uint8Array[],
  limit: number,
): boolean {
  switch (id) {
    case 0x0001: {
      fixedSize(size, 4);
      const kind = reader.u32();
      out.text(`REM PROJECTSYSKIND: ${SYS_KINDS[kind] ?? `Unknown (0x${kind.toString(16)})`}\n`);
      break;
    }
    case 0x0002:
      fixedSize(size, 4);
      out.text(`REM PROJECTLCID: 0x${hex(reader.u32(), 8)}\n`);
      break;
    case 0x0014:
      fixedSize(size, 4);
      out.text(`REM PROJECTLCIDINVOKE: 0x${hex(reader.u32(), 8)}\n`);
      break;
    case 0x0003:
      fixedSize(size, 2);
      reader.codepage = reader.u16();
      out.text(`REM PROJECTCODEPAGE: 0x${hex(reader.codepage, 4)}\n`);
      break;
    case 0x0004:
      if (size < 1 || size > 128) throw new MalformedProject();
      writeStringRecord(reader, out, 'REM PROJECTNAME: ', size, reader.codepage);
      break;
    case 0x0005:
      if (size > 2000) throw new MalformedProject();
      writeStringRecord(reader, out, 'REM PROJECTDOCSTRING: ', size, reader.codepage);
      break;
    case 0x0040:
      if (size % 2) throw new MalformedProject();
      writeStringRecord(reader, out, 'REM PROJECTDOCSTRINGUNICODE: ', size, CODEPAGE_UTF16_LE);
      break;
    case 0x0006:
      writeHelpFilePath(reader, out, size);
      break;
    case 0x0007:
      fixedSize(size, 4);
      out.text(`REM PROJECTHELPCONTEXT: 0x${hex(reader.u32(), 4)}\n`);
      break;
    case 0x0008:
      fixedSize(size, 4);
      out.text(`REM PROJECTLIBFLAGS: 0x${hex(reader.u32(), 4)}\n`);
      break;
    case 0x0009: {
      // The record claims 4 bytes but carries 6: a 32-bit major and a 16-bit minor version.
      fixedSize(size, 4);
      const major = reader.u32();
      const minor = reader.u16('PROJECTVERSION record stretches past the end of the file');
      out.text(`REM PROJECTVERSION: ${major}.${minor}\n`);
      break;
    }
    case 0x000f:
      fixedSize(size, 2);
      out.text(`REM PROJECTMODULES: ${reader.u16()}\n`);
      break;
    case 0x0013:
      fixedSize(size, 2);
      out.text(`REM PROJECTCOOKIE: 0x${hex(reader.u16(), 4)}\n`);
      break;
    case 0x0019:
      writeModule(reader, out, size, moduleStreams, limit);
      break;
    case 0x0010:
      return false;
    default:
      reader.offset += size;
  }
  return true;
}

function writeStringRecord(reader: RecordReader, out: Output, label: string, size: number, codepage: number): void {
  out.text(label);
  writeConverted(out, reader.take(size), codepage, reader.warn);
  out.text('\n');
}

/** PROJECTHELPFILEPATH and the PROJECTHELPFILEPATH2 record that should follow it. */
function writeHelpFilePath(reader: RecordReader, out: Output, size: number): void {
  if (size > 260) throw new MalformedProject();
  const path = reader.take(size);
  out.text('REM PROJECTHELPFILEPATH: ');
  writeConverted(out, path, reader.codepage, reader.warn);
  out.text('\n');
  reader.need(2, 'Failed to read record type from dir');
  if (readUint16LE(reader.data, reader.offset) !== 0x003d) {
    reader.warn('vba_readdir_new: PROJECTHELPFILEPATH is not followed by PROJECTHELPFILEPATH2');
    out.text('REM WARNING: PROJECTHELPFILEPATH is not followed by PROJECTHELPFILEPATH2\n');
    return;
  }
  reader.offset += 2;
  const size2 = reader.u32('Failed to read record size of PROJECTHELPFILEPATH2 record from dir');
  reader.need(size2, 'PROJECTHELPFILEPATH2 record stretches past the end of the file');
  if (size2 > 260) throw new MalformedProject();
  const path2 = reader.data.subarray(reader.offset, reader.offset + size2);
  if (size !== size2) out.text('REM WARNING: PROJECTHELPFILEPATH and PROJECTHELPFILEPATH2 record sizes differ\n');
  else if (differ(path, path2)) out.text('REM WARNING: PROJECTHELPFILEPATH and PROJECTHELPFILEPATH2 contents differ\n');
  writeStringRecord(reader, out, 'REM PROJECTHELPFILEPATH2: ', size2, CODEPAGE_UTF16_LE);
}

/** A pair of records holding the same string in the code page and in UTF-16LE. */
function writeNamePair(
  reader: RecordReader,
  out: Output,
  first: { label: string; size: number },
  second: { id: number; label: string },
  warning: string,
): Uint8Array {
  out.text(first.label);
  const mbcs = writeConverted(out, reader.take(first.size), reader.codepage, reader.warn);
  const { size } = reader.expect(second.id);
  out.text(second.label);
  const unicodeBytes = reader.take(size);
  const unicode = writeConverted(out, unicodeBytes, CODEPAGE_UTF16_LE, reader.warn);
  if (differ(mbcs, unicode)) out.text(warning);
  return unicodeBytes;
}

function writeModule(
  reader: RecordReader,
  out: Output,
  nameSize: number,
  moduleStreams: (name: string) => readonly Uint8Array[],
  limit: number,
): void {
  writeNamePair(
    reader,
    out,
    { label: '\n\nREM MODULENAME: ', size: nameSize },
    { id: 0x0047, label: '\nREM MODULENAMEUNICODE: ' },
    '\nREM WARNING: MODULENAME and MODULENAMEUNICODE differ',
  );
  const streamNameHeader = reader.expect(0x001a);
  const streamNameStart = reader.offset + streamNameHeader.size + 6;
  const streamNameUnicode = writeNamePair(
    reader,
    out,
    { label: '\nREM MODULESTREAMNAME: ', size: streamNameHeader.size },
    { id: 0x0032, label: '\nREM MODULESTREAMNAMEUNICODE: ' },
    '\nREM WARNING: MODULESTREAMNAME and MODULESTREAMNAMEUNICODE differ',
  );
  const docHeader = reader.expect(0x001c);
  writeNamePair(
    reader,
    out,
    { label: '\nREM MODULEDOCSTRING: ', size: docHeader.size },
    { id: 0x0048, label: '\nREM MODULEDOCSTRINGUNICODE: ' },
    '\nREM WARNING: MODULEDOCSTRING and MODULEDOCSTRINGUNICODE differ',
  );
  const moduleOffset = fixedRecord(reader, 0x0031, 4);
  out.text(`\nREM MODULEOFFSET: 0x${hex(moduleOffset, 8)}`);
  out.text(`\nREM MODULEHELPCONTEXT: 0x${hex(fixedRecord(reader, 0x001e, 4), 8)}`);
  out.text(`\nREM MODULECOOKIE: 0x${hex(fixedRecord(reader, 0x002c, 2), 4)}`);
  const type = reader.expect([0x0021, 0x0022]);
  fixedSize(type.size, 0);
  out.text(type.id === 0x0021 ? '\nREM MODULETYPE: Procedural' : '\nREM MODULETYPE: Class');
  let id = reader.u16();
  if (id === 0x0025) {
    fixedSize(reader.u32(), 0);
    out.text('\nREM MODULEREADONLY');
    id = reader.u16();
  }
  if (id === 0x0028) {
    fixedSize(reader.u32(), 0);
    out.text('\nREM MODULEPRIVATE');
    id = reader.u16();
  }
  if (id !== 0x002b) throw new MalformedProject();
  fixedSize(reader.u32(), 0);
  out.text(`\nREM ${'#'.repeat(50)}\n`);

  // ClamAV names the stream from the unicode record, reading two bytes past it (the C string
  // terminator it expects) — which are simply the next record's bytes.
  const streamName = propertyName(reader.data.subarray(streamNameStart), streamNameUnicode.length + 2);
  if (streamName === undefined) throw new MalformedProject();
  for (const stream of moduleStreams(streamName)) {
    const source = inflateVba(stream, moduleOffset, limit);
    if (!source) continue;
    const utf8 = codepageToUtf8(source, reader.codepage, reader.warn);
    if (utf8) out.bytes(normaliseVba(utf8));
    else out.text('\n<Error decoding module data>\n');
    break;
  }
}

/** A record with a fixed id and a 2- or 4-byte value. */
function fixedRecord(reader: RecordReader, id: number, size: 2 | 4): number {
  const header = reader.expect(id);
  fixedSize(header.size, size);
  return size === 2 ? reader.u16() : reader.u32();
}
