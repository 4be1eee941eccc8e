import { T } from './types.js';

/** How a byte may appear in text (libclamav's textdet table, itself from file(1)). */
const enum Char {
  /** Never appears in text. */
  Never = 0,
  /** Plain ASCII text, including BEL BS HT LF FF CR ESC and NEL (0x85). */
  Ascii = 1,
  /** ISO-8859 text (0xa0-0xff). */
  Iso = 2,
  /** Non-ISO extended ASCII (0x80-0x9f except NEL). */
  Extended = 3,
}

const CHAR_CLASS = buildCharClasses();

function buildCharClasses(): Uint8Array {
  const table = new Uint8Array(256);
  for (const byte of [0x07, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1b]) table[byte] = Char.Ascii;
  for (let byte = 0x20; byte < 0x7f; byte++) table[byte] = Char.Ascii;
  for (let byte = 0x80; byte < 0xa0; byte++) table[byte] = Char.Extended;
  table[0x85] = Char.Ascii;
  for (let byte = 0xa0; byte < 0x100; byte++) table[byte] = Char.Iso;
  return table;
}

/** Every byte is plain ASCII, ISO-8859 or extended ASCII (so any byte >= 0x80 passes). */
function isAsciiLike(buf: Uint8Array): boolean {
  for (let i = 0; i < buf.length; i++) if (CHAR_CLASS[buf[i]] === Char.Never) return false;
  return true;
}

/**
 * UTF-8 check as ClamAV does it: control characters refuse the buffer, a truncated sequence at the
 * very end accepts it when a complete multi-byte character came before, and at least one
 * multi-byte character is required. (Because the ASCII check above accepts every byte >= 0x80,
 * this only decides buffers that the ASCII check refused.)
 */
function isUtf8(buf: Uint8Array): boolean {
  let sawMultiByte = false;
  for (let i = 0; i < buf.length; i++) {
    const byte = buf[i];
    if ((byte & 0x80) === 0) {
      if (CHAR_CLASS[byte] !== Char.Ascii) return false;
      continue;
    }
    if ((byte & 0x40) === 0) return false;
    const following = continuationCount(byte);
    if (following === 0) return false;
    for (let j = 0; j < following; j++) {
      if (++i >= buf.length) return sawMultiByte;
      if ((buf[i] & 0xc0) !== 0x80) return false;
    }
    sawMultiByte = true;
  }
  return sawMultiByte;
}

/** Number of continuation bytes announced by a lead byte 11xxxxxx (old 6-byte UTF-8 allowed); 0 if invalid. */
function continuationCount(lead: number): number {
  if ((lead & 0x20) === 0) return 1;
  if ((lead & 0x10) === 0) return 2;
  if ((lead & 0x08) === 0) return 3;
  if ((lead & 0x04) === 0) return 4;
  if ((lead & 0x02) === 0) return 5;
  return 0;
}

/**
 * UTF-16 check: 0 if not UTF-16, 1 for little-endian, 2 for big-endian. Without a byte order mark
 * the data is read as big-endian and every unit must be a text character; the first unit is never
 * examined either way (ClamAV starts after the place where a mark would be).
 */
function utf16Kind(buf: Uint8Array): 0 | 1 | 2 {
  if (buf.length < 2) return 0;
  let bigEndian = true;
  let hasMark = true;
  if (buf[0] === 0xff && buf[1] === 0xfe) bigEndian = false;
  else if (!(buf[0] === 0xfe && buf[1] === 0xff)) hasMark = false;
  let bad = 0;
  for (let i = 2; i + 1 < buf.length; i += 2) {
    const unit = bigEndian ? (buf[i] << 8) | buf[i + 1] : buf[i] | (buf[i + 1] << 8);
    if (unit === 0xfffe) return 0;
    if (unit < 128 && CHAR_CLASS[unit] !== Char.Ascii) {
      if (!hasMark) return 0;
      bad++;
    }
  }
  if (hasMark && bad >= Math.floor(buf.length / 2)) return 0;
  return bigEndian ? 2 : 1;
}

/** libclamav's cli_texttype: the text or binary type of a file's first bytes. */
export function textType(buf: Uint8Array): number {
  if (isAsciiLike(buf)) return T.TEXT_ASCII;
  if (isUtf8(buf)) return T.TEXT_UTF8;
  const utf16 = utf16Kind(buf);
  if (utf16 === 1) return T.TEXT_UTF16LE;
  if (utf16 === 2) return T.TEXT_UTF16BE;
  return T.BINARY_DATA;
}

/** The debug line ClamAV prints for each text/binary outcome. */
export function textTypeDebugMessage(code: number): string {
  switch (code) {
    case T.TEXT_ASCII:
      return 'Recognized ASCII text';
    case T.TEXT_UTF8:
      return 'Recognized UTF-8 character data';
    case T.TEXT_UTF16LE:
      return 'Recognized UTF-16LE character data';
    case T.TEXT_UTF16BE:
      return 'Recognized UTF-16BE character data';
    default:
      return 'Recognized binary data';
  }
}
