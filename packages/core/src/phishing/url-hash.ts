/**
 * The URL hash lookups of libclamav's phishing check (phishcheck.c cli_url_canon, url_hash_match
 * and hash_match): a real link is canonicalised, then SHA-256 hashes of host suffixes joined to
 * path prefixes are looked up in the `S:` entries of the domain list (`.pdb`/`.gdb`).
 *
 * The canonicalisation edits a fixed C buffer in place, and a few steps read bytes left behind
 * past the end they moved: it is done here on the same zero-filled byte buffer, so that odd URLs
 * hash exactly as in ClamAV.
 */
import { createHash } from 'node:crypto';
import { CBuffer, decodeHexEscapes } from './url-cleanup.js';

/** URL_MAX_LEN: the part of a URL ClamAV copies into its buffer (which has 3 bytes more). */
const URL_MAX_LENGTH = 1024;
const BUFFER_SIZE = URL_MAX_LENGTH + 3;
/** COMPONENTS: how many host suffixes and directory prefixes are tried at most (one more each). */
const COMPONENTS = 4;

const SLASH = 0x2f;
const DOT = 0x2e;
const NUL = 0;
const HEX_DIGITS = '0123456789ABCDEF';

/** The canonical URL in its buffer: the host (lower-case, a `/` written after it) and the path. */
interface CanonicalUrl {
  readonly buffer: Uint8Array;
  readonly hostStart: number;
  readonly hostLength: number;
  /** Where the path starts in the buffer, or -1 for none. */
  readonly pathStart: number;
  readonly pathLength: number;
}

/** One hash looked up: the text hashed is `host` (of `hostLength` bytes) then the path prefix. */
export interface UrlHashCandidate {
  readonly digest: Uint8Array;
  /** The debug line's host and path (as C strings: the whole rest of each) and their lengths. */
  readonly hostText: string;
  readonly hostLength: number;
  readonly pathText: string;
  readonly pathLength: number;
}

/**
 * url_hash_match's candidates in ClamAV's order (deepest directory first, then the bare host, the
 * path without its query, the whole path; within each, the shortest host suffix first), or
 * undefined when the URL has no `:` (ClamAV then calls the link clean).
 */
export function urlHashCandidates(url: string): UrlHashCandidate[] | undefined {
  const canonical = canonicalUrl(url);
  if (!canonical) return undefined;
  const hosts = hostSuffixes(canonical);
  const paths = pathPrefixes(canonical);
  // ClamAV asserts that no prefix is longer than the path (and aborts when one is, as a `/`
  // read past the path's end can make it): no lookups for such a URL.
  if (paths.some((length) => length > canonical.pathLength)) return [];
  const candidates: UrlHashCandidate[] = [];
  for (const pathLength of paths) {
    for (const host of hosts) candidates.push(candidate(canonical, host, pathLength));
  }
  return candidates;
}

/** The upper-case hex of a digest, as ClamAV prints it. */
export function hexDigest(digest: Uint8Array): string {
  let out = '';
  for (const byte of digest) out += HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 0xf]!;
  return out;
}

function candidate(url: CanonicalUrl, host: number, pathLength: number): UrlHashCandidate {
  const { buffer, hostStart, hostLength, pathStart } = url;
  const hashedHostLength = hostStart + hostLength - host + 1;
  const sha = createHash('sha256');
  sha.update(buffer.subarray(host, host + hashedHostLength));
  if (pathStart >= 0) sha.update(buffer.subarray(pathStart, pathStart + pathLength));
  return {
    digest: sha.digest(),
    hostText: cString(buffer, host),
    hostLength: hashedHostLength,
    pathText: pathStart >= 0 ? cString(buffer, pathStart) : '',
    pathLength,
  };
}

/** cli_url_canon. */
function canonicalUrl(input: string): CanonicalUrl | undefined {
  const nul = input.indexOf('\0');
  const text = nul === -1 ? input : input.slice(0, nul);
  const buffer = new CBuffer(text.slice(0, URL_MAX_LENGTH), BUFFER_SIZE);
  const bytes = buffer.bytes;
  const colon = bytes.indexOf(0x3a);
  if (colon === -1 || colon >= cLength(bytes, 0)) return undefined;
  let end = Math.min(text.length, URL_MAX_LENGTH);
  let hostStart = colon + 1;
  while (hostStart < end && bytes[hostStart] === SLASH) hostStart++;
  const userEnd = findByte(bytes, 0x40, hostStart, hostStart + span(bytes, hostStart, ':/?'));
  if (userEnd !== -1) hostStart = userEnd + 1;

  buffer.begin = hostStart;
  buffer.end = end;
  decodeHexEscapes(buffer);
  const start = buffer.begin;
  end = buffer.end;
  hostStart = start;
  while (hostStart < end && bytes[hostStart] === SLASH) hostStart++;
  while (bytes[hostStart] === DOT && hostStart < end) hostStart++;

  end = removeDotSegments(bytes, hostStart, end);
  bytes[end] = NUL;
  end = escapeUnsafeBytes(bytes, start, hostStart, end);
  return splitHostAndPath(bytes, start, hostStart, end);
}

/** The `/./` and `/component/../` steps of cli_url_canon; returns the new end. */
function removeDotSegments(bytes: Uint8Array, hostStart: number, initialEnd: number): number {
  let end = initialEnd;
  let last = findByte(bytes, SLASH, hostStart, cLength(bytes, hostStart) + hostStart);
  for (let p = hostStart; p < end; p++) {
    if (p + 2 < end && bytes[p] === SLASH && bytes[p + 1] === DOT) {
      if (bytes[p + 2] === SLASH) {
        if (p + 3 < end) bytes.copyWithin(p + 1, p + 3, end);
        end -= 2;
      } else if (bytes[p + 2] === DOT && (bytes[p + 3] === SLASH || bytes[p + 3] === NUL) && last !== -1) {
        if (p + 4 < end) bytes.copyWithin(last + 1, p + 4, end);
        end -= 3 + (p - last);
      }
    }
    if (bytes[p] === SLASH) last = p;
  }
  return end;
}

/** Control, space, non-ASCII, `%` and `#` bytes written back as `%XX`, room allowing; the new end. */
function escapeUnsafeBytes(bytes: Uint8Array, start: number, hostStart: number, initialEnd: number): number {
  let end = initialEnd;
  let p = hostStart;
  for (; p < end && p + 2 < start + URL_MAX_LENGTH && end < URL_MAX_LENGTH; p++) {
    const c = bytes[p]!;
    if (c > 32 && c < 127 && c !== 0x25 && c !== 0x23) continue;
    bytes.copyWithin(p + 3, p + 1, end);
    bytes[p++] = 0x25;
    bytes[p++] = HEX_DIGITS.charCodeAt(c >> 4);
    bytes[p] = HEX_DIGITS.charCodeAt(c & 0xf);
    end += 2;
  }
  bytes[p] = NUL;
  return p;
}

/** The end of cli_url_canon: `/` and a NUL written after the host, the path moved one on. */
function splitHostAndPath(bytes: Uint8Array, start: number, hostStart: number, end: number): CanonicalUrl {
  const length = end - start;
  const hostLength = span(bytes, hostStart, ':/?');
  let pathStart = hostStart + hostLength;
  if (hostLength <= length) {
    bytes.copyWithin(pathStart + 2, pathStart + 1, pathStart + 1 + length - hostLength);
    bytes[pathStart++] = SLASH;
    bytes[pathStart++] = NUL;
  } else pathStart = end;
  let pathLength = 0;
  if (end >= pathStart) {
    pathLength = end - pathStart + 1;
    const anchor = findByte(bytes, 0x23, pathStart, pathStart + cLength(bytes, pathStart));
    if (anchor !== -1) {
      bytes[anchor] = NUL;
      pathLength = anchor - pathStart;
    }
  } else pathStart = -1;
  for (let i = hostStart; i < hostStart + hostLength; i++) {
    if (bytes[i]! >= 0x41 && bytes[i]! <= 0x5a) bytes[i] = bytes[i]! | 0x20;
  }
  return { buffer: bytes, hostStart, hostLength, pathStart, pathLength };
}

/** The host and up to four of its suffixes of two or more labels, shortest first. */
function hostSuffixes({ buffer, hostStart }: CanonicalUrl): number[] {
  const suffixes: number[] = [];
  const hostEnd = hostStart + cLength(buffer, hostStart);
  let component = buffer.lastIndexOf(DOT, hostEnd - 1);
  if (component < hostStart) component = -1;
  while (component !== -1 && suffixes.length < COMPONENTS) {
    do component--;
    while (buffer[component] !== DOT && component > hostStart);
    if (buffer[component] !== DOT) component = -1;
    else suffixes.push(component + 1);
  }
  suffixes.push(hostStart);
  return suffixes;
}

/**
 * The path lengths hashed, in ClamAV's order: up to four directory prefixes (deepest first),
 * none, the path without its query (when it has one), the whole path.
 */
function pathPrefixes({ buffer, pathStart, pathLength }: CanonicalUrl): number[] {
  const prefixes = [pathLength];
  if (pathLength === 0) return prefixes;
  const withoutQuery = span(buffer, pathStart, '?');
  if (withoutQuery !== pathLength) prefixes.push(withoutQuery);
  prefixes.push(0);
  while (prefixes.length < COMPONENTS + 2) {
    const from = pathStart + prefixes.at(-1)! + 1;
    const slash = from < buffer.length ? findByte(buffer, SLASH, from, from + cLength(buffer, from)) : -1;
    if (slash <= pathStart) break;
    prefixes.push(slash - pathStart + 1);
  }
  return prefixes.reverse();
}

/** strlen from `from` (the buffer's end counting as a NUL). */
function cLength(bytes: Uint8Array, from: number): number {
  const nul = bytes.indexOf(NUL, from);
  return (nul === -1 ? bytes.length : nul) - from;
}

/** strcspn from `from`. */
function span(bytes: Uint8Array, from: number, set: string): number {
  let i = from;
  while (i < bytes.length && bytes[i] !== NUL && !set.includes(String.fromCharCode(bytes[i]!))) i++;
  return i - from;
}

/** memchr over [from, to): the position of `byte`, or -1. */
function findByte(bytes: Uint8Array, byte: number, from: number, to: number): number {
  return bytes.subarray(0, to).indexOf(byte, from);
}

/** A C string from `from` as a binary string. */
function cString(bytes: Uint8Array, from: number): string {
  return Buffer.from(bytes.subarray(from, from + cLength(bytes, from))).toString('latin1');
}
