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
import { htmlHandler, htmlUtf16Handler, scriptEncodedHandler } from './html.js';
import { binhexHandler, mailHandler, uuencodedHandler } from './mail.js';
import { ole2Handler } from './ole2.js';
import { ooxmlHandler } from './ooxml.js';
import { pdfHandler } from './pdf.js';
import { rtfHandler } from './rtf.js';
import { tnefHandler } from './tnef.js';

/** Every container and document handler ClamTS has; the scanner picks one by file type. */
const HANDLERS: readonly FormatHandler[] = [
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
  mailHandler,
  binhexHandler,
  uuencodedHandler,
  tnefHandler,
  rtfHandler,
  ole2Handler,
  ooxmlHandler,
  pdfHandler,
  htmlHandler,
  htmlUtf16Handler,
  scriptEncodedHandler,
];

const byFileType = new Map<string, FormatHandler>();
for (const handler of HANDLERS) {
  for (const type of handler.fileTypes) {
    if (byFileType.has(type)) throw new Error(`two handlers for ${type}`);
    byFileType.set(type, handler);
  }
}

/** The handler for a file type, unless its `--scan-*` switch is off. */
export function handlerFor(fileType: string, disabled: ReadonlySet<ScanSwitch>): FormatHandler | undefined {
  const handler = byFileType.get(fileType);
  return handler && !disabled.has(handler.scanSwitch) ? handler : undefined;
}

export function registeredHandlers(): readonly FormatHandler[] {
  return HANDLERS;
}
