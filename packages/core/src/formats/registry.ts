import { arjHandler } from './arj.js';
import { cabHandler } from './cab.js';
import { chmHandler } from './chm.js';
import type { FormatHandler, ScanSwitch } from './handler.js';
import { iso9660Handler } from './iso9660.js';
import { sevenZipHandler } from './sevenzip.js';
import { sisHandler } from './sis.js';

/** Every container and document handler ClamTS has; the scanner picks one by file type. */
const HANDLERS: readonly FormatHandler[] = [
  sevenZipHandler,
  arjHandler,
  cabHandler,
  chmHandler,
  iso9660Handler,
  sisHandler,
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
