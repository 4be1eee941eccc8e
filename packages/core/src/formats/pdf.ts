import type { ExtractionContext, ExtractedObject, FormatHandler } from './handler.js';
import { guarded } from './compression/guard.js';
import { ascii } from './documents/bytes.js';
import { indexOfBytes } from '../util/byte-search.js';
import { PdfDocument } from './documents/pdf-document.js';

/**
 * PDF (libclamav's cli_pdf): every object ClamAV dumps, in its order — streams decoded through
 * their filters (Flate, ASCIIHex, ASCII85, LZW, RunLength; the raw stream when none decodes),
 * /JS JavaScript strings, objects flagged as JavaScript, OpenAction, Launch, embedded files or
 * page contents (plus the normalised text of content streams), and the objects held in object
 * streams. See documents/pdf-document.ts for the parsing rules.
 *
 * Encrypted documents are decrypted when an empty password opens them (documents/pdf-crypt.ts);
 * the others are reported as Heuristics.Encrypted.PDF. Heuristics.PDF.ObfuscatedNameObject is
 * reported for a common name spelled with #xx escapes.
 */

/** ClamAV looks for the header in the first 1032 bytes. */
const HEADER_WINDOW = 1032;
/** …and for the trailer in the last 2048. */
const TRAILER_WINDOW = 2048;
const HEADER = ascii('%PDF-');

export const pdfHandler: FormatHandler = {
  name: 'pdf',
  fileTypes: ['CL_TYPE_PDF'],
  scanSwitch: 'pdf',
  extract: (data, ctx) => guarded('cli_pdf', extractPdf(data, ctx), ctx),
};

function* extractPdf(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  const header = indexOfBytes(data, HEADER, 0, Math.min(HEADER_WINDOW, data.length));
  if (header === -1) {
    ctx.debug('cli_pdf: no PDF- header found');
    return;
  }
  if (Math.min(HEADER_WINDOW, data.length) - header < 8) return;
  const document = new PdfDocument(data.subarray(header), {
    limit: ctx.maxObjectSize,
    warn: (message) => ctx.warning(message),
  });
  if (hasTrailer(data)) document.parseTrailer(data.subarray(Math.max(0, data.length - TRAILER_WINDOW)));
  document.findObjects();
  if (document.encrypted) {
    ctx.debug(`pdf_find_and_extract_objs: encrypted pdf found, ${document.decryptable ? 'decryptable' : 'not decryptable'}`);
    // Only a document an empty password does not open counts as encrypted.
    if (!document.decryptable) ctx.heuristic('encrypted-doc', 'Heuristics.Encrypted.PDF');
  }
  for (const dump of document.extract()) yield { data: dump.data, name: dump.name };
  if (document.obfuscatedNames) ctx.heuristic('heuristic', 'Heuristics.PDF.ObfuscatedNameObject');
}

/** ClamAV only reads the trailer when it finds `%%EOF` and, before it, `startxref`. */
function hasTrailer(data: Uint8Array): boolean {
  const start = Math.max(0, data.length - TRAILER_WINDOW);
  const eof = lastIndexBefore(data, start, data.length - 5, '%%EOF');
  return eof !== -1 && lastIndexBefore(data, start, eof - 9, 'startxref') !== -1;
}

/** The last occurrence of `text` starting at or before `from` and strictly after `start`. */
function lastIndexBefore(data: Uint8Array, start: number, from: number, text: string): number {
  outer: for (let q = from; q > start; q--) {
    for (let i = 0; i < text.length; i++) if (data[q + i] !== text.charCodeAt(i)) continue outer;
    return q;
  }
  return -1;
}
