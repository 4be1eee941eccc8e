import { closeSync, openSync, readSync } from 'node:fs';
import {
  DATADIR,
  FRESHCLAM_CONF,
  FUNCTIONALITY_LEVEL,
  listInDirectoryOrder,
  loadConfigFile,
  readCvdHead,
  readFileHead,
  type Logger,
} from '@clamts/core';
// Not exported by @clamts/core yet (asked for): the one list of database endings ClamAV reads.
import { isDirectoryDatabase } from '@clamts/core';
import { dailyDatabaseVersion } from '../common/database-version.js';
import type { ToolOutput } from '../common/output.js';
import { ctime } from '@clamts/core';

/**
 * clamconf's "Database information": the directory (with a warning when clamd.conf names another
 * one), each database file in directory order — containers with their header's version, count
 * and build time, other files as "3rd Party" with their line count — and the total.
 */
export async function reportDatabases(directory: string, clamdDirectory: string | undefined, out: ToolOutput): Promise<void> {
  out.info('\nDatabase information\n--------------------');
  out.info(`Database directory: ${directory}`);
  if (directory !== clamdDirectory) {
    out.info('WARNING: freshclam.conf and clamd.conf point to different database directories');
  }
  let names: string[];
  try {
    names = await listInDirectoryOrder(directory);
  } catch {
    out.info(`print_dbs: Can't open directory ${directory}`);
    return;
  }
  const logger = out.libclamavLogger();
  let total = 0;
  for (const name of names.filter(isDirectoryDatabase)) {
    const path = `${directory}/${name}`;
    total += describeDatabase(name, path, out, logger);
  }
  out.info(`Total number of signatures: ${total}`);
}

/** Prints one database file's line and returns the signatures it counts for. */
function describeDatabase(name: string, path: string, out: ToolOutput, logger: Logger): number {
  const ending = name.slice(-4).toLowerCase();
  if (ending === '.cvd' || ending === '.cld') {
    let header;
    try {
      header = readCvdHead(readFileHead(path, 512), path, logger);
    } catch {
      out.info(`${path}: Can't get information about the database`);
      return 0;
    }
    out.info(`${name}: version ${header.version}, sigs: ${header.signatureCount}, built on ${ctime(new Date(header.buildTimestamp * 1000))}`);
    if (header.functionalityLevel > FUNCTIONALITY_LEVEL) {
      out.info(`${name}: WARNING: This database requires f-level ${header.functionalityLevel} (current f-level: ${FUNCTIONALITY_LEVEL})`);
    }
    return header.signatureCount;
  }
  if (ending === '.cbc') {
    out.info(`[3rd Party] ${name}: bytecode`);
    return 1;
  }
  const lines = countSignatureLines(path);
  out.info(`[3rd Party] ${name}: ${lines} sig${lines > 1 ? 's' : ' '}`);
  return lines;
}

/** ClamAV reads these files with fgets() into 1024 bytes: a longer line counts as several. */
const FGETS_BYTES = 1023;
const HASH = 0x23;
const NEWLINE = 0x0a;

/**
 * The signature count clamconf gives a plain database file: the pieces fgets() returns (lines,
 * or 1023-byte parts of longer ones) that do not start with `#`. An unreadable file counts 0.
 */
export function countSignatureLines(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 0;
  }
  const buffer = Buffer.allocUnsafe(64 * 1024);
  let count = 0;
  /** Bytes of the current fgets() piece already read. */
  let piece = 0;
  try {
    for (let filled = readSync(fd, buffer); filled > 0; filled = readSync(fd, buffer)) {
      const data = buffer.subarray(0, filled);
      for (let pos = 0; pos < filled; ) {
        if (piece === 0 && data[pos] !== HASH) count++;
        const limit = Math.min(filled, pos + FGETS_BYTES - piece);
        const newline = data.indexOf(NEWLINE, pos);
        const end = newline >= 0 && newline < limit ? newline + 1 : limit;
        piece += end - pos;
        if (end === newline + 1 || piece === FGETS_BYTES) piece = 0;
        pos = end;
      }
    }
  } catch {
    // A read error ends the count where fgets() would stop (a directory reads as nothing).
  } finally {
    closeSync(fd);
  }
  return count;
}

/**
 * The database directory when freshclam.conf does not name one, as ClamAV's freshdbdir() picks
 * it: the system freshclam.conf's DatabaseDirectory when its daily database is newer than the
 * built-in directory's (or the built-in one has none), otherwise the built-in directory.
 */
export async function freshestDatabaseDirectory(): Promise<string> {
  let configured: string | undefined;
  try {
    const config = await loadConfigFile(FRESHCLAM_CONF, 'freshclam');
    configured = config.isEnabled('DatabaseDirectory') ? config.getString('DatabaseDirectory') : undefined;
  } catch {
    return DATADIR;
  }
  if (configured === undefined || configured === DATADIR) return DATADIR;
  const theirs = dailyDatabaseVersion(configured);
  if (!theirs) return DATADIR;
  const ours = dailyDatabaseVersion(DATADIR);
  return !ours || theirs.version > ours.version ? configured : DATADIR;
}
