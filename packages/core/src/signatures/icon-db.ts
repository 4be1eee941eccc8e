import { ClamError } from '../errors.js';
import type { DatabaseContext } from './database-context.js';
import type { DatabaseInput } from './database-input.js';
import { splitTokens } from './ignore-db.js';
import { forEachLine } from './lines.js';

/**
 * Icon signatures (`.idb`), read and checked as ClamAV's cli_loadidb reads them:
 * `Name:GroupName1:GroupName2:Hash`, the hash being 124 hex digits of image metrics (the icon
 * size, then color, gray, bright, dark, edge and no-edge samples with their positions, and the
 * color spread). ClamTS counts them as ClamAV does but does not match icons yet: `IconGroup1`/
 * `IconGroup2` logical signatures never match (docs/differences.md).
 */

const FIELDS = 4;
const HASH_DIGITS = 124;
const ICON_SIZES = new Set([16, 24, 32]);
const MAX_GROUPS = 256;

/**
 * The metric groups after the size, in order: each has three samples of an average (`average`
 * hex digits, at most `maxAverage`) and an x and a y position (two digits each).
 */
const SAMPLES = [
  { what: 'color', average: 3, maxAverage: 4072 },
  { what: 'gray', average: 3, maxAverage: 4072 },
  { what: 'bright', average: 2, maxAverage: Infinity },
  { what: 'dark', average: 2, maxAverage: Infinity },
  { what: 'edge', average: 2, maxAverage: Infinity },
  { what: 'noedge', average: 2, maxAverage: Infinity },
] as const;

/** Checks every line of an `.idb` file; returns the number of icon signatures, as ClamAV counts them. */
export function loadIconDatabase(input: DatabaseInput, ctx: DatabaseContext): number {
  const { logger, engine, path } = ctx;
  const groups = [new Set<string>(), new Set<string>()];
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
      const problem = metricsProblem(hash);
      if (problem) fail(`cli_loadidb: Malformed hash at line ${lineNumber} (${problem})`);
      groups[0]!.add(group1);
      groups[1]!.add(group2);
      if (groups[0]!.size > MAX_GROUPS || groups[1]!.size > MAX_GROUPS) fail('cli_loadidb: too many icon groups!');
      loaded++;
    },
    ctx.lineBuffer,
  );
  if (lines === 0) {
    logger.error('cli_loadidb: Empty database file');
    logger.error('cli_loadidb: Problem parsing database at line 0');
    throw new ClamError('EMALFDB', { path });
  }
  return loaded;
}

/** What is wrong with an icon hash of the right length, as cli_loadidb words it; undefined when nothing. */
function metricsProblem(hash: string): string | undefined {
  if (!/^[0-9a-fA-F]*$/.test(hash)) return 'bad chars';
  let at = 0;
  const digits = (count: number): number => {
    const value = Number.parseInt(hash.slice(at, at + count), 16);
    at += count;
    return value;
  };
  const size = digits(2);
  if (!ICON_SIZES.has(size)) return 'bad size';
  const maxPosition = size - Math.floor(size / 8);
  for (const { what, average, maxAverage } of SAMPLES) {
    for (let sample = 0; sample < 3; sample++) {
      if (digits(average) > maxAverage || digits(2) > maxPosition || digits(2) > maxPosition) return `bad ${what} data`;
    }
  }
  const spread = digits(2) + digits(2) + digits(2);
  if (spread > 103 || digits(2) > 100) return 'bad spread data';
  return undefined;
}
