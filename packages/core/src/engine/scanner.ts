import { open, type FileHandle } from 'node:fs/promises';
import { ClamError } from '../errors.js';
import type { ExtractedObject, ExtractionContext, HeuristicKind, ScanSwitch } from '../formats/handler.js';
import type { HtmlLink } from '../formats/normalise/html.js';
import { FormatHandlers } from '../formats/registry.js';
import { isAllowListed } from '../matching/hash-detector.js';
import { errnoMessage } from '../util/strerror.js';
import { FILE_READ_THRESHOLD, readIntoFileBacked, releasePages, withTemporaryDirectory } from '../util/file-backed.js';
import type { Engine } from './engine.js';
import { normaliseText, normaliseTextForScan, SCAN_BUFFER_SIZE } from '../formats/normalise/text.js';
import { recognisesEmbeddedTypes, type BodyScanOptions, type BodyScanSink, type WindowObserver } from '../matching/body-detector.js';
import { recognisedTypeAction, textReinterpretation } from '../formats/recognised-types.js';
import type { FileTypeName, TypeSignatureScan } from '../filetypes/index.js';
import { ObjectHashes, type ExecutableInfo, type ScanObject } from './scan-object.js';
import type { DconfModule } from './dconf.js';
import { CleanCache } from './clean-cache.js';
import { COUNT_PRECISION } from '../matching/verify.js';
import { readPeHeaders } from '../executables/pe-file.js';
import { scanElf } from '../executables/elf-header.js';
import { walkMacho } from '../executables/macho-header.js';
import { scanPe } from '../executables/pe-scan.js';
import { checkAuthenticode } from '../executables/authenticode/check.js';
import { iconsMatch } from '../executables/icons/icon-scan.js';
import { scanOptions, type ScanOptions } from './scan-options.js';

/** What one scan found. */
export interface ScanResult {
  /** Signature names in the order ClamAV reports them; empty when clean. */
  readonly viruses: string[];
  /** Data scanned, in ClamAV's 4 KiB counting units (what clamscan sums for "Data scanned"). */
  scannedBlocks: number;
}

/** ClamAV ignores objects of this many bytes or fewer entirely: not typed, hashed or scanned. */
const SMALLEST_SCANNED_SIZE = 5;
/** fmap_fd of an object ClamAV scans from memory. */
const MEMORY_DESCRIPTOR = -1;
/** Types whose normalised form ClamAV also scans as a script (target type 7). */
const TEXT_TYPES = new Set(['CL_TYPE_TEXT_ASCII', 'CL_TYPE_TEXT_UTF8', 'CL_TYPE_TEXT_UTF16LE', 'CL_TYPE_TEXT_UTF16BE']);
const TEXT_TARGET = 7;
const MAIL_TARGET = 4;
const OTHER_TARGET = 14;

/** The header walks run before the raw scan of an executable, with the DCONF word and the scan switch that turn them off. */
interface ExecutableWalk {
  readonly dconf: DconfModule;
  readonly scanSwitch?: ScanSwitch;
  readonly run: (data: Uint8Array, log?: (message: string) => void) => { readonly failure: 'broken' | 'format' } | { readonly info: ExecutableInfo };
}

const EXECUTABLE_WALKS: ReadonlyMap<string, ExecutableWalk> = new Map([
  ['CL_TYPE_ELF', { dconf: 'elf', scanSwitch: 'elf', run: scanElf }],
  ['CL_TYPE_MACHO', { dconf: 'macho', run: walkMacho }],
]);

/** Types ClamAV matches a second time after the raw scan, with the target-14 (OTHER) signatures. */
const MATCHED_AS_OTHER = new Set(['CL_TYPE_BINARY_DATA', 'CL_TYPE_PYTHON_COMPILED']);

/**
 * Scans files, buffers and streams with one engine: every object is typed, unpacked when a format
 * handler knows its type (its contents scanned the same way, within ClamAV's limits), then matched
 * against the body, hash and logical signatures. Keeps no scan state between scans (only a buffer
 * to read the next file into, and the clean results of earlier ones: see CleanCache), so one
 * scanner serves any number of concurrent scans; clamscan, clamd and the library API all use it.
 */
export class Scanner {
  readonly options: ScanOptions;
  private readonly handlers: FormatHandlers;
  /**
   * The buffer the last file was read into, free for the next one (concurrent reads take their
   * own): a fresh buffer per file would leave the previous one to the garbage collector, so two
   * would be in memory at once, and buffers of ever-changing sizes fragment the C heap.
   */
  private spareReadBuffer: Buffer | undefined;
  private readonly cleanCache: CleanCache | undefined;

  constructor(
    readonly engine: Engine,
    options: ScanOptions = scanOptions(),
  ) {
    this.options = options;
    this.handlers = new FormatHandlers(options, engine.dconf);
    if (options.cacheSize > 0) this.cleanCache = new CleanCache(options.cacheSize);
  }

  scanBuffer(data: Uint8Array): ScanResult {
    const scan = new ScanRun(this.engine, this.options, this.handlers, this.cleanCache);
    if (data.length <= SMALLEST_SCANNED_SIZE) return scan.result;
    if (this.exceedsFileSize(data.length)) return this.scanOversized();
    withTemporaryDirectory(this.options.temporaryDirectory, () => scan.scanObject(data, undefined));
    releasePages(data);
    return scan.result;
  }

  /** Reads and scans a file. Throws ClamError('EOPEN' | 'EREAD') when it cannot be read. */
  async scanFile(path: string): Promise<ScanResult> {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new ClamError('EOPEN', { path, message: errnoMessage(error) });
    }
    try {
      const { size } = await handle.stat();
      if (this.exceedsFileSize(size)) return this.scanOversized();
      const data = size > FILE_READ_THRESHOLD ? readIntoFileBacked(handle.fd, size, this.options.temporaryDirectory) : undefined;
      if (data) return this.scanBuffer(data);
      const buffer = this.takeReadBuffer(size);
      try {
        return this.scanBuffer(buffer.subarray(0, await readUpTo(handle, buffer, size)));
      } finally {
        // (A larger buffer held a file that found no room in file-backed memory: not kept.)
        if (buffer.length <= FILE_READ_THRESHOLD && buffer.length >= (this.spareReadBuffer?.length ?? 0)) this.spareReadBuffer = buffer;
      }
    } catch (error) {
      if (error instanceof ClamError) throw error;
      throw new ClamError('EREAD', { path });
    } finally {
      await handle.close();
    }
  }

  private takeReadBuffer(size: number): Buffer {
    const spare = this.spareReadBuffer;
    if (spare === undefined || spare.length < size) return Buffer.allocUnsafeSlow(Math.max(size, spare?.length ?? 0));
    this.spareReadBuffer = undefined;
    return spare;
  }

  /** Scans everything a stream yields, as one object (clamd INSTREAM, stdin). */
  async scanStream(source: AsyncIterable<Uint8Array>): Promise<ScanResult> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of source) {
      size += chunk.length;
      // Past the limit the object will not be scanned: stop keeping its bytes.
      if (!this.exceedsFileSize(size)) chunks.push(chunk);
    }
    if (this.exceedsFileSize(size)) return this.scanOversized();
    return this.scanBuffer(Buffer.concat(chunks, size));
  }

  private exceedsFileSize(size: number): boolean {
    const { maxFileSize } = this.options.limits;
    return size > SMALLEST_SCANNED_SIZE && maxFileSize > 0 && size > maxFileSize;
  }

  private scanOversized(): ScanResult {
    const scan = new ScanRun(this.engine, this.options, this.handlers, undefined);
    scan.exceeded('MaxFileSize');
    return scan.result;
  }
}

/**
 * Reads the first `size` bytes of the file into `buffer`: like ClamAV's file map, a file is the
 * bytes it had when it was opened (fewer if it shrank since). Returns the length read.
 */
async function readUpTo(handle: FileHandle, buffer: Uint8Array, size: number): Promise<number> {
  let length = 0;
  while (length < size) {
    const { bytesRead } = await handle.read(buffer, length, size - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return length;
}

/**
 * Names ClamAV treats as "potentially unwanted": they never stop a scan; with --allmatch they are
 * reported once each after everything else, otherwise the first one only when nothing else was
 * found. With --heuristic-scan-precedence they are detections like any other.
 */
function isPotentiallyUnwanted(name: string): boolean {
  return name.startsWith('PUA.') || name.startsWith('Heuristics.') || name.startsWith('BC.Heuristics.');
}

/**
 * An object being scanned, as ClamAV's clean cache sees it: its result may be cached unless a
 * limit skipped some of its contents or a signature's verdict depended on its containers
 * (ClamAV's dont_cache_flag). A normalised view is matched as a layer of its own, which ClamAV
 * never caches.
 */
interface CacheFrame {
  cacheable: boolean;
}

/**
 * One top-level scan: the result, ClamAV's per-file counters for the limits (objects scanned,
 * bytes scanned), and the sink detectors report to.
 */
class ScanRun implements BodyScanSink {
  private readonly detections: string[] = [];
  private readonly unwanted: string[] = [];
  private stopped = false;
  private scannedObjects = 0;
  private scannedBlocks = 0;
  private scannedBytes = 0;
  private current?: ScanObject;
  /** The objects being scanned that the clean cache may remember, outermost first. */
  private readonly cacheFrames: CacheFrame[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly options: ScanOptions,
    private readonly handlers: FormatHandlers,
    private readonly cleanCache: CleanCache | undefined,
  ) {}

  get allMatch(): boolean {
    return this.options.allMatch;
  }

  get debug(): ((message: string) => void) | undefined {
    const { logger } = this.options;
    return logger.debugEnabled ? (message) => logger.debug(message) : undefined;
  }

  /**
   * The names to report, in ClamAV's order. Without --allmatch a scan stops at its first
   * detection, except where ClamAV goes on after one (an any-size import-table hash): all of them
   * then, as clamscan prints each (clamd replies with one).
   */
  get result(): ScanResult {
    const viruses = this.options.allMatch
      ? [...this.detections, ...new Set(this.unwanted)]
      : this.detections.length > 0
        ? [...this.detections]
        : this.unwanted.slice(0, 1);
    return { viruses, scannedBlocks: this.scannedBlocks };
  }

  report(name: string): boolean {
    if (isAllowListed(this.engine.allowHashes, this.current)) return true;
    if (isPotentiallyUnwanted(name) && !this.options.heuristicScanPrecedence) {
      this.unwanted.push(name);
      return true;
    }
    this.detections.push(name);
    this.stopped = !this.options.allMatch;
    return !this.stopped;
  }

  /** `Heuristics.Limits.Exceeded.<limit>`, when --alert-exceeds-max is on. */
  exceeded(limit: 'MaxFileSize' | 'MaxScanSize' | 'MaxFiles' | 'MaxRecursion'): void {
    if (this.options.alertExceedsMax) this.report(`Heuristics.Limits.Exceeded.${limit}`);
  }

  /** A logical signature's verdict on the current object depended on its containers. */
  placementDependent(): void {
    const frame = this.cacheFrames.at(-1);
    if (frame) frame.cacheable = false;
  }

  /** matchicon: never a match while DCONF's PE MATCHICON is off. */
  iconsMatch(object: ScanObject, group1: string | undefined, group2: string | undefined): boolean {
    if (!this.engine.dconf.pe.matchicon) return false;
    const { limits, logger } = this.options;
    return iconsMatch(object.data, this.engine.icons, group1, group2, { maxIcons: limits.maxIconsPe, logger });
  }

  /**
   * ClamAV's cli_magic_scan for one object: limits, type, the clean cache, then the scan (see
   * scanLayers); a clean result is remembered when nothing was skipped and nothing found.
   */
  scanObject(data: Uint8Array, parent: ScanObject | undefined, extracted?: ExtractedObject): 'refused' | undefined {
    if (data.length <= SMALLEST_SCANNED_SIZE) return undefined;
    if (!this.withinLimits(data.length)) {
      this.contentSkipped();
      return 'refused';
    }
    const object = this.objectOf(data, this.engine.fileTypes.detect(data), parent, extracted);
    const cache = this.cleanCache;
    if (!cache) {
      this.scanLayers(object);
      return undefined;
    }
    const key = CleanCache.keyOf(object.hashes.hex('md5'), data.length);
    if (cache.has(key)) return undefined;
    const frame: CacheFrame = { cacheable: true };
    this.withinFrame(frame, () => this.scanLayers(object));
    if (frame.cacheable && this.detections.length === 0 && this.unwanted.length === 0) cache.add(key);
    return undefined;
  }

  private withinFrame(frame: CacheFrame, scan: () => void): void {
    this.cacheFrames.push(frame);
    scan();
    this.cacheFrames.pop();
  }

  /** ClamAV's emax_reached: a limit skipped content, so no object being scanned may be cached. */
  private contentSkipped(): void {
    for (const frame of this.cacheFrames) frame.cacheable = false;
  }

  /** The type's parser (its contents are scanned first), the raw scan, then for text the normalised-script scan. */
  private scanLayers(object: ScanObject): void {
    // ClamAV's abort_scan: a layer entered after the detection that ended the scan (what a PE
    // file unpacks to after an any-size import-table match) is not scanned.
    if (this.stopped) return;
    this.scanContents(object);
    if (this.stopped) return;
    this.current = object;
    // With HTML parsing on, ClamAV scans only the normalised views of an HTML file, not its bytes
    // (unless DCONF's HTMLSKIPRAW is off).
    if (object.fileType === 'CL_TYPE_HTML' && !this.options.disabledHandlers.has('html') && this.engine.dconf.document.htmlSkipRaw) return;
    if (object.fileType === 'CL_TYPE_MSEXE' && this.authenticodeEndsLayer(object)) return;
    this.walkExecutableHeaders(object);
    if (this.stopped) return;
    const recognised = this.rawScan(object);
    if (this.stopped) return;
    const reinterpreted = recognised && this.unpackRecognisedTypes(object, recognised);
    if (this.stopped) return;
    if (object.fileType === 'CL_TYPE_MSEXE' && !this.options.disabledHandlers.has('pe')) this.scanExecutable(object);
    if (MATCHED_AS_OTHER.has(object.fileType)) this.matchAsOther(object);
    if (this.stopped || !TEXT_TYPES.has(object.fileType)) return;
    this.current = object;
    if (reinterpreted !== 'CL_TYPE_HTML' && !this.options.disabledHandlers.has('html') && this.engine.dconf.document.script) this.scanScript(object);
    // Text that turned out to be mail is matched once more with the mail signatures.
    if (reinterpreted === 'CL_TYPE_MAIL' && !this.stopped) this.match(object, { target: MAIL_TARGET });
  }

  private objectOf(data: Uint8Array, fileType: string, parent: ScanObject | undefined, extracted?: ExtractedObject): ScanObject {
    return {
      data,
      fileType,
      depth: parent ? parent.depth + 1 : 0,
      containers: extracted?.normalised ? parent!.containers : enclosingTypes(parent),
      normalised: extracted?.normalised,
      parent,
      hashes: new ObjectHashes(data),
      name: extracted?.name,
      sharesParentBuffer: extracted?.sameBuffer,
      reconstructed: extracted?.reconstructed || parent?.reconstructed,
      descriptor: this.descriptorOf(parent, extracted),
    };
  }

  /** ClamAV's fmap_fd of a new object (see ScanObject.descriptor). */
  private descriptorOf(parent: ScanObject | undefined, extracted: ExtractedObject | undefined): number {
    if (!parent) return this.options.descriptor ?? MEMORY_DESCRIPTOR;
    return extracted?.sameBuffer ? parent.descriptor : parent.descriptor + 1;
  }

  /**
   * ClamAV's Authenticode check, which its cli_scan_fmap runs on a PE file whose headers parse
   * before matching it: a file signed by a trusted chain (or listed in a loaded catalog) is clean
   * and nothing in it is scanned (its container goes on); a block-listed certificate is reported.
   * DCONF's PE CERTS switches it off. Returns whether this object's scan ends here.
   */
  private authenticodeEndsLayer(object: ScanObject): boolean {
    if (!this.engine.dconf.pe.certs) return false;
    const pe = readPeHeaders(object.data);
    if (typeof pe === 'string') return false;
    const verdict = checkAuthenticode(object.data, pe, this.engine.authenticode, this.engine.allowHashes, {
      logger: this.options.logger,
      report: (name) => this.report(name),
    });
    if (verdict === 'verified') this.logHalt(object, 'The scanned object was verified and deemed trusted');
    return verdict !== 'unverified' || this.stopped;
  }

  /** ClamAV's line when a result ends the scan of an object's layer (result_should_goto_done). */
  private logHalt(object: ScanObject, reason: string): void {
    const { logger } = this.options;
    if (logger.debugEnabled) logger.debug(`Descriptor[${object.descriptor}]: halting after file scan because: ${reason}`);
  }

  /**
   * ClamAV's scanraw: the signatures, recognising the file types inside the object as they go
   * (except in types ClamAV does not search). Returns what was recognised, if searched.
   */
  private rawScan(object: ScanObject): TypeSignatureScan | undefined {
    const recognizeFileTypes = recognisesEmbeddedTypes(object.fileType);
    const types = recognizeFileTypes
      ? this.engine.fileTypes.typeScan(object.fileType === 'CL_TYPE_TEXT_ASCII' ? 'CL_TYPE_ANY' : (object.fileType as FileTypeName), {
          objectSize: object.data.length,
          maxFiles: this.options.limits.maxFiles,
          logger: this.options.logger,
        })
      : undefined;
    this.match(object, { recognizeFileTypes }, types && ((window, offset) => types.feed(window, offset)));
    return types;
  }

  /**
   * Unpacks what the raw scan recognised inside `object` (see recognised-types.ts), in the order
   * found; returns the type a text object turned out to be, if any.
   */
  private unpackRecognisedTypes(object: ScanObject, recognised: TypeSignatureScan): 'CL_TYPE_HTML' | 'CL_TYPE_MAIL' | undefined {
    for (const { type, offset } of recognised.embedded) {
      if (offset === 0) continue;
      // The first PE file found inside scans whatever follows it, later ones included.
      if (type === 'CL_TYPE_MSEXE') {
        if (this.scanEmbeddedPe(object, offset)) break;
        continue;
      }
      const action = recognisedTypeAction(type, offset, object.fileType, !object.sharesParentBuffer);
      if (!action) continue;
      const { logger } = this.options;
      if (logger.debugEnabled) logger.debug(`${type} signature found at ${offset}`);
      this.scanContents(this.layerOf(object, action.layerType, action.start, action.deeper), action.handlerType, true);
      if (this.stopped) return undefined;
    }
    const reinterpreted = textReinterpretation(recognised.type, object.fileType, object.parent?.fileType);
    if (!reinterpreted || !this.handlers.for(reinterpreted, this.options.disabledHandlers)) return undefined;
    this.scanContents(this.layerOf(object, reinterpreted, 0, false));
    return reinterpreted;
  }

  /**
   * ClamAV's embedded PE scan: a PE file found at `offset` inside a PE, ZIP or OLE2 object
   * (recognised-types decides where one is looked for) is, if its headers parse, copied out with
   * everything after it and scanned as a new file, two levels deeper (the PE layer, then the
   * copy). Returns whether it was.
   */
  private scanEmbeddedPe(object: ScanObject, offset: number): boolean {
    const { limits, logger, disabledHandlers } = this.options;
    if (disabledHandlers.has('pe') || object.sharesParentBuffer) return false;
    if (object.data.length - offset > limits.maxEmbeddedPe) {
      if (logger.debugEnabled) logger.debug('scanraw: MaxEmbeddedPE exceeded');
      return false;
    }
    if (this.recursionLimitReached(object)) return false;
    const layer = this.layerOf(object, 'CL_TYPE_MSEXE', offset, true);
    if (typeof readPeHeaders(layer.data) === 'string') {
      if (logger.debugEnabled) logger.debug('Header check for MSEXE detection failed, probably not actually an embedded PE file.');
      return false;
    }
    if (logger.debugEnabled) logger.debug(`*** Detected embedded PE file at ${offset} ***`);
    this.scanReconstructed(layer, layer.data);
    this.current = object;
    return true;
  }

  /**
   * cli_scanelf and cli_scanmacho, before the raw scan of an ELF or Mach-O file (ELF parsing on,
   * the format's DCONF word not 0): their debug lines, and a file whose headers ClamAV cannot walk
   * is a broken executable.
   */
  private walkExecutableHeaders(object: ScanObject): void {
    const walk = EXECUTABLE_WALKS.get(object.fileType);
    if (walk === undefined || this.engine.dconf.words[walk.dconf] === 0) return;
    if (walk.scanSwitch !== undefined && this.options.disabledHandlers.has(walk.scanSwitch)) return;
    const { logger } = this.options;
    if (!logger.debugEnabled && !this.heuristicEnabled('broken')) return;
    const result = walk.run(object.data, logger.debugEnabled ? (message) => logger.debug(message) : undefined);
    if ('failure' in result && result.failure === 'broken') this.heuristic('broken', 'Heuristics.Broken.Executable');
  }

  /** cli_scanpe, after the raw scan of a PE file. */
  private scanExecutable(object: ScanObject): void {
    const { logger, alerts, heuristicAlerts } = this.options;
    scanPe(object.data, {
      strict: alerts.has('broken') && !object.reconstructed,
      heuristics: heuristicAlerts,
      dconf: this.engine.dconf.pe,
      allMatch: this.options.allMatch,
      report: (name) => {
        this.current = object;
        this.report(name);
      },
      matchSection: (data) => {
        this.current = object;
        return this.engine.sectionHashDetector.scanBytes(data.length, new ObjectHashes(data), this) && !this.stopped;
      },
      hashesImports: this.engine.importHashesLoaded,
      matchImports: (text) => {
        this.current = object;
        const hashes = new ObjectHashes(text);
        if (logger.debugEnabled) logger.debug(`IMP: ${hashes.hex('md5')}:${text.length}`);
        return this.engine.importHashDetector.scanImportTable(text.length, hashes, this);
      },
      scanUnpacked: (data) => this.scanReconstructed(object, data),
      scanMembers: (extract) => this.scanMembers(object, extract, { limitsAtScan: true }),
      limits: this.options.limits,
      withinLimits: (size) => this.checkLimits(size),
      debug: (message) => {
        if (logger.debugEnabled) logger.debug(message);
      },
    });
  }

  /** Scans what an unpacker rebuilt from `parent` (or an embedded PE) as a new file, one level deeper. */
  private scanReconstructed(parent: ScanObject, data: Uint8Array): void {
    if (this.memberRefused(parent)) return;
    this.scanObject(data, parent, { data, reconstructed: true });
    this.current = parent;
  }

  /** `object` seen as `fileType` from `start` on, one level deeper or in its place. */
  private layerOf(object: ScanObject, fileType: string, start: number, deeper: boolean): ScanObject {
    const data = object.data.subarray(start);
    if (deeper) return { ...this.objectOf(data, fileType, object), sharesParentBuffer: true, descriptor: object.descriptor };
    return { ...object, data, fileType };
  }

  /**
   * ClamAV's cli_scan_fmap: body patterns, then hash signatures, then logical signatures.
   * `onWindow` sees each window of the body scan. Returns false when the scan must stop.
   */
  private match(object: ScanObject, options: BodyScanOptions, onWindow?: WindowObserver): boolean {
    const body = this.engine.body.start(object, this, options);
    const matched = body.matchContent(onWindow);
    this.scannedBlocks += body.scannedBlocks;
    if (!matched || this.stopped) return false;
    this.engine.hashes.scan(object, this);
    if (this.stopped) return false;
    body.evaluateLogical();
    return !this.stopped;
  }

  /**
   * ClamAV's second look at binary data (and compiled Python): everything matched again, the
   * target-14 (OTHER) signatures with the generic ones, and counted again as data scanned.
   */
  private matchAsOther(object: ScanObject): void {
    this.current = object;
    this.match(object, { target: OTHER_TARGET });
  }

  /**
   * ClamAV's cli_scanscript: the normalised text, with the target-type-7 (and generic) signatures.
   * When a target-7 pattern has a relative offset, ClamAV writes the normalised text to a file
   * and scans that as an object one level down; otherwise it matches the text buffer by buffer.
   */
  private scanScript(object: ScanObject): void {
    if (object.data.length > this.options.limits.maxScriptNormalize) return;
    const carried = this.engine.body.longestPattern(TEXT_TARGET);
    if (this.engine.body.hasRelativeOffsets(TEXT_TARGET)) this.scanNormalisedObject(object, carried);
    else this.scanNormalisedBuffers(object, carried);
  }

  /**
   * The normalised text (normalised in chunks of a scan buffer plus `carried` input bytes) as an
   * object inside `object`: scanned whole, hash signatures included, as cli_scan_fmap scans it.
   */
  private scanNormalisedObject(object: ScanObject, carried: number): void {
    const text = normaliseText(object.data, SCAN_BUFFER_SIZE + carried);
    if (text.length === 0 || this.layerRefused(object, text.length)) return;
    const view = this.objectOf(text, 'CL_TYPE_TEXT_ASCII', object, { data: text, normalised: true });
    this.withinFrame({ cacheable: false }, () => {
      this.current = view;
      this.match(view, { target: TEXT_TARGET });
    });
    this.current = object;
  }

  /** The normalised text matched buffer by buffer (cli_scan_buff), in `object`'s own layer. */
  private scanNormalisedBuffers(object: ScanObject, carried: number): void {
    const { text, bufferEnds } = normaliseTextForScan(object.data, carried);
    if (text.length === 0) return;
    const view = this.objectOf(text, 'CL_TYPE_TEXT_ASCII', object.parent);
    this.withinFrame({ cacheable: false }, () => {
      const body = this.engine.body.start(view, this, { target: TEXT_TARGET });
      // Each buffer is matched on its own (cli_scan_buff), at the offset of all before it.
      let offset = 0;
      for (let i = 0; i < bufferEnds.length; i++) {
        const from = i === 0 ? 0 : Math.max(0, bufferEnds[i - 1]! - carried);
        const buffer = text.subarray(from, bufferEnds[i]);
        // A buffer is counted once matched, so not when a detection ends the scan in it.
        if (!body.matchWindow(buffer, offset, buffer) || this.stopped) return;
        this.scannedBlocks += Math.floor(buffer.length / COUNT_PRECISION);
        offset += buffer.length;
      }
      body.evaluateLogical();
    });
  }

  /** An extracted view that ClamAV only matches, with fixed types, instead of typing and unpacking. */
  private scanView(child: ExtractedObject, scanAs: readonly string[], parent: ScanObject): void {
    if (child.inMemory) this.scannedBlocks += Math.floor(child.data.length / COUNT_PRECISION);
    this.withinFrame({ cacheable: false }, () => {
      for (const fileType of scanAs) {
        this.current = this.objectOf(child.data, fileType, parent, child);
        if (!(child.inMemory ? this.matchInMemory(this.current) : this.match(this.current, {}))) return;
      }
    });
  }

  /** ClamAV's cli_scan_buff and cli_exp_eval: the body and logical signatures over one buffer. */
  private matchInMemory(object: ScanObject): boolean {
    const body = this.engine.body.start(object, this, {});
    if (!body.matchWindow(object.data, 0, object.data) || this.stopped) return false;
    body.evaluateLogical();
    return !this.stopped;
  }

  /**
   * Unpacks `object` with the handler of its type (or of `handlerType`, for what the raw scan
   * `recognised` inside a file) and scans what it holds.
   */
  private scanContents(object: ScanObject, handlerType = object.fileType, recognised = false): void {
    const handler = this.handlers.for(handlerType, this.options.disabledHandlers, recognised);
    if (handler) this.scanMembers(object, (ctx) => handler.extract(object.data, ctx), { endsAtRefusedMember: handler.endsAtRefusedMember });
  }

  /**
   * Scans the members `extract` finds in `object`, in order: each one's container metadata, then
   * the member itself, one level deeper. The recursion and file limits refuse members before
   * their metadata is matched, or with `limitsAtScan` only when one is to be scanned (as
   * cli_scanpe's InstallShield extraction meets them); with `endsAtRefusedMember`, a member too
   * big for the scan-size budget ends the extraction. Returns false when that ended early: a
   * virus (without --allmatch) or a limit.
   */
  private scanMembers(
    object: ScanObject,
    extract: (ctx: ExtractionContext) => Iterable<ExtractedObject>,
    { limitsAtScan = false, endsAtRefusedMember = false } = {},
  ): boolean {
    if (!limitsAtScan && this.recursionLimitReached(object)) return false;
    for (const child of extract(this.extractionContext())) {
      if (!limitsAtScan && this.memberRefused(object)) return false;
      // Container metadata signatures (.cdb) see every member, before it is scanned.
      if (!child.noMetadata) {
        this.engine.body.matchContainerEntry(
          {
            containerType: object.fileType,
            containerSize: object.data.length,
            name: child.name ?? null,
            compressedSize: child.compressedSize ?? child.data.length,
            realSize: child.declaredSize ?? child.data.length,
            encrypted: child.encrypted ?? false,
            position: child.position ?? 0,
          },
          this,
        );
        if (this.stopped) return false;
      }
      // Members with no data carry only metadata (encrypted, failed or skipped members).
      if (child.data.length === 0) continue;
      if (limitsAtScan && this.memberRefused(object)) return false;
      // The container is not read while its member is scanned: a file-backed one gives its pages back.
      releasePages(object.data);
      let refused = false;
      if (child.data.length > SMALLEST_SCANNED_SIZE && child.scanAs) this.scanView(child, child.scanAs, object);
      else refused = this.scanObject(child.data, object, child) === 'refused';
      releasePages(child.data);
      this.current = object;
      if (this.stopped || (refused && endsAtRefusedMember)) return false;
    }
    return true;
  }

  /** ClamAV's recursion stack holds maxRecursion levels, the top-level object included. */
  private recursionLimitReached(container: ScanObject): boolean {
    if (container.depth + 1 < this.options.limits.maxRecursion) return false;
    this.contentSkipped();
    this.exceeded('MaxRecursion');
    return true;
  }

  /** A member refused by the recursion or file limit (ClamAV refuses every further one: one refusal says it all). */
  private memberRefused(container: ScanObject): boolean {
    return this.recursionLimitReached(container) || this.filesLimitExceeded();
  }

  /**
   * cli_recursion_stack_push for a layer the scan makes itself (normalised text): the limits on
   * its size and on the number of files, then the recursion limit. True when it is not scanned.
   */
  private layerRefused(container: ScanObject, size: number): boolean {
    if (!this.parserCheckLimits('cli_recursion_stack_push', size) || this.filesLimitExceeded()) {
      this.contentSkipped();
      return true;
    }
    return this.recursionLimitReached(container);
  }

  private filesLimitExceeded(): boolean {
    if (!this.filesLimitReached()) return false;
    this.contentSkipped();
    this.exceeded('MaxFiles');
    return true;
  }

  /** What a format handler works with: the size budget left, heuristics and messages. */
  private extractionContext(): ExtractionContext {
    const { maxFileSize, maxScanSize } = this.options.limits;
    const { logger } = this.options;
    return {
      maxObjectSize: Math.min(
        maxFileSize > 0 ? maxFileSize : Number.MAX_SAFE_INTEGER,
        maxScanSize > 0 ? maxScanSize - this.scannedBytes : Number.MAX_SAFE_INTEGER,
      ),
      maxFileSize: maxFileSize > 0 ? maxFileSize : Number.MAX_SAFE_INTEGER,
      checkLimits: (who, needed) => this.parserCheckLimits(who, needed),
      heuristic: (kind, name) => this.heuristic(kind, name),
      checkLinks: this.options.phishingScanUrls && this.engine.dconf.phishing.engine ? (links) => this.checkLinks(links) : undefined,
      zipPasswords: this.engine.dconf.archive.passwd ? this.engine.zipPasswords : undefined,
      error: (message) => logger.error(message),
      warning: (message) => logger.warning(message),
      debug: (message) => {
        if (logger.debugEnabled) logger.debug(message);
      },
    };
  }

  /**
   * phishingScan: its alerts are reported whatever --heuristic-alerts says, as ClamAV does; the
   * check stops at an alert that stops the scan (with --heuristic-scan-precedence).
   */
  private checkLinks(links: readonly HtmlLink[]): boolean {
    const { logger, alertPhishingSsl, alertPhishingCloak } = this.options;
    return this.engine.phishing.scan(
      links,
      { alertSsl: alertPhishingSsl, alertCloak: alertPhishingCloak },
      {
        alert: (name) => this.heuristic('always', name),
        info: (message) => logger.info?.(message),
        debug: (message) => {
          if (logger.debugEnabled) logger.debug(message);
        },
      },
    );
  }

  /** Reports a heuristic finding when its kind is on; false when that stops the scan. */
  private heuristic(kind: HeuristicKind, name: string): boolean {
    return this.heuristicEnabled(kind) ? this.report(name) : true;
  }

  private heuristicEnabled(kind: HeuristicKind): boolean {
    switch (kind) {
      case 'always':
        return true;
      case 'heuristic':
        return this.options.heuristicAlerts;
      case 'exceeds-max':
        return this.options.alertExceedsMax;
      default:
        return this.options.alerts.has(kind);
    }
  }

  /** ClamAV's cli_updatelimits: room for `size` more bytes and one more object? Counts them. */
  private withinLimits(size: number): boolean {
    if (!this.checkLimits(size)) return false;
    const { maxScanSize } = this.options.limits;
    this.scannedObjects++;
    this.scannedBytes = Math.min(this.scannedBytes + size, maxScanSize > 0 ? maxScanSize : Number.MAX_SAFE_INTEGER);
    return true;
  }

  /** cli_checklimits as a parser calls it (ExtractionContext.checkLimits), with its debug lines. */
  private parserCheckLimits(who: string, needed: number): boolean {
    const { maxScanSize, maxFileSize } = this.options.limits;
    const { logger } = this.options;
    if (needed > 0 && maxScanSize > 0 && maxScanSize - this.scannedBytes < needed) {
      if (logger.debugEnabled) logger.debug(`${who}: scansize exceeded (initial: ${maxScanSize}, consumed: ${this.scannedBytes}, needed: ${needed})`);
      this.exceeded('MaxScanSize');
      return false;
    }
    if (needed > 0 && maxFileSize > 0 && maxFileSize < needed) {
      if (logger.debugEnabled) logger.debug(`${who}: filesize exceeded (allowed: ${maxFileSize}, needed: ${needed})`);
      this.exceeded('MaxFileSize');
      return false;
    }
    return true;
  }

  /** ClamAV's cli_checklimits: room for `size` more bytes? */
  private checkLimits(size: number): boolean {
    const { maxScanSize, maxFileSize } = this.options.limits;
    if (maxScanSize > 0 && maxScanSize - this.scannedBytes < size) {
      this.exceeded('MaxScanSize');
      return false;
    }
    if (maxFileSize > 0 && maxFileSize < size) {
      this.exceeded('MaxFileSize');
      return false;
    }
    return true;
  }

  private filesLimitReached(): boolean {
    const { maxFiles } = this.options.limits;
    return maxFiles > 0 && this.scannedObjects >= maxFiles;
  }
}

/** The types ClamAV's container lookups see around an object inside `parent`: normalised layers are passed over. */
function enclosingTypes(parent: ScanObject | undefined): readonly string[] {
  if (!parent) return [];
  return parent.normalised ? enclosingTypes(parent.parent) : [...parent.containers, parent.fileType];
}
