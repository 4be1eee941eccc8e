/**
 * ClamAV's signed database containers: `.cvd` (official, signed), `.cld` (the same rebuilt
 * locally by incremental updates) and `.cud` (unofficial, unsigned).
 *
 * A container is a 512-byte text header followed by a tar archive, usually gzip-compressed,
 * whose `.info` manifest lists every database file with its size and SHA-256. What is trusted
 * depends on the kind, exactly as in libclamav's cli_cvdload:
 *  - `.cvd`: the header's MD5 must be that of the body and its signature (ClamAV's 1024-bit key)
 *    must decode to that MD5; the manifest must carry a valid DSIG line (2048-bit key, PSS).
 *  - `.cld`: the header is not checked (a rebuilt body no longer matches it); the manifest's DSIG
 *    line is what protects the content.
 *  - `.cud`: nothing is signed and a DSIG line is not even allowed in the manifest.
 * In all kinds the manifest header must agree with the container header, and every database file
 * the engine loads must match its manifest line ({@link checkContainerEntry}).
 *
 * The diagnostics are libclamav's, sent through the Logger, and every failure is a ClamError
 * carrying the code ClamAV returns, so the tools print the same lines.
 */
import { DATABASE_LINE_BUFFER } from './lines.js';
import { createHash } from 'node:crypto';
import { constants as zlibConstants, crc32, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { ClamError, type ClamErrorCode } from '../errors.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { cString, readTar, type TarEntry, type TarListing } from '../util/tar.js';
import { CVD_SIGNING_KEY, INFO_SIGNING_KEY, type RsaPublicKey } from './clamav-key.js';

export type ContainerKind = 'cvd' | 'cld' | 'cud';

export interface CvdHeader {
  /** As written in the header, e.g. "22 Jun 2021 14-58 -0400". */
  buildTime: string;
  version: number;
  signatureCount: number;
  functionalityLevel: number;
  /** As written in the header (lowercase hex in every real file; ClamAV compares it case-sensitively). */
  md5: string;
  digitalSignature: string;
  builder: string;
  /** Seconds since the epoch (last field), 0 when absent (old format). */
  buildTimestamp: number;
}

export interface CvdEntry {
  name: string;
  /** A view into the unpacked archive; shorter than declared when the archive is cut. */
  data: Uint8Array;
}

/** One `name:size:sha256` line of the manifest. */
export interface ManifestFile {
  /** As ClamAV stores it: a C int, so sizes of 2^31 and more never match. */
  size: number;
  sha256: Uint8Array;
}

export interface ContainerContents {
  header: CvdHeader;
  /** Every file of the archive in order, database or not (COPYING, the manifest…). */
  entries: CvdEntry[];
  /** The manifest, by file name (the first line wins when a name repeats, as in ClamAV). */
  manifest: Map<string, ManifestFile>;
}

const HEADER_SIZE = 512;
/** libclamav's CLI_DEFAULT_DBIO_BUFSIZE: the read buffer for files inside a container. */
const DBIO_BUFFER_SIZE = 32769;

const latin1 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

function fail(code: ClamErrorCode, path: string, logger: Logger, message?: string): never {
  if (message !== undefined) logger.error(message);
  throw new ClamError(code, { path });
}

// ---------------------------------------------------------------------------------------------
// The header
// ---------------------------------------------------------------------------------------------

/**
 * glibc's atoi: strtol in base 10 (white space, sign, digits, saturating at 64 bits). ClamAV then
 * stores the int in 32 bits, so callers truncate: 99999999999 becomes 1215752191, -1 4294967295.
 */
function strtol(text: string): bigint {
  const [, sign, digits] = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(text)!;
  let value = digits ? BigInt(digits) : 0n;
  if (sign === '-') value = -value;
  const max = (1n << 63n) - 1n;
  return value > max ? max : value < -max - 1n ? -max - 1n : value;
}

const atoiUnsigned = (text: string): number => Number(BigInt.asUintN(32, strtol(text)));

/**
 * Field `fieldNo` of a `:`-separated line the way libclamav's cli_strtok finds it: runs of
 * separators count as one, and an empty or missing field is absent.
 */
function strtokField(line: string, fieldNo: number): string | undefined {
  let i = 0;
  for (let counter = 0; i < line.length && counter !== fieldNo; i++) {
    if (line[i] === ':') {
      counter++;
      while (line[i + 1] === ':') i++;
    }
  }
  if (i >= line.length) return undefined;
  const end = line.indexOf(':', i);
  const field = line.slice(i, end < 0 ? line.length : end);
  return field === '' ? undefined : field;
}

/** libclamav's cl_cvdparse, for a container header or the copy of it in the manifest. */
function parseHeaderLine(head: string, logger: Logger): CvdHeader | undefined {
  if (!head.startsWith('ClamAV-VDB:')) {
    logger.error('cli_cvdparse: Not a CVD file');
    return undefined;
  }
  const required = [
    [1, 'the creation time'],
    [2, 'the version number'],
    [3, 'the number of signatures'],
    [4, 'the functionality level'],
    [5, 'the MD5 checksum'],
    [6, 'the digital signature'],
    [7, 'the builder name'],
  ] as const;
  const fields: string[] = [];
  for (const [fieldNo, what] of required) {
    const field = strtokField(head, fieldNo);
    if (field === undefined) {
      logger.error(`cli_cvdparse: Can't parse ${what}`);
      return undefined;
    }
    fields.push(field);
  }
  const [buildTime, version, signatureCount, functionalityLevel, md5, digitalSignature, builder] = fields as [
    string, string, string, string, string, string, string,
  ];
  const seconds = strtokField(head, 8);
  if (seconds === undefined && logger.debugEnabled) {
    logger.debug('cli_cvdparse: No creation time in seconds (old file format)');
  }
  return {
    buildTime,
    version: atoiUnsigned(version),
    signatureCount: atoiUnsigned(signatureCount),
    functionalityLevel: atoiUnsigned(functionalityLevel),
    md5,
    digitalSignature,
    builder,
    buildTimestamp: seconds === undefined ? 0 : atoiUnsigned(seconds),
  };
}

/**
 * The 512-byte header as ClamAV reads it before loading (cli_cvdverify): all 512 bytes must be
 * there, trailing spaces and newlines are dropped, and the text ends at the first NUL byte.
 * Throws ClamError('ECVD').
 */
export function parseCvdHeader(data: Uint8Array, path: string, logger: Logger = silentLogger): CvdHeader {
  if (data.length < HEADER_SIZE) fail('ECVD', path, logger, "cli_cvdverify: Can't read CVD header");
  const head = Uint8Array.from(data.subarray(0, HEADER_SIZE)); // a copy: the trimming writes NULs
  for (let i = HEADER_SIZE - 1; i > 0 && (head[i] === 0x20 || head[i] === 0x0a); i--) head[i] = 0;
  return parseHeaderLine(cString(head), logger) ?? fail('ECVD', path, logger);
}

/**
 * The header as ClamAV's cl_cvdhead reads it, for tools that only look at it (signature counts,
 * `sigtool --info`, freshclam): a short file is accepted and the text also ends at the first
 * CR or LF. Throws ClamError('ECVD').
 */
export function readCvdHead(data: Uint8Array, path: string, logger: Logger = silentLogger): CvdHeader {
  const length = Math.min(HEADER_SIZE, data.length);
  if (length === 0) fail('ECVD', path, logger, `cl_cvdhead: Can't read CVD header in ${path}`);
  const head = Uint8Array.from(data.subarray(0, length)); // a copy: the trimming writes NULs
  const text = cString(head);
  const lineEnd = text.search(/[\r\n]/);
  if (lineEnd >= 0) head[lineEnd] = 0;
  for (let i = length - 1; i > 0 && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d); i--) head[i] = 0;
  return parseHeaderLine(cString(head), logger) ?? fail('ECVD', path, logger);
}

// ---------------------------------------------------------------------------------------------
// Digital signatures (libclamav dsig.c)
// ---------------------------------------------------------------------------------------------

/** ClamAV's own digit alphabet: unlike base64, the first character is the least significant. */
const SIGNATURE_DIGITS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/';

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  base %= modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
  }
  return result;
}

/**
 * cli_decodesig: the signature text as a number, raised to the key's exponent. The result's bytes
 * are written big-endian at the START of a zeroed buffer of `length` bytes (so a result with
 * leading zero bytes never matches), and a result longer than `length` is refused.
 */
function decodeSignature(signature: string, length: number, key: RsaPublicKey, logger: Logger): Uint8Array | undefined {
  let number = 0n;
  for (let i = signature.length - 1; i >= 0; i--) {
    const digit = SIGNATURE_DIGITS.indexOf(signature[i]!);
    if (digit < 0) {
      logger.error('cli_ndecode: value out of range');
      return undefined;
    }
    number = (number << 6n) | BigInt(digit);
  }
  const plain = modPow(number, key.e, key.n);
  const hex = plain === 0n ? '' : plain.toString(16);
  const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  if (bytes.length > length) {
    logger.error(`cli_decodesig: Resulting signature too large (${bytes.length} vs ${length}).`);
    return undefined;
  }
  const decoded = new Uint8Array(length);
  decoded.set(bytes);
  return decoded;
}

/** cli_versig: does the header signature decode to this MD5 (lowercase hex)? */
function signatureMatchesMd5(md5: string, signature: string, logger: Logger): boolean {
  const decoded = decodeSignature(signature, 16, CVD_SIGNING_KEY, logger);
  if (!decoded) return false;
  const decodedHex = Buffer.from(decoded).toString('hex');
  if (logger.debugEnabled) logger.debug(`cli_versig: Decoded signature: ${decodedHex}`);
  if (decodedHex !== md5) {
    if (logger.debugEnabled) logger.debug("cli_versig: Signature doesn't match.");
    return false;
  }
  if (logger.debugEnabled) logger.debug('cli_versig: Digital signature is correct.');
  return true;
}

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/**
 * cli_versig2: RSA-PSS (SHA-256, MGF1, 32-byte salt) over a 2048-bit block, checked the way
 * ClamAV checks it: the salt starts after the FIRST 0x01 byte of the unmasked block, whatever
 * precedes it, and must be exactly 32 bytes long.
 */
function signatureMatchesSha256(digest: Uint8Array, signature: string, logger: Logger): boolean {
  const blockLength = 256;
  const hashLength = 32;
  const maskedLength = blockLength - hashLength - 1;
  const decoded = decodeSignature(signature, blockLength, INFO_SIGNING_KEY, logger);
  if (!decoded || decoded[blockLength - 1] !== 0xbc) return false;
  const masked = decoded.subarray(0, maskedLength);
  const signedHash = decoded.subarray(maskedLength, maskedLength + hashLength);

  const unmasked = new Uint8Array(maskedLength);
  for (let round = 0; round * hashLength < maskedLength; round++) {
    const counter = Uint8Array.of(0, 0, round >> 8, round & 0xff);
    unmasked.set(sha256(signedHash, counter).subarray(0, maskedLength - round * hashLength), round * hashLength);
  }
  for (let i = 0; i < maskedLength; i++) unmasked[i] ^= masked[i]!;
  unmasked[0] &= 0x7f;

  const saltStart = unmasked.indexOf(0x01) + 1;
  if (saltStart === 0 || maskedLength - saltStart !== hashLength) return false;
  const expected = sha256(new Uint8Array(8), digest, unmasked.subarray(saltStart));
  return expected.equals(signedHash);
}

/**
 * The `.cvd` check: MD5 of everything after the header against the header's MD5 (first 32
 * characters, case-sensitive), then the header's signature against that MD5.
 * Throws ClamError('EVERIFY').
 */
export function verifyCvd(data: Uint8Array, header: CvdHeader, path: string, logger: Logger): void {
  const md5 = createHash('md5').update(data.subarray(HEADER_SIZE)).digest('hex');
  if (logger.debugEnabled) logger.debug(`MD5(.tar.gz) = ${md5}`);
  if (header.md5.slice(0, 32) !== md5) {
    if (logger.debugEnabled) logger.debug('cli_cvdverify: MD5 verification error');
    fail('EVERIFY', path, logger);
  }
  if (!signatureMatchesMd5(md5, header.digitalSignature, logger)) {
    if (logger.debugEnabled) logger.debug('cli_cvdverify: Digital signature verification error');
    fail('EVERIFY', path, logger);
  }
}

// ---------------------------------------------------------------------------------------------
// The body: gzip stream and tar archive
// ---------------------------------------------------------------------------------------------

interface Inflated {
  data: Uint8Array;
  /** zlib reported a data error (bad method or flags, bad deflate data, wrong CRC or length). */
  corrupt: boolean;
}

/**
 * Decompresses like zlib's gzread, which ClamAV reads the body with: members follow one another,
 * bytes after a member that do not start another are ignored, and input that simply ends (even
 * inside a member) is a normal end of data. Only real data errors are reported.
 */
function gunzipBody(input: Uint8Array): Inflated {
  const parts: Uint8Array[] = [];
  let offset: number | undefined = 0;
  let corrupt = false;
  while (!corrupt && offset !== undefined && input[offset] === 0x1f && input[offset + 1] === 0x8b) {
    const member: Inflated & { next?: number } = inflateMember(input, offset);
    parts.push(member.data);
    corrupt = member.corrupt;
    offset = member.next;
  }
  return { data: parts.length === 1 ? parts[0]! : Buffer.concat(parts), corrupt };
}

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;

/** One gzip member at `start`; `next` is where the following one may begin, undefined at the end of input. */
function inflateMember(input: Uint8Array, start: number): Inflated & { next?: number } {
  const ended = { data: new Uint8Array(0), corrupt: false };
  const corrupt = { data: new Uint8Array(0), corrupt: true };
  const le16 = (at: number) => input[at]! | (input[at + 1]! << 8);
  if (input.length - start < 10) return ended;
  if (input[start + 2] !== 8) return corrupt;
  const flags = input[start + 3]!;
  if (flags & FRESERVED) return corrupt;
  let offset = start + 10;
  if (flags & FEXTRA) {
    if (offset + 2 > input.length) return ended;
    offset += 2 + le16(offset);
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    const nul = input.indexOf(0, offset);
    if (nul < 0) return ended;
    offset = nul + 1;
  }
  if (flags & FHCRC) {
    if (offset + 2 > input.length) return ended;
    if ((crc32(input.subarray(start, offset)) & 0xffff) !== le16(offset)) return corrupt;
    offset += 2;
  }
  if (offset >= input.length) return ended;

  // `info` makes zlib also return its engine, whose input count tells where the trailer starts;
  // Z_SYNC_FLUSH returns what a cut stream holds instead of failing.
  const options: ZlibOptions & { info: true } = { finishFlush: zlibConstants.Z_SYNC_FLUSH, info: true };
  let result: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    result = inflateRawSync(input.subarray(offset), options) as unknown as typeof result;
  } catch (error) {
    if (error instanceof RangeError) throw error; // output too large for a Buffer
    return corrupt;
  }
  const data = result.buffer;
  const trailer = offset + result.engine.bytesWritten;
  if (trailer + 8 > input.length) return { data, corrupt: false };
  const view = Buffer.from(input.buffer, input.byteOffset + trailer, 8);
  const intact = view.readUInt32LE(0) === crc32(data) && view.readUInt32LE(4) === data.length % 2 ** 32;
  return intact ? { data, corrupt: false, next: trailer + 8 } : { data, corrupt: true };
}

/**
 * The archive inside the body. ClamAV reads a body starting "COPYING" as a plain tar and hands
 * anything else to zlib, which passes data without the gzip magic through unchanged: so the body
 * is a tar unless it starts with the gzip magic.
 */
function bodyArchive(data: Uint8Array, path: string, logger: Logger): Uint8Array {
  const body = data.subarray(HEADER_SIZE);
  // cli_tgzload reads 7 bytes to look for "COPYING"; a shorter body fails without a message.
  if (body.length < 7) fail('EFORMAT', path, logger);
  if (body[0] !== 0x1f || body[1] !== 0x8b) return body;
  let inflated: Inflated;
  try {
    inflated = gunzipBody(body);
  } catch (error) {
    if (error instanceof RangeError) fail('EMEM', path, logger);
    throw error;
  }
  // ClamAV only meets a data error when its reads reach it, and then fails reading the next block.
  if (inflated.corrupt) fail('EMALFDB', path, logger, 'cli_tgzload: Incomplete block read');
  return inflated.data;
}

/** The rules cli_tgzload applies to each header: flat names, regular files only. */
function checkTarHeader(nameField: string, typeFlag: string, path: string, logger: Logger): void {
  if (nameField.includes('/')) fail('EMALFDB', path, logger, 'cli_tgzload: Slash separators are not allowed in CVD');
  if (typeFlag === '5') fail('EMALFDB', path, logger, 'cli_tgzload: Directories are not supported in CVD');
  if (typeFlag !== '0' && typeFlag !== '\0') {
    fail('EMALFDB', path, logger, `cli_tgzload: Unknown type flag '${typeFlag}'`);
  }
}

function checkTarHeaders(entries: readonly TarEntry[], path: string, logger: Logger): void {
  for (const entry of entries) checkTarHeader(entry.nameField, entry.typeFlag, path, logger);
}

/** How the walk ended: a cut header block or an unreadable size is an error, the rest is the end. */
function checkTarEnd(listing: TarListing, path: string, logger: Logger): void {
  if (listing.end === 'truncated-header') fail('EMALFDB', path, logger, 'cli_tgzload: Incomplete block read');
  if (listing.end === 'invalid-size') {
    checkTarHeader(listing.invalid!.nameField, listing.invalid!.typeFlag, path, logger);
    fail('EMALFDB', path, logger, 'cli_tgzload: Invalid size in header');
  }
}

// ---------------------------------------------------------------------------------------------
// Reading lines inside a container (libclamav's cli_dbgets on a container member)
// ---------------------------------------------------------------------------------------------

/**
 * Lines of a file inside a container, read as libclamav's cli_dbgets reads them through its
 * 32 KiB buffer. This differs from reading a plain file: a last line without a newline is
 * dropped, a NUL byte ends the file early, and a line of `maxLine` bytes or more ends it with an
 * error. Lines are returned without their newline (a CR is kept).
 */
export class ContainerLineReader {
  readonly #data: Uint8Array;
  readonly #logger: Logger;
  readonly #maxLine: number;
  /** File offset of the first byte of ClamAV's buffer. */
  #bufferStart = 0;
  /** Where the next line starts; undefined when the buffer must be refilled first. */
  #lineStart: number | undefined;
  #readSize: number;
  #bytesRead = 0;

  constructor(data: Uint8Array, logger: Logger, maxLine = DATABASE_LINE_BUFFER) {
    this.#data = data;
    this.#logger = logger;
    this.#maxLine = maxLine;
    this.#readSize = data.length < DBIO_BUFFER_SIZE ? data.length : DBIO_BUFFER_SIZE - 1;
  }

  /** Bytes taken from the file so far: what ClamAV checks against the manifest size. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  next(): Uint8Array | undefined {
    const data = this.#data;
    for (;;) {
      if (this.#lineStart === undefined) {
        const count = Math.min(this.#readSize, data.length - this.#bytesRead);
        if (count === 0) return undefined;
        this.#bytesRead += count;
        this.#lineStart = this.#bufferStart;
      }
      const start = this.#lineStart;
      // strchr for the newline, which stops at a NUL (ClamAV also puts one after the data read).
      let end = start;
      while (end < this.#bytesRead && data[end] !== 0x0a && data[end] !== 0) end++;
      if (end < this.#bytesRead && data[end] === 0x0a) {
        if (end - start >= this.#maxLine) {
          this.#logger.error('cli_dbgets: Line too long for provided buffer');
          return undefined;
        }
        this.#lineStart = end + 1;
        return data.subarray(start, end);
      }
      if (start === this.#bufferStart) {
        this.#logger.error('cli_dbgets: Invalid data or internal buffer too small');
        return undefined;
      }
      // Move the partial line to the start of the buffer and fill the rest.
      const kept = this.#bufferStart + DBIO_BUFFER_SIZE - 1 - start;
      const left = data.length - this.#bytesRead;
      this.#bufferStart = start;
      this.#readSize = left < DBIO_BUFFER_SIZE - kept ? left : DBIO_BUFFER_SIZE - kept - 1;
      this.#lineStart = undefined;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The manifest (`.info`, libclamav's cli_loadinfo)
// ---------------------------------------------------------------------------------------------

const endsWithIgnoreCase = (name: string, suffix: string): boolean =>
  name.length >= suffix.length && name.slice(-suffix.length).toLowerCase() === suffix;

const isHex = (text: string): boolean => /^[0-9a-fA-F]*$/.test(text);

interface Manifest {
  header?: CvdHeader;
  files: Map<string, ManifestFile>;
}

/**
 * Parses the manifest; on error logs what ClamAV logs (its own messages, then the generic
 * "Can't load" lines of the loader and of the tar walk) and throws EMALFDB.
 */
function readManifest(entry: TarEntry, signed: boolean, path: string, logger: Logger): Manifest {
  const manifest = parseManifest(entry.data, signed, logger);
  if (manifest) return manifest;
  logger.error(`Can't load ${entry.nameField}: Malformed database`);
  return fail('EMALFDB', path, logger, `cli_tgzload: Can't load ${entry.nameField}`);
}

function parseManifest(data: Uint8Array, signed: boolean, logger: Logger): Manifest | undefined {
  const lines = new ContainerLineReader(data, logger);
  const hash = createHash('sha256');
  const manifest: Manifest = { files: new Map() };
  let lineNumber = 0;
  let broken = false;
  let signatureFound = false;

  for (let bytes = lines.next(); bytes; bytes = lines.next()) {
    lineNumber++;
    const line = latin1(bytes);
    if (signed && line.startsWith('DSIG:')) {
      signatureFound = true;
      if (!signatureMatchesSha256(hash.digest(), line.slice(5), logger)) {
        logger.error('cli_loadinfo: Incorrect digital signature');
        broken = true;
      }
      break;
    }
    // The signed text is each line with a newline put back (not on lines that fill the buffer).
    hash.update(bytes);
    if (bytes.length === 0 || bytes.length + 1 < DATABASE_LINE_BUFFER) hash.update('\n');

    const text = line.replace(/[\r\n]+$/, '');
    if (text.startsWith('ClamAV-VDB:')) {
      if (manifest.header) {
        logger.error('cli_loadinfo: engine->dbinfo already initialized');
        broken = true;
        break;
      }
      manifest.header = parseHeaderLine(text, logger);
      if (!manifest.header) {
        logger.error("cli_loadinfo: Can't parse header entry");
        broken = true;
        break;
      }
      continue;
    }
    if (!manifest.header) {
      logger.error('cli_loadinfo: Incorrect file format');
      broken = true;
      break;
    }
    // cli_strtokenize with room for four tokens: a fourth means too many fields.
    const tokens = text.split(':');
    if (tokens.length !== 3) {
      broken = true;
      break;
    }
    const [name, size, digest] = tokens as [string, string, string];
    if (!/^[0-9]*$/.test(size)) {
      logger.error('cli_loadinfo: Invalid value in the size field');
      broken = true;
      break;
    }
    if (digest.length !== 64 || !isHex(digest)) {
      logger.error(`cli_loadinfo: Malformed SHA256 string at line ${lineNumber}`);
      broken = true;
      break;
    }
    if (!manifest.files.has(name)) {
      manifest.files.set(name, { size: Number(BigInt.asIntN(32, strtol(size))), sha256: Buffer.from(digest, 'hex') });
    }
  }

  // A signed manifest without its signature line is refused first, whatever else went wrong.
  if (signed && !signatureFound) {
    logger.error('cli_loadinfo: Digital signature not found');
    return undefined;
  }
  if (broken) {
    logger.error(`cli_loadinfo: Problem parsing database at line ${lineNumber}`);
    return undefined;
  }
  return manifest;
}

function sameHeader(a: CvdHeader, b: CvdHeader): boolean {
  return (
    a.version === b.version &&
    a.signatureCount === b.signatureCount &&
    a.functionalityLevel === b.functionalityLevel &&
    a.buildTimestamp === b.buildTimestamp
  );
}

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/**
 * What ClamAV checks before anything else (cli_cvdverify): the header, and for a `.cvd` its MD5
 * and signature. Throws ClamError('ECVD') or ClamError('EVERIFY').
 */
export function verifyContainer(data: Uint8Array, path: string, kind: ContainerKind, logger: Logger): CvdHeader {
  const header = parseCvdHeader(data, path, logger);
  if (kind === 'cvd') verifyCvd(data, header, path, logger);
  return header;
}

/**
 * Unpacks a verified container and checks its manifest, in ClamAV's order: the tar headers up to
 * the first `*.info` file, that manifest (and its DSIG unless `.cud`), the manifest header
 * against the container header, then the remaining tar headers.
 * Throws ClamError('EFORMAT') for a body under 7 bytes, ClamError('EMALFDB') otherwise.
 */
export function unpackContainer(
  data: Uint8Array,
  header: CvdHeader,
  path: string,
  kind: ContainerKind,
  logger: Logger,
): ContainerContents {
  // ClamAV's CVD reader knows only plain headers: a GNU long name is an unknown type 'L'.
  const listing = readTar(bodyArchive(data, path, logger), { gnuLongNames: false, base256Sizes: false });
  const infoIndex = listing.entries.findIndex((entry) => endsWithIgnoreCase(entry.nameField, '.info'));
  if (infoIndex < 0) {
    checkTarHeaders(listing.entries, path, logger);
    checkTarEnd(listing, path, logger);
    fail('EMALFDB', path, logger, 'cli_cvdload: Corrupted CVD header');
  }
  checkTarHeaders(listing.entries.slice(0, infoIndex + 1), path, logger);
  const manifest = readManifest(listing.entries[infoIndex]!, kind !== 'cud', path, logger);
  if (!manifest.header || !sameHeader(manifest.header, header)) {
    fail('EMALFDB', path, logger, 'cli_cvdload: Corrupted CVD header');
  }
  if (manifest.files.size === 0) fail('EMALFDB', path, logger, 'cli_cvdload: dbinfo error');
  checkTarHeaders(listing.entries.slice(infoIndex + 1), path, logger);
  checkTarEnd(listing, path, logger);

  const entries = listing.entries.map(({ nameField, data: entryData }) => ({ name: nameField, data: entryData }));
  return { header, entries, manifest: manifest.files };
}

/**
 * Verifies and unpacks a container: {@link verifyContainer} then {@link unpackContainer}.
 * ClamAV checks for a duplicate `.cvd`/`.cld` and warns about old databases between the two
 * steps; a loader that does so calls them separately.
 */
export function readContainer(data: Uint8Array, path: string, kind: ContainerKind, logger: Logger): ContainerContents {
  const header = verifyContainer(data, path, kind, logger);
  return unpackContainer(data, header, path, kind, logger);
}

/**
 * The check ClamAV makes after loading each database file of a container: the file must be in
 * the manifest and, when bytes were read from it, their count and SHA-256 must match. Pass the
 * bytes the loader actually read (0 for a file the options skip). Throws ClamError('EMALFDB').
 */
export function checkContainerEntry(
  contents: ContainerContents,
  entry: CvdEntry,
  path: string,
  logger: Logger,
  bytesRead: number = entry.data.length,
): void {
  const expected = contents.manifest.get(entry.name);
  if (!expected) fail('EMALFDB', path, logger, `cli_tgzload: File ${entry.name} not found in .info`);
  if (bytesRead === 0) return;
  if (expected.size !== bytesRead) fail('EMALFDB', path, logger, `cli_tgzload: File ${entry.name} not correctly loaded`);
  if (!sha256(entry.data.subarray(0, bytesRead)).equals(expected.sha256)) {
    fail('EMALFDB', path, logger, `cli_tgzload: Invalid checksum for file ${entry.name}`);
  }
}
