import { realpathSync, statSync } from 'node:fs';
import type { ToolOutput } from '../common/output.js';
import { RegexFilter } from '../common/regex-filter.js';
import type { DaemonLink } from './daemon-link.js';
import type { RequestSettings, RequestTally } from './request.js';
import type { WalkOptions, WalkReason } from './tree-walk.js';

/** Everything one clamdscan run shares between the paths it scans. */
export interface ScanRun {
  readonly settings: RequestSettings;
  readonly link: DaemonLink;
  readonly walk: Pick<WalkOptions, 'followDirectorySymlinks' | 'followFileSymlinks' | 'maxDepth'>;
  /** clamd.conf's ExcludePath patterns, which clamdscan honours when it walks itself. */
  readonly excludePatterns: readonly string[];
  /** clamd.conf's CrossFilesystems. */
  readonly crossFilesystems: boolean;
  /** `-i`: no `OK` lines. */
  readonly printInfectedOnly: boolean;
  /** The summary's figures: infected files and errors over the whole run. */
  readonly totals: { infected: number; errors: number };
  /** ClamAV's static memory of the last file counted in ALLMATCH mode. */
  readonly allmatch: { lastAllmatchFile?: string };
}

/**
 * Which paths a walk of clamdscan's leaves out: those clamd.conf's ExcludePath matches and,
 * when files are walked in order to be quarantined, those clamd itself would not have scanned
 * (files on /proc, and on other filesystems when CrossFilesystems is off).
 */
export class WalkPolicy {
  private readonly patterns: RegexFilter[];
  private readonly procDevice: number | undefined;
  private readonly startDevice: number | undefined;

  constructor(
    run: ScanRun,
    start: string,
    private readonly out: ToolOutput,
  ) {
    this.patterns = run.excludePatterns.flatMap((pattern) => {
      try {
        return [new RegexFilter(pattern)];
      } catch {
        return []; // ClamAV's match_regex() fails on a bad pattern, which then never matches
      }
    });
    const quarantining = run.settings.quarantine !== undefined;
    const proc = quarantining ? statOrUndefined('/proc') : undefined;
    this.procDevice = proc && proc.size === 0 ? proc.dev : undefined;
    this.startDevice = quarantining && !run.crossFilesystems ? statOrUndefined(start)?.dev : undefined;
  }

  excluded(path: string): boolean {
    if (this.patterns.some((pattern) => pattern.matches(path))) {
      this.out.verbose(`${path}: Excluded`);
      return true;
    }
    if (this.procDevice === undefined && this.startDevice === undefined) return false;
    const device = statOrUndefined(path)?.dev;
    if (device === undefined) return false;
    return device === this.procDevice || (this.startDevice !== undefined && device !== this.startDevice);
  }
}

/** The real path clamdscan filters and sends; the path itself when it cannot be resolved. */
export function realPathOf(path: string, out: ToolOutput): string {
  try {
    return realpathSync.native(path);
  } catch {
    out.verbose(`Failed to determine real filename of ${path}.`);
    return path;
  }
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * What both scan styles print for the walk outcomes that are not files to scan (an unreadable
 * path, the recursion limit, a special file). Returns false for the outcomes each style handles
 * itself ('file', 'top-directory', 'skipped-link').
 */
export function reportWalkProblem(reason: WalkReason, walked: string, out: ToolOutput, tally: RequestTally): boolean {
  switch (reason) {
    case 'error-stat':
      out.error(`Can't access file ${walked}`);
      tally.errors++;
      return true;
    case 'skipped-directory':
      out.warning('Directory recursion limit reached');
      return true;
    case 'skipped-special':
      out.warning(`${walked}: Not supported file type`);
      tally.errors++;
      return true;
    default:
      return false;
  }
}
