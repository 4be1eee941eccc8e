import type { HtmlLink } from '../normalise/html.js';
import { binaryString } from './bytes.js';

/** The longest URL taken from text (ClamAV's buffer of 1024 bytes, less its NUL). */
const MAX_URL_LENGTH = 1023;
/** 'http' and 'ftp:' read as little-endian 32-bit words, lower-cased by OR-ing 0x20 into each byte. */
const HTTP = 0x70747468;
const FTP = 0x3a707466;

/**
 * mbox.c extract_text_urls: the links of a mail part in which the HTML normaliser found none,
 * each `http:`, `https:` or `ftp:` (ClamAV's loose test of the scheme kept) up to the next space,
 * newline or tab. They are real links without text: only the URL hash lookups can flag them.
 */
export function extractTextUrls(data: Uint8Array): HtmlLink[] {
  const links: HtmlLink[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let offset = 0; offset + 10 < data.length; offset++) {
    const scheme = (view.getUint32(offset, true) | 0x20202020) >>> 0;
    const isHttp = scheme === HTTP && (data[offset + 4] === 0x3a || (data[offset + 5] === 0x73 && data[offset + 6] === 0x3a));
    if (!isHttp && scheme !== FTP) continue;
    let length = 4;
    while (offset + length < data.length && length < MAX_URL_LENGTH && !isUrlEnd(data[offset + length]!)) length++;
    const url = data.subarray(offset, offset + length);
    const nul = url.indexOf(0);
    links.push({ tag: 'href', value: binaryString(url, 0, nul === -1 ? length : nul) });
    offset += length;
  }
  return links;
}

const isUrlEnd = (c: number) => c === 0x20 || c === 0x0a || c === 0x09;
