import { DEFAULT_LIMITS } from '../engine/scan-options.js';
import type { ExtractionContext, FormatHandler, ExtractedObject } from './handler.js';
import { guarded } from './compression/guard.js';
import { normaliseHtml } from './normalise/html.js';
import { decodeScriptEncodedFile } from './normalise/script-encoder.js';

/**
 * HTML documents (libclamav's cli_scanhtml): the document is normalised and ClamAV scans the
 * views instead of the raw markup — `nocomment.html` and `notags.html` as CL_TYPE_HTML, the
 * normalised scripts as CL_TYPE_HTML and then as CL_TYPE_TEXT_ASCII — and unpacks what the markup
 * embeds: images in `<style>` blocks and `data:` URIs (as small MIME messages).
 *
 * UTF-16 HTML is first folded to bytes the way ClamAV does it, and Microsoft Script Encoder files
 * (CL_TYPE_SCRENC) are decoded into a `<script>` document that is scanned as a new file.
 */

export interface HtmlLimits {
  /** clamd MaxHTMLNormalize / --max-htmlnormalize: larger documents are not normalised. */
  readonly maxHtmlNormalize: number;
  /** clamd MaxHTMLNoTags / --max-htmlnotags: larger documents get no `notags` view. */
  readonly maxHtmlNoTags: number;
}

/** ClamAV 1.4's defaults. */
export const DEFAULT_HTML_LIMITS: HtmlLimits = { maxHtmlNormalize: DEFAULT_LIMITS.maxHtmlNormalize, maxHtmlNoTags: DEFAULT_LIMITS.maxHtmlNoTags };

/** The bytes ClamAV makes of UTF-16 HTML: each 16-bit unit becomes (high << 4) + low, mod 256. */
export function foldUtf16Html(data: Uint8Array): Uint8Array {
  // ClamAV converts 64 KiB blocks; a trailing odd byte of a block is dropped.
  const BLOCK = 65536;
  const out = new Uint8Array(data.length >>> 1);
  let j = 0;
  for (let at = 0; at < data.length; at += BLOCK) {
    const end = at + ((Math.min(BLOCK, data.length - at) >>> 1) << 1);
    if (end - at < 2) continue;
    for (let i = at; i < end; i += 2) out[j++] = ((data[i + 1]! << 4) + data[i]!) & 0xff;
  }
  return out.subarray(0, j);
}

function* extractHtml(data: Uint8Array, ctx: ExtractionContext, utf16: boolean, limits: HtmlLimits): Generator<ExtractedObject> {
  const html = utf16 ? foldUtf16Html(data) : data;
  if (html.length > limits.maxHtmlNormalize) {
    ctx.debug('cli_scanhtml: exiting (file larger than MaxHTMLNormalize)');
    return;
  }
  const views = normaliseHtml(html);
  for (const image of views.styleImages) yield { data: image };
  yield { data: views.nocomment, name: 'nocomment.html', scanAs: ['CL_TYPE_HTML'], normalised: true };
  if (html.length > limits.maxHtmlNoTags) ctx.debug('cli_scanhtml: skipping notags (normalized size over MaxHTMLNoTags)');
  else yield { data: views.notags, name: 'notags.html', scanAs: ['CL_TYPE_HTML'], normalised: true };
  if (views.javascript) {
    yield { data: views.javascript, name: 'javascript', scanAs: ['CL_TYPE_HTML', 'CL_TYPE_TEXT_ASCII'], normalised: true };
  }
  for (const uri of views.dataUris) yield { data: uri, name: 'rfc2397', normalised: true };
}

/**
 * The HTML handlers for configured limits: one for CL_TYPE_HTML and one for CL_TYPE_HTML_UTF16
 * ({@link htmlHandler} and {@link htmlUtf16Handler} have ClamAV's defaults).
 */
export function createHtmlHandlers(limits: HtmlLimits = DEFAULT_HTML_LIMITS): { html: FormatHandler; utf16: FormatHandler } {
  return {
    html: {
      name: 'html',
      fileTypes: ['CL_TYPE_HTML'],
      scanSwitch: 'html',
      extract: (data, ctx) => guarded('cli_scanhtml', extractHtml(data, ctx, false, limits), ctx),
    },
    utf16: {
      name: 'html-utf16',
      fileTypes: ['CL_TYPE_HTML_UTF16'],
      scanSwitch: 'html',
      extract: (data, ctx) => guarded('cli_scanhtml_utf16', extractHtml(data, ctx, true, limits), ctx),
    },
  };
}

const defaultHandlers = createHtmlHandlers();
export const htmlHandler: FormatHandler = defaultHandlers.html;
export const htmlUtf16Handler: FormatHandler = defaultHandlers.utf16;

/**
 * Microsoft Script Encoder files (CL_TYPE_SCRENC, magic `#@~^`): the first encoded block is
 * decoded into `<script>…</script>` and scanned as a file of its own. ClamAV has no --scan-*
 * option for this; it follows --scan-html here, the closest switch.
 */
export const scriptEncodedHandler: FormatHandler = {
  name: 'screnc',
  fileTypes: ['CL_TYPE_SCRENC'],
  scanSwitch: 'html',
  extract: (data, ctx) => guarded('cli_scanscrenc', extractScriptEncoded(data), ctx),
};

function* extractScriptEncoded(data: Uint8Array): Generator<ExtractedObject> {
  const decoded = decodeScriptEncodedFile(data);
  if (decoded) yield { data: decoded, name: 'screnc.html' };
}
