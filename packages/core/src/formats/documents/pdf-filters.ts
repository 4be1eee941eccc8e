/**
 * The PDF stream filters libclamav implements (pdfdecode.c): ASCII85, RunLength, ASCIIHex,
 * Flate and LZW, each with ClamAV's tolerance and failure points, and the filter chain that
 * decides what is scanned: the output of the last filter that worked, or the raw stream when
 * none did. Image and fax codecs (DCT, JPX, CCITT, JBIG2) end the chain: what was decoded
 * before them is scanned. Decryption (of documents ClamAV can decrypt) comes first and does not
 * count as a decoded filter: a decrypted stream without filters is scanned as stored, as in ClamAV.
 */
import { isSpace } from './bytes.js';
import { decodeLzw } from './lzw.js';
import { hexByte } from './pdf-syntax.js';
import { inflateZlib, type ZlibResult } from './zlib-stream.js';

/** ClamAV's filter kinds (the pdf_objflags bit numbers it records in filter order). */
export const enum PdfFilter {
  AsciiHex = 3,
  Ascii85 = 4,
  Flate = 5,
  Lzw = 6,
  RunLength = 7,
  Fax = 8,
  Jbig2 = 9,
  Dct = 10,
  Jpx = 11,
  Crypt = 12,
}

/**
 * A filter's outcome: new content ('ok'; 'empty' when it decoded to nothing, which ends the
 * chain), 'stop' for a filter ClamAV does not decode, 'error' for data it could not decode (or
 * that would exceed the size limit).
 */
export type FilterResult = { readonly outcome: 'ok' | 'empty'; readonly content: Uint8Array } | { readonly outcome: 'stop' | 'error' };

const ok = (content: Uint8Array): FilterResult => ({ outcome: content.length ? 'ok' : 'empty', content });
const ERROR: FilterResult = { outcome: 'error' };

export interface FilterOptions {
  /** Bytes one decoded stream may have (ClamAV checks --max-filesize as its buffer grows). */
  readonly limit: number;
  /** LZW /EarlyChange from /DecodeParms (default on). */
  readonly earlyChange: boolean;
  /** The /Crypt filter: decryption with the method its /DecodeParms name (undefined: fails). */
  readonly crypt?: (data: Uint8Array) => Uint8Array | undefined;
  /**
   * Decryption of the whole stream before the filters, for documents ClamAV can decrypt
   * (undefined: none). Failing makes ClamAV give up the filters and scan the raw stream.
   */
  readonly decrypt?: (data: Uint8Array) => Uint8Array | undefined;
}

export function applyFilter(filter: number, content: Uint8Array, options: FilterOptions): FilterResult {
  switch (filter) {
    case PdfFilter.Ascii85:
      return ascii85(content);
    case PdfFilter.RunLength:
      return runLength(content, options.limit);
    case PdfFilter.Flate:
      return flate(content, options.limit);
    case PdfFilter.AsciiHex:
      return asciiHex(content);
    case PdfFilter.Lzw:
      return lzw(content, options);
    case PdfFilter.Crypt: {
      const decrypted = options.crypt?.(content);
      return decrypted ? ok(decrypted) : ERROR;
    }
    default:
      // Image and fax codecs, anything else: ClamAV stops decoding here.
      return { outcome: 'stop' };
  }
}

/** ASCII85Decode (filter_ascii85decode): `z` groups, `~>` end, a short final group. */
function ascii85(content: Uint8Array): FilterResult {
  const out = new Uint8Array(4 * content.length + 1);
  let o = 0;
  let quintet = 0;
  let sum = 0;
  const put = (value: number, shift: number): void => {
    out[o++] = Math.floor(value / 2 ** shift) % 256;
  };
  for (let p = 0; p < content.length; ) {
    const byte = content[p++]!;
    const end = byte === 0x7e && p < content.length && content[p] === 0x3e;
    if (!end && byte >= 0x21 && byte <= 0x75) {
      sum = sum * 85 + (byte - 0x21);
      if (++quintet === 5) {
        for (const shift of [24, 16, 8, 0]) put(sum, shift);
        quintet = 0;
        sum = 0;
      }
    } else if (!end && byte === 0x7a) {
      if (quintet) return ERROR;
      out.fill(0, o, o + 4);
      o += 4;
    } else if (end) {
      if (quintet === 1) return ERROR;
      if (quintet) {
        for (let i = quintet; i < 5; i++) sum *= 85;
        sum += 0xffffff >>> ((quintet - 2) * 8);
        for (let i = 0; i < quintet - 1; i++) put(sum, 24 - 8 * i);
      }
      break;
    } else if (!isSpace(byte)) return ERROR;
  }
  return ok(out.subarray(0, o));
}

/** RunLengthDecode (filter_rldecode). */
function runLength(content: Uint8Array, limit: number): FilterResult {
  const parts: Uint8Array[] = [];
  let size = 0;
  let p = 0;
  while (p < content.length) {
    const count = content[p++]!;
    if (count < 128) {
      if (p + count + 1 > content.length) return ERROR;
      parts.push(content.subarray(p, p + count + 1));
      p += count + 1;
      size += count + 1;
    } else if (count > 128) {
      if (p + 1 > content.length) return ERROR;
      parts.push(new Uint8Array(257 - count).fill(content[p++]!));
      size += 257 - count;
    } else break;
    if (size > limit) return ERROR;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return ok(out);
}

/** ASCIIHexDecode (filter_asciihexdecode): spaces skipped, `>` ends, bad digits near the end ignored. */
function asciiHex(content: Uint8Array): FilterResult {
  const out = new Uint8Array((content.length >> 1) + 1);
  let j = 0;
  for (let i = 0; i + 1 < content.length; i++) {
    if (content[i] === 0x20) continue;
    if (content[i] === 0x3e) break;
    const byte = hexByte(content, i);
    if (byte < 0) {
      if (content.length - i < 4) continue;
      return ERROR;
    }
    out[j++] = byte;
    i++;
  }
  return ok(out.subarray(0, j));
}

/**
 * After a stream that starts with a lone CR (which ClamAV steps over), a decoder that produces
 * nothing is retried from the next line: PDFs sometimes have junk before the compressed data.
 */
function withRetry<T extends { data: Uint8Array }>(content: Uint8Array, decode: (input: Uint8Array) => T, failed: (result: T) => boolean): T {
  let input = content;
  if (input[0] === 0x0d) input = input.subarray(1);
  const first = decode(input);
  if (first.data.length || !failed(first)) return first;
  return decode(input.subarray(nextLine(input)));
}

/** decode_nextlinestart: just past the first run of line breaks (or the end). */
function nextLine(content: Uint8Array): number {
  let seen = false;
  for (let i = 0; i < content.length; i++) {
    const c = content[i];
    if (c === 0x0a || c === 0x0d) seen = true;
    else if (seen) return i;
  }
  return content.length;
}

/** FlateDecode (filter_flatedecode): partial output after corruption is kept. */
function flate(content: Uint8Array, limit: number): FilterResult {
  if (content[0] === 0x0d && content.length === 1) return { outcome: 'ok', content };
  const result = withRetry<ZlibResult>(content, (input) => inflateZlib(input, limit + 1), (r) => r.end !== 'input-end');
  if (result.data.length > limit) return ERROR;
  if (result.end === 'error' && !result.data.length) return ERROR;
  return ok(result.data);
}

/** LZWDecode (filter_lzwdecode). */
function lzw(content: Uint8Array, options: FilterOptions): FilterResult {
  if (content[0] === 0x0d && content.length === 1) return { outcome: 'ok', content };
  const result = withRetry(
    content,
    (input) => decodeLzw(input, options.earlyChange, options.limit + 1),
    (r) => r.end !== 'input-end',
  );
  if (result.data.length > options.limit) return ERROR;
  if ((result.end === 'error' || result.end === 'no-progress') && !result.data.length) return ERROR;
  return ok(result.data);
}

/** What a stream's filter chain leaves to scan. */
export interface DecodedStream {
  /** The decoded bytes when at least one filter worked, else the raw stream. */
  readonly data: Uint8Array;
  /** False when a filter failed on bad data (ClamAV's CL_EPARSE): object streams are dropped. */
  readonly clean: boolean;
  /** The content after the last filter applied (what an object stream is parsed from). */
  readonly content: Uint8Array;
}

/** pdf_decodestream: runs the filters in order. */
export function decodeStream(stream: Uint8Array, filters: readonly number[], options: FilterOptions): DecodedStream {
  let content = stream;
  if (options.decrypt) {
    const decrypted = options.decrypt(stream);
    if (!decrypted) return { data: stream, clean: false, content: stream };
    content = decrypted;
  }
  let decoded = 0;
  let clean = true;
  for (const filter of filters) {
    const result = applyFilter(filter, content, options);
    if (result.outcome === 'ok' || result.outcome === 'empty') content = result.content;
    if (!content.length) break;
    if (result.outcome === 'stop') break;
    if (result.outcome === 'error') {
      clean = false;
      break;
    }
    decoded++;
  }
  return { data: decoded ? content : stream, clean, content };
}
