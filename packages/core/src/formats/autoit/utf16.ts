/**
 * ClamAV's u2a (libclamav/autoit.c): a crude UTF-16LE to single-byte conversion, in place. Text
 * starting with a byte-order mark (and longer than 4 bytes, its third byte not 0) loses the mark;
 * other text is converted when at least a quarter of its first ten 16-bit units (fewer in a short
 * text) are a non-zero byte followed by a zero byte. Converting keeps the low byte of each unit
 * at the start of `bytes`; the bytes after the converted text are left as they were.
 *
 * Returns the converted length: the units kept, or `bytes.length` when nothing was converted.
 */
export function utf16ToSingleBytes(bytes: Uint8Array): number {
  let length = bytes.length;
  if (length < 2) return length;
  let from = 0;
  if (length > 4 && bytes[0] === 0xff && bytes[1] === 0xfe && bytes[2] !== 0) {
    length -= 2;
    from = 2;
  } else if (!looksLikeUtf16(bytes)) {
    return length;
  }
  for (let i = 0; i < length; i += 2) bytes[i >> 1] = bytes[from + i]!;
  return length >> 1;
}

/** At least a quarter of the first units (up to 10) are an ASCII-range character. */
function looksLikeUtf16(bytes: Uint8Array): boolean {
  const examined = bytes.length > 20 ? 20 : bytes.length & ~1;
  let characters = 0;
  for (let i = 0; i < examined; i += 2) if (bytes[i] !== 0 && bytes[i + 1] === 0) characters++;
  return characters * 4 >= examined;
}
