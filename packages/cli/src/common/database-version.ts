import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parseCvdHeader, type DatabaseVersion } from '@clamts/core';
import { ctime } from './time-format.js';

/**
 * The version of the daily database in `directory` (the newer of daily.cvd and daily.cld), as
 * ClamAV's tools read it for `--version`; undefined when there is none.
 */
export function dailyDatabaseVersion(directory: string): DatabaseVersion | undefined {
  let best: DatabaseVersion | undefined;
  for (const name of ['daily.cvd', 'daily.cld']) {
    const header = readHeader(join(directory, name));
    if (header && (!best || header.version > best.version)) {
      best = { version: header.version, buildTime: header.buildTimestamp };
    }
  }
  return best;
}

function readHeader(path: string) {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(512);
    readSync(fd, head, 0, 512, 0);
    return parseCvdHeader(head, path);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `Name version/dbversion/dbdate` (ctime), or `Name version` without a daily database. */
export function versionLine(product: string, version: DatabaseVersion | undefined): string {
  return version
    ? `${product}/${version.version}/${ctime(new Date(version.buildTime * 1000))}`
    : product;
}
