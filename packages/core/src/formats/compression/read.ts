/**
 * Little-endian field readers for the archive parsers. Out-of-range reads return 0 / ''
 * instead of throwing: every parser checks its structure sizes against the data length first,
 * and a field read past the end of a hostile file must not crash it.
 */
export function u16le(data: Uint8Array, at: number): number {
  return at + 2 <= data.length ? data[at]! | (data[at + 1]! << 8) : 0;
}

export function u32le(data: Uint8Array, at: number): number {
  return at + 4 <= data.length ? (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0 : 0;
}

/** 64-bit field as a number; values past 2^53 lose precision, which only ever makes them "too big". */
export function u64le(data: Uint8Array, at: number): number {
  return u32le(data, at) + u32le(data, at + 4) * 0x100000000;
}

/** NUL-terminated string of single-byte characters (latin1), at most `max` bytes. */
export function cString(data: Uint8Array, at: number, max = 1024): { text: string; end: number } {
  const bytes = cStringBytes(data, at, max);
  return { text: latin1(bytes), end: at + bytes.length + 1 };
}

/** The bytes of a NUL-terminated string from `at` (without the NUL), at most `max` of them (strndup). */
export function cStringBytes(data: Uint8Array, at: number, max = 1024): Uint8Array {
  const limit = Math.min(data.length, at + max);
  let end = at;
  while (end < limit && data[end] !== 0) end++;
  return data.subarray(at, end);
}

export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
