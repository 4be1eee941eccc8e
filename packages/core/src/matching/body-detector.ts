import type { DetectionSink, Detector, ScanObject } from '../engine/scan-object.js';
import { rawScanTarget } from '../filetypes/targets.js';
import {
  containerEntryMatches,
  containerSignatureFromShared,
  shareContainerSignature,
  type ContainerEntry,
  type ContainerSignature,
  type SharedContainerSignature,
} from '../signatures/cdb.js';
import { executableTargetInfo, isExecutableTarget, type TargetInfoOptions } from '../executables/target-info.js';
import type { PcreLimits } from './pcre.js';
import { TargetProgram, type SharedMatchers, type SharedTargetProgram } from './target-program.js';
import { TargetScan, type ObjectFacts, type ScanCallbacks, type TargetScanOptions } from './target-scan.js';
import { COUNT_PRECISION, SCAN_WINDOW } from './verify.js';
import { ReleaseBehind } from '../util/file-backed.js';
import { NameTable, type SharedNameTable } from '../util/names.js';

/**
 * The compiled body, logical and container-metadata signatures of an engine, as one Detector.
 *
 * `scan(object, sink)` does what ClamAV's cli_scan_fmap does with these signatures: it walks the
 * object in 128 KiB windows that overlap by the longest pattern length, matches each window
 * against the object's target type and then the generic target, and finally evaluates the
 * logical signatures (target type first). ClamAV checks hash signatures between those two
 * phases; a scanner that wants that exact order uses `start()` and calls the phases itself.
 *
 * Normalised content (HTML, mail, text) is scanned by passing it as its own ScanObject with the
 * normalised type (CL_TYPE_HTML, CL_TYPE_MAIL), or, for ClamAV's piecewise text normalisation,
 * with `start(object, sink, { target: 7 })` and one `matchWindow` call per normalised buffer followed by
 * `evaluateLogical()`.
 */

/** A detection sink that can also re-scan an object as another type (HandlerType signatures). */
export interface BodyScanSink extends DetectionSink {
  /**
   * Re-scan the current object as `fileType`, as a child of itself. Return null when the object
   * already is such a re-scan of the same content: ClamAV then reports the signature instead.
   * Otherwise return whether scanning goes on. Without this method the signature is reported.
   */
  rescanAs?(fileType: string): boolean | null;
  /**
   * ClamAV's --allmatch (default true). Outside it, ClamAV's Boyer-Moore and Aho-Corasick passes
   * over a scan window end at their first detection even when `report` lets the scan go on,
   * which ClamAV does for potentially unwanted names (PUA.*, Heuristics.*, BC.Heuristics.*):
   * later matches of that window, subsignature matches included, are not seen.
   */
  readonly allMatch?: boolean;
  /**
   * A logical signature's expression held on the current object but its `Container:` or
   * `Intermediates:` condition did not: the same bytes elsewhere could alert, so ClamAV does not
   * cache the object's clean result.
   */
  placementDependent?(): void;
  /**
   * Does `object` (a PE file) have an icon of the icon signatures' groups `group1` and `group2`
   * (undefined: any)? ClamAV's matchicon, for `IconGroup1`/`IconGroup2` logical signatures;
   * without it they never match, as in ClamAV without icon signatures (.idb).
   */
  iconsMatch?(object: ScanObject, group1: string | undefined, group2: string | undefined): boolean;
  /** Receives libclamav's debug lines of the body scan; undefined when debugging is off. */
  readonly debug?: ((message: string) => void) | undefined;
}

/** Sees each window of an object's body scan and the object offset it starts at. */
export type WindowObserver = (window: Uint8Array, offset: number) => void;

export interface BodyScanOptions {
  /** The target type whose signatures apply besides the generic ones (default: ClamAV's choice for the type). */
  readonly target?: number;
  /** ClamAV's AC_SCAN_FT: let file type patterns take part (default: no). */
  readonly recognizeFileTypes?: boolean;
}

/** Types whose raw scan ClamAV runs without file type recognition (scanraw). */
const NO_TYPE_RECOGNITION = new Set([
  'CL_TYPE_GZ',
  'CL_TYPE_CPIO_OLD',
  'CL_TYPE_ZIP',
  'CL_TYPE_ZIPSFX',
  'CL_TYPE_ARJSFX',
  'CL_TYPE_RARSFX',
  'CL_TYPE_EGGSFX',
  'CL_TYPE_CABSFX',
  'CL_TYPE_7ZSFX',
  'CL_TYPE_OLD_TAR',
  'CL_TYPE_POSIX_TAR',
]);

/** Does ClamAV's raw scan of this type look for embedded file types (AC_SCAN_FT)? */
export function recognisesEmbeddedTypes(fileType: string): boolean {
  return !NO_TYPE_RECOGNITION.has(fileType);
}

export interface BodyDetectorOptions {
  /** ClamAV's --pcre-max-filesize: larger objects skip PCRE subsignatures. */
  readonly pcreMaxFileSize: number;
  /** --pcre-match-limit / --pcre-recmatch-limit the regexes were compiled with. */
  readonly pcreLimits: PcreLimits;
}

/**
 * A BodyDetector as structured-cloneable data (typed arrays, numbers, strings, plain objects):
 * the pattern tables, indexes and per-signature columns are in SharedArrayBuffers, so posting it
 * to a worker thread shares them; the few small objects (distinct logical expressions and target
 * descriptions, specials, byte compares, container signatures, regex sources) are copied.
 */
export interface SharedBodyDetector {
  programs: readonly (SharedTargetProgram | null)[];
  reportNames: SharedNameTable;
  containerSignatures: readonly SharedContainerSignature[];
  pcreMaxFileSize: number;
  pcreLimits: PcreLimits;
}

export class BodyDetector implements Detector {
  constructor(
    /** Indexed by target type; undefined where no signature of that type was loaded. */
    readonly programs: readonly (TargetProgram | undefined)[],
    /** Names reported by .ndb signatures, indexed by the patterns' owner. */
    private readonly reportNames: NameTable,
    /** In the order ClamAV checks them (the reverse of the load order). */
    private readonly containerSignatures: readonly ContainerSignature[],
    private readonly options: BodyDetectorOptions,
  ) {}

  toShared(matchers: SharedMatchers): SharedBodyDetector {
    return {
      programs: this.programs.map((program) => program?.toShared(matchers) ?? null),
      reportNames: this.reportNames.toShared(),
      containerSignatures: this.containerSignatures.map(shareContainerSignature),
      pcreMaxFileSize: this.options.pcreMaxFileSize,
      pcreLimits: this.options.pcreLimits,
    };
  }

  /** Rebuilds, in any thread, a detector that reads the shared memory of the original (its regexes compiled again). */
  static fromShared(shared: SharedBodyDetector): BodyDetector {
    const { pcreMaxFileSize, pcreLimits } = shared;
    return new BodyDetector(
      shared.programs.map((program) => (program === null ? undefined : TargetProgram.fromShared(program, pcreLimits))),
      NameTable.fromShared(shared.reportNames),
      shared.containerSignatures.map(containerSignatureFromShared),
      { pcreMaxFileSize, pcreLimits },
    );
  }

  /** The longest pattern of a target type's signatures (0 when it has none). */
  longestPattern(target: number): number {
    return this.programs[target]?.longestPattern ?? 0;
  }

  /**
   * Whether a target type's patterns include one with a relative offset (ClamAV's
   * `ac_reloff_num > 0`; for target type 7 that is an `EOF-n` offset).
   */
  hasRelativeOffsets(target: number): boolean {
    return (this.programs[target]?.relativeOffsets.length ?? 0) > 0;
  }

  /** Body patterns compiled (one per part of split patterns). */
  get patternCount(): number {
    let count = 0;
    for (const program of this.programs) count += program?.patterns.count ?? 0;
    return count;
  }

  /** ClamAV's raw scan of an object (scanraw), with file type recognition where ClamAV uses it. */
  scan(object: ScanObject, sink: BodyScanSink): void {
    const run = this.start(object, sink, { recognizeFileTypes: recognisesEmbeddedTypes(object.fileType) });
    if (run.matchContent()) run.evaluateLogical();
  }

  /**
   * Prepares the scan of `object` with the signatures of the target type (by default the one
   * ClamAV uses for a raw scan of the object's type) and of the generic target.
   */
  start(object: ScanObject, sink: BodyScanSink, options: BodyScanOptions = {}): BodyScanRun {
    const target = options.target ?? rawScanTarget(object.fileType);
    const targetProgram = target !== 0 ? this.programs[target] : undefined;
    const facts = objectFacts(object, target, { versionInfo: targetProgram?.usesVersionInfo === true || sink.debug !== undefined, debug: sink.debug });
    const callbacks: ScanCallbacks = {
      report: (name) => sink.report(name),
      handle: (name, handlerType) => {
        const rescanned = sink.rescanAs?.(handlerType);
        return rescanned === undefined || rescanned === null ? sink.report(name) : rescanned;
      },
      iconsMatch: (group1, group2) => sink.iconsMatch?.(object, group1, group2) ?? false,
      placementDependent: () => sink.placementDependent?.(),
      debug: sink.debug,
    };
    const programs: TargetProgram[] = [];
    if (targetProgram) programs.push(targetProgram);
    const generic = this.programs[0];
    if (generic) programs.push(generic);
    const scanOptions: TargetScanOptions = {
      pcreMaxFileSize: this.options.pcreMaxFileSize,
      recognizeFileTypes: options.recognizeFileTypes ?? false,
      fileType: object.fileType,
      allMatch: sink.allMatch ?? true,
    };
    const scans = programs.map((program) => new TargetScan(program, facts, this.reportNames, callbacks, scanOptions));
    const overlap = Math.max(0, ...programs.map((program) => program.longestPattern));
    return new BodyScanRun(object.data, scans, overlap);
  }

  /**
   * Checks one entry of a container against the container metadata signatures (ClamAV's
   * cli_matchmeta); called by container formats for each entry they list.
   */
  matchContainerEntry(entry: ContainerEntry, sink: DetectionSink): void {
    for (const signature of this.containerSignatures) {
      if (containerEntryMatches(signature, entry) && !sink.report(signature.name)) return;
    }
  }
}

export class BodyScanRun {
  private readonly overlap: number;
  /**
   * What ClamAV counts as data scanned for this pass: the whole 4 KiB units of each window,
   * counted as the window is reached (the overlap between windows counts twice).
   */
  scannedBlocks = 0;

  constructor(
    private readonly data: Uint8Array,
    private readonly scans: readonly TargetScan[],
    longestPattern: number,
  ) {
    // ClamAV steps by the window size minus the longest pattern; keep the step positive.
    this.overlap = Math.min(longestPattern, SCAN_WINDOW - 1);
  }

  /**
   * Matches the whole object window by window; `onWindow` sees each window first (ClamAV's type
   * recognition runs in the same pass). Returns false when the scan must stop.
   */
  matchContent(onWindow?: WindowObserver): boolean {
    const data = this.data;
    const scanned = new ReleaseBehind(data);
    let offset = 0;
    while (offset < data.length) {
      scanned.advance(offset);
      const length = Math.min(data.length - offset, SCAN_WINDOW);
      const window = data.subarray(offset, offset + length);
      this.scannedBlocks += Math.floor(length / COUNT_PRECISION);
      onWindow?.(window, offset);
      if (!this.matchWindow(window, offset, data)) return false;
      if (length < SCAN_WINDOW) break;
      offset += length - this.overlap;
    }
    return true;
  }

  /**
   * Matches one buffer that starts at object offset `base`; PCRE subsignatures run on `whole`
   * when the buffer reaches its end. Returns false when the scan must stop.
   */
  matchWindow(window: Uint8Array, base: number, whole: Uint8Array): boolean {
    for (const scan of this.scans) if (!scan.scanWindow(window, base, whole)) return false;
    return true;
  }

  /** Evaluates the logical signatures. Returns false when the scan must stop. */
  evaluateLogical(): boolean {
    for (const scan of this.scans) if (!scan.evaluate()) return false;
    return true;
  }
}

/**
 * What offsets and target descriptions look at. Executable structure counts only for PE, ELF
 * and Mach-O targets; for those, headers that do not parse disable every relative offset
 * (EOF-n included) for the whole scan, as in ClamAV.
 */
function objectFacts(object: ScanObject, target: number, options: TargetInfoOptions): ObjectFacts {
  const executable = executableTargetInfo(object.data, target, options);
  return {
    size: object.data.length,
    status: !isExecutableTarget(target) ? 0 : executable ? 1 : -1,
    entryPoint: executable?.entryPoint ?? 0,
    sections: executable?.sections ?? [],
    depth: object.depth,
    containers: object.containers,
    versionInfo: executable?.versionInfo ?? NO_VERSION_INFO,
  };
}

const NO_VERSION_INFO: ReadonlySet<number> = new Set();
