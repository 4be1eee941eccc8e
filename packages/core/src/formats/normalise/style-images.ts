/**
 * Images embedded in CSS (`url(data:image/png;base64,…)`) of `<style>` blocks, which ClamAV
 * (libclamav_rust css_image_extract.rs) decodes and scans like files.
 *
 * For each `url`: optional white space, `(`, then the argument up to the matching `)`; the
 * argument, trimmed and stripped of double quotes, must be `data:` followed by a media type up
 * to `;`, then `base64` (white space allowed before it) and `,`. The rest must be canonical
 * standard base64 (padded, no white space, unused bits zero), or it is skipped.
 */

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$/;

/** Unicode white space as Rust's `char::is_whitespace` sees it, for the ASCII/Latin-1 range. */
function isWhite(c: string): boolean {
  return /[\t\n\v\f\r \u0085\u00a0]/.test(c);
}

function trim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isWhite(text[start]!)) start++;
  while (end > start && isWhite(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/** Skips white space before `expected`; the index after it, or -1 when something else comes first. */
function after(text: string, from: number, expected: string): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === expected) return i + 1;
    if (!isWhite(text[i]!)) return -1;
  }
  return -1;
}

/** The base64 payloads of `url(data:…;base64,…)` arguments, in order. */
function* base64Urls(css: string): Generator<string> {
  let rest = css;
  for (;;) {
    const url = rest.indexOf('url');
    if (url === -1) return;
    rest = rest.slice(url + 3);
    const open = after(rest, 0, '(');
    if (open === -1) continue;
    rest = rest.slice(open);
    let depth = 1;
    let close = -1;
    for (let i = 0; i < rest.length && close === -1; i++) {
      if (rest[i] === '(') depth++;
      else if (rest[i] === ')') {
        if (depth > 1) depth--;
        else close = i;
      }
    }
    if (close === -1) return;
    let argument = trim(trim(rest.slice(0, close)).replace(/^"+|"+$/g, ''));
    rest = rest.slice(close);
    if (!argument.startsWith('data:')) continue;
    argument = argument.slice(5);
    const semicolon = argument.indexOf(';');
    if (semicolon === -1) continue;
    argument = argument.slice(semicolon + 1);
    const b = after(argument, 0, 'b');
    if (b === -1 || !argument.startsWith('ase64', b)) continue;
    const comma = after(argument, b + 5, ',');
    if (comma === -1) continue;
    yield argument.slice(comma).replace(/^[\t\n\v\f\r \u0085\u00a0]+/, '');
  }
}

/** Decoded images of a style sheet (a binary string); undecodable payloads are skipped. */
export function extractStyleImages(css: string): Uint8Array[] {
  const images: Uint8Array[] = [];
  for (const payload of base64Urls(css)) {
    if (STRICT_BASE64.test(payload)) images.push(new Uint8Array(Buffer.from(payload, 'base64')));
  }
  return images;
}
