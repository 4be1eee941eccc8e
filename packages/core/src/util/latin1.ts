/**
 * Bytes to a string one character per byte (ISO-8859-1) and back. Not `TextDecoder('latin1')`:
 * the WHATWG decoder of that name is windows-1252 and changes bytes 0x80-0x9F, which would alter
 * signature names and database lines.
 */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/**
 * A copy of a latin1 string that holds no reference to a string it was cut from (V8 keeps the
 * whole source of a slice alive).
 */
export function detachedCopy(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}
