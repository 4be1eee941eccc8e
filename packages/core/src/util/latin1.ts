/**
 * Bytes to a string one character per byte (ISO-8859-1) and back. Not `TextDecoder('latin1')`:
 * the WHATWG decoder of that name is windows-1252 and changes bytes 0x80-0x9F, which would alter
 * signature names and database lines.
 */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}
