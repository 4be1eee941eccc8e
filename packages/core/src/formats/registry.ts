import { arjHandler } from './arj.js';
import { bzip2Handler } from './bzip2.js';
import { cabHandler } from './cab.js';
import { chmHandler } from './chm.js';
import { cpioCrcHandler, cpioNewcHandler, cpioOdcHandler, cpioOldHandler } from './cpio.js';
import { gzipHandler } from './gzip.js';
import type { FormatHandler, ScanSwitch } from './handler.js';
import { iso9660Handler } from './iso9660.js';
import { sevenZipHandler } from './sevenzip.js';
import { sisHandler } from './sis.js';
import { szddHandler } from './szdd.js';
import { oldTarHandler, tarHandler } from './tar.js';
import { xzHandler } from './xz.js';
import { zipHandler, zipSfxHandler } from './zip.js';
import { createHtmlHandlers, DEFAULT_HTML_LIMITS, scriptEncodedHandler, type HtmlLimits } from './html.js';
import { binhexHandler, createMailHandler, DEFAULT_MAIL_OPTIONS, uuencodedHandler, type MailOptions } from './mail.js';
import { createOle2Handler, DEFAULT_OLE2_LIMITS, type Ole2Limits } from './ole2.js';
import { ooxmlHandler } from './ooxml.js';
import { pdfHandler } from './pdf.js';
import { rtfHandler } from './rtf.js';
import { tnefHandler } from './tnef.js';

/** The limits and settings some handlers apply inside the documents they unpack. */
export interface HandlerSettings {
  readonly mail: MailOptions;
  readonly ole2: Ole2Limits;
  readonly html: HtmlLimits;
}

export const DEFAULT_HANDLER_SETTINGS: HandlerSettings = {
  mail: DEFAULT_MAIL_OPTIONS,
  ole2: DEFAULT_OLE2_LIMITS,
  html: DEFAULT_HTML_LIMITS,
};

/** Every container and document handler ClamTS has, configured with `settings`. */
function allHandlers(settings: HandlerSettings): readonly FormatHandler[] {
  const html = createHtmlHandlers(settings.html);
  return [
    zipHandler,
    zipSfxHandler,
    gzipHandler,
    bzip2Handler,
    xzHandler,
    tarHandler,
    oldTarHandler,
    cpioOldHandler,
    cpioOdcHandler,
    cpioNewcHandler,
    cpioCrcHandler,
    szddHandler,
    sevenZipHandler,
    arjHandler,
    cabHandler,
    chmHandler,
    iso9660Handler,
    sisHandler,
    createMailHandler(settings.mail),
    binhexHandler,
    uuencodedHandler,
    tnefHandler,
    rtfHandler,
    createOle2Handler(settings.ole2),
    ooxmlHandler,
    pdfHandler,
    html.html,
    html.utf16,
    scriptEncodedHandler,
  ];
}

/** The handlers of one scanner, found by file type; the scanner picks one per object. */
export class FormatHandlers {
  private readonly byFileType = new Map<string, FormatHandler>();

  constructor(settings: HandlerSettings = DEFAULT_HANDLER_SETTINGS) {
    for (const handler of allHandlers(settings)) {
      for (const type of handler.fileTypes) {
        if (this.byFileType.has(type)) throw new Error(`two handlers for ${type}`);
        this.byFileType.set(type, handler);
      }
    }
  }

  /** The handler for a file type, unless its `--scan-*` switch is off. */
  for(fileType: string, disabled: ReadonlySet<ScanSwitch>): FormatHandler | undefined {
    const handler = this.byFileType.get(fileType);
    return handler && !disabled.has(handler.scanSwitch) ? handler : undefined;
  }
}

/** Every handler, with ClamAV's default limits (for listings). */
export function registeredHandlers(): readonly FormatHandler[] {
  return allHandlers(DEFAULT_HANDLER_SETTINGS);
}
