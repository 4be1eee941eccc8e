import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engine/engine.js';
import { EngineBuilder } from '../engine/engine-builder.js';
import { withLoadingInliningBudget } from '../engine/inlining-budget.js';
import { settleNativeBufferMap } from '../engine/native-buffer-map.js';
import { ClamError } from '../errors.js';
import { listInDirectoryOrder } from '../util/directory.js';
import { readFileHead } from '../util/file-head.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { DatabaseContext, LoadOptions } from './database-context.js';
import { containerKindOf, formatOf, isDirectoryDatabase, lineBufferOf, type DatabaseFormat } from './database-formats.js';
import { loadContainer } from './container-loader.js';
import { readCvdHead } from './cvd.js';
import { fileInput, inMemoryInput, type DatabaseInput } from './database-input.js';

/**
 * Loads database files and directories into an engine builder, like ClamAV's cl_load: a
 * directory loads every file with a database ending (ignore lists first), a file loads by its
 * ending; the first error stops the load.
 */
export class DatabaseLoader {
  readonly builder = new EngineBuilder();
  private readonly logger: Logger;

  constructor(private readonly options: LoadOptions = {}) {
    // Before the load's code is optimized (see native-buffer-map.ts).
    settleNativeBufferMap();
    this.logger = options.logger ?? silentLogger;
    this.builder.authenticode.disabled = options.disableCertCheck === true;
    this.builder.authenticode.dumpCertificates = options.dumpCertificates === true;
  }

  async load(path: string): Promise<void> {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (error) {
      this.logger.error(statErrorMessage(path, error));
      throw new ClamError('ESTAT', { path });
    }
    if (isDirectory) await this.loadDirectory(path);
    else await this.loadFile(path, false);
  }

  private async loadDirectory(directory: string): Promise<void> {
    this.logger.debug(`Loading databases from ${directory}`);
    let names: string[];
    try {
      names = await listInDirectoryOrder(directory);
    } catch {
      this.logger.error(`cli_loaddbdir: Can't open directory ${directory}`);
      return this.noDatabases(directory);
    }
    const databases = names.filter((name) => isDirectoryDatabase(name));
    if (databases.length === 0) return this.noDatabases(directory);
    const skippedDaily = this.olderDaily(directory, databases);
    const files = databases
      .filter((name) => name !== skippedDaily && this.officialOrExempt(name))
      // A stable sort: same-priority files load in the filesystem's order, as ClamAV's readdir loop.
      .sort((a, b) => loadPriority(a) - loadPriority(b));
    for (const name of files) {
      const path = directory.endsWith('/') ? directory + name : join(directory, name);
      try {
        await this.loadFile(path, true);
      } catch (error) {
        this.logger.error(`cli_loaddbdir: error loading database ${path}`);
        throw error;
      }
    }
  }

  /**
   * With both daily.cld and daily.cvd present ClamAV loads only the newer (the .cld when equal)
   * and skips the other without a word; returns the one to skip.
   */
  private olderDaily(directory: string, names: readonly string[]): string | undefined {
    if (!names.includes('daily.cld') || !names.includes('daily.cvd')) return undefined;
    const version = (name: string) => {
      const path = join(directory, name);
      try {
        return readCvdHead(readFileHead(path, 512), path, this.logger).version;
      } catch {
        this.logger.error(`cli_loaddbdir: error parsing header of ${path}`);
        throw new ClamError('EMALFDB', { path });
      }
    };
    return version('daily.cld') < version('daily.cvd') ? 'daily.cld' : 'daily.cvd';
  }

  /** With `officialOnly`, ClamAV still loads containers and the special files it loads first. */
  private officialOrExempt(name: string): boolean {
    if (!this.options.officialOnly || containerKindOf(name) || loadPriority(name) < NORMAL_PRIORITY) return true;
    this.logger.debug(`Skipping unofficial database ${name}`);
    return false;
  }

  private noDatabases(directory: string): never {
    this.logger.error(`cli_loaddbdir: No supported database files found in ${directory}`);
    throw new ClamError('EOPEN', { path: directory });
  }

  private async loadFile(path: string, inDirectory: boolean): Promise<void> {
    try {
      await access(path, constants.R_OK);
    } catch (error) {
      if (inDirectory && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.logger.debug(`Detected race condition, ignoring old file ${path}`);
        return;
      }
      this.logger.error(`cli_load(): Can't open file ${path}`);
      throw new ClamError('EOPEN', { path });
    }
    this.loadInput(path, fileInput(path), false);
  }

  /** Would `loadBytes` read this file, or skip it (unknown, not implemented, or not wanted)? */
  willLoad(path: string): boolean {
    if (containerKindOf(path)) return true;
    const format = formatOf(path);
    return format?.load !== undefined && this.wanted(format);
  }

  /**
   * Loads one database file's bytes, chosen by the ending of `path`. Also used for the files
   * inside containers, with `official` set for signed ones. Returns false when it skipped the file.
   */
  loadBytes(path: string, data: Uint8Array, official: boolean): boolean {
    return this.loadInput(path, inMemoryInput(data), official);
  }

  private loadInput(path: string, input: DatabaseInput, official: boolean): boolean {
    const ctx = this.context(path, official, false);
    try {
      const container = containerKindOf(path);
      if (container) {
        loadContainer(input.whole(), container, ctx, this);
        this.logger.debug(`${path} loaded`);
        return true;
      }
      const format = formatOf(path);
      if (!format) {
        this.logger.warning(`cli_load: unknown extension - skipping ${path}`);
        return false;
      }
      if (!format.load || !this.wanted(format)) {
        this.logger.debug(`${path} skipped${format.load ? '' : ' (format not supported by ClamTS yet)'}`);
        return false;
      }
      const puaCtx = format.requires === 'pua' ? this.context(path, official, true) : ctx;
      this.builder.signatureCount += format.load(input, puaCtx);
      this.logger.debug(`${path} loaded`);
      return true;
    } catch (error) {
      if (error instanceof ClamError) this.logger.error(`Can't load ${path}: ${error.message}`);
      throw error;
    }
  }

  private wanted(format: DatabaseFormat): boolean {
    switch (format.requires) {
      case 'pua':
        return this.options.detectPua === true;
      case 'phishing':
        return this.options.phishingSignatures !== false;
      case 'bytecode':
        return this.options.bytecode !== false;
      default:
        return true;
    }
  }

  private context(path: string, official: boolean, pua: boolean): DatabaseContext {
    return {
      path,
      official,
      puaFilter: pua ? this.options.puaFilter : undefined,
      options: this.options,
      logger: this.logger,
      engine: this.builder,
      lineBuffer: lineBufferOf(path),
    };
  }
}

function isIgnoreList(name: string): boolean {
  return formatOf(name)?.suffixes.includes('.ign') === true;
}

/** ClamAV loads ignore lists first, so they apply to every other database of the directory. */
function loadPriority(name: string): number {
  if (isIgnoreList(name)) return 1;
  if (name === 'daily.cld') return 2;
  if (name === 'daily.cvd') return 3;
  if (name === 'local.gdb') return 4;
  if (name === 'daily.cfg') return 5;
  if (name.toLowerCase().endsWith('.crb')) return 6;
  return NORMAL_PRIORITY;
}

const NORMAL_PRIORITY = 7;

function statErrorMessage(path: string, error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EACCES':
      return `cl_load(): Access denied for path: ${path}`;
    case 'ENOENT':
    case 'ENOTDIR':
      return `cl_load(): No such file or directory: ${path}`;
    case 'ELOOP':
      return `cl_load(): Too many symbolic links encountered in path: ${path}`;
    case 'EIO':
      return `cl_load(): An I/O error occurred while reading from path: ${path}`;
    default:
      return `cl_load: Can't get status of: ${path}`;
  }
}

/** Loads every path (files or directories) into one engine. */
export function loadEngine(paths: readonly string[], options: LoadOptions = {}): Promise<Engine> {
  return withLoadingInliningBudget(async () => {
    const loader = new DatabaseLoader(options);
    for (const path of paths) await loader.load(path);
    return loader.builder.build(options.logger);
  });
}
