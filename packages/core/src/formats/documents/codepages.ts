/**
 * Windows code page text to UTF-8, as libclamav's cli_codepage_to_utf8 converts VBA project
 * strings and module source (with iconv there, with the WHATWG decoders of Node's ICU here).
 *
 * ASCII and UTF-8 are copied (an incomplete last UTF-8 character is zeroed, as ClamAV does);
 * other code pages are decoded strictly: an invalid sequence, or a byte the Windows code page
 * leaves undefined (which the WHATWG tables map to a C1 control), is a conversion error.
 * 932, 936 and 950 follow glibc's strict SHIFT_JIS, GB2312 and BIG5 (documents/glibc-cjk.ts).
 * Code pages without a WHATWG decoder (EBCDIC and DOS OEM pages, UTF-7, UTF-32) are read as
 * ISO-8859-1, and 949 uses the WHATWG EUC-KR decoder: approximations documented in
 * docs/formats/mail-and-documents.md.
 */

import { TextDecoder } from 'node:util';
import { decodeGlibcCjk } from './glibc-cjk.js';

export const CODEPAGE_UTF16_LE = 1200;
export const CODEPAGE_ISO8859_1 = 28591;
const CODEPAGE_UTF16_BE = 1201;
const CODEPAGE_US_ASCII = 20127;
const CODEPAGE_UTF8 = 65001;

const WHATWG: ReadonlyMap<number, string> = new Map([
  [866, 'ibm866'],
  [874, 'windows-874'],
  [949, 'euc-kr'],
  [CODEPAGE_UTF16_LE, 'utf-16le'],
  [CODEPAGE_UTF16_BE, 'utf-16be'],
  ...[1250, 1251, 1253, 1254, 1255, 1256, 1257, 1258].map((cp): [number, string] => [cp, `windows-${cp}`]),
  [10000, 'macintosh'],
  [20866, 'koi8-r'],
  [20932, 'euc-jp'],
  [21866, 'koi8-u'],
  ...[2, 3, 4, 5, 6, 7, 8].map((n): [number, string] => [28590 + n, `iso-8859-${n}`]),
  [28599, 'windows-1254'], // ISO-8859-9 is windows-1254 in WHATWG; close enough for text
  [28603, 'iso-8859-13'],
  [28605, 'iso-8859-15'],
  [50220, 'iso-2022-jp'],
  [51932, 'euc-jp'],
  [51936, 'gbk'],
  [51949, 'euc-kr'],
  [54936, 'gb18030'],
]);

/** Code pages ClamAV knows (its iconv table); others fail to convert. */
const KNOWN = new Set([
  37, 437, 500, 708, 775, 850, 852, 855, 857, 860, 861, 863, 864, 865, 866, 869, 870, 874, 875, 932, 936, 949, 950, 1026,
  1200, 1201, 1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258, 1361, 10000, 12000, 12001, 20127, 20273, 20277, 20278,
  20280, 20284, 20285, 20290, 20297, 20420, 20423, 20424, 20866, 20871, 20880, 20905, 20932, 21025, 21866, 28591, 28592,
  28593, 28594, 28595, 28596, 28597, 28598, 28599, 28603, 28605, 50220, 50221, 50222, 50225, 51932, 51936, 51949, 54936,
  65000, 65001,
]);

/**
 * Windows-1252 above 0x7F where it differs from ISO-8859-1 (0 where the code page has no
 * character). Node decodes the `windows-1252` label as ISO-8859-1, so this code page, the most
 * common one in Office documents, is decoded here.
 */
const WINDOWS_1252_C1 = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0, 0,
  0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];
const CODEPAGE_WINDOWS_1252 = 1252;

function decodeWindows1252(bytes: Uint8Array): string | undefined {
  let text = '';
  for (const byte of bytes) {
    if (byte < 0x80 || byte >= 0xa0) text += String.fromCharCode(byte);
    else {
      const code = WINDOWS_1252_C1[byte - 0x80]!;
      if (!code) return undefined;
      text += String.fromCharCode(code);
    }
  }
  return text;
}

const INVALID_SEQUENCE_WARNING =
  'cli_codepage_to_utf8: iconv error: An invalid multibyte sequence has been encountered in the input.';

/**
 * Decodes strictly; undefined on failure. An invalid sequence is reported through `warn` (ClamAV
 * prints iconv's EILSEQ as a warning); an incomplete one at the end is not (EINVAL, a debug line).
 */
function decodeStrict(bytes: Uint8Array, label: string, warn: (message: string) => void): string | undefined {
  try {
    const text = new TextDecoder(label, { fatal: true, ignoreBOM: true }).decode(bytes); // iconv keeps a BOM
    // A byte the Windows code page leaves undefined decodes to a C1 control: iconv rejects it.
    if (!label.startsWith('windows-') || !/[\u0080-\u009f]/.test(text)) return text;
  } catch {
    try {
      new TextDecoder(label, { fatal: true, ignoreBOM: true }).decode(bytes, { stream: true });
      return undefined; // only the last character is cut short
    } catch {
      // an invalid sequence
    }
  }
  warn(INVALID_SEQUENCE_WARNING);
  return undefined;
}

/**
 * The text as UTF-8 bytes, or undefined when ClamAV's conversion would fail (with the warning
 * ClamAV prints for invalid input passed to `warn`).
 */
export function codepageToUtf8(bytes: Uint8Array, codepage: number, warn: (message: string) => void = () => {}): Uint8Array | undefined {
  if (!bytes.length || !KNOWN.has(codepage)) return undefined;
  if (codepage === CODEPAGE_US_ASCII || codepage === CODEPAGE_UTF8) {
    const out = new Uint8Array(bytes); // a copy (Buffer.slice would share memory)
    if (codepage === CODEPAGE_UTF8 && out[out.length - 1]! & 0x80) {
      let start = out.length - 1;
      let count = 1;
      while (start > 0 && (out[start]! & 0xc0) === 0x80) {
        start--;
        count++;
      }
      let lead = 0;
      while (lead < 8 && out[start]! & (0x80 >> lead)) lead++;
      if (count !== lead) out.fill(0, start, start + count);
    }
    return out;
  }
  let text: string | undefined;
  if (codepage === CODEPAGE_WINDOWS_1252) {
    text = decodeWindows1252(bytes);
    if (text === undefined) warn(INVALID_SEQUENCE_WARNING);
  } else {
    const cjk = decodeGlibcCjk(bytes, codepage);
    if (cjk) {
      if ('text' in cjk) text = cjk.text;
      else if (cjk.error === 'invalid') warn(INVALID_SEQUENCE_WARNING);
    } else {
      const label = WHATWG.get(codepage);
      text = label ? decodeStrict(bytes, label, warn) : Buffer.from(bytes).toString('latin1');
    }
  }
  return text === undefined ? undefined : new Uint8Array(Buffer.from(text, 'utf8'));
}
