/**
 * What clamdtop shows of a daemon's VERSION reply, `ClamAV 1.4.6/27371/Tue Aug 20 08:34:08 2024`
 * (or `ClamTS 0.1.0`: no database version or date when clamd has loaded no CVD).
 */
export interface VersionInfo {
  /** The whole reply: the details view's title. */
  readonly description: string;
  /** The ENGINE column: the first version-like word (`1.4.6`). */
  readonly engine: string;
  /** The DBVER column: the daily database's version, `????` when the reply has none. */
  readonly database: string;
  /** The DBTIME column: the database's date as `YYYY-MM-DDTHH`, `N/A` when it cannot be read. */
  readonly databaseTime: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ctime()'s layout: `Tue Aug 20 08:34:08 2024`, the day possibly space-padded. */
const CTIME = /^[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):\d{1,2}:\d{1,2}\s+(\d{4})/;

/**
 * Splits a VERSION reply as ClamAV's clamdtop does: the engine version is the word holding the
 * first digit, cut at `-` and `/` (so `1.4.6-devel` shows as `1.4.6`), and the database version
 * and date follow the first `/` after it.
 */
export function parseVersion(reply: string): VersionInfo {
  const description = reply.replace(/\n/g, ' ');
  const digit = description.search(/\d/);
  if (digit < 0) return { description, engine: '', database: '????', databaseTime: 'N/A' };
  let start = digit;
  while (start > 0 && description[start - 1] !== ' ' && description[start - 1] !== '-') start--;
  let end = start;
  while (end < description.length && !' -/'.includes(description[end]!)) end++;
  const engine = description.slice(start, end);

  const slash = description.indexOf('/', end);
  if (slash < 0) return { description, engine, database: '????', databaseTime: 'N/A' };
  const rest = description.slice(slash + 1);
  const next = rest.indexOf('/');
  const database = next < 0 ? rest : rest.slice(0, next);
  return { description, engine, database, databaseTime: next < 0 ? 'N/A' : hourStamp(rest.slice(next + 1)) };
}

function hourStamp(date: string): string {
  const match = CTIME.exec(date);
  const month = match ? MONTHS.indexOf(match[1]!) : -1;
  if (!match || month < 0) return 'N/A';
  const two = (text: string) => text.padStart(2, '0');
  return `${match[4]}-${two(String(month + 1))}-${two(match[2]!)}T${two(match[3]!)}`;
}
