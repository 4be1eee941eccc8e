import { accessSync, constants, lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import {
  COUNT_PRECISION,
  errnoMessage,
  isClamError,
  listInDirectoryOrder,
  strerror,
  type ScanResult,
  type Scanner,
} from '@clamts/core';
import type { ToolOutput } from '../common/output.js';
import type { RegexFilter } from '../common/regex-filter.js';
import type { Quarantine } from './quarantine.js';

/** Symlink policy, as `--follow-*-symlinks`: 0 never, 1 when named on the command line, 2 always. */
export type SymlinkPolicy = 0 | 1 | 2;

export interface WalkSettings {
  recursive: boolean;
  /** `-i`: print infected files only. */
  printInfectedOnly: boolean;
  /** Not `-o`: print `OK` lines. */
  printClean: boolean;
  bell: boolean;
  crossFs: boolean;
  followDirSymlinks: SymlinkPolicy;
  followFileSymlinks: SymlinkPolicy;
  maxDirRecursion: number;
  exclude: readonly RegexFilter[];
  excludeDir: readonly RegexFilter[];
  include: readonly RegexFilter[];
  includeDir: readonly RegexFilter[];
  quarantine?: Quarantine;
}

/** The figures clamscan's summary reports. */
export interface ScanStats {
  files: number;
  directories: number;
  infectedFiles: number;
  errors: number;
  /** "Data scanned", in 4 KiB blocks. */
  scannedBlocks: number;
  /** "Data read", in 4 KiB blocks. */
  readBlocks: number;
}

/** Walks what clamscan was asked to scan, scans each file and prints what ClamAV prints. */
export class ScanManager {
  readonly stats: ScanStats = { files: 0, directories: 0, infectedFiles: 0, errors: 0, scannedBlocks: 0, readBlocks: 0 };
  /** Exit status contribution of problems that are not counted as errors (missing operands…). */
  status = 0;

  constructor(
    private readonly scanner: Scanner,
    private readonly settings: WalkSettings,
    private readonly out: ToolOutput,
  ) {}

  /** Scans each operand: `-` is stdin, then files, directories and symlinks by their type. */
  async scanOperands(operands: Iterable<string>): Promise<void> {
    for (const operand of operands) {
      if (operand === '-') {
        await this.scanStdin();
        continue;
      }
      let stats: Stats;
      try {
        stats = lstatSync(operand);
      } catch (error) {
        this.out.stderr(`${operand}: ${errnoMessage(error)}\n`);
        this.out.warning(`${operand}: Can't access file`);
        this.status = 2;
        continue;
      }
      const path = stripTrailingSeparators(operand);
      const { followDirSymlinks, followFileSymlinks } = this.settings;
      if (stats.isSymbolicLink()) {
        if (followDirSymlinks === 0 && followFileSymlinks === 0) {
          this.note(`${path}: Symbolic link`);
          continue;
        }
        const target = statOrUndefined(path);
        if (!target) continue;
        if (target.isFile() && followFileSymlinks) await this.scanFile(path);
        else if (target.isDirectory() && followDirSymlinks) await this.scanDirectory(path, 1, target.dev);
        else this.note(`${path}: Symbolic link`);
      } else if (stats.isFile()) {
        await this.scanFile(path);
      } else if (stats.isDirectory()) {
        await this.scanDirectory(path, 1, stats.dev);
      } else {
        this.out.warning(`${path}: Not supported file type`);
        this.status = 2;
      }
    }
  }

  async scanDirectory(directory: string, depth: number, device: number): Promise<void> {
    const { settings } = this;
    if (settings.excludeDir.some((f) => f.matches(directory))) return this.note(`${directory}: Excluded`);
    if (settings.includeDir.length > 0 && !settings.includeDir.some((f) => f.matches(directory))) {
      return this.note(`${directory}: Excluded`);
    }
    if (depth > settings.maxDirRecursion) return;

    let entries: string[];
    try {
      entries = await listInDirectoryOrder(directory);
    } catch {
      this.note(`${directory}: Can't open directory.`);
      this.stats.errors++;
      return;
    }
    this.stats.directories++;
    const childDepth = depth + 1;
    for (const name of entries) {
      const path = directory === '/' ? `/${name}` : `${directory}/${name}`;
      let stats: Stats;
      try {
        stats = lstatSync(path);
      } catch {
        continue;
      }
      if (!settings.crossFs && stats.dev !== device) {
        this.note(`${path}: Excluded`);
        continue;
      }
      if (stats.isSymbolicLink()) {
        if (settings.followDirSymlinks !== 2 && settings.followFileSymlinks !== 2) {
          this.note(`${path}: Symbolic link`);
          continue;
        }
        const target = statOrUndefined(path);
        if (!target) continue;
        if (target.isFile() && settings.followFileSymlinks === 2) await this.scanFile(path);
        else if (target.isDirectory() && settings.followDirSymlinks === 2) {
          if (settings.recursive) await this.scanDirectory(path, childDepth, device);
        } else this.note(`${path}: Symbolic link`);
      } else if (stats.isFile()) {
        await this.scanFile(path);
      } else if (stats.isDirectory() && settings.recursive) {
        await this.scanDirectory(path, childDepth, device);
      }
    }
  }

  async scanFile(path: string): Promise<void> {
    const { settings, stats } = this;
    const filterPath = realpathOr(path);
    if (settings.exclude.some((f) => f.matches(filterPath))) return this.note(`${path}: Excluded`);
    if (settings.include.length > 0 && !settings.include.some((f) => f.matches(filterPath))) {
      return this.note(`${path}: Excluded`);
    }
    const fileStats = statOrUndefined(filterPath);
    if (fileStats) {
      if (fileStats.size === 0) return this.note(`${path}: Empty file`);
      stats.readBlocks += Math.floor(fileStats.size / COUNT_PRECISION);
    }
    if (process.geteuid?.() !== 0 && !readable(filterPath)) {
      this.note(`${path}: Access denied`);
      stats.errors++;
      return;
    }
    this.out.verbose(`Scanning ${path}`);
    await this.report(path, () => this.scanner.scanFile(filterPath), true);
  }

  private async scanStdin(): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    this.stats.readBlocks += Math.floor(data.length / COUNT_PRECISION);
    await this.report('stdin', async () => this.scanner.scanBuffer(data), false);
  }

  /** Runs one scan and prints its outcome the way clamscan does for `name`. */
  private async report(name: string, scan: () => Promise<ScanResult>, quarantinable: boolean): Promise<void> {
    const { stats, settings } = this;
    let result: ScanResult;
    try {
      result = await scan();
    } catch (error) {
      if (!isClamError(error)) throw error;
      if (error.code === 'EOPEN') this.out.warning(`Can't open file ${name}: ${error.message}`);
      else this.note(`${name}: ${strerror(error.code)} ERROR`);
      stats.errors++;
      return;
    }
    stats.files++;
    stats.scannedBlocks += result.scannedBlocks;
    if (result.viruses.length > 0) {
      for (const virus of result.viruses) this.out.info(`${name}: ${virus} FOUND`);
      stats.infectedFiles++;
      if (settings.bell) this.out.stderr('\x07');
      if (quarantinable) settings.quarantine?.apply(name);
    } else if (!settings.printInfectedOnly && settings.printClean) {
      this.out.consoleOnly(`${name}: OK`);
    }
  }

  /** A status line that `-i` suppresses (Excluded, Empty file, Symbolic link, …). */
  private note(line: string): void {
    if (!this.settings.printInfectedOnly) this.out.info(line);
  }
}

function stripTrailingSeparators(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end--;
  return path.slice(0, end);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
