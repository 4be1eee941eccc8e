import type { HeuristicKind, ScanSwitch } from '../formats/handler.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Scan limits, with ClamAV 1.4's defaults. A value of 0 means "no limit", as in ClamAV. */
export interface ScanLimits {
  /** Objects larger than this are not scanned (`--max-filesize`, `MaxFileSize`). */
  maxFileSize: number;
  /** Total bytes scanned per top-level file, containers included (`--max-scansize`). */
  maxScanSize: number;
  /** Objects scanned per top-level file, containers included (`--max-files`). */
  maxFiles: number;
  /** Container nesting depth (`--max-recursion`). */
  maxRecursion: number;
  /** Milliseconds per top-level file (`--max-scantime`). */
  maxScanTime: number;
  /** HTML larger than this is not normalised (`--max-htmlnormalize`, `MaxHTMLNormalize`). */
  maxHtmlNormalize: number;
  /** HTML larger than this gets no tag-stripped view (`--max-htmlnotags`, `MaxHTMLNoTags`). */
  maxHtmlNoTags: number;
  /** Text larger than this is not normalised (`--max-scriptnormalize`, `MaxScriptNormalize`). */
  maxScriptNormalize: number;
  /** PE files found inside others are scanned only up to this size (`--max-embeddedpe`, `MaxEmbeddedPE`). */
  maxEmbeddedPe: number;
  /** Icon group entries of a PE file looked at for icon signatures (`--max-iconspe`, `MaxIconsPE`). */
  maxIconsPe: number;
}

/**
 * The engine's own limits when a tool sets none: libclamav's built-in defaults (default.h), which
 * are not always the defaults of the matching config options (MaxScanTime's is 0 there).
 */
export const DEFAULT_LIMITS: Readonly<ScanLimits> = Object.freeze({
  maxFileSize: 100 * 1024 * 1024,
  maxScanSize: 400 * 1024 * 1024,
  maxFiles: 10000,
  maxRecursion: 17,
  maxScanTime: 120000,
  maxHtmlNormalize: 40 * 1024 * 1024,
  maxHtmlNoTags: 8 * 1024 * 1024,
  maxScriptNormalize: 20 * 1024 * 1024,
  maxEmbeddedPe: 40 * 1024 * 1024,
  maxIconsPe: 100,
});

/** ClamAV's default CacheSize. */
export const DEFAULT_CACHE_SIZE = 65536;

/** Which heuristic findings of the format handlers are reported (`--alert-*`; all off by default). */
export type Alert = Exclude<HeuristicKind, 'exceeds-max' | 'heuristic' | 'always'>;

export interface ScanOptions {
  /** Report every match instead of stopping at the first (`--allmatch`). */
  allMatch: boolean;
  /** Report objects that exceed a limit as `Heuristics.Limits.Exceeded.*` (`--alert-exceeds-max`). */
  alertExceedsMax: boolean;
  /** Heuristic alerts that are on (`--alert-encrypted-archive`, `--alert-broken`, …). */
  alerts: ReadonlySet<Alert>;
  /** ClamAV's general heuristics (`--heuristic-alerts`, on by default). */
  heuristicAlerts: boolean;
  /**
   * `--heuristic-scan-precedence` / `HeuristicScanPrecedence`: heuristic and PUA findings count
   * as detections (reported when found, stopping the scan without --allmatch).
   */
  heuristicScanPrecedence: boolean;
  /** Where libclamav-style messages raised while scanning go (errors of corrupt containers…). */
  logger: Logger;
  /** Container and document handlers that are off (`--scan-archive=no`, …; all on by default). */
  disabledHandlers: ReadonlySet<ScanSwitch>;
  /** `--phishing-scan-urls` / `PhishingScanURLs` (on by default): the phishing check of mail links. */
  phishingScanUrls: boolean;
  /** `--alert-phishing-ssl` / `AlertPhishingSSLMismatch`: the SSL mismatch check on every link. */
  alertPhishingSsl: boolean;
  /** `--alert-phishing-cloak` / `AlertPhishingCloak`: the cloaked-URL check on every link. */
  alertPhishingCloak: boolean;
  limits: ScanLimits;
  /**
   * How many clean results a scanner remembers, so that the same file is not scanned twice
   * (`CacheSize`, 65536); 0 turns the cache off (`--disable-cache`, `DisableCache`).
   */
  cacheSize: number;
  /**
   * Where objects over 16 MiB (files read, decompressed output) get their file-backed memory
   * (`--tempdir`, `TemporaryDirectory`); the system's temporary directory when undefined.
   */
  temporaryDirectory?: string;
  /**
   * The file descriptor ClamAV's debug lines name the scanned file by (`Descriptor[N]`): 3 in
   * clamscan, 4 when its --log file is open. Undefined for a scan of memory (ClamAV's -1).
   */
  descriptor?: number;
}

export type ScanOptionsInit = Partial<Omit<ScanOptions, 'limits'>> & { limits?: Partial<ScanLimits> };

export function scanOptions(overrides: ScanOptionsInit = {}): ScanOptions {
  return {
    allMatch: overrides.allMatch ?? false,
    alertExceedsMax: overrides.alertExceedsMax ?? false,
    alerts: overrides.alerts ?? new Set(),
    heuristicAlerts: overrides.heuristicAlerts ?? true,
    heuristicScanPrecedence: overrides.heuristicScanPrecedence ?? false,
    logger: overrides.logger ?? silentLogger,
    disabledHandlers: overrides.disabledHandlers ?? new Set(),
    phishingScanUrls: overrides.phishingScanUrls ?? true,
    alertPhishingSsl: overrides.alertPhishingSsl ?? false,
    alertPhishingCloak: overrides.alertPhishingCloak ?? false,
    limits: { ...DEFAULT_LIMITS, ...definedOnly(overrides.limits ?? {}) },
    cacheSize: overrides.cacheSize ?? DEFAULT_CACHE_SIZE,
    temporaryDirectory: overrides.temporaryDirectory,
    descriptor: overrides.descriptor,
  };
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
