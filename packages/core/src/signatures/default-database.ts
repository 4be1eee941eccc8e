import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDirectoryDatabase } from './database-formats.js';

/** ClamAV's default database directory on Debian (DATADIR). */
export const SYSTEM_DATABASE_DIR = '/var/lib/clamav';

/** The small database ClamTS ships: EICAR and the ClamTS test file. */
export const BUNDLED_DATABASE_DIR = fileURLToPath(new URL('../../db', import.meta.url));

/**
 * Where to load signatures from when the user names none: ClamAV's directory when it holds
 * databases, otherwise the bundled one.
 */
export function defaultDatabasePaths(systemDirectory = SYSTEM_DATABASE_DIR): string[] {
  return [holdsDatabases(systemDirectory) ? systemDirectory : BUNDLED_DATABASE_DIR];
}

function holdsDatabases(directory: string): boolean {
  try {
    return readdirSync(directory).some((name) => isDirectoryDatabase(name));
  } catch {
    return false;
  }
}
