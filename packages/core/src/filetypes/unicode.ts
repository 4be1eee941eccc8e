/**
 * The two ways ClamAV turns Unicode text back into bytes before looking for HTML tags in it.
 * Both keep ClamAV's odd arithmetic (high byte × 16 + low byte, truncated to a byte), which maps
 * ASCII characters to themselves and everything else to noise that no tag pattern matches.
 */

/** libclamav's cli_utf16toascii: pairs of bytes (low, high) become one byte. Empty when under 2 bytes. */
export function utf16PairsToBytes(buf: Uint8Array): Uint8Array {
  const out = new Uint8Array(buf.length >> 1);
  for (let i = 0, j = 0; j < out.length; i += 2, j++) out[j] = (buf[i + 1] << 4) + buf[i];
  return out;
}

type Encoding = 'UTF-16LE' | 'UTF-16BE' | 'UCS-4LE' | 'UCS-4BE';

/**
 * libclamav's encoding_detect_bom: the multi-byte encoding suggested by the first four bytes
 * (a byte order mark or the start of `<?`), if any. The unusual UCS-4 byte orders are named
 * "UCS4"/"UCS-4" by ClamAV, which iconv reads as big-endian, so they are reported as UCS-4BE.
 */
export function detectMultiByteEncoding(buf: Uint8Array): Encoding | undefined {
  if (buf.length < 4) return undefined;
  const [b0, b1, b2, b3] = buf;
  switch (b0) {
    case 0x00:
      if (b1 === 0x00) {
        if ((b2 === 0xfe && b3 === 0xff) || (b2 === 0xff && b3 === 0xfe)) return 'UCS-4BE';
        if ((b2 === 0x00 && b3 === 0x3c) || (b2 === 0x3c && b3 === 0x00)) return 'UCS-4BE';
      } else if (b1 === 0x3c && b2 === 0x00) {
        if (b3 === 0x00) return 'UCS-4BE';
        if (b3 === 0x3f) return 'UTF-16BE';
      }
      return undefined;
    case 0xff:
      if (b1 !== 0xfe) return undefined;
      return b2 === 0x00 && b3 === 0x00 ? 'UCS-4LE' : 'UTF-16LE';
    case 0xfe:
      if (b1 !== 0xff) return undefined;
      return b2 === 0x00 && b3 === 0x00 ? 'UCS-4BE' : 'UTF-16BE';
    case 0x3c:
      if (b1 !== 0x00) return undefined;
      if (b2 === 0x00 && b3 === 0x00) return 'UCS-4LE';
      if (b2 === 0x3f && b3 === 0x00) return 'UTF-16LE';
      return undefined;
    default:
      return undefined;
  }
}

/**
 * libclamav's encoding_normalize_toascii for the encodings above: converts with iconv to UTF-16BE
 * (here: by hand, with glibc's rules: byte order marks are kept as U+FEFF, surrogates and code
 * points above U+10FFFF are invalid), then folds each UTF-16 unit to a byte and drops zero bytes.
 *
 * ClamAV converts the length rounded down to a multiple of 4 first, then the remaining 1-3 bytes
 * padded with zeros to 4. At the first invalid or incomplete sequence it emits that sequence's
 * first byte alone and stops.
 */
export function normalizeToAscii(buf: Uint8Array, encoding: Encoding): Uint8Array {
  const units: number[] = [];
  const aligned = buf.length - (buf.length % 4);
  const tail = buf.length % 4 ? padTo4(buf.subarray(aligned)) : undefined;
  const chunks = aligned > 0 ? [buf.subarray(0, aligned), tail] : [tail];
  for (const chunk of chunks) {
    if (chunk === undefined) continue;
    const invalidAt = decodeInto(chunk, encoding, units);
    if (invalidAt >= 0) {
      units.push(chunk[invalidAt]);
      break;
    }
  }
  const out: number[] = [];
  for (const unit of units) {
    const byte = ((unit >> 8) << 4) + (unit & 0xff);
    if (byte & 0xff) out.push(byte & 0xff);
  }
  return Uint8Array.from(out);
}

function padTo4(bytes: Uint8Array): Uint8Array {
  const padded = new Uint8Array(4);
  padded.set(bytes);
  return padded;
}

/** Appends the UTF-16 units of `chunk`; returns the offset of the first bad sequence, or -1. */
function decodeInto(chunk: Uint8Array, encoding: Encoding, units: number[]): number {
  if (encoding === 'UTF-16LE' || encoding === 'UTF-16BE') {
    const little = encoding === 'UTF-16LE';
    const unitAt = (i: number) => (little ? chunk[i] | (chunk[i + 1] << 8) : (chunk[i] << 8) | chunk[i + 1]);
    for (let i = 0; i + 1 < chunk.length; i += 2) {
      const unit = unitAt(i);
      if (unit >= 0xdc00 && unit <= 0xdfff) return i;
      if (unit >= 0xd800 && unit <= 0xdbff) {
        if (i + 3 >= chunk.length) return i;
        const low = unitAt(i + 2);
        if (low < 0xdc00 || low > 0xdfff) return i;
        units.push(unit, low);
        i += 2;
        continue;
      }
      units.push(unit);
    }
    return -1;
  }
  const little = encoding === 'UCS-4LE';
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  for (let i = 0; i + 3 < chunk.length; i += 4) {
    const codePoint = view.getUint32(i, little);
    if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return i;
    if (codePoint > 0xffff) {
      const offset = codePoint - 0x10000;
      units.push(0xd800 + (offset >> 10), 0xdc00 + (offset & 0x3ff));
    } else {
      units.push(codePoint);
    }
  }
  return -1;
}
