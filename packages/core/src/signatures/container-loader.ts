import { existsSync, readFileSync } from 'node:fs';
import { ClamError } from '../errors.js';
import {
  checkContainerEntry,
  ContainerLineReader,
  unpackContainer,
  verifyContainer,
  type ContainerKind,
  type CvdHeader,
} from './cvd.js';
import type { DatabaseContext } from './database-context.js';
import { isDirectoryDatabase, lineBufferOf } from './database-formats.js';

/** Where the files of a container go: the loader's per-file dispatch. */
export interface EntrySink {
  /** Would `loadBytes` read this file (false: unknown, not implemented or not wanted)? */
  willLoad(path: string): boolean;
  /** Loads one database file; returns false when it skipped it. */
  loadBytes(path: string, data: Uint8Array, official: boolean): boolean;
}

const SECONDS_PER_WEEK = 7 * 24 * 3600;
const NEWLINE = new Uint8Array([0x0a]);

/**
 * Loads a `.cvd`/`.cld`/`.cud` in the order of ClamAV's cli_cvdload: verify the container, skip it
 * when an equal or newer twin (`x.cld` beside `x.cvd`) exists, warn about its age and level,
 * unpack it and check its manifest, then load every database file inside through the normal
 * dispatch — as official signatures unless it is a `.cud` — checking each against the manifest.
 */
export function loadContainer(data: Uint8Array, kind: ContainerKind, ctx: DatabaseContext, sink: EntrySink): void {
  const { logger, path } = ctx;
  const header = verifyContainer(data, path, kind, logger);
  if (kind !== 'cud' && twinTakesPrecedence(path, kind, header, ctx)) return;

  if (path.includes('daily.')) {
    warnAboutAge(header, ctx);
    ctx.engine.databaseVersion = { version: header.version, buildTime: header.buildTimestamp };
  }
  if (header.functionalityLevel > ctx.engine.functionalityLevel) {
    logger.warning('*******************************************************************');
    logger.warning('***  This version of the ClamAV engine is outdated.             ***');
    logger.warning('***   Read https://docs.clamav.net/manual/Installing.html       ***');
    logger.warning('*******************************************************************');
  }

  const contents = unpackContainer(data, header, path, kind, logger);
  for (const entry of contents.entries) {
    if (!isDirectoryDatabase(entry.name)) continue;
    // A file the loader skips is not read at all: ClamAV then only checks that it is listed.
    let bytesRead = 0;
    if (sink.willLoad(entry.name)) {
      const lines = readAsClamAVDoes(entry.data, lineBufferOf(entry.name), ctx);
      try {
        sink.loadBytes(entry.name, lines.data, kind !== 'cud');
      } catch (error) {
        if (!(error instanceof ClamError)) throw error;
        logger.error(`cli_tgzload: Can't load ${entry.name}`);
        throw new ClamError('EMALFDB', { path });
      }
      bytesRead = lines.bytesRead;
    }
    checkContainerEntry(contents, entry, path, logger, bytesRead);
  }
}

/**
 * The bytes of a database file inside a container as ClamAV's container reader delivers its lines
 * into its loader's line buffer of `lineBuffer` bytes (a last line without newline is dropped, a
 * NUL ends a line, over-long lines end the file), so the ordinary loaders see exactly what
 * ClamAV's see.
 */
function readAsClamAVDoes(data: Uint8Array, lineBuffer: number, ctx: DatabaseContext): { data: Uint8Array; bytesRead: number } {
  const reader = new ContainerLineReader(data, ctx.logger, lineBuffer);
  const parts: Uint8Array[] = [];
  for (let line = reader.next(); line; line = reader.next()) parts.push(line, NEWLINE);
  return { data: Buffer.concat(parts), bytesRead: reader.bytesRead };
}

/**
 * ClamAV loads only one of `x.cvd` and `x.cld`: the newer, or the `.cvd` when equal. The twin is
 * verified as fully as the container itself; a broken twin stops the load.
 */
function twinTakesPrecedence(path: string, kind: ContainerKind, header: CvdHeader, ctx: DatabaseContext): boolean {
  const twinKind: ContainerKind = kind === 'cld' ? 'cvd' : 'cld';
  const twin = path.slice(0, -2) + (kind === 'cld' ? 'vd' : 'ld');
  if (!existsSync(twin)) return false;
  // Unreadable: ClamAV's access()/fopen() check fails too, and it loads this container.
  let twinData: Uint8Array;
  try {
    twinData = readFileSync(twin);
  } catch {
    return false;
  }
  const twinHeader = verifyContainer(twinData, twin, twinKind, ctx.logger);
  if (twinHeader.version > header.version) {
    ctx.logger.warning(
      `Detected duplicate databases ${path} and ${twin}. The ${path} database is older and will not be loaded, ` +
        'you should manually remove it from the database directory.',
    );
    return true;
  }
  if (twinHeader.version === header.version && kind === 'cvd') {
    ctx.logger.warning(`Detected duplicate databases ${path} and ${twin}, please manually remove one of them`);
    return true;
  }
  return false;
}

/**
 * Where a container's build time stands against the clock, as the age warning sees it: an hour
 * or more in the future, more than a week old, or neither. (The engine cache keys on it too.)
 */
export function databaseAgeCase(buildTimestamp: number, now = Math.floor(Date.now() / 1000)): 'future' | 'old' | 'current' {
  if (buildTimestamp > now + 3600) return 'future';
  return now - buildTimestamp > SECONDS_PER_WEEK ? 'old' : 'current';
}

function warnAboutAge(header: CvdHeader, ctx: DatabaseContext): void {
  const age = databaseAgeCase(header.buildTimestamp);
  const lines =
    age === 'future'
      ? ['      Virus database timestamp in the future!   ', '  Please check the timezone and clock settings  ']
      : age === 'old'
        ? ['  The virus database is older than 7 days!  ', '   Please update it as soon as possible.    ']
        : [];
  if (lines.length === 0) return;
  const border = '*'.repeat(lines[0]!.length + 6);
  ctx.logger.warning(border);
  for (const line of lines) ctx.logger.warning(`***${line}***`);
  ctx.logger.warning(border);
}
