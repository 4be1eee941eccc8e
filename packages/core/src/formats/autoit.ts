/**
 * Compiled AutoIt v3 scripts, as ClamAV's cli_scanautoit (libclamav/autoit.c) unpacks them.
 * scanraw calls it when the file-type signature AUTOIT (a 16-byte magic, then "AU3!EA05" or
 * "AU3!EA06") matches inside a PE file: on a view of the file from the match on, the version
 * character at offset 23. ClamAV has no other way in: a file that itself starts with the magic is
 * binary data and is not unpacked.
 *
 * The members follow: a 4-byte magic, an obfuscated "magic string" (the kind of member: the
 * script, or a file added with FileInstall) and the original path, then a compression flag, the
 * compressed and uncompressed sizes and a checksum (each XORed with a constant), 16 bytes ClamAV
 * skips, and the data, encrypted (ciphers.ts) and usually compressed (decompress.ts).
 *
 * - EA05 (AutoIt ≤ 3.2.5): strings are bytes, keys come from a Mersenne Twister; the script is
 *   scanned as stored (source text, often UTF-16).
 * - EA06: strings are UTF-16, keys come from the "LAME" generator; the member whose magic string
 *   is ">>>AUTOIT SCRIPT<<<" is compiled tokens, which are decompiled to text (decompile.ts).
 *
 * Each member is scanned as a new file, in order. A member whose compressed or uncompressed size
 * is past the size budget is skipped; a member that fails to decompress is scanned as far as it
 * decoded. Reading stops at the first damaged header or a member cut by the end of the file.
 */
import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { lameDecrypt, mtDecrypt } from './autoit/ciphers.js';
import { decompileScript } from './autoit/decompile.js';
import { declaredSize, decompress, memberMagic } from './autoit/decompress.js';
import { utf16ToSingleBytes } from './autoit/utf16.js';
import { guarded } from './compression/guard.js';
import { u32le } from './compression/read.js';
import { latin1 } from '../util/latin1.js';

/** Where cli_scanautoit starts: the version character of "AU3!EA0?" after the 16-byte magic. */
const VERSION_OFFSET = 23;
const EA05 = 0x35;
const EA06 = 0x36;
/** Bytes after the version character before the first member (EA05 sums them into its key). */
const PREAMBLE = 16;
/** Compression flag, compressed size, uncompressed size, checksum. */
const SIZES_SIZE = 13;
/** The sizes, then 16 bytes ClamAV does not read. */
const SIZES_AND_SKIPPED = SIZES_SIZE + 16;
/** The size of ClamAV's buffer for the strings it prints: longer ones are not decoded. */
const EA05_STRING_BUFFER = 300;
const EA06_STRING_BUFFER = 600;
const SCRIPT_MAGIC = '>>>AUTOIT SCRIPT<<<';

/**
 * ClamAV checks the file limit before each member header (cli_checklimits at the top of its
 * loop), and reports Heuristics.Limits.Exceeded.MaxFiles there even when no member follows: this
 * empty object lets the scanner do the same. It carries no data and no metadata.
 */
export const FILE_LIMIT_CHECK: ExtractedObject = { data: new Uint8Array(0), noMetadata: true };

export const autoitHandler: FormatHandler = {
  name: 'autoit',
  fileTypes: ['CL_TYPE_AUTOIT'],
  scanSwitch: 'archive',
  recognisedOnly: true,
  extract: (data, ctx) => guarded('autoit', autoitMembers(data, ctx), ctx),
};

/** The files cli_scanautoit extracts from `data` (which starts at the AutoIt magic), in order. */
export function* autoitMembers(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject, void, undefined> {
  ctx.debug('in scanautoit()');
  if (data.length <= VERSION_OFFSET) return;
  const version = data[VERSION_OFFSET];
  if (version === EA05) yield* members(data, EA05_FORMAT, ctx);
  else if (version === EA06) yield* members(data, EA06_FORMAT, ctx);
  else ctx.debug('autoit: unknown method');
}

/** Where a member's sizes start, and whether it is the compiled script. */
interface MemberNames {
  readonly next: number;
  readonly script: boolean;
}

/** What differs between the two versions. */
interface Format {
  /** The magic that starts each member. */
  readonly fileMagic: number;
  /** Reads the member magic and the two strings at `at`; undefined ends the extraction. */
  readonly readNames: (data: Uint8Array, at: number, ctx: ExtractionContext) => MemberNames | undefined;
  readonly sizeKey: number;
  readonly checksumKey: number;
  /** Decrypts a member's data; `preamble` is what EA05 makes its key from. */
  readonly decrypt: (member: Uint8Array, preamble: Uint8Array) => void;
  /** "EA05" or "EA06", little endian, at the start of a decrypted compressed member. */
  readonly compressedMagic: number;
  readonly matchFlag: 0 | 1;
  readonly decompressionError: (decoded: number) => string;
}

const EA05_FORMAT: Format = {
  fileMagic: 0xceb06dff,
  readNames: ea05Names,
  sizeKey: 0x45aa,
  checksumKey: 0xc3d2,
  decrypt: (member, preamble) => mtDecrypt(member, 0x22af + preamble.reduce((sum, byte) => sum + byte, 0)),
  compressedMagic: 0x35304145,
  matchFlag: 1,
  decompressionError: (decoded) => `autoit: decompression error after ${decoded} bytes  - partial file may exist`,
};

const EA06_FORMAT: Format = {
  fileMagic: 0x52ca436b,
  readNames: ea06Names,
  sizeKey: 0x87bc,
  checksumKey: 0xa685,
  decrypt: (member) => lameDecrypt(member, 0x2477),
  compressedMagic: 0x36304145,
  matchFlag: 0,
  decompressionError: (decoded) => `autoit: decompression error after ${decoded} bytes - partial file may exist`,
};

function* members(data: Uint8Array, format: Format, ctx: ExtractionContext): Generator<ExtractedObject, void, undefined> {
  const start = VERSION_OFFSET + 1;
  if (start + PREAMBLE > data.length) return;
  const preamble = data.subarray(start, start + PREAMBLE);
  let at = start + PREAMBLE;
  for (;;) {
    yield FILE_LIMIT_CHECK;
    const names = format.readNames(data, at, ctx);
    if (!names) return;
    at = names.next;
    if (at + SIZES_SIZE > data.length) return;
    const compressed = data[at] === 1;
    const size = (u32le(data, at + 1) ^ format.sizeKey) >>> 0;
    if ((size | 0) < 0) {
      ctx.debug('autoit: bad file size - giving up');
      return;
    }
    if (size === 0) {
      ctx.debug('autoit: skipping empty file');
      at += SIZES_AND_SKIPPED;
      continue;
    }
    ctx.debug(`autoit: compressed size: ${size.toString(16)}`);
    ctx.debug(`autoit: advertised uncompressed size ${((u32le(data, at + 5) ^ format.sizeKey) >>> 0).toString(16)}`);
    ctx.debug(`autoit: ref chksum: ${((u32le(data, at + 9) ^ format.checksumKey) >>> 0).toString(16)}`);
    at += SIZES_AND_SKIPPED;
    if (overBudget(size, ctx)) {
      at += size;
      continue;
    }
    // ClamAV does not step over the member here: the next header is looked for in its data.
    if (compressed && size < 4) {
      ctx.debug('autoit: compressed size too small, skipping');
      continue;
    }
    if (at + size > data.length) {
      ctx.debug('autoit: failed to read compressed stream. broken/truncated file?');
      return;
    }
    const member = copyOf(data, at, at + size);
    at += size;
    format.decrypt(member, preamble);
    const content = compressed ? unpack(member, format, ctx) : notCompressed(member, ctx);
    if (!content) continue;
    if (content.length < 4) {
      ctx.debug('autoit: file is too short');
      continue;
    }
    const extracted = names.script ? decompileScript(content, ctx.debug).text : content;
    ctx.debug(`autoit: ${names.script ? 'script' : 'file'} successfully extracted`);
    yield { data: extracted, noMetadata: true };
  }
}

function notCompressed(member: Uint8Array, ctx: ExtractionContext): Uint8Array {
  ctx.debug('autoit: file is not compressed');
  return member;
}

/** A compressed member decoded (as far as it goes); undefined when it is skipped. */
function unpack(member: Uint8Array, format: Format, ctx: ExtractionContext): Uint8Array | undefined {
  ctx.debug('autoit: file is compressed');
  if (member.length < 4 || memberMagic(member) !== format.compressedMagic) {
    ctx.debug('autoit: bad magic or unsupported version');
    return undefined;
  }
  const size = declaredSize(member) || member.length;
  if (overBudget(size, ctx)) return undefined;
  ctx.debug(`autoit: uncompressed size again: ${size.toString(16)}`);
  const { data, failed } = decompress(member, size, format.matchFlag, ctx.debug);
  if (failed) ctx.debug(format.decompressionError(data.length));
  return data;
}

/**
 * ClamAV's cli_checklimits on a size: past the scan-size budget or the file size limit, the
 * member is skipped (with Heuristics.Limits.Exceeded.* when enabled).
 */
function overBudget(size: number, ctx: ExtractionContext): boolean {
  if (size <= ctx.maxObjectSize) return false;
  const scanSizeFirst = ctx.maxObjectSize < ctx.maxFileSize;
  ctx.heuristic('exceeds-max', `Heuristics.Limits.Exceeded.${scanSizeFirst ? 'MaxScanSize' : 'MaxFileSize'}`);
  return true;
}

/**
 * The EA05 member magic, magic string and path (bytes, each after its length XOR a key). ClamAV
 * decrypts the strings only to print them.
 */
function ea05Names(data: Uint8Array, start: number, ctx: ExtractionContext): MemberNames | undefined {
  if (start + 8 > data.length) return undefined;
  if (u32le(data, start) !== EA05_FORMAT.fileMagic) {
    ctx.debug('autoit: no FILE magic found, extraction complete');
    return undefined;
  }
  let at = start + 4;
  for (const { key, seed, label } of EA05_STRINGS) {
    if (at + 4 > data.length) return undefined;
    const length = (u32le(data, at) ^ key) >>> 0;
    if ((length | 0) < 0) return undefined;
    at += 4;
    if (length < EA05_STRING_BUFFER && at + length <= data.length) {
      const text = copyOf(data, at, at + length);
      mtDecrypt(text, length + seed);
      ctx.debug(`autoit: ${label} '${untilNul(text)}'`);
    }
    at += length;
  }
  return { next: at, script: false };
}

const EA05_STRINGS = [
  { key: 0x29bc, seed: 0xa25e, label: 'magic string' },
  { key: 0x29ac, seed: 0xf25e, label: 'original filename' },
];

/**
 * The EA06 member magic, magic string and path (UTF-16, each after its length in characters XOR
 * a key). The magic string tells the script apart; the path is decrypted only to print it.
 */
function ea06Names(data: Uint8Array, start: number, ctx: ExtractionContext): MemberNames | undefined {
  if (start + 8 > data.length) return undefined;
  const magic = u32le(data, start);
  if (magic !== EA06_FORMAT.fileMagic) {
    ctx.debug(`autoit: no FILE magic found, giving up (got 0x${magic.toString(16).padStart(8, '0')})`);
    return undefined;
  }
  let at = start + 4;
  const magicString = ea06String(data, at, 0xadbc);
  if (!magicString) return undefined;
  at = magicString.next;
  let script = false;
  if (magicString.characters < EA06_STRING_BUFFER / 2) {
    // ClamAV reads the magic string even without debug output: a string it cannot read ends it.
    if (magicString.size === 0 || at + magicString.size > data.length) return undefined;
    const text = decodedEa06String(data, at, magicString.size, magicString.characters + 0xb33f);
    ctx.debug(`autoit: magic string '${untilNul(text)}'`);
    script = magicString.characters === SCRIPT_MAGIC.length && latin1(text, 0, SCRIPT_MAGIC.length) === SCRIPT_MAGIC;
  } else {
    ctx.debug('autoit: magic string too long to print');
  }
  at += magicString.size;
  const path = ea06String(data, at, 0xf820);
  if (!path) return undefined;
  at = path.next;
  if (path.characters < EA06_STRING_BUFFER / 2 && at + path.size <= data.length) {
    const text = decodedEa06String(data, at, path.size, path.characters + 0xf479);
    ctx.debug(`autoit: original filename '${untilNul(text)}'`);
  }
  return { next: at + path.size, script };
}

/** An EA06 string length: characters, and the bytes ClamAV steps over (twice that, in 32 bits). */
function ea06String(data: Uint8Array, at: number, key: number): { characters: number; size: number; next: number } | undefined {
  if (at + 4 > data.length) return undefined;
  const characters = (u32le(data, at) ^ key) >>> 0;
  const size = Math.imul(characters, 2);
  if (size < 0) return undefined;
  return { characters, size, next: at + 4 };
}

/** An EA06 string decrypted and converted from UTF-16 in place, as ClamAV leaves its buffer. */
function decodedEa06String(data: Uint8Array, at: number, size: number, seed: number): Uint8Array {
  const text = copyOf(data, at, at + size);
  lameDecrypt(text, seed);
  utf16ToSingleBytes(text);
  return text;
}

/** A copy of part of `data` to decrypt (`slice` on a Buffer would share its memory). */
function copyOf(data: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(data.subarray(start, end));
}

/** The C string at the start of `bytes` (all of them when there is no NUL). */
function untilNul(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return latin1(bytes, 0, nul === -1 ? bytes.length : nul);
}
