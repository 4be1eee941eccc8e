import { atoi, isDigits } from '../util/c-numbers.js';
import { latin1 } from '../util/latin1.js';
import { databaseTypeCode } from '../filetypes/types.js';
import { scanUnsigned } from '../util/c-numbers.js';
import { compilePosixRegex } from '../matching/posix-regex.js';
import { SignatureError } from '../matching/signature-error.js';

/**
 * Container metadata signatures (.cdb):
 * `Name:ContainerType:ContainerSize:FileNameREGEX:FileSizeInContainer:FileSizeReal:IsEncrypted:FilePos:Res1:Res2[:MinFL[:MaxFL]]`,
 * read like ClamAV's cli_loadcdb and matched against one entry of a container like cli_matchmeta.
 */

/** A size or position condition: any value, one value, or a range whose 0 ends are open. */
export type MetadataRange = { readonly any: true } | { readonly any: false; readonly min: number; readonly max: number };

const ANY_RANGE: MetadataRange = { any: true };

export interface ContainerSignature {
  /** The reported name. */
  readonly name: string;
  /** CL_TYPE_* of the container, or CL_TYPE_ANY for `*`. */
  readonly containerType: string;
  readonly containerSize: MetadataRange;
  /** Null for `*` (any name, even none). */
  readonly fileName: FileNameRegex | null;
  readonly compressedSize: MetadataRange;
  readonly realSize: MetadataRange;
  /** null for `*`. */
  readonly encrypted: boolean | null;
  readonly position: MetadataRange;
}

/** The file-name regex: its text and the RegExp it compiles to. */
export interface FileNameRegex {
  readonly source: string;
  readonly regex: RegExp;
}

/** The file-name regex of `source`, or undefined when cli_regcomp refuses it. */
function compileFileName(source: string): FileNameRegex | undefined {
  const compiled = compilePosixRegex(source);
  return compiled.ok ? { source, regex: compiled.regex } : undefined;
}

/** A container signature as plain data: its file-name regex as source text, compiled again where it is used. */
export type SharedContainerSignature = Omit<ContainerSignature, 'fileName'> & { readonly fileName: string | null };

export function shareContainerSignature(signature: ContainerSignature): SharedContainerSignature {
  return { ...signature, fileName: signature.fileName?.source ?? null };
}

export function containerSignatureFromShared(shared: SharedContainerSignature): ContainerSignature {
  return { ...shared, fileName: shared.fileName === null ? null : compileFileName(shared.fileName)! };
}

/** What a container tells about one of its entries (the arguments of ClamAV's cli_matchmeta). */
export interface ContainerEntry {
  /** CL_TYPE_* of the container being unpacked. */
  readonly containerType: string;
  /** Size of the container object. */
  readonly containerSize: number;
  /** The entry's name as stored (bytes, or a string of byte values 0-255); null when it has none. */
  readonly name: Uint8Array | string | null;
  /** Usually the compressed size; for mail, tar and cpio equal to the real size. */
  readonly compressedSize: number;
  readonly realSize: number;
  readonly encrypted: boolean;
  /** The entry's position in the container (1-based in ClamAV's parsers). */
  readonly position: number;
}

export type CdbLineResult = ContainerSignature | 'skipped';

/** ClamAV's CDB_TOKENS: 10 fields plus the optional functionality levels. */
const FIELDS = 12;

/**
 * Parses one .cdb line (already known not to be a comment). `displayName` turns the raw name
 * into the reported one (refusing an empty name); `ignored` says whether ignore lists drop it
 * (ClamAV checks them after the functionality level, with the reported name).
 */
export function parseCdbLine(
  line: string,
  functionalityLevel: number,
  displayName: (raw: string) => string,
  ignored: (name: string) => boolean,
): CdbLineResult {
  const tokens = line.split(':').slice(0, FIELDS + 1);
  if (tokens.length > FIELDS || tokens.length < FIELDS - 2) throw new SignatureError();
  if (tokens.length > 10) {
    if (!isDigits(tokens[10]!)) throw new SignatureError();
    if (atoi(tokens[10]!) >>> 0 > functionalityLevel) return 'skipped';
    if (tokens.length === FIELDS) {
      if (!isDigits(tokens[11]!)) throw new SignatureError();
      if (atoi(tokens[11]!) >>> 0 < functionalityLevel) return 'skipped';
    }
  }
  const raw = tokens[0]!;
  const name = displayName(raw);
  if (ignored(name)) return 'skipped';

  const typeText = tokens[1]!;
  if (typeText !== '*' && databaseTypeCode(typeText) === undefined) {
    throw new SignatureError(`cli_loadcdb: Unknown container type ${typeText} in signature for ${raw}, skipping`);
  }
  const regexText = tokens[3]!;
  let fileName: FileNameRegex | null = null;
  if (regexText !== '*') {
    fileName = compileFileName(regexText) ?? null;
    if (fileName === null) throw new SignatureError(`cli_loadcdb: Can't compile regular expression ${regexText} in signature for ${raw}`, 'EMEM');
  }
  const range = (text: string): MetadataRange => {
    if (text === '*') return ANY_RANGE;
    if (text.includes('-')) {
      const min = scanUnsigned(text);
      const max = min && text[min.end] === '-' ? scanUnsigned(text, min.end + 1) : null;
      if (min && max) return { any: false, min: min.value, max: max.value };
    } else if (isDigits(text)) {
      const value = atoi(text) >>> 0;
      return { any: false, min: value, max: value };
    }
    throw new SignatureError(`cli_loadcdb: Invalid value ${text} in signature for ${raw}`, 'EMEM');
  };
  const containerSize = range(tokens[2]!);
  const compressedSize = range(tokens[4]!);
  const realSize = range(tokens[5]!);
  const position = range(tokens[7]!);
  const encryptedText = tokens[6]!;
  if (encryptedText !== '*' && encryptedText !== '0' && encryptedText !== '1') {
    throw new SignatureError(`cli_loadcdb: Invalid encryption flag value in signature for ${raw}`, 'EMEM');
  }
  return {
    name,
    containerType: typeText === '*' ? 'CL_TYPE_ANY' : typeText,
    containerSize,
    fileName,
    compressedSize,
    realSize,
    encrypted: encryptedText === '*' ? null : encryptedText === '1',
    position,
  };
}

function inRange(range: MetadataRange, value: number): boolean {
  if (range.any) return true;
  if (range.min === range.max) return range.min === value;
  return !((range.min !== 0 && range.min > value) || (range.max !== 0 && range.max < value));
}


/** Does the container signature match this entry? (One iteration of ClamAV's cli_matchmeta.) */
export function containerEntryMatches(signature: ContainerSignature, entry: ContainerEntry): boolean {
  if (signature.containerType !== 'CL_TYPE_ANY' && signature.containerType !== entry.containerType) return false;
  if (signature.encrypted !== null && signature.encrypted !== entry.encrypted) return false;
  if (!inRange(signature.containerSize, entry.containerSize)) return false;
  if (!inRange(signature.compressedSize, entry.compressedSize)) return false;
  if (!inRange(signature.realSize, entry.realSize)) return false;
  if (!inRange(signature.position, entry.position)) return false;
  if (signature.fileName !== null) {
    if (entry.name === null) return false;
    const name = typeof entry.name === 'string' ? entry.name : latin1(entry.name);
    if (!signature.fileName.regex.test(name)) return false;
  }
  return true;
}
