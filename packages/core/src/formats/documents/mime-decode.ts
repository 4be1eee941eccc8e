/**
 * Transfer decoding of mail bodies as libclamav's message.c does it, line by line: quoted-
 * printable (tolerating unencoded `=`), base64 (invalid characters dropped, up to three
 * characters carried to the next line, no end at `=`), uuencode and yEnc, and "exporting" a
 * message: writing its body once per encoding it announces, each time into a new file.
 */
import { GrowableBytes } from '../../util/growable.js';
import { equalsIgnoreCase, stringBytes } from './bytes.js';
import { Encoding, hexDigitOrEquals, isUuencodeBegin, type Line, type MimeMessage } from './mime-message.js';
import { stripTrailing } from './simil.js';

/** RFC 2045 base64 alphabet; 255 marks bytes that are removed before decoding. */
const BASE64 = new Uint8Array(256).fill(255);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => (BASE64[c.charCodeAt(0)] = i));
BASE64[0x3d] = 0;

type Decoder = (c: number) => number;
const base64Digit: Decoder = (c) => (BASE64[c] === 255 ? 63 : BASE64[c]!);
const uuDigit: Decoder = (c) => (c - 0x20) & 0xff;

/** Size of the stack buffer ClamAV decodes ordinary lines into. */
const SMALL_BUFFER = 1024;

/**
 * A reusable decoding buffer. ClamAV decodes each line into the same stack buffer, and a broken
 * uuencoded line can announce more bytes than it decodes: the excess is whatever the buffer still
 * holds, so the buffer is kept between lines to reproduce the output.
 */
export class DecodeBuffer {
  private small = new Uint8Array(SMALL_BUFFER);

  /** The buffer for a line of `lineLength` characters (long lines get a fresh one). */
  forLine(lineLength: number): Uint8Array {
    return lineLength + 2 >= SMALL_BUFFER ? new Uint8Array(lineLength + 2) : this.small;
  }
}

/**
 * Decodes base64 or uuencoded characters into `out` from `pos` (message.c decode()); returns the
 * position after the output. `input` null flushes the carried characters.
 */
function decodeGroup(m: MimeMessage, input: string | null, out: Uint8Array, pos: number, digit: Decoder, fast: boolean): number {
  let cb1 = 0;
  let cb2 = 0;
  let cb3 = 0;
  if (m.base64Chars >= 1) {
    cb1 = m.base64Carry[0]!;
    if (m.base64Chars >= 2) cb2 = m.base64Carry[1]!;
    if (m.base64Chars >= 3) cb3 = m.base64Carry[2]!;
    fast = false;
  }
  if (input === null) {
    if (m.base64Chars === 0) return pos;
    m.base64Chars--;
    const b1 = cb1;
    let b2 = 0;
    let b3 = 0;
    let count = 1;
    if (m.base64Chars) {
      m.base64Chars--;
      b2 = cb2;
      if (m.base64Chars) {
        m.base64Chars--;
        b3 = cb3;
        count = 3;
      } else if (b2) count = 2;
    }
    if (count === 3) {
      out[pos++] = (b1 << 2) | ((b2 >> 4) & 0x3);
      out[pos++] = (b2 << 4) | ((b3 >> 2) & 0xf);
      if (b3 & 0x3) out[pos++] = b3 << 6;
    } else if (count === 2) {
      out[pos++] = (b1 << 2) | ((b2 >> 4) & 0x3);
      if ((b2 << 4) & 0xff) out[pos++] = b2 << 4;
    } else out[pos++] = b1 << 2;
    return pos;
  }
  let i = 0;
  const n = input.length;
  if (fast) {
    while (i < n) {
      const b1 = digit(input.charCodeAt(i++));
      const b2 = digit(input.charCodeAt(i++));
      const b3 = digit(input.charCodeAt(i++));
      const b4 = digit(input.charCodeAt(i++));
      out[pos++] = (b1 << 2) | ((b2 >> 4) & 0x3);
      out[pos++] = (b2 << 4) | ((b3 >> 2) & 0xf);
      out[pos++] = (b3 << 6) | (b4 & 0x3f);
    }
    return pos;
  }
  // Carried characters are used up first; an incomplete group is carried to the next call.
  const next = (carried: number): number => {
    if (m.base64Chars) {
      m.base64Chars--;
      return carried;
    }
    return digit(input.charCodeAt(i++));
  };
  while (i < n) {
    const b1 = next(cb1);
    if (i >= n) {
      m.base64Carry[0] = b1;
      m.base64Chars = 1;
      break;
    }
    const b2 = next(cb2);
    if (i >= n) {
      m.base64Carry[1] = b2;
      m.base64Carry[0] = b1;
      m.base64Chars = 2;
      break;
    }
    const b3 = next(cb3);
    if (i >= n) {
      m.base64Carry[2] = b3;
      m.base64Carry[1] = b2;
      m.base64Carry[0] = b1;
      m.base64Chars = 3;
      break;
    }
    const b4 = digit(input.charCodeAt(i++));
    out[pos++] = (b1 << 2) | ((b2 >> 4) & 0x3);
    out[pos++] = (b2 << 4) | ((b3 >> 2) & 0xf);
    out[pos++] = (b3 << 6) | (b4 & 0x3f);
  }
  return pos;
}

/**
 * Decodes one body line (message.c decodeLine) into `buffer`; returns the output length, or
 * undefined when the line cannot be decoded at all. A NUL is written after the output, as
 * ClamAV does (it shows through in later broken lines).
 */
export function decodeLine(m: MimeMessage, encoding: Encoding, line: Line, buffer: Uint8Array): number | undefined {
  let pos = 0;
  switch (encoding) {
    case Encoding.QuotedPrintable: {
      if (line === null) {
        buffer[pos++] = 0x0a;
        break;
      }
      let softBreak = false;
      for (let i = 0; i < line.length; i++) {
        const c = line.charCodeAt(i);
        if (c !== 0x3d) {
          buffer[pos++] = c;
          continue;
        }
        if (++i >= line.length || line[i] === '\n') {
          softBreak = true;
          break;
        }
        let byte = hexDigitOrEquals(line.charCodeAt(i));
        if (++i >= line.length || line[i] === '\n') {
          buffer[pos++] = byte; // broken: a single hex digit at the end
          break;
        }
        // `=` followed by a non-hex character: the `=` is kept and decoding resumes after it.
        if (byte !== 0x3d) byte = (byte << 4) | hexDigitOrEquals(line.charCodeAt(i));
        else i -= 2;
        buffer[pos++] = byte;
      }
      if (!softBreak) buffer[pos++] = 0x0a;
      break;
    }
    case Encoding.Base64: {
      if (line === null) break;
      const equals = line.indexOf('=');
      let text = equals === -1 ? line : line.slice(0, equals);
      text = sanitiseBase64(text);
      pos = decodeGroup(m, text, buffer, pos, base64Digit, equals === -1 && (text.length & 3) === 0);
      break;
    }
    case Encoding.Uuencode: {
      if (m.base64Chars !== 0 || line === null || line === '') break;
      if (equalsIgnoreCase(line, 'end') || isUuencodeBegin(line)) break;
      if ((line.charCodeAt(0) & 0x3f) === 0x20) break;
      const announced = uuDigit(line.charCodeAt(0));
      if (announced <= 0 || announced > 62) break;
      const rest = line.slice(1);
      if (rest.length <= buffer.length && announced <= rest.length) {
        decodeGroup(m, rest, buffer, 0, uuDigit, (rest.length & 3) === 0);
        pos = announced;
      }
      m.base64Chars = 0;
      break;
    }
    case Encoding.Yencode: {
      if (line === null || line === '' || line.startsWith('=yend ')) break;
      for (let i = 0; i < line.length; i++) {
        if (line[i] === '=') {
          if (++i >= line.length) break;
          buffer[pos++] = (line.charCodeAt(i) - 64) & 0xff;
        } else buffer[pos++] = (line.charCodeAt(i) - 42) & 0xff;
      }
      break;
    }
    default:
      // 7bit, 8bit, binary and unknown encodings: the line as it is.
      if (line !== null) for (let i = 0; i < line.length; i++) buffer[pos++] = line.charCodeAt(i);
      buffer[pos++] = 0x0a;
  }
  buffer[pos] = 0;
  return pos;
}

/** Removes the characters that are not base64 (white space, punctuation, 8-bit bytes). */
function sanitiseBase64(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) if (BASE64[text.charCodeAt(i)] !== 255) out += text[i];
  return out;
}

/** The carried base64 characters, decoded (base64Flush). */
export function flushBase64(m: MimeMessage, buffer: Uint8Array): number {
  if (!m.base64Chars) return 0;
  const end = decodeGroup(m, null, buffer, 0, base64Digit, false);
  m.base64Chars = 0;
  return end;
}

/** One output of a message export: ClamAV's file (fileblob) or memory (blob) object. */
export interface ExportedPart {
  /** The file name ClamAV gives it, sanitised: only letters, digits, `.` and `_` kept. */
  readonly name: string;
  readonly data: Uint8Array;
}

/** blob.c sanitiseName(): every byte other than [0-9A-Za-z._] becomes `_`. */
export function sanitiseName(name: string): string {
  return name.replace(/[^0-9A-Za-z._]/g, '_');
}

/** Lines as text: each followed by a line feed (textToFileblob / textToBlob). */
function appendText(out: GrowableBytes, lines: readonly Line[], from: number): void {
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    if (line !== null) out.append(stringBytes(line));
    out.push(0x0a);
  }
}

export interface ExportResult {
  /** Every output written, in order; ClamAV keeps earlier passes on disk and scans them too. */
  readonly parts: readonly ExportedPart[];
  /** False when ClamAV's export returned nothing (empty body, empty yEnc block). */
  readonly completed: boolean;
  /**
   * Whether the last output carries the message's scan context, so that a caller scanning it at
   * once would: only the first output of a decoding export gets it, and writing text drops it.
   */
  readonly keepsContext: boolean;
}

/**
 * messageExport: writes the body once per announced encoding, each pass into a new output named
 * after the part. A part with a name but no encoding is also tried as base64 (many virus
 * attachments do not say how they are encoded); uuencoded bodies were already decoded while
 * reading, so they are written as text; a yEnc block is decoded from its `=ybegin` line on.
 * `destroy` empties the body afterwards.
 */
export function exportMessage(m: MimeMessage, destroy: boolean): ExportResult {
  if (!m.body.length) return { parts: [], completed: false, keepsContext: false };
  const parts: ExportedPart[] = [];
  let name: string | undefined;
  let out = new GrowableBytes(1024);
  const finishPart = () => {
    parts.push({ name: sanitiseName(name ?? 'attachment'), data: out.finish() });
  };
  if (!m.encodings.length) {
    const filename = m.findArgument('filename');
    const fallback = filename ?? m.findArgument('name');
    if (fallback === undefined) m.addArgument('name=attachment');
    else if (filename === undefined) m.setEncoding('7-bit');
    name = fallback ? fallback : 'attachment';
    if (!m.encodings.length) {
      appendText(out, m.body, 0);
      finishPart();
      if (destroy) m.body = [];
      return { parts, completed: true, keepsContext: false };
    }
  }
  let keepsContext = true;
  const scratch = new DecodeBuffer();
  for (let i = 0; i < m.encodings.length; i++) {
    let encoding = m.encodings[i]!;
    if (i > 0) {
      finishPart();
      out = new GrowableBytes(1024);
      name = undefined;
      keepsContext = false;
    }
    let start: number;
    if ((encoding === Encoding.Yencode || i === 0) && m.yencLine !== -1) {
      const header = m.body[m.yencLine]!;
      const at = header.indexOf(' name=');
      const yencName = at === -1 ? undefined : stripTrailing(header.slice(at + 6).replace(/[\r\n]+$/, ''));
      // A file that already has a name keeps it (fileblobSetFilename names a file once).
      name ??= yencName ? yencName : 'attachment';
      start = m.yencLine + 1;
      encoding = Encoding.Yencode;
      m.yencLine = -1;
    } else {
      if (encoding === Encoding.Uuencode) encoding = m.encodings[i] = Encoding.None;
      const filename = m.filename;
      if (filename === undefined) m.addArgument('name=attachment');
      else if (encoding === Encoding.None) m.setEncoding('base64');
      name ??= filename ? filename : 'attachment';
      start = 0;
    }
    if (start >= m.body.length) {
      if (destroy) m.body = [];
      return { parts, completed: false, keepsContext: false }; // "Empty attachment not saved"
    }
    if (encoding === Encoding.None) {
      appendText(out, m.body, start);
      keepsContext = false;
      if (i === m.encodings.length - 1) break;
      continue;
    }
    for (let l = start; l < m.body.length; l++) {
      const line = m.body[l]!;
      if (encoding === Encoding.Yencode) {
        if (line === null) continue;
        if (line.startsWith('=yend ')) break;
      }
      const buffer = scratch.forLine(line?.length ?? 0);
      const length = decodeLine(m, encoding, line, buffer);
      if (length === undefined) break;
      out.append(buffer, 0, length);
    }
    if (m.base64Chars) {
      const buffer = new Uint8Array(4);
      out.append(buffer, 0, flushBase64(m, buffer));
    }
  }
  finishPart();
  if (destroy) m.body = [];
  return { parts, completed: true, keepsContext };
}

/**
 * messageToText: the body decoded into text lines (used to collect the text portions of a
 * mail). Decoded lines keep the line feed the decoder adds; a decoded line starting with a line
 * feed or NUL is an empty line. Undefined when ClamAV gives up (uuencoded or yEnc without start).
 */
export function messageToText(m: MimeMessage): Line[] | undefined {
  if (!m.encodings.length) return m.body.slice();
  const lines: Line[] = [];
  for (const encoding of m.encodings) {
    if (encoding === Encoding.None || encoding === Encoding.Binary || encoding === Encoding.EightBit) {
      lines.push(...m.body);
      continue;
    }
    if (encoding === Encoding.Uuencode) return undefined;
    if (encoding === Encoding.Yencode && m.yencLine === -1) return undefined;
    const buffer = new Uint8Array(SMALL_BUFFER);
    for (const line of m.body) {
      if (encoding === Encoding.Base64 && line === null) continue;
      if (line !== null && line.length > SMALL_BUFFER) break;
      const length = decodeLine(m, encoding, line, buffer)!;
      if (buffer[0] === 0x0a || buffer[0] === 0) lines.push(null);
      else if (line !== null && startsWithBytes(buffer, length, line)) lines.push(line);
      else lines.push(cString(buffer, length));
      if (line !== null && encoding === Encoding.Base64 && line.includes('=')) break;
    }
    if (m.base64Chars) {
      const flushed = new Uint8Array(4);
      decodeGroup(m, null, flushed, 0, base64Digit, false);
      if (flushed[0]) lines.push(cString(flushed, 4));
      m.base64Chars = 0;
    }
  }
  return lines;
}

function startsWithBytes(buffer: Uint8Array, length: number, text: string): boolean {
  if (length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (buffer[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** The decoded bytes as a C string (up to the first NUL). */
function cString(buffer: Uint8Array, length: number): string {
  const nul = buffer.subarray(0, length).indexOf(0);
  return Buffer.from(buffer.subarray(0, nul === -1 ? length : nul)).toString('latin1');
}

