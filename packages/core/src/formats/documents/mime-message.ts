/**
 * One MIME entity as libclamav's mail parser holds it (message.c): content type, disposition,
 * the parameters it keeps, the transfer encodings it will try, and the body as a list of lines.
 *
 * Lines are binary strings (one code unit per byte) without their line ends; `null` is an empty
 * line. While lines are added, the message remembers the first line that looks like the start
 * of something to decode outside MIME: a Content-Transfer-Encoding header, a bounced message, a
 * BinHex banner or a yEnc header.
 *
 * Parameter handling, type and encoding guessing are ClamAV's, with their tolerance for broken
 * mail (`;` or `:` confusions, unbalanced quotes, misspellings guessed by similarity).
 */
import { equalsIgnoreCase, isAlpha, isSpace, lowerAscii, startsWithIgnoreCase } from './bytes.js';
import { isMailMagic } from './mail-magic.js';
import { simil, stripTrailing } from './simil.js';

export const enum MimeType {
  NoMime,
  Application,
  Audio,
  Image,
  Message,
  Multipart,
  Text,
  Video,
  Extension,
}

export const enum Encoding {
  None,
  QuotedPrintable,
  Base64,
  EightBit,
  Binary,
  Uuencode,
  Yencode,
  Extension,
  Binhex,
}

/** A body line; null is an empty line. */
export type Line = string | null;

const MIME_TYPES: readonly [string, MimeType][] = [
  ['text', MimeType.Text],
  ['multipart', MimeType.Multipart],
  ['application', MimeType.Application],
  ['audio', MimeType.Audio],
  ['image', MimeType.Image],
  ['message', MimeType.Message],
  ['video', MimeType.Video],
];

const ENCODINGS: readonly [string, Encoding][] = [
  ['7bit', Encoding.None],
  ['text/plain', Encoding.None],
  ['quoted-printable', Encoding.QuotedPrintable],
  ['base64', Encoding.Base64],
  ['8bit', Encoding.EightBit],
  ['binary', Encoding.Binary],
  ['x-uuencode', Encoding.Uuencode],
  ['x-yencode', Encoding.Yencode],
  ['x-binhex', Encoding.Binhex],
  ['us-ascii', Encoding.None],
  ['x-uue', Encoding.Uuencode],
  ['uuencode', Encoding.Uuencode],
];

/** Only these parameters are kept; the parser never asks for others. */
const USEFUL_PARAMETERS = ['name', 'filename', 'boundary', 'protocol', 'id', 'number', 'total', 'type'];

const BINHEX_BANNER = '(This file must be converted with BinHex 4.0)';

/** strtok-like field `index` of `text` split on any of `delimiters` (cli_strtok semantics). */
export function field(text: string, index: number, delimiters: string): string | undefined {
  let i = 0;
  for (let counter = 0; i < text.length && counter !== index; i++) {
    if (delimiters.includes(text[i]!)) {
      counter++;
      while (i + 1 < text.length && delimiters.includes(text[i + 1]!)) i++;
    }
  }
  if (i >= text.length) return undefined;
  let j = i;
  while (j < text.length && !delimiters.includes(text[j]!)) j++;
  return i === j ? undefined : text.slice(i, j);
}

export function hexDigitOrEquals(c: number): number {
  // ClamAV's hex(): invalid digits read as '=' (some spam leaves '=' unencoded).
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return 0x3d;
}

/** RFC 2231 parameter values (`name*=charset'lang'%41…`), decoded as far as ClamAV decodes them. */
function rfc2231(input: string): string {
  if (input.includes('*0*=')) {
    // Continuations are not supported: keep the names, flag the value as a failure.
    let out = '';
    for (let i = 0; i < input.length; ) {
      const c = input[i]!;
      if (c === '*') {
        i++;
        while (i < input.length && input[i] !== '*') i++;
        if (i < input.length) {
          i++;
          continue;
        }
        break;
      }
      if (c === '=') {
        out += '=rfc2231failure';
        break;
      }
      out += c;
      i++;
    }
    return out;
  }
  let at = input.indexOf('*0=');
  let contents = at !== -1;
  if (!contents) at = input.indexOf('*=');
  if (at === -1) {
    let out = '';
    for (let i = 0; i < input.length; i++) out += String.fromCharCode(input.charCodeAt(i) & 0x7f);
    return out;
  }
  let out = `${input.slice(0, at)}=`;
  let ptr = input.indexOf('=', at) + 1;
  let quotes = 0; // language, then charset, are skipped up to their closing apostrophes
  for (; ptr < input.length; ptr++) {
    const c = input.charCodeAt(ptr);
    if (!contents) {
      if (c === 0x27 && ++quotes === 2) contents = true;
      continue;
    }
    if (c !== 0x25) {
      out += input[ptr];
      continue;
    }
    // `%XX`; a line feed inside is skipped, the end of the text stops.
    if (++ptr >= input.length) break;
    if (input[ptr] === '\n') continue;
    let byte = hexDigitOrEquals(input.charCodeAt(ptr));
    if (++ptr >= input.length || input[ptr] === '\n') {
      out += String.fromCharCode(byte);
      if (ptr >= input.length) break;
      continue;
    }
    byte = ((byte << 4) + hexDigitOrEquals(input.charCodeAt(ptr))) & 0xff;
    out += String.fromCharCode(byte);
  }
  return contents ? out : '';
}

export class MimeMessage {
  mimeType = MimeType.NoMime;
  private subtype: string | undefined;
  private disposition: string | undefined;
  /** Parameters as `name=value` strings; a null entry is a slot freed after a bad parameter. */
  private readonly parameters: (string | null)[] = [];
  encodings: Encoding[] = [];
  body: Line[] = [];
  /** libclamav only looks for bounced messages in messages that have a scan context. */
  hasContext = false;
  /** Index of the first line that starts something to decode outside MIME, or -1. */
  encodingLine = -1;
  bounceLine = -1;
  binhexLine = -1;
  yencLine = -1;
  /** Base64 characters carried over to the next line (up to three). */
  base64Chars = 0;
  readonly base64Carry = [0, 0, 0];

  reset(): void {
    this.mimeType = MimeType.NoMime;
    this.subtype = undefined;
    this.disposition = undefined;
    this.parameters.length = 0;
    this.encodings = [];
    this.body = [];
    this.hasContext = false;
    this.encodingLine = this.bounceLine = this.binhexLine = this.yencLine = -1;
    this.base64Chars = 0;
  }

  /** Content-Type's main type; false when an unknown type arrives after a known one. */
  setMimeType(type: string | undefined): boolean {
    if (type === undefined) return false;
    let start = 0;
    while (start < type.length && !isAlpha(type.charCodeAt(start))) start++;
    if (start >= type.length) return false;
    const name = type.slice(start);
    const known = MIME_TYPES.find(([candidate]) => equalsIgnoreCase(candidate, name));
    if (known) {
      this.mimeType = known[1];
      return true;
    }
    if (this.mimeType !== MimeType.NoMime) return false;
    if (startsWithIgnoreCase(name, 'x-')) this.mimeType = MimeType.Extension;
    else if (equalsIgnoreCase(name, 'plain')) this.mimeType = MimeType.Text;
    else {
      // A misspelt type is taken for the most similar one, if similar enough; else application.
      let best = 0;
      let guess = MimeType.Application;
      for (const [candidate, value] of MIME_TYPES) {
        const score = simil(candidate, name);
        if (score > best) {
          best = score;
          guess = value;
        }
      }
      this.mimeType = best >= 50 ? guess : MimeType.Application;
    }
    return true;
  }

  get mimeSubtype(): string {
    return this.subtype ?? '';
  }

  setMimeSubtype(subtype: string | undefined): void {
    this.subtype = subtype ?? '';
  }

  get dispositionType(): string {
    return this.disposition ?? '';
  }

  setDispositionType(disposition: string): void {
    let start = 0;
    while (start < disposition.length && isSpace(disposition.charCodeAt(start))) start++;
    this.disposition = start < disposition.length ? stripTrailing(disposition.slice(start)) : undefined;
  }

  addArgument(argument: string | undefined): void {
    if (argument === undefined) return;
    let start = 0;
    while (start < argument.length && isSpace(argument.charCodeAt(start))) start++;
    const arg = argument.slice(start);
    if (!arg || !USEFUL_PARAMETERS.some((name) => startsWithIgnoreCase(arg, name))) return;
    let slot = 0;
    for (; slot < this.parameters.length; slot++) {
      const existing = this.parameters[slot];
      if (existing === null) break;
      if (equalsIgnoreCase(arg, existing!)) return;
    }
    let decoded = rfc2231(arg);
    if (!decoded.includes('=')) {
      if (decoded.startsWith('filename')) {
        // A header mangled in transit: `filename"x"` becomes `filename=x`.
        if (decoded.length > 8) decoded = `${decoded.slice(0, 8)}=${decoded.slice(9)}`;
      } else {
        if (slot === this.parameters.length) this.parameters.push(null);
        else this.parameters[slot] = null;
        return;
      }
    }
    this.parameters[slot] = decoded;
    if ((startsWithIgnoreCase(decoded, 'filename=') || startsWithIgnoreCase(decoded, 'name=')) && this.mimeType === MimeType.NoMime) {
      // A named part without a type is treated as an attachment so that it gets scanned.
      this.setMimeType('application');
    }
  }

  /** All `key=value` parameters of a header's parameter list, tolerating broken syntax. */
  addArguments(list: string): void {
    let i = 0;
    while (i < list.length) {
      const c = list.charCodeAt(i);
      if (isSpace(c) || c === 0x3b) {
        i++;
        continue;
      }
      const key = i;
      let separator = list.indexOf('=', i);
      if (separator === -1) separator = list.indexOf(':', i);
      if (separator === -1) return;
      i = separator + 1;
      while (i < list.length && isSpace(list.charCodeAt(i))) i++;
      const valueStart = i;
      if (i < list.length) i++;
      let parameter: string;
      if (list[valueStart] === '"') {
        const keyText = list.slice(key);
        let nameEnd = keyText.indexOf('=');
        if (nameEnd === -1) nameEnd = keyText.indexOf(':');
        const name = keyText.slice(0, nameEnd);
        const close = list.indexOf('"', valueStart + 1);
        i = close === -1 ? list.length : close + 1;
        if (!USEFUL_PARAMETERS.some((useful) => startsWithIgnoreCase(name, useful))) continue;
        const rest = list.slice(valueStart + 1);
        const quote = rest.indexOf('"');
        parameter = `${name}=${quote === -1 ? rest : rest.slice(0, quote)}`;
      } else {
        if (valueStart >= list.length) return;
        while (i < list.length && !isSpace(list.charCodeAt(i))) i++;
        parameter = list.slice(key, i);
      }
      this.addArgument(parameter);
    }
  }

  /** The value of parameter `name` (unquoted), or undefined. */
  findArgument(name: string): string | undefined {
    for (const parameter of this.parameters) {
      if (!parameter || !startsWithIgnoreCase(parameter, name)) continue;
      let at = name.length;
      while (at < parameter.length && isSpace(parameter.charCodeAt(at))) at++;
      // The first parameter with the prefix decides, even if it is not `name=`.
      if (parameter[at] !== '=') return undefined;
      const value = parameter.slice(at + 1);
      if (value.length > 1 && value[0] === '"' && value.indexOf('"', 1) !== -1) {
        const inner = value.slice(1, -1);
        const quote = inner.indexOf('"');
        return quote === -1 ? inner : inner.slice(0, quote);
      }
      return value;
    }
    return undefined;
  }

  private hasArgument(name: string): boolean {
    for (const parameter of this.parameters) {
      if (!parameter || !startsWithIgnoreCase(parameter, name)) continue;
      let at = name.length;
      while (at < parameter.length && isSpace(parameter.charCodeAt(at))) at++;
      return parameter[at] === '=';
    }
    return false;
  }

  get filename(): string | undefined {
    return this.findArgument('filename') ?? this.findArgument('name');
  }

  get hasFilename(): boolean {
    return this.hasArgument('filename') || this.hasArgument('file');
  }

  /** Content-Transfer-Encoding: each word adds an encoding, misspellings guessed by similarity. */
  setEncoding(header: string): void {
    let text = header;
    let start = 0;
    while (start < text.length && (text[start] === ' ' || text[start] === '\t')) start++;
    text = text.slice(start);
    if (equalsIgnoreCase(text, '8 bit')) text = '8bit';
    for (let index = 0; ; index++) {
      const word = field(text, index, ' \t');
      if (word === undefined) return;
      let best = 0;
      let closest = '';
      let matched = false;
      for (const [name, encoding] of ENCODINGS) {
        const first = lowerAscii(word[0]!);
        if (first !== name[0] && first !== 'x') continue;
        if (name === 'uuencode') continue; // uuencoded files are taken care of while reading
        const score = simil(word, name);
        if (score === 100) {
          if (!this.encodings.includes(encoding)) this.encodings.push(encoding);
          matched = true;
          break;
        }
        if (score > best) {
          best = score;
          closest = name;
        }
      }
      if (matched) continue;
      if (best >= 50) this.setEncoding(closest);
      else {
        // Unknown: try both decoders rather than miss something.
        this.setEncoding('base64');
        this.setEncoding('quoted-printable');
      }
    }
  }

  get encoding(): Encoding {
    return this.encodings[0] ?? Encoding.None;
  }

  /** messageAddStr: appends a text line (white-space-only lines stored as one space). */
  addString(data: string | null): void {
    let line = data === '' ? null : data;
    if (line !== null && /^[\t\n\v\f\r ]*$/.test(line)) line = ' ';
    const last = this.body.length ? this.body[this.body.length - 1] : undefined;
    // Two empty lines in succession are kept only in text messages (phishing signatures use them).
    if (line === null && last === null && this.mimeType !== MimeType.Text) return;
    const repeat = line !== null && last !== undefined && last === line;
    this.body.push(line);
    if (line !== null && !repeat) this.checkEncodingStart();
  }

  /** messageAddLine: appends a line taken from another message, as is. */
  addLine(line: Line): void {
    this.body.push(line);
    if (line !== null) this.checkEncodingStart();
  }

  /** Takes over the lines of `from` starting at `start`, as parseEmailHeaders moves a body. */
  moveBodyFrom(from: MimeMessage, start: number): void {
    this.body = from.body.slice(start);
    const hadMarkers = from.encodingLine !== -1 || from.bounceLine !== -1 || from.binhexLine !== -1 || from.yencLine !== -1;
    from.body = [];
    from.encodingLine = from.bounceLine = from.binhexLine = from.yencLine = -1;
    if (!hadMarkers) return;
    // ClamAV re-examines the moved lines, all but the first.
    const lines = this.body;
    this.body = lines.slice(0, 1);
    for (let i = 1; i < lines.length; i++) {
      this.body.push(lines[i]!);
      if (lines[i] !== null) this.checkEncodingStart();
    }
  }

  /** messageIsEncoding: does the line just added start something decodable? */
  private checkEncodingStart(): void {
    const index = this.body.length - 1;
    const line = this.body[index]!;
    if (this.encodingLine === -1 && startsWithIgnoreCase(line, 'Content-Transfer-Encoding') && !line.includes('7bit')) {
      this.encodingLine = index;
    } else if (this.bounceLine === -1 && this.hasContext && startsWithIgnoreCase(line, 'Received: ') && isMailMagic(line)) {
      this.bounceLine = index;
    } else if (this.binhexLine === -1 && line.includes('BinHex') && simil(line, BINHEX_BANNER) > 90) {
      this.binhexLine = index;
    } else if (this.yencLine === -1 && line.startsWith('=ybegin line=')) {
      this.yencLine = index;
    }
  }
}

/** isuuencodebegin(): `begin NNN name`. */
export function isUuencodeBegin(line: string): boolean {
  return (
    line[0] === 'b' &&
    line.length >= 10 &&
    startsWithIgnoreCase(line, 'begin ') &&
    /^[0-9]{3} $/.test(line.slice(6, 10))
  );
}
