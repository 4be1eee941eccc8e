/**
 * Byte-level helpers shared by the mail and document parsers.
 *
 * libclamav parses these formats with C string functions in the "C" locale, so its character
 * classes are plain ASCII ones: bytes from 0x80 up are never letters, digits or spaces. The
 * helpers below reproduce exactly those classes (JavaScript's own `toLowerCase` or `\s` would
 * also accept non-ASCII characters and change results).
 *
 * Text that libclamav handles as C strings is held here as "binary" strings: one UTF-16 code
 * unit per byte (Node's `latin1` encoding), so string searching stays fast and every byte value
 * survives the round trip.
 */

/** isspace(): tab, line feed, vertical tab, form feed, carriage return, space. */
export function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** isblank(): space or tab. */
export function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

export function isAlnum(c: number): boolean {
  return isAlpha(c) || isDigit(c);
}

export function isXDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** isprint(): the printable ASCII range, space included. */
export function isPrint(c: number): boolean {
  return c >= 0x20 && c <= 0x7e;
}

/** tolower(): only A–Z change. */
export function toLower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** Bytes as a binary string (one code unit per byte), without copying the bytes. */
export function binaryString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** A binary string back to bytes (code units above 0xff keep their low byte). */
export function stringBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

/** ASCII-only lower case of a binary string (strcasecmp semantics). */
export function lowerAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

/** strcasecmp(a, b) === 0 in the C locale. */
export function equalsIgnoreCase(a: string, b: string): boolean {
  return a.length === b.length && lowerAscii(a) === lowerAscii(b);
}

/** strncasecmp(text, prefix, prefix.length) === 0 in the C locale. */
export function startsWithIgnoreCase(text: string, prefix: string): boolean {
  return text.length >= prefix.length && lowerAscii(text.slice(0, prefix.length)) === lowerAscii(prefix);
}

/** ASCII text as bytes, for constant needles. */
export function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export function readUint16LE(data: Uint8Array, offset: number): number {
  return data[offset]! | (data[offset + 1]! << 8);
}

export function readUint32LE(data: Uint8Array, offset: number): number {
  return (data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24)) >>> 0;
}

export function readInt32LE(data: Uint8Array, offset: number): number {
  return data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24);
}
