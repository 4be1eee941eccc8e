/**
 * libclamav's phishing check (phishcheck.c phishingScan / phishingCheck): for each link of a
 * mail, is the text shown a fair picture of where the link goes? Only links whose displayed host
 * is on the domain list (`H:`/`R:`) are judged, unless `--alert-phishing-ssl` or
 * `--alert-phishing-cloak` ask for their checks on every link; the allow list (`X:`/`M:`)
 * clears a pair of real and displayed URLs or hosts.
 *
 * Two of ClamAV's verdicts cannot happen and are not modelled: the host it tests for a numeric IP
 * address always starts with the `.` it prepends (so `Heuristics.Phishing.Email.Cloaked.NumericIP`
 * never fires), and the TLD it tests after a user name keeps its `.` (so `Cloaked.Username`
 * never fires).
 *
 * With URL hashes loaded (`S` lines of the domain list), every real link is first looked up by
 * hash (url-hash.ts): a blocked hash decides the link, and a link without a `:` is then clean.
 */
import type { HtmlLink } from '../formats/normalise/html.js';
import { COUNTRY_CODES, TOP_LEVEL_DOMAINS } from './tlds.js';
import { cleanupUrl } from './url-cleanup.js';
import { hexDigest, urlHashCandidates } from './url-hash.js';
import { UrlListMatcher, type DisplayBeforeFixup, type ListMatch, type PhishingLists } from './url-list.js';

export interface PhishingOptions {
  /** `--alert-phishing-ssl`: the SSL mismatch check on every link, listed or not. */
  readonly alertSsl: boolean;
  /** `--alert-phishing-cloak`: the cloaked-URL check on every link, listed or not. */
  readonly alertCloak: boolean;
}

/** A link's URLs as phishingCheck sees them, with the checks that apply (ClamAV's struct url_check). */
interface UrlPair {
  real: string;
  display: string;
  checkSsl: boolean;
  checkCloaking: boolean;
  /** The link is an image's (`<img src>`): judged only when its host is listed. */
  readonly image: boolean;
}

type Verdict = 'clean' | 'cloaked-null' | 'ssl-spoof' | 'spoofed-domain' | HashVerdict;
type HashVerdict = 'hash-malware' | 'hash-blocked' | 'hash-phishing';

const ALERT_NAMES: Readonly<Record<Exclude<Verdict, 'clean'>, string>> = {
  'cloaked-null': 'Heuristics.Phishing.Email.Cloaked.Null',
  'ssl-spoof': 'Heuristics.Phishing.Email.SSL-Spoof',
  'spoofed-domain': 'Heuristics.Phishing.Email.SpoofedDomain',
  'hash-malware': 'Heuristics.Safebrowsing.Suspected-malware_safebrowsing.clamav.net',
  'hash-blocked': 'Heuristics.Phishing.URL.Blocked',
  'hash-phishing': 'Heuristics.Safebrowsing.Suspected-phishing_safebrowsing.clamav.net',
};

const VERDICT_TEXTS: Readonly<Record<Verdict, string>> = {
  clean: 'Clean',
  'cloaked-null': 'Link URL is cloaked (null byte %00)',
  'ssl-spoof': 'Visible links is SSL, real link is not',
  'spoofed-domain': 'URLs are way too different',
  'hash-malware': 'Blocked',
  'hash-blocked': 'Blocked',
  'hash-phishing': 'Blocked',
};

/** What a matching URL hash's flag decides (hash_match); `W` allows the hash and the lookups go on. */
function hashVerdict(flag: string): HashVerdict | undefined {
  if (flag === 'W') return undefined;
  return flag === '1' ? 'hash-blocked' : flag === '2' ? 'hash-phishing' : 'hash-malware';
}

export interface PhishingReport {
  /** Reports an alert; false when the scan stops there (so does the check). */
  alert(name: string): boolean;
  info(message: string): void;
  debug(message: string): void;
}

type Debug = (message: string) => void;

/** The phishing check of one engine: its lists compiled once, used by any number of scans. */
export class PhishingChecker {
  private readonly domainList: UrlListMatcher;
  private readonly allowList: UrlListMatcher;
  private readonly urlHashes: ReadonlyMap<string, string>;

  constructor(lists: PhishingLists) {
    this.domainList = new UrlListMatcher(lists.domain);
    this.allowList = new UrlListMatcher(lists.allow);
    this.urlHashes = new Map(Object.entries(lists.urlHashes));
  }

  /**
   * phishingScan: every link checked; each suspicious one raises its alert, until one stops the
   * scan (then false).
   */
  scan(links: readonly HtmlLink[], options: PhishingOptions, report: PhishingReport): boolean {
    const debug: Debug = (message) => report.debug(message);
    for (const link of links) {
      const pair = urlPair(link);
      const verdict = this.check(pair, options, debug);
      if (verdict !== 'clean') {
        report.info('Suspicious link found!');
        report.info(`  Real URL:    ${pair.real}`);
        report.info(`  Display URL: ${pair.display}`);
      }
      debug(`Phishcheck: Phishing scan result: ${VERDICT_TEXTS[verdict]}`);
      if (verdict !== 'clean' && !report.alert(ALERT_NAMES[verdict])) return false;
    }
    return true;
  }

  /** phishingCheck: the verdict on one pair; `pair` holds the cleaned URLs afterwards. */
  private check(pair: UrlPair, options: PhishingOptions, debug: Debug): Verdict {
    debug(`Phishcheck:Checking url ${pair.real}->${pair.display}`);
    if (!isUrl(pair.real, false).url) {
      debug(`Real 'url' is not url:${pair.real}`);
      return 'clean';
    }
    const hashed = this.hashLookup(pair.real, debug);
    if (hashed) return hashed;
    if (pair.real === pair.display || pair.display === '') return 'clean';
    const cleanedDisplay = cleanupUrl(pair.display, false);
    pair.real = cleanupUrl(pair.real, true).url;
    pair.display = cleanedDisplay.url;
    if (pair.real === pair.display) return 'clean';
    debug(`Phishcheck:URL after cleanup: ${pair.real}->${pair.display}`);
    const displayUrl = isUrl(pair.display, true);
    if (!displayUrl.url) {
      debug(`Displayed 'url' is not url:${pair.display}`);
      return 'clean';
    }
    pair.display = displayUrl.text;
    if (this.allowed(pair.real, pair.display, false, debug)) return 'clean';
    let listed = this.listed(pair.real, pair.display, undefined, debug).matched;

    const displayHost = hostOf(pair.display, false, debug);
    const realHost = displayHost && hostOf(pair.real, true, debug);
    if (!displayHost || !realHost || pair.real === pair.display) return 'clean';
    if (this.allowed(realHost.host, displayHost.host, true, debug)) return 'clean';
    const beforeFixup: DisplayBeforeFixup = { text: cleanedDisplay.beforeFixup.slice(0, displayHost.end), hostStart: displayHost.start };
    const hostMatch = this.listed(displayHost.host, realHost.host, beforeFixup, debug);
    if (hostMatch.matched) listed = true;
    else {
      pair.checkSsl &&= options.alertSsl;
      pair.checkCloaking &&= options.alertCloak;
      if (pair.image) return 'clean';
    }
    if (pair.checkCloaking && pair.real.includes('\x01')) return 'cloaked-null';
    if (pair.checkSsl && isSsl(pair.display) && !isSsl(pair.real)) return 'ssl-spoof';
    if (!listed) return 'clean';
    const shownHost = hostMatch.rewrittenHost ?? displayHost.host;
    return domainOf(realHost.host, debug) === domainOf(shownHost, debug) ? 'clean' : 'spoofed-domain';
  }

  /**
   * url_hash_match: undefined when no hash decides (or none is loaded); clean for a link without
   * a `:`, which ClamAV does not analyse further.
   */
  private hashLookup(real: string, debug: Debug): HashVerdict | 'clean' | undefined {
    if (this.urlHashes.size === 0) return undefined;
    const candidates = urlHashCandidates(real);
    if (!candidates) {
      debug(`Not analyzing, not a real url: ${real}`);
      return 'clean';
    }
    for (const candidate of candidates) {
      const hex = hexDigest(candidate.digest);
      debug(`Looking up hash ${hex} for ${candidate.hostText}(${candidate.hostLength})${candidate.pathText}(${candidate.pathLength})`);
      const flag = this.urlHashes.get(hex);
      if (flag === undefined) continue;
      debug(`This hash matched: ${hex}`);
      const verdict = hashVerdict(flag);
      if (!verdict) {
        debug('Hash is allowed, skipping');
        continue;
      }
      debug(`Hash matched for: ${real}`);
      return verdict;
    }
    return undefined;
  }

  private allowed(real: string, display: string, hostOnly: boolean, debug: Debug): boolean {
    debug(`Phishing: looking up in allow list: ${real}:${display}; host-only:${hostOnly ? 1 : 0}`);
    return this.allowList.match(real, display, { hostOnly, allowList: true }, debug).matched;
  }

  /** A domain-list lookup: of both URLs, or (with `display`) of the displayed host alone. */
  private listed(first: string, second: string, display: DisplayBeforeFixup | undefined, debug: Debug): ListMatch {
    return this.domainList.match(first, second, { hostOnly: display !== undefined, allowList: false, display }, debug);
  }
}

/**
 * The URLs of a link: an `<a href>` is real, its text displayed; every other kind (an image, a
 * form, a title) is stored the other way round and swapped. Only `<a href>` links get the SSL
 * check.
 */
function urlPair(link: HtmlLink): UrlPair {
  const contents = link.contents ?? '';
  const isHref = link.tag === 'href';
  return {
    real: isHref ? link.value : contents,
    display: isHref ? contents : link.value,
    checkSsl: isHref,
    checkCloaking: true,
    image: link.tag === 'src',
  };
}

const isSsl = (url: string) => url.startsWith('https:');

const URI_ALPHA = /^[A-Za-z]$/;
/** Characters of a URI `xalpha` (no dot), and of an `xpalpha` (which adds `#` and `+`). */
const URI_XALPHA = /^[!"$%&'()*,\-0-9@A-Z_a-z]*$/;
const URI_XPALPHA = /^[!"#$%&'()*+,\-0-9@A-Z_a-z]+$/;

/**
 * isURL: whether phishing detection can be done on `url`: it has a known scheme followed by `//`,
 * or its host ends in a known top-level domain. For display links (`anyScheme`) any scheme counts
 * and, failing that, the text is cut after the last known top-level domain of its host.
 */
function isUrl(input: string, anyScheme: boolean): { url: boolean; text: string } {
  const no = { url: false, text: input };
  let url = input;
  while (url.startsWith(' ')) url = url.slice(1);
  const schemeEnd = url.startsWith('https:') ? 5 : url.startsWith('http:') ? 4 : url.startsWith('ftp:') ? 3 : url.startsWith('mailto://') ? 8 : -1;
  if (schemeEnd !== -1 && url[schemeEnd + 1] === '/' && url[schemeEnd + 2] === '/') return { url: true, text: input };
  let start = anyScheme ? url.indexOf(':') : schemeEnd;
  let hasScheme = false;
  if (start !== -1 && URI_ALPHA.test(url[0] ?? '') && URI_XALPHA.test(url.slice(1, start)) && start > 0) {
    start += url[start + 1] === '/' ? (url[start + 2] === '/' ? 3 : 2) : 1;
    hasScheme = true;
  } else start = 0;
  let p = start;
  const slash = url.indexOf('/', p);
  let end = slash === -1 ? url.length : slash;
  const at = url.slice(p, end).indexOf('@');
  if (!hasScheme && at !== -1) {
    const q = p + at;
    let dot = q - 1;
    while (dot > p && url[dot] !== '.') dot--;
    if (dot === p || !TOP_LEVEL_DOMAINS.has(url.slice(dot + 1, q))) return no;
  }
  let lastTldEnd = -1;
  for (let dot = url.indexOf('.', p); dot !== -1 && dot <= end; dot = url.indexOf('.', p)) {
    if (!URI_XPALPHA.test(url.slice(p, dot))) return no;
    if (anyScheme && TOP_LEVEL_DOMAINS.has(url.slice(p, dot))) lastTldEnd = dot;
    p = dot + 1;
  }
  if (p === start) return no;
  if (end < p) end = p;
  while (url[end] === ' ' && end > p) end--;
  if (TOP_LEVEL_DOMAINS.has(url.slice(p, end))) return { url: true, text: input };
  if (!anyScheme || lastTldEnd === -1) return no;
  return { url: true, text: input.slice(0, input.length - url.length + lastTldEnd) };
}

interface Host {
  /** The host with the `.` ClamAV puts before it. */
  readonly host: string;
  /** Where it starts and ends in the URL. */
  readonly start: number;
  readonly end: number;
}

/**
 * get_host / url_get_host: the host after the scheme and any user names (`user@`); undefined
 * (the link is clean) for a real link to a mailto: address, without a host, or with `..` in its
 * host, and for hosts with spaces.
 */
function hostOf(url: string, isReal: boolean, debug: Debug): Host | undefined {
  const scheme = url.indexOf('://');
  let start: number;
  let mailto = false;
  if (scheme !== -1) start = scheme + 3;
  else if (url.startsWith('mailto:')) {
    start = 'mailto:'.length;
    mailto = true;
  } else {
    start = 0;
    if (isReal) debug(`Phishcheck: Real URL without protocol: ${url}`);
  }
  const hostEnd = (from: number) => from + (/[:/?]/.exec(url.slice(from))?.index ?? url.length - from);
  let end = hostEnd(start);
  if (!(mailto && isReal)) {
    for (;;) {
      end = hostEnd(start);
      const at = url.indexOf('@', start);
      if (at === -1 || (start !== end && at > end)) break;
      start = at + 1;
    }
  }
  const host = `.${url.slice(start, end)}`;
  debug(`Phishcheck:host:${host}`);
  if ((isReal && host.includes('..')) || (mailto && isReal) || host.includes(' ')) {
    debug('Phishcheck:skipping invalid host');
    return undefined;
  }
  return { host, start, end };
}

/**
 * get_domain: the registered domain of a host (the part before a country code second-level
 * domain such as `co.uk` is kept with it).
 */
function domainOf(host: string, debug: Debug): string {
  const last = host.lastIndexOf('.');
  let tld = last;
  if (COUNTRY_CODES.has(host.slice(last + 1))) {
    tld = host.lastIndexOf('.', last - 1);
    if (tld === -1) {
      debug(`Phishcheck: Weird, a name with only 2 levels (${host})`);
      return host;
    }
    if (!TOP_LEVEL_DOMAINS.has(host.slice(tld + 1, last))) return host.slice(tld + 1);
  }
  const domain = tld > 0 ? host.lastIndexOf('.', tld - 1) : -1;
  return domain === -1 ? host : host.slice(domain + 1);
}
