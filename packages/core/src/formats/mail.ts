import { DEFAULT_LIMITS } from '../engine/scan-options.js';
import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { guarded } from './compression/guard.js';
import { decodeBinhex } from './documents/binhex.js';
import { decodeUuencodedFile, parseMail } from './documents/mail-parser.js';

/**
 * E-mail (libclamav's cli_scanmail / mbox.c): UNIX mailboxes and single RFC 822 messages, with
 * MIME multiparts nested to any depth, base64, quoted-printable, uuencoded, yEnc and BinHex
 * content, bounced messages and text portions — every file ClamAV writes for scanning, under
 * the (sanitised) names it gives them. See documents/mail-parser.ts for the rules.
 *
 * Also the two encodings ClamAV types on their own: BinHex files (CL_TYPE_BINHEX, both forks)
 * and uuencoded files (CL_TYPE_UUENCODED).
 */

export interface MailOptions {
  /** Nesting depth of MIME parts followed (ClamAV reuses --max-recursion, default 17). */
  readonly maxRecursion: number;
  /** Files one message may produce before parsing stops (--max-files, default 10000). */
  readonly maxFiles: number;
  /**
   * --phishing-scan-urls / PhishingScanURLs (default on): the links of text parts are checked
   * (ExtractionContext.checkLinks), which also changes how some of them are saved (see
   * MailParserOptions.phishingScanUrls).
   */
  readonly phishingScanUrls: boolean;
}

export const DEFAULT_MAIL_OPTIONS: MailOptions = { maxRecursion: DEFAULT_LIMITS.maxRecursion, maxFiles: DEFAULT_LIMITS.maxFiles, phishingScanUrls: true };

/** The mail handler for configured options ({@link mailHandler} has ClamAV's defaults). */
export function createMailHandler(options: MailOptions = DEFAULT_MAIL_OPTIONS): FormatHandler {
  return {
    name: 'mail',
    fileTypes: ['CL_TYPE_MAIL', 'CL_TYPE_MHTML'],
    scanSwitch: 'mail',
    extract: (data: Uint8Array, ctx: ExtractionContext) => guarded('cli_mbox', extractMail(data, ctx, options), ctx),
  };
}

function* extractMail(data: Uint8Array, ctx: ExtractionContext, options: MailOptions): Generator<ExtractedObject> {
  const files = parseMail(data, {
    ...options,
    heuristic: (name) => ctx.heuristic('exceeds-max', name),
    checkLinks: ctx.checkLinks && ((links) => ctx.checkLinks!(links)),
    debug: (message) => ctx.debug(message),
  });
  for (const file of files) {
    if (file.data.length > ctx.maxObjectSize) {
      ctx.debug(`mail: ${file.name} (${file.data.length} bytes) exceeds the size limit, not scanned`);
      continue;
    }
    yield { data: file.data, name: file.name, compressedSize: file.data.length };
  }
}

export const mailHandler = createMailHandler();

/**
 * BinHex 4.0 files: the data fork, then the resource fork. ClamAV checks BinHex files when it
 * unpacks archives, so --scan-archive turns this off.
 */
export const binhexHandler: FormatHandler = {
  name: 'binhex',
  fileTypes: ['CL_TYPE_BINHEX'],
  scanSwitch: 'archive',
  extract: (data, ctx) => guarded('cli_binhex', extractBinhex(data, ctx), ctx),
};

function* extractBinhex(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  const forks = decodeBinhex(data, ctx.maxObjectSize);
  if (forks.exceeded) ctx.heuristic('exceeds-max', 'Heuristics.Limits.Exceeded.MaxFileSize');
  if (forks.data) yield { data: forks.data };
  if (forks.resource) yield { data: forks.resource };
}

/**
 * Uuencoded files. ClamAV decodes them whatever the --scan-* options are; --scan-mail is the
 * closest switch.
 */
export const uuencodedHandler: FormatHandler = {
  name: 'uuencoded',
  fileTypes: ['CL_TYPE_UUENCODED'],
  scanSwitch: 'mail',
  extract: (data, ctx) => guarded('cli_uuencode', extractUuencoded(data), ctx),
};

function* extractUuencoded(data: Uint8Array): Generator<ExtractedObject> {
  const file = decodeUuencodedFile(data);
  if (file?.data.length) yield { data: file.data, name: file.name };
}
