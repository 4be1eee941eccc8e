import { join } from 'node:path';
import { readCvdHead, readFileHead, type DatabaseVersion } from '@clamts/core/client';
import { ctime } from '@clamts/core/client';

/**
 * The version of the daily database in `directory` (the newer of daily.cvd and daily.cld), as
 * ClamAV's tools read it for `--version`; undefined when there is none.
 */
export function dailyDatabaseVersion(directory: string): DatabaseVersion | undefined {
  let best: DatabaseVersion | undefined;
  for (const name of ['daily.cvd', 'daily.cld']) {
    const path = join(directory, name);
    try {
      const header = readCvdHead(readFileHead(path, 512), path);
      if (!best || header.version > best.version) best = { version: header.version, buildTime: header.buildTimestamp };
    } catch {
      // Missing or not a database: ClamAV ignores it too.
    }
  }
  return best;
}

/** `Name version/dbversion/dbdate` (ctime), or `Name version` without a daily database. */
export function versionLine(product: string, version: DatabaseVersion | undefined): string {
  return version ? `${product}/${version.version}/${ctime(new Date(version.buildTime * 1000))}` : product;
}
