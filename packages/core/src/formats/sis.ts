import { inflateSync } from 'node:zlib';
import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { guarded } from './compression/guard.js';
import { u16le, u32le } from './compression/read.js';

/**
 * Symbian installation packages (SIS), as ClamAV's sis.c reads them.
 *
 * Pre-9.x packages (third UID 0x10000419): a header, then a list of package records; each file
 * record points at one zlib-compressed (unless the header's "not compressed" flag is set) blob
 * per language, and each blob is scanned. The record walk is ClamAV's, quirks included (a
 * language-file record skips `languages` bytes), so the same blobs come out.
 *
 * 9.x packages (first UID 0x10201a7a): ClamAV 1.4 starts parsing their field tree at offset 0,
 * where the UIDs are, so it never finds the contents field and extracts nothing. We match
 * that and extract nothing either.
 */

const HEADER_SIZE = 84;
const UID_OLD_FORMAT = 0x10000419;
const LANGUAGE_COUNT = 99; // entries in ClamAV's language table
const FLAG_NOT_COMPRESSED = 0x0008;
/** ClamAV reads at most this many bytes of a (UTF-16) name. */
const MAX_NAME_BYTES = 400;

const enum Record {
  File = 0,
  LanguageFile = 1,
  Option = 2,
  If = 3,
  ElseIf = 4,
  Else = 5,
  EndIf = 6,
}
const FILE_TYPE_NULL = 4;

/** Sequential reader over the record list; running off the end stops the walk. */
class Cursor {
  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  u32(): number {
    if (this.pos + 4 > this.data.length) throw new Error('SIS: EOF');
    const v = u32le(this.data, this.pos);
    this.pos += 4;
    return v;
  }
}

/** A name stored as UTF-16LE, keeping the low byte of each unit as ClamAV does. */
function sisString(data: Uint8Array, at: number, length: number): string | undefined {
  const len = Math.min(length, MAX_NAME_BYTES);
  if (len === 0 || at + len > data.length) return undefined;
  let name = '';
  for (let i = 0; i < len; i += 2) {
    if (data[at + i] === 0) break; // the C string ends at the first NUL
    name += String.fromCharCode(data[at + i]!);
  }
  return name;
}

function* extractSis(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  if (data.length < HEADER_SIZE || u32le(data, 8) !== UID_OLD_FORMAT) {
    ctx.debug('SIS: not a pre-9.x package; nothing extracted (as in ClamAV)');
    return;
  }
  const languages = u16le(data, 18);
  const fileRecords = u16le(data, 20);
  const flags = u16le(data, 36);
  const languagesAt = u32le(data, 48);
  const recordsAt = u32le(data, 52);
  if (languages === 0 || languages >= LANGUAGE_COUNT) {
    ctx.debug('SIS: Too many or too few languages found');
    return;
  }
  if (languagesAt + languages * 2 > data.length) {
    ctx.debug('SIS: Unable to read languages');
    return;
  }
  if (recordsAt < HEADER_SIZE) {
    ctx.debug('SIS: the file records must not point into the header');
    return;
  }
  const compressed = !(flags & FLAG_NOT_COMPRESSED);
  const cursor = new Cursor(data, recordsAt);
  try {
    for (let i = 0; i < fileRecords; i++) {
      let skip = 0;
      switch (cursor.u32()) {
        case Record.LanguageFile:
          skip = languages;
          break;
        case Record.File: {
          const fileType = cursor.u32();
          cursor.u32(); // options
          const sourceNameLength = cursor.u32();
          const sourceNameAt = cursor.u32();
          cursor.u32(); // destination name length
          cursor.u32(); // destination name pointer
          const lengths = Array.from({ length: languages }, () => cursor.u32());
          const pointers = Array.from({ length: languages }, () => cursor.u32());
          const originalLengths = Array.from({ length: languages }, () => cursor.u32());
          if (fileType !== FILE_TYPE_NULL) {
            const name = sisString(data, sourceNameAt, sourceNameLength);
            for (let j = 0; j < languages; j++) {
              const blob = fileBlob(data, lengths[j]!, pointers[j]!, originalLengths[j]!, compressed, ctx);
              if (blob) yield name === undefined ? { data: blob } : { data: blob, name };
            }
          }
          skip = 8;
          break;
        }
        case Record.Option:
          skip = cursor.u32() * languages * 8;
          break;
        case Record.If:
        case Record.ElseIf:
          skip = cursor.u32();
          break;
        default:
          break;
      }
      cursor.pos += skip;
    }
  } catch (err) {
    ctx.debug((err as Error).message);
  }
}

/** One language's copy of a file, inflated when the package is compressed. */
function fileBlob(
  data: Uint8Array,
  length: number,
  pointer: number,
  originalLength: number,
  compressed: boolean,
  ctx: ExtractionContext,
): Uint8Array | undefined {
  if (length === 0 || pointer < HEADER_SIZE || length > ctx.maxObjectSize) return undefined;
  if (pointer + length > data.length) return undefined;
  const stored = data.subarray(pointer, pointer + length);
  if (!compressed) return stored;
  // ClamAV sizes the output buffer at three times the packed size, or the declared size if
  // bigger, and skips the file when that buffer would be over the limit or too small.
  let capacity: number;
  if (originalLength <= length * 3 && length * 3 <= ctx.maxObjectSize) capacity = length * 3;
  else if (originalLength <= ctx.maxObjectSize) capacity = originalLength;
  else return undefined;
  try {
    return inflateSync(stored, { maxOutputLength: capacity });
  } catch {
    ctx.debug('SIS: inflate failure');
    return undefined;
  }
}

export const sisHandler: FormatHandler = {
  name: 'sis',
  fileTypes: ['CL_TYPE_SIS'],
  scanSwitch: 'archive',
  extract: (data, ctx) => guarded('SIS', extractSis(data, ctx), ctx),
};
