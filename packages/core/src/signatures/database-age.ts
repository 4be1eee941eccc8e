import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ClamError } from '../errors.js';
import { readFileHead } from '../util/file-head.js';
import type { Logger } from '../util/logger.js';
import { parseCvdHeader } from './cvd.js';
import { containerKindOf } from './database-formats.js';

/**
 * Seconds since the newest signed container (.cvd/.cld) at `path` was built — a file, or every
 * container of a directory — as ClamAV's cl_cvdgetage works it out for `--fail-if-cvd-older-than`.
 * Undefined for a directory without containers. Throws ClamError with ClamAV's messages.
 */
export function databaseAge(path: string, logger: Logger, now = Date.now()): number | undefined {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    logger.error(`cl_cvdgetage: Can't get status of: ${path}`);
    throw new ClamError('ESTAT', { path });
  }
  if (!isDirectory) return containerAge(path, logger, now);
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    logger.error(`cl_cvdgetage: Can't open directory ${path}`);
    throw new ClamError('EOPEN', { path });
  }
  let youngest: number | undefined;
  for (const name of names) {
    const kind = containerKindOf(name);
    if (kind !== 'cvd' && kind !== 'cld') continue;
    const file = join(path, name);
    let age: number;
    try {
      age = containerAge(file, logger, now);
    } catch (error) {
      logger.error(`cl_cvdgetage: cvdgetfileage() failed for ${file}`);
      throw error;
    }
    youngest = youngest === undefined ? age : Math.min(youngest, age);
  }
  return youngest;
}

function containerAge(path: string, logger: Logger, now: number): number {
  let head: Uint8Array;
  try {
    head = readFileHead(path, 512);
  } catch {
    logger.error(`cvdgetfileage: Can't open file ${path}`);
    throw new ClamError('EOPEN', { path });
  }
  const { buildTimestamp } = parseCvdHeader(head, path, logger);
  return Math.max(0, Math.floor(now / 1000) - buildTimestamp);
}
