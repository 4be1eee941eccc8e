import { ClamError } from '../errors.js';
import type { DatabaseContext } from './database-context.js';
import type { DatabaseInput } from './database-input.js';
import { forEachLine } from './lines.js';
import type { Logger } from '../util/logger.js';
import { compilePosixRegex } from '../matching/posix-regex.js';
import { regexSuffixes, staticPatternFits } from '../phishing/regex-suffix.js';
import { regexListPattern, type UrlListData } from '../phishing/url-list.js';

/**
 * The phishing URL lists, read and checked as ClamAV's load_regex_matcher reads them: `.pdb`
 * and `.gdb` (the domain list: `R:regex`, `H:host`, `S:W|F|P:hash`) and `.wdb` (the allow list:
 * `X:regex`, `Y:regex`, `M:host`, `S:W:hash`). Lines may end in a functionality-level range
 * (`:min-max`). The domain-list entries count as ClamAV counts them (the allow list counts for
 * nothing). The regexes of `R`, `X` and `Y` lines are compiled here, and refused with ClamAV's
 * messages when cli_regcomp refuses them or ClamAV's suffix builder cannot use them
 * (regex-suffix.ts); the lists and the domain list's URL hashes go to the engine's phishing
 * check.
 */

export type UrlList = 'domain' | 'allow';

/** libclamav's FILEBUFF less 3: a line must be shorter, to leave room for ClamAV's additions. */
const LINE_ROOM = 8192 - 3;

/** Checks every line; returns the number of entries ClamAV counts (none for the allow list). */
export function loadUrlListDatabase(input: DatabaseInput, list: UrlList, ctx: DatabaseContext): number {
  const { logger, engine, path } = ctx;
  const target: UrlListData = list === 'domain' ? engine.phishing.domain : engine.phishing.allow;
  let entries = 0;
  forEachLine(
    input.whole(),
    (text, lineNumber) => {
      const fail = (...messages: string[]): never => {
        for (const message of messages) logger.error(message);
        throw new ClamError('EMALFDB', { path, line: lineNumber });
      };
      // A suffix ClamAV's automaton refuses: its bookkeeping shrinks to nothing when the list had no suffix yet.
      const refuseSuffix = (code: 'EMALFDB' | 'EMEM', addedBefore: boolean): never => {
        if (!addedBefore && !hasSuffix(target)) logger.warning(EMPTY_REALLOC_WARNING);
        throw new ClamError(code, { path, line: lineNumber });
      };
      if (text.length === 0 || text.startsWith('#')) return;
      const line = withinFunctionalityLevel(text, engine.functionalityLevel, (message) => {
        if (logger.debugEnabled) logger.debug(message);
      });
      if (line === undefined) return;
      entries++;
      const colon = line.indexOf(':');
      if (colon < 0) fail(`Malformed regex list line ${lineNumber}`);
      const pattern = line.slice(colon + 1);
      if (colon + 1 + pattern.length >= LINE_ROOM) fail(`Overlong regex line ${lineNumber}`);
      const kind = line[0];
      if (list === 'domain' ? kind === 'R' : kind === 'X' || kind === 'Y') {
        const regex = regexListPattern(`${pattern}/`);
        const compiled = compilePosixRegex(regex);
        if (!compiled.ok) fail(`regex_suffix: Error compiling regular expression ${regex}: ${compiled.message}`);
        const suffixes = regexSuffixes(regex);
        if (!suffixes.ok && suffixes.error === 'malformed') throw new ClamError('EMALFDB', { path, line: lineNumber });
        if (!suffixes.ok) refuseSuffix('EMEM', suffixes.suffixes.length > 0);
        target.regexes.push({ pattern: regex, suffixes: suffixes.suffixes });
        return;
      }
      if (list === 'domain' ? kind === 'H' : kind === 'M') {
        if (!staticPatternFits(`${pattern}/`)) refuseSuffix('EMALFDB', false);
        target.hosts.push(`${pattern}/`);
        return;
      }
      if (kind !== 'S' || (list === 'allow' && pattern[0] !== 'W')) fail();
      if (!'WFP'.includes(pattern[0] ?? '') || pattern[1] !== ':') fail(`Error loading line: ${lineNumber}, ${pattern[0] ?? ''}`);
      const hash = pattern.slice(2);
      if (hash.length === 0) fail("add_hash: Invalid pattern '' in database", `Error loading at line: ${lineNumber}`);
      if (hash.length % 2 === 1) fail(`cli_mpool_hex2str(): Malformed hexstring: ${hash} (length: ${hash.length})`, `Error loading at line: ${lineNumber}`);
      if (!/^[0-9a-fA-F]*$/.test(hash)) fail(`Error loading at line: ${lineNumber}`);
      if (list === 'domain' && pattern[0] !== 'P') addUrlHash(engine.phishing.urlHashes, hash, pattern[0] === 'W' ? 'W' : line[1]!, logger);
    },
    ctx.lineBuffer,
  );
  return list === 'domain' ? entries : 0;
}

/** cli_max_realloc's warning when ClamAV shrinks its suffix table back to no entries. */
const EMPTY_REALLOC_WARNING =
  'cli_max_realloc(): File or section is too large to scan (0 bytes). For your safety, ClamAV limits how much memory an operation can allocate to 1073741824 bytes';

/** Whether ClamAV's suffix table of the list has an entry: a host, or a regex with a suffix. */
function hasSuffix(list: UrlListData): boolean {
  return list.hosts.length > 0 || list.regexes.some((regex) => regex.suffixes.length > 0);
}

/**
 * add_hash for a full hash (`S:F:`, `S:W:`, `S<flag>:F:`): kept under its first 32 bytes. The
 * last entry of a hash wins the lookups (ClamAV's Boyer-Moore scan of the digest reports every
 * match and keeps the last), except that a hash allowed (`W`) is not blocked again. Prefix hashes
 * (`S:P:`) are loaded by ClamAV but never looked up; the allow list's hashes neither.
 */
function addUrlHash(hashes: Record<string, string>, hash: string, flag: string, logger: Logger): void {
  const key = hash.slice(0, 64).toUpperCase();
  if (flag !== 'W' && hashes[key] === 'W') {
    if (logger.debugEnabled) logger.debug(`Skipping hash ${hash}`);
    return;
  }
  hashes[key] = flag;
}

/**
 * A line's functionality-level range (after its last colon, `min-max` with either side
 * possibly empty): the line without it when the level is inside, undefined when outside (the
 * line is skipped), the line as it is when it has none.
 */
function withinFunctionalityLevel(line: string, level: number, debug: (message: string) => void): string | undefined {
  const colon = line.lastIndexOf(':');
  if (colon < 0) return line;
  const range = /^(\d*)-(\d*)$/.exec(line.slice(colon + 1));
  if (!range) return line;
  const min = Number(range[1] || 0);
  const max = range[2] ? Number(range[2]) : Infinity;
  if (min > level) {
    debug(`regex list line ${line.slice(0, colon + 1 + range[1]!.length)} not loaded (required f-level: ${min})`);
    return undefined;
  }
  if (max < level) return undefined;
  return line.slice(0, colon);
}
