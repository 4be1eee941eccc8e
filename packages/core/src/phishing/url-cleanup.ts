/**
 * libclamav's URL normalisation for the phishing check (phishcheck.c cleanupURL and its string
 * helpers). ClamAV edits a C buffer in place between a begin and an end pointer, and some steps
 * read past the end it has moved (the bytes are still there): the same is done here on a byte
 * array, so that odd URLs come out exactly as ClamAV's.
 */

const SPACE = 0x20;
const NUL = 0;

const HEX_VALUE = (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 10; i++) table[0x30 + i] = i;
  for (let i = 0; i < 6; i++) table[0x41 + i] = table[0x61 + i] = 10 + i;
  return table;
})();

const isXDigit = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
export const isAlnumByte = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isSpaceByte = (c: number) => c === SPACE || (c >= 0x09 && c <= 0x0d);

/** hex2int: `%00` becomes 0x01 (never a NUL; the cloaking check looks for it). */
function hexByte(high: number, low: number): number {
  return high === 0x30 && low === 0x30 ? 1 : ((HEX_VALUE[high]! << 4) | HEX_VALUE[low]!) & 0xff;
}

/**
 * A NUL-terminated buffer with ClamAV's begin and end positions (the end is inclusive for
 * cleanupURL, exclusive for cli_url_canon), zero-filled past the text up to `capacity`.
 */
export class CBuffer {
  readonly bytes: Uint8Array;
  begin = 0;
  end: number;

  constructor(text: string, capacity = text.length + 3) {
    this.bytes = new Uint8Array(capacity);
    for (let i = 0; i < text.length; i++) this.bytes[i] = text.charCodeAt(i) & 0xff;
    this.end = text.length - 1;
  }

  at(i: number): number {
    return i >= 0 && i < this.bytes.length ? this.bytes[i]! : NUL;
  }

  /** strlen from `from`. */
  length(from: number): number {
    let i = from;
    while (this.at(i) !== NUL) i++;
    return i - from;
  }

  /** strncmp(from, what, what.length) === 0. */
  startsWith(from: number, what: string): boolean {
    for (let i = 0; i < what.length; i++) {
      if (this.at(from + i) !== what.charCodeAt(i)) return false;
      if (what.charCodeAt(i) === NUL) return true;
    }
    return true;
  }

  /** memmove(to, from, count). */
  move(to: number, from: number, count: number): void {
    if (count > 0) this.bytes.copyWithin(to, from, from + count);
  }

  /** The string from begin to end as strncpy copies it (stopping at a NUL). */
  text(begin = this.begin, end = this.end): string {
    let out = '';
    for (let i = begin; i <= end && this.at(i) !== NUL; i++) out += String.fromCharCode(this.bytes[i]!);
    return out;
  }

  /** strcspn(from, set). */
  span(from: number, set: string): number {
    let i = from;
    while (this.at(i) !== NUL && !set.includes(String.fromCharCode(this.at(i)))) i++;
    return i - from;
  }

  replace(find: number, by: number): void {
    for (let i = this.begin; i <= this.end; i++) if (this.bytes[i] === find) this.bytes[i] = by;
  }
}

/** str_strip: one leading `what`, the trailing ones, then every one inside (short of the end). */
function strip(buffer: CBuffer, what: string): void {
  let begin = buffer.begin;
  let end = buffer.end;
  if (end <= begin) return;
  if (buffer.length(begin) < what.length) return;
  if (buffer.startsWith(begin, what)) begin += what.length;
  if (what.length <= end - begin) {
    let tail = end - what.length + 1;
    while (tail > begin && buffer.startsWith(tail, what)) {
      end -= what.length;
      tail -= what.length;
    }
  }
  buffer.begin = begin;
  for (let at = begin + 1; at + what.length <= end; at++) {
    while (at + what.length <= end && buffer.startsWith(at, what)) {
      const from = at + what.length;
      buffer.move(at, from, end - from + 1);
      end -= what.length;
    }
  }
  buffer.end = end;
}

/** str_hex_to_char: `%xx` escapes decoded, again while decoding produced a `%`. */
export function decodeHexEscapes(buffer: CBuffer): void {
  const bytes = buffer.bytes;
  let begin = buffer.begin;
  let end = buffer.end;
  if (end <= begin + 1) return;
  if (bytes[begin] === 0x25) {
    bytes[begin + 2] = hexByte(buffer.at(begin + 1), buffer.at(begin + 2));
    begin += 2;
  }
  buffer.begin = begin;
  let decodedPercent: boolean;
  do {
    decodedPercent = false;
    for (let at = begin + 1; at + 3 <= end; at++) {
      if (bytes[at] !== 0x25 || !isXDigit(buffer.at(at + 1)) || !isXDigit(buffer.at(at + 2))) continue;
      bytes[at] = hexByte(bytes[at + 1]!, bytes[at + 2]!);
      if (bytes[at] === 0x25) decodedPercent = true;
      buffer.move(at + 1, at + 3, end - (at + 3) + 1);
      end -= 2;
    }
  } while (decodedPercent);
  buffer.end = end;
}

/** str_fixup_spaces: spaces out, then leading and trailing non-alphanumerics (a final `/` kept). */
function fixupSpaces(buffer: CBuffer): void {
  if (buffer.end < buffer.begin) return;
  strip(buffer, ' ');
  let { begin, end } = buffer;
  while (!isAlnumByte(buffer.at(begin)) && begin <= end) begin++;
  while (!isAlnumByte(buffer.at(end)) && end >= begin) end--;
  if (buffer.at(end + 1) === 0x2f) end++;
  buffer.begin = begin;
  buffer.end = end;
}

const DOTNET_PREFIXES = ['.net', 'ado.net', 'asp.net'];

export interface CleanedUrl {
  /** The URL to compare: scheme and host only, lower-cased host, escapes decoded. */
  readonly url: string;
  /** For a display link: the same before its spaces and surrounding garbage were taken out. */
  readonly beforeFixup: string;
}

const EMPTY: CleanedUrl = { url: '', beforeFixup: '' };

/**
 * cleanupURL: the URL cut after its host, with `<`, `>`, `"`, `;`, `&lt` and `&gt` taken out and
 * `%xx` decoded; a real link loses all its spaces, a display link is trimmed (and, in `url`, loses
 * its spaces and leading and trailing punctuation).
 */
export function cleanupUrl(link: string, isReal: boolean): CleanedUrl {
  const buffer = new CBuffer(clearHighBits(link));
  const bytes = buffer.bytes;
  while (isSpaceByte(buffer.at(buffer.begin))) buffer.begin++;
  const length = buffer.length(buffer.begin);
  if (length === 0) return EMPTY;
  buffer.end = buffer.begin + length - 1;
  if (buffer.begin >= buffer.end) return EMPTY;
  while (isSpaceByte(buffer.at(buffer.end))) buffer.end--;
  if (DOTNET_PREFIXES.some((prefix) => buffer.startsWith(buffer.begin, prefix))) return EMPTY;
  buffer.replace(0x5c, 0x2f);
  cutAfterHost(buffer);
  for (const c of [0x3c, 0x3e, 0x22, 0x3b]) buffer.replace(c, SPACE);
  strip(buffer, '&lt');
  strip(buffer, '&gt');
  decodeHexEscapes(buffer);
  if (isReal) {
    strip(buffer, ' ');
    return { url: buffer.text(), beforeFixup: '' };
  }
  while (buffer.begin <= buffer.end && bytes[buffer.begin] === SPACE) buffer.begin++;
  while (buffer.begin <= buffer.end && bytes[buffer.end] === SPACE) buffer.end--;
  const beforeFixup = buffer.text();
  fixupSpaces(buffer);
  return { url: buffer.text(), beforeFixup };
}

/** clear_msb: the top bit of every byte cleared, control characters made spaces. */
function clearHighBits(link: string): string {
  let out = '';
  for (let i = 0; i < link.length; i++) {
    const c = link.charCodeAt(i) & 0x7f;
    if (link.charCodeAt(i) === NUL) break;
    out += String.fromCharCode(c < 32 ? 32 : c);
  }
  return out;
}

/** Keeps the scheme and host only (up to `:`, `/` or `?` after the scheme) and lower-cases the host. */
function cutAfterHost(buffer: CBuffer): void {
  const bytes = buffer.bytes;
  let hostBegin = buffer.begin;
  const colon = bytes.indexOf(0x3a, buffer.begin);
  if (colon !== -1) {
    hostBegin = colon;
    while (hostBegin < buffer.end && bytes[hostBegin + 1] === 0x2f) hostBegin++;
    hostBegin++;
  }
  let hostLength = buffer.span(hostBegin, ':/?');
  if (hostBegin + hostLength > buffer.end + 1) hostLength = buffer.end - hostBegin + 1;
  else buffer.end = hostBegin + hostLength - 1;
  bytes[hostBegin + hostLength] = NUL;
  for (let i = hostBegin; i < hostBegin + hostLength; i++) {
    if (bytes[i]! >= 0x41 && bytes[i]! <= 0x5a) bytes[i] = bytes[i]! | 0x20;
  }
}
