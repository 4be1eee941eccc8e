/**
 * Header-level helpers of libclamav's mail parser (mbox.c): RFC 822 comment removal, RFC 2047
 * encoded words, header name lookup, boundary recognition and the heuristics of broken headers.
 */
import { equalsIgnoreCase, isBlank, isSpace, lowerAscii, startsWithIgnoreCase } from './bytes.js';
import { exportMessage } from './mime-decode.js';
import { MimeMessage, type Line } from './mime-message.js';

export const enum Header {
  ContentType = 1,
  ContentTransferEncoding,
  ContentDisposition,
}

/** The headers the parser acts on (case-insensitive), or -1. */
export function headerNumber(name: string): number {
  if (equalsIgnoreCase(name, 'Content-Type')) return Header.ContentType;
  if (equalsIgnoreCase(name, 'Content-Transfer-Encoding')) return Header.ContentTransferEncoding;
  if (equalsIgnoreCase(name, 'Content-Disposition')) return Header.ContentDisposition;
  return -1;
}

export const enum Subtype {
  Plain = 1,
  Enriched,
  Html,
  RichText,
  Mixed,
  Alternative,
  Digest,
  Signed,
  Parallel,
  Related,
  Report,
  AppleDouble,
  Encrypted,
  Knowbot,
}

const SUBTYPES = new Map<string, Subtype>([
  ['plain', Subtype.Plain],
  ['enriched', Subtype.Enriched],
  ['html', Subtype.Html],
  ['richtext', Subtype.RichText],
  ['mixed', Subtype.Mixed],
  ['alternative', Subtype.Alternative],
  ['digest', Subtype.Digest],
  ['signed', Subtype.Signed],
  ['parallel', Subtype.Parallel],
  ['related', Subtype.Related],
  ['report', Subtype.Report],
  ['appledouble', Subtype.AppleDouble],
  ['fax-message', Subtype.Mixed], // RFC 3458 drafts: treat as mixed
  ['encrypted', Subtype.Encrypted],
  ['x-bfile', Subtype.Related], // BeOS file and attributes
  ['knowbot', Subtype.Knowbot],
  ['knowbot-metadata', Subtype.Knowbot],
  ['knowbot-code', Subtype.Knowbot],
  ['knowbot-state', Subtype.Knowbot],
]);

/** The MIME subtype number (case-insensitive), or -1. */
export function subtypeNumber(name: string): number {
  return SUBTYPES.get(lowerAscii(name)) ?? -1;
}

/** Headers that make a file look like mail even when they are not MIME headers. */
export function usefulHeader(commandNumber: number, name: string): boolean {
  if (commandNumber !== -1) return true;
  return ['From', 'Received', 'De'].some((useful) => equalsIgnoreCase(name, useful));
}

/**
 * RFC 822 comments `( … )` removed (quotes protect them, backslashes escape); undefined when the
 * text has no `(`. Leading white space is dropped too.
 */
export function stripComments(input: string): string | undefined {
  if (!input.includes('(')) return undefined;
  let i = 0;
  while (i < input.length && isSpace(input.charCodeAt(i))) i++;
  let out = '';
  let backslash = false;
  let inQuote = false;
  let level = 0;
  for (; i < input.length; i++) {
    const c = input[i]!;
    if (backslash) {
      if (level === 0) out += c;
      backslash = false;
    } else if (c === '\\') backslash = true;
    else if (c === '"') {
      out += '"';
      inQuote = !inQuote;
    } else if (c === '(') {
      if (inQuote) out += '(';
      else level++;
    } else if (c === ')') {
      if (inQuote) out += ')';
      else if (level > 0) level--;
    } else if (level === 0) out += c;
  }
  if (backslash) out += '\\';
  return out;
}

/**
 * RFC 2047 encoded words (`=?charset?B?…?=`, `=?charset?Q?…?=`) decoded in place (charsets are
 * ignored); undefined when an unsupported encoding is met, as ClamAV then keeps the raw header.
 */
export function decodeEncodedWords(input: string): string | undefined {
  if (!input.includes('=?') || !input.includes('?=')) return input;
  let out = '';
  let i = 0;
  while (i < input.length) {
    while (i < input.length) {
      if (input[i] === '=' && input[i + 1] === '?') {
        i += 2;
        break;
      }
      out += input[i++];
    }
    while (i < input.length && input[i] !== '?') i++;
    if (i >= input.length) break;
    const encoding = lowerAscii(input[++i] ?? '');
    if (encoding !== 'q' && encoding !== 'b') return undefined;
    if (input[++i] !== '?') break;
    if (++i >= input.length) break;
    const rest = input.slice(i);
    const end = input.indexOf('?=', i);
    if (end === -1) break;
    i = end + 2;
    const encoded = rest.slice(0, rest.indexOf('?='));
    const word = new MimeMessage();
    word.addString(encoded);
    word.setEncoding(encoding === 'q' ? 'quoted-printable' : 'base64');
    const { parts } = exportMessage(word, true);
    const decoded = parts.length ? Buffer.from(parts[parts.length - 1]!.data).toString('latin1') : undefined;
    if (decoded === undefined) break;
    out += decoded.endsWith('\n') ? decoded.slice(0, -1) : decoded;
  }
  const nul = out.indexOf('\0');
  return nul === -1 ? out : out.slice(0, nul);
}

/** strtok() over a string: tokens separated by any of the delimiters, empty tokens skipped. */
export class Tokenizer {
  private pos = 0;
  constructor(private readonly text: string) {}

  next(delimiters: string): string | undefined {
    const text = this.text;
    if (delimiters) while (this.pos < text.length && delimiters.includes(text[this.pos]!)) this.pos++;
    if (this.pos >= text.length) return undefined;
    const start = this.pos;
    while (this.pos < text.length && !delimiters.includes(text[this.pos]!)) this.pos++;
    const token = text.slice(start, this.pos);
    if (this.pos < text.length) this.pos++; // the delimiter is consumed
    return token;
  }
}

/** Does this line start a new MIME part (`--boundary`, tolerating broken dash counts)? */
export function isBoundaryStart(line: string | null, boundary: string | undefined): boolean {
  if (!line || boundary === undefined) return false;
  let text = line.replace(/ +$/, '');
  text = text.replace(/[\r\n]+$/, '');
  if (text[0] !== '-' && text[0] !== '(') return false;
  if (!text.includes('-')) return false;
  const stripped = stripComments(text) ?? text;
  if (stripped[0] !== '-' || stripped.length < 2) return false;
  const rest = stripped.slice(1); // after the first '-'
  if (rest.slice(1).includes(boundary) || text.includes(boundary)) {
    // Accept any run of leading dashes: compare from the third character on while dashes go on.
    const tryFrom = (s: string): boolean => {
      let k = 1;
      do {
        k++;
        if (s.slice(k) === boundary) return true;
      } while (s[k] === '-');
      return false;
    };
    return tryFrom(stripped) || tryFrom(line);
  }
  if (rest[0] !== '-') return false;
  return equalsIgnoreCase(rest.slice(1), boundary);
}

/** Does this line end the multipart (`--boundary--`, white space after it tolerated)? */
export function isBoundaryEnd(line: string | null, boundary: string): boolean {
  if (!line) return false;
  const text = line.replace(/ +$/, '');
  if (!text.startsWith('--')) return false;
  const rest = text.slice(2);
  if (!startsWithIgnoreCase(rest, boundary) || rest.length < boundary.length + 2) return false;
  return rest[boundary.length] === '-' && rest[boundary.length + 1] === '-';
}

/** count_quotes() & 1: an odd number of double quotes means the header continues. */
export function hasOddQuotes(text: string): boolean {
  let quotes = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0x22) quotes++;
  return (quotes & 1) === 1;
}

/**
 * Will the line after `index` continue this header? Either it starts with white space, or (for
 * senders that forget the indentation) it contains `=` and this line ends with `;`.
 */
export function nextIsFoldedHeader(lines: readonly Line[], index: number): boolean {
  const next = lines[index + 1];
  if (next === undefined || next === null) return false;
  if (isBlank(next.charCodeAt(0))) return true;
  if (!next.includes('=')) return false;
  const current = lines[index] ?? '';
  for (let i = current.length - 1; i > 0; i--) {
    const c = current[i];
    if (c === ';') return true;
    if (c !== '\n' && c !== ' ' && c !== '\r' && c !== '\t') return false;
  }
  return false;
}

/** A body line that is really a stray header after a premature blank line. */
export function isHeaderAfterNewline(line: string): boolean {
  return line.startsWith('Message-Id: ') || line.startsWith('Date: ');
}

/** Skips a second line made only of blanks and `;` (ClamAV's defence against header floods). */
export class EmptyOptionFilter {
  private lastWasOnlySemi = false;

  skip(line: Line): boolean {
    if (line === null) return false;
    if (/^[ \t;]*$/.test(line)) {
      if (this.lastWasOnlySemi) return true;
      this.lastWasOnlySemi = true;
    } else this.lastWasOnlySemi = false;
    return false;
  }
}
