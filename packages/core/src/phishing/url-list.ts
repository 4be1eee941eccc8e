import { compilePosixRegex } from '../matching/posix-regex.js';

/**
 * One phishing URL list as libclamav's regex_list keeps it: the domain list (`.pdb`/`.gdb` `R:`
 * regexes and `H:` hosts) or the allow list (`.wdb` `X:`/`Y:` regexes and `M:` hosts). Plain
 * data, so that it can be posted to worker threads and stored in the engine cache; the matcher
 * compiles it in each thread.
 */
export interface UrlListData {
  readonly regexes: UrlListRegex[];
  /** Host patterns with `/` appended. */
  readonly hosts: string[];
}

/** A regex as ClamAV compiles it (a trailing `([/?].*)?` or `([/?].*)` cut, `/` appended), and its suffixes (regex-suffix.ts). */
export interface UrlListRegex {
  readonly pattern: string;
  readonly suffixes: readonly string[];
}

/** The lists an engine holds (empty when no database of their kind was loaded). */
export interface PhishingLists {
  readonly domain: UrlListData;
  readonly allow: UrlListData;
  /**
   * The domain list's full URL hashes (`S` lines of `.pdb`/`.gdb` but `S:P:`): the upper-case hex
   * of their first 32 bytes → the flag of the entry that wins (`W` allowed, `1`, `2`, other).
   */
  readonly urlHashes: Record<string, string>;
}

const HOST_TAIL = '([/?].*)?/';
const HOST_TAIL_REQUIRED = '([/?].*)/';

/**
 * regex_list_add_pattern: what is left of a regex line's pattern (with its `/` appended) once the
 * path part it may end with is cut, since only hosts are matched.
 */
export function regexListPattern(pattern: string): string {
  let cut = pattern;
  for (const tail of [HOST_TAIL, HOST_TAIL_REQUIRED]) {
    if (cut.length > tail.length + 1 && cut.endsWith(tail)) cut = `${cut.slice(0, -tail.length)}/`;
  }
  return cut;
}

/**
 * The text a host pattern is checked against and how: the display link as written before its
 * spaces were taken out, and where its host starts (ClamAV's pre_fixup_info), for domain-list
 * host lookups only.
 */
export interface DisplayBeforeFixup {
  readonly text: string;
  readonly hostStart: number;
}

export interface ListMatch {
  readonly matched: boolean;
  /** The looked-up host after a match that inserted a `.` before the matched domain. */
  readonly rewrittenHost?: string;
}

const NO_MATCH: ListMatch = { matched: false };

interface CompiledRegex {
  readonly regex: RegExp;
  readonly suffixes: readonly string[];
}

/**
 * A list compiled for lookups (regex_list_match). A regex is tried only when one of its suffixes
 * occurs in the lookup buffer, as ClamAV's suffix automaton lets it through.
 */
export class UrlListMatcher {
  private readonly regexes: readonly CompiledRegex[];
  private readonly hosts: readonly string[];

  constructor(data: UrlListData) {
    this.regexes = data.regexes.map(({ pattern, suffixes }) => {
      const compiled = compilePosixRegex(pattern);
      if (!compiled.ok) throw new Error(`url list regex refused after loading: ${pattern}`);
      return { regex: compiled.regex, suffixes };
    });
    this.hosts = data.hosts;
  }

  /**
   * Looks `first` (and `second`) up: `first:second/` for full URLs and allow-list hosts, `first/`
   * alone for domain-list hosts (`hostOnly` on the domain list). The leading `.` the host
   * extraction adds is skipped, as ClamAV skips it.
   */
  match(first: string, second: string, how: { hostOnly: boolean; allowList: boolean; display?: DisplayBeforeFixup }, debug: (message: string) => void): ListMatch {
    const original = first;
    const real = first.startsWith('.') ? first.slice(1) : first;
    const shown = second.startsWith('.') ? second.slice(1) : second;
    const alone = how.hostOnly && !how.allowList;
    const buffer = alone ? `${real}/` : `${real}:${shown}/`;
    if (buffer.length < 3) return NO_MATCH;
    debug(`Looking up in regex_list: ${buffer}`);
    for (const host of this.hosts) {
      if (!buffer.includes(host)) continue;
      const result = validateSubdomain(host, buffer, real, original, how.display, debug);
      if (result.matched) return lookupResult(result, debug);
    }
    for (const { regex, suffixes } of this.regexes) {
      if (suffixes.some((suffix) => buffer.includes(suffix)) && regex.test(buffer)) return lookupResult({ matched: true }, debug);
    }
    debug('Lookup result: not in regex list');
    return NO_MATCH;
  }
}

function lookupResult(result: ListMatch, debug: (message: string) => void): ListMatch {
  debug('Lookup result: in regex list');
  return result;
}

/**
 * get_char_at_pos_with_skip: the character before 1-based `position` of the lookup buffer, or,
 * for a display host, at the same place of the display link as written (spaces skipped).
 */
function characterAt(buffer: string, position: number, display: DisplayBeforeFixup | undefined): string {
  if (!display) return position <= buffer.length ? (buffer[position > 0 ? position - 1 : 0] ?? '') : '';
  const text = display.text;
  let remaining = position + display.hostStart;
  let at = 0;
  const isAlnumAt = (i: number) => /[A-Za-z0-9]/.test(text[i]!);
  while (at < text.length && !isAlnumAt(at)) at++;
  for (; at < text.length && remaining > 0; remaining--) {
    while (text[at] === ' ') at++;
    at++;
  }
  while (text[at] === ' ') at++;
  if (remaining > 0 && at >= text.length) return '';
  return text[at > 0 ? at - 1 : 0] ?? '';
}

/**
 * validate_subdomain: a host pattern found in the buffer counts when it ends the buffer (ClamAV
 * assumes it does) at a domain boundary. A boundary that was a space in the display text gains a
 * `.` in the looked-up host, so that `Check out paypal.com` yields the domain `paypal.com`.
 */
function validateSubdomain(
  pattern: string,
  buffer: string,
  host: string,
  originalHost: string,
  display: DisplayBeforeFixup | undefined,
  debug: (message: string) => void,
): ListMatch {
  const length = buffer.length;
  const after = characterAt(buffer, length + 1, display);
  let before = after;
  const atBoundary =
    (after === ' ' || after === '' || after === '/' || after === '?') &&
    (pattern.length === length || (pattern.length < length && ((before = characterAt(buffer, length - pattern.length, display)) === '.' || before === ' ')));
  if (!atBoundary) {
    debug(`Ignoring false match: ${buffer} with ${pattern}, mismatched character: ${before}`);
    return NO_MATCH;
  }
  const domainLength = pattern.length - 1;
  debug(`Got a match: ${buffer} with ${pattern}`);
  debug(`Before inserting .: ${originalHost}`);
  if (host.length < domainLength + 1 || host[host.length - domainLength - 1] === '.') return { matched: true };
  debug(`No dot here:${host.slice(host.length - domainLength - 1)}`);
  const cut = originalHost.length - domainLength - 1;
  const rewritten = `${originalHost.slice(1, cut + 1)}.${originalHost.slice(cut + 1)}`;
  debug(`After inserting .: ${rewritten}`);
  return { matched: true, rewrittenHost: rewritten };
}
