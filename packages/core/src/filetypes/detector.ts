import { FUNCTIONALITY_LEVEL } from '../engine/version.js';
import { ClamError } from '../errors.js';
import { DATABASE_LINE_BUFFER, forEachLine } from '../signatures/lines.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { BUILTIN_FTM } from './builtin-ftm.js';
import { parseFtmLine, type MagicEntry } from './ftm.js';
import { checkMbr } from './mbr.js';
import { ooxmlType } from './ooxml.js';
import { TarKind, tarKind } from './tar.js';
import { textType, textTypeDebugMessage } from './text-type.js';
import { TypeMatcher, TypeScan, type TypeSignature } from './type-matcher.js';
import { isTextOrBinary, T, TYPE_ANY, typeCode, typeName, type FileTypeName } from './types.js';
import { detectMultiByteEncoding, normalizeToAscii, utf16PairsToBytes } from './unicode.js';

/** ClamAV types the first 1024 bytes of a file, and 1028 of a partition. */
const FILE_HEAD = 1024;
const PARTITION_HEAD = 1028;
/** OOXML detection needs more than two local headers' worth of bytes. */
const MIN_ZIP_HEAD = 2 * (30 + 5);

/**
 * Embedded-archive types that the head's type signatures may find but that do not retype the
 * object: ClamAV leaves them to the raw scan, which extracts them.
 */
const SFX_ARCHIVES = new Set([T.ZIPSFX, T.ARJSFX, T.RARSFX, T.EGGSFX, T.CABSFX, T['7ZSFX']]);

const OOXML_MESSAGES = new Map([
  [T.OOXML_XL, 'Recognized OOXML XL file'],
  [T.OOXML_PPT, 'Recognized OOXML PPT file'],
  [T.OOXML_WORD, 'Recognized OOXML WORD file'],
  [T.OOXML_HWP, 'Recognized OOXML HWP file'],
]);

/** Where `.ftm` lines come from. */
export interface FtmSource {
  /** For error reports. */
  readonly path?: string;
  /** Signed official database: type signature names are not marked `.UNOFFICIAL`. */
  readonly official?: boolean;
  readonly logger?: Logger;
}

export interface DetectorOptions {
  /** The functionality level that `.ftm` level fields are compared with (ClamAV 1.4.6: 216). */
  readonly functionalityLevel?: number;
  /**
   * DCONF PHISHING ENTCONV (on unless a daily.cfg turns it off): also look for HTML in text that
   * starts with a UTF-16 or UCS-4 byte order mark.
   */
  readonly entconv?: boolean;
  readonly logger?: Logger;
}

/**
 * Collects file type magic while databases load (every `.ftm`, in load order), then builds the
 * detector. Like ClamAV, the built-in list is used only when no database brought fixed-offset
 * (magic type 0) entries; otherwise it is ignored entirely.
 */
export class FileTypeDatabaseBuilder {
  private readonly magics: MagicEntry[] = [];
  private readonly partitions: MagicEntry[] = [];
  private readonly signatures: TypeSignature[] = [];

  constructor(private readonly options: DetectorOptions = {}) {}

  /**
   * Loads an `.ftm` file; returns how many definitions it added. Throws ClamError('EMALFDB') with
   * the 1-based line number (comment lines not counted, as in ClamAV) for a refused line or a file
   * without definitions, after logging ClamAV's error lines.
   */
  addFtm(data: Uint8Array | string, source: FtmSource = {}): number {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const lines: string[] = [];
    forEachLine(
      bytes,
      (line) => {
        if (!line.startsWith('#')) lines.push(line);
      },
      DATABASE_LINE_BUFFER,
    );
    return this.addLines(lines, 'external', source);
  }

  build(): FileTypeDetector {
    if (this.magics.length === 0) this.addLines(BUILTIN_FTM, 'built-in', { official: true });
    return new FileTypeDetector(
      [...this.magics].reverse(),
      [...this.partitions].reverse(),
      new TypeMatcher([...this.signatures]),
      this.options.entconv ?? true,
    );
  }

  private addLines(lines: readonly string[], origin: 'external' | 'built-in', source: FtmSource): number {
    const logger = source.logger ?? this.options.logger ?? silentLogger;
    const lineOptions = {
      functionalityLevel: this.options.functionalityLevel ?? FUNCTIONALITY_LEVEL,
      official: source.official ?? false,
      logger,
    };
    let loaded = 0;
    lines.forEach((text, index) => {
      let entry;
      try {
        entry = parseFtmLine(text, lineOptions);
      } catch (error) {
        logger.error(`Problem parsing ${origin} filetype database at line ${index + 1}`);
        throw error instanceof ClamError ? new ClamError(error.code, { path: source.path, line: index + 1 }) : error;
      }
      if (entry.kind === 'skipped') {
        if (entry.reason && logger.debugEnabled) logger.debug(entry.reason);
        return;
      }
      if (entry.kind === 'pattern') this.signatures.push(entry.signature);
      else (entry.partition ? this.partitions : this.magics).push(entry);
      loaded++;
    });
    if (loaded === 0) {
      logger.error(`Empty ${origin} filetype database`);
      throw new ClamError('EMALFDB', { path: source.path });
    }
    if (logger.debugEnabled) logger.debug(`Loaded ${loaded} filetype definitions`);
    return loaded;
  }
}

/**
 * ClamAV's file typing (cli_determine_fmap_type): fixed-offset magic, else the text/binary
 * heuristics; then tar checksums for binary data, OOXML names for ZIP, the MBR check; and for
 * text and binary data, the type signatures over the first bytes (HTML, mail, embedded
 * executables…), also after folding UTF-16 text to bytes. Immutable once built.
 */
export class FileTypeDetector {
  /** @internal use FileTypeDatabaseBuilder or the static constructors. */
  constructor(
    /** In the order ClamAV tries them: the last loaded first. */
    private readonly magics: readonly MagicEntry[],
    private readonly partitions: readonly MagicEntry[],
    private readonly matcher: TypeMatcher,
    private readonly entconv: boolean,
  ) {}

  /** The detector of an engine without `.ftm` databases (ClamAV's built-in magic). */
  static builtin(options: DetectorOptions = {}): FileTypeDetector {
    return new FileTypeDatabaseBuilder(options).build();
  }

  /** The detector of an engine whose only type database is this `.ftm` file. */
  static fromFtm(data: Uint8Array | string, source: FtmSource = {}, options: DetectorOptions = {}): FileTypeDetector {
    const builder = new FileTypeDatabaseBuilder(options);
    builder.addFtm(data, source);
    return builder.build();
  }

  /**
   * The type ClamAV gives an object before scanning it. `data` is the whole object: only its first
   * 1024 bytes count, except that ZIP objects are searched further for OOXML entries.
   * CL_TYPE_ERROR for an empty object (ClamAV cannot read a head from it); note that ClamAV never
   * types objects of 5 bytes or less, its scanner skips them first.
   */
  detect(data: Uint8Array, logger: Logger = silentLogger): FileTypeName {
    return typeName(this.detectCode(data, false, logger));
  }

  /** The type of a partition extracted from a disk image (ClamAV types those with magic type 4). */
  detectPartition(data: Uint8Array, logger: Logger = silentLogger): FileTypeName {
    return typeName(this.detectCode(data, true, logger));
  }

  /**
   * A type-signature scan for ClamAV's raw scan of an object: feed it the object (whole or in
   * windows) to learn the best type and the embedded objects found. `currentType` is the type
   * the raw scan runs with, which ClamAV sets to CL_TYPE_ANY for CL_TYPE_TEXT_ASCII objects.
   */
  typeScan(currentType: FileTypeName, options: TypeSignatureScanOptions = {}): TypeSignatureScan {
    return new TypeSignatureScan(this.matcher, typeCode(currentType), options);
  }

  private detectCode(data: Uint8Array, partition: boolean, logger: Logger): number {
    const head = data.subarray(0, Math.min(data.length, partition ? PARTITION_HEAD : FILE_HEAD));
    if (head.length === 0) return T.ERROR;
    let type: number;
    if (partition) {
      type = this.compareMagic(this.partitions, head, logger, 'partition') ?? T.PART_ANY;
      if (type === T.PART_ANY) debug(logger, 'Partition type is potentially unsupported');
    } else {
      const settled = this.fileType(data, head, logger);
      if (settled.final) return settled.type;
      type = settled.type;
    }
    return isTextOrBinary(type) ? this.refineTextOrBinary(head, type, logger) : type;
  }

  /** The file part of typing; `final` when nothing may refine the type any more. */
  private fileType(data: Uint8Array, head: Uint8Array, logger: Logger): { type: number; final: boolean } {
    let type = this.compareMagic(this.magics, head, logger, 'file');
    if (type === undefined) {
      type = textType(head);
      debug(logger, textTypeDebugMessage(type));
    }
    if (type === T.BINARY_DATA) {
      const tar = tarKind(head);
      if (tar === TarKind.Old) return final(T.OLD_TAR, logger, 'Recognized old fashioned tar file');
      if (tar === TarKind.Posix) return final(T.POSIX_TAR, logger, 'Recognized POSIX tar file');
    } else if (type === T.ZIP && head.length > MIN_ZIP_HEAD) {
      const ooxml = ooxmlType(data, head.length);
      if (ooxml.searchedCentralDirectory) debug(logger, 'Likely OOXML, checking additional zip headers');
      if (ooxml.type !== T.ZIP) return final(ooxml.type, logger, OOXML_MESSAGES.get(ooxml.type)!);
    } else if (type === T.MBR) {
      const verdict = checkMbr(head, data.length);
      if (verdict === 'gpt') return final(T.GPT, logger, 'Recognized GUID Partition Table file');
      if (verdict === 'mbr') return { type, final: true };
      debug(logger, 'Recognized binary data');
      type = T.BINARY_DATA;
    }
    return { type, final: false };
  }

  /** Fixed-offset magic, last loaded first; undefined when none matches. */
  private compareMagic(entries: readonly MagicEntry[], head: Uint8Array, logger: Logger, what: string): number | undefined {
    for (const entry of entries) {
      // (ClamAV adds offset and length in 32 bits; an offset that wraps would read outside its buffer.)
      if (entry.offset + entry.magic.length > head.length) continue;
      if (!startsWithAt(head, entry.offset, entry.magic)) continue;
      debug(logger, `Recognized ${entry.name} ${what}`);
      return entry.type;
    }
    return undefined;
  }

  /**
   * Text and binary data may still be HTML, mail, an executable… : the type signatures over the
   * head decide, except for SFX archives, which are left to the raw scan. When they find nothing,
   * UTF-16 text is tried as HTML, folded to bytes in two different ways.
   */
  private refineTextOrBinary(head: Uint8Array, type: number, logger: Logger): number {
    const found = this.matcher.scanBuffer(new TypeScan(type, { logger }), head, 0);
    if (found >= T.TEXT_ASCII && !SFX_ARCHIVES.has(found)) return found;

    let refined = type;
    if (head.length >= 2) {
      const folded = utf16PairsToBytes(head);
      if (this.matcher.scanBuffer(new TypeScan(T.TEXT_ASCII, { logger }), folded, 0) === T.HTML) refined = T.HTML_UTF16;
    }
    if (this.entconv && refined !== T.HTML_UTF16) {
      const encoding = detectMultiByteEncoding(head);
      const text = encoding && normalizeToAscii(head, encoding);
      if (text && text.length > 0 && this.matcher.scanBuffer(new TypeScan(TYPE_ANY, { logger }), text, 0) === T.HTML) {
        debug(logger, 'cli_determine_fmap_type: detected HTML signature in Unicode file');
        refined = T.HTML;
      }
    }
    return refined;
  }
}

export interface TypeSignatureScanOptions {
  /**
   * Size of the whole object, which places `EOF-n` signatures. ClamAV knows it during the raw
   * scan unless the object's executable headers failed to parse; without it those never match.
   */
  readonly objectSize?: number;
  /** The engine's MaxFiles (default 10000), which bounds the ZIP SFX entries remembered. */
  readonly maxFiles?: number;
  readonly logger?: Logger;
}

/**
 * The type side of ClamAV's raw scan of one object. ClamAV feeds the object in windows of
 * 128 KiB that overlap by the longest pattern of the generic signatures; embedded objects found
 * twice in an overlap are reported twice, as in ClamAV.
 */
export class TypeSignatureScan {
  private readonly scan: TypeScan;
  private best = TYPE_ANY;

  constructor(
    private readonly matcher: TypeMatcher,
    currentType: number,
    options: TypeSignatureScanOptions,
  ) {
    this.scan = new TypeScan(currentType, {
      objectSize: options.objectSize,
      maxFiles: options.maxFiles ?? 10000,
      collectEmbedded: true,
      logger: options.logger,
    });
  }

  /** Scans a window that starts at `objectOffset`; returns the type found in it, if any. */
  feed(window: Uint8Array, objectOffset: number): FileTypeName | undefined {
    const found = this.matcher.scanBuffer(this.scan, window, objectOffset);
    // Across windows ClamAV keeps the highest code.
    if (found > this.best) this.best = found;
    return found === TYPE_ANY ? undefined : typeName(found);
  }

  /** The highest type found so far. */
  get type(): FileTypeName | undefined {
    return this.best === TYPE_ANY ? undefined : typeName(this.best);
  }

  /** Embedded objects in the order found (ClamAV examines them in this order). */
  get embedded(): readonly { type: FileTypeName; offset: number }[] {
    return this.scan.embedded.map(({ type, offset }) => ({ type: typeName(type), offset }));
  }
}

function startsWithAt(buf: Uint8Array, at: number, bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (buf[at + i] !== bytes[i]) return false;
  return true;
}

function debug(logger: Logger, message: string): void {
  if (logger.debugEnabled) logger.debug(message);
}

function final(type: number, logger: Logger, message: string): { type: number; final: true } {
  debug(logger, message);
  return { type, final: true };
}
