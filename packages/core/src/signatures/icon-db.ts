import { ClamError } from '../errors.js';
import { IconDatabaseBuilder, parseIconHash } from '../executables/icons/icon-database.js';
import type { DatabaseContext } from './database-context.js';
import type { DatabaseInput } from './database-input.js';
import { splitTokens } from './ignore-db.js';
import { forEachLine } from './lines.js';

/**
 * Icon signatures (`.idb`), read and checked as ClamAV's cli_loadidb reads them:
 * `Name:GroupName1:GroupName2:Hash`, the hash being 124 hex digits of image metrics (the icon
 * size, then color, gray, bright, dark, edge and no-edge samples with their positions, and the
 * color spread). As in ClamAV, the icons of the last `.idb` file loaded are the ones `IconGroup1`/
 * `IconGroup2` logical signatures match PE icons against (executables/icons/).
 */

const FIELDS = 4;
const HASH_DIGITS = 124;

/**
 * Reads every line of an `.idb` file into the engine's icon database, which it replaces; returns
 * the number of icon signatures, as ClamAV counts them.
 */
export function loadIconDatabase(input: DatabaseInput, ctx: DatabaseContext): number {
  const { logger, engine, path } = ctx;
  const icons = new IconDatabaseBuilder();
  let loaded = 0;
  const lines = forEachLine(
    input.whole(),
    (line, lineNumber) => {
      const fail = (message: string): never => {
        logger.error(message);
        logger.error(`cli_loadidb: Problem parsing database at line ${lineNumber}`);
        throw new ClamError('EMALFDB', { path, line: lineNumber });
      };
      if (line.startsWith('#')) return;
      const tokens = splitTokens(line, ':', FIELDS + 1);
      if (tokens.length !== FIELDS) fail(`cli_loadidb: Malformed hash at line ${lineNumber} (wrong token count)`);
      const [name, group1, group2, hash] = tokens as [string, string, string, string];
      if (hash.length !== HASH_DIGITS) fail(`cli_loadidb: Malformed hash at line ${lineNumber} (wrong length)`);
      if (engine.ignored.ignores(name, line, logger)) return;
      const record = parseIconHash(hash);
      if (typeof record === 'string') return fail(`cli_loadidb: Malformed hash at line ${lineNumber} (${record})`);
      if (!icons.add(record, group1, group2)) fail('cli_loadidb: too many icon groups!');
      loaded++;
    },
    ctx.lineBuffer,
  );
  if (lines === 0) {
    logger.error('cli_loadidb: Empty database file');
    logger.error('cli_loadidb: Problem parsing database at line 0');
    throw new ClamError('EMALFDB', { path });
  }
  engine.icons = icons;
  return loaded;
}
