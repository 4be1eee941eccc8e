import { arjHandler } from './arj.js';
import { autoitHandler } from './autoit.js';
import { bzip2Handler } from './bzip2.js';
import { cabHandler } from './cab.js';
import { chmHandler } from './chm.js';
import { cpioCrcHandler, cpioNewcHandler, cpioOdcHandler, cpioOldHandler } from './cpio.js';
import { gzipHandler } from './gzip.js';
import type { FormatHandler, ScanSwitch } from './handler.js';
import { createInstallShieldMsiHandler } from './installshield-msi.js';
import type { InstallShieldLimits } from './installshield-cab.js';
import { iso9660Handler } from './iso9660.js';
import { machoUnibinHandler } from './macho-unibin.js';
import { nsisHandler } from './nsis.js';
import { sevenZipHandler } from './sevenzip.js';
import { sisHandler } from './sis.js';
import { szddHandler } from './szdd.js';
import { oldTarHandler, tarHandler } from './tar.js';
import { xzHandler } from './xz.js';
import { zipHandler, zipSfxHandler } from './zip.js';
import { scanOptions, type ScanOptions } from '../engine/scan-options.js';
import { DEFAULT_DCONF, type Dconf } from '../engine/dconf.js';
import { dconfParses } from './dconf-gates.js';
import { createHtmlHandlers, scriptEncodedHandler, type HtmlLimits } from './html.js';
import { binhexHandler, createMailHandler, uuencodedHandler, type MailOptions } from './mail.js';
import { createOle2Handler, type Ole2Limits } from './ole2.js';
import { ooxmlHandler } from './ooxml.js';
import { pdfHandler } from './pdf.js';
import { createRarHandler, type RarOptions } from './rar.js';
import { rtfHandler } from './rtf.js';
import { tnefHandler } from './tnef.js';

/** The limits and settings some handlers apply inside the documents they unpack. */
interface HandlerSettings {
  readonly mail: MailOptions;
  readonly ole2: Ole2Limits;
  readonly html: HtmlLimits;
  readonly rar: RarOptions;
  readonly installShield: InstallShieldLimits;
}

/**
 * What the document handlers apply inside documents: the scan's own limits, as in ClamAV. Mail
 * links are checked only while DCONF's phishing engine is on.
 */
function handlerSettings({ limits, phishingScanUrls, alerts }: ScanOptions, dconf: Dconf): HandlerSettings {
  return {
    mail: { maxRecursion: limits.maxRecursion, maxFiles: limits.maxFiles, phishingScanUrls: phishingScanUrls && dconf.phishing.engine },
    ole2: { maxRecursion: limits.maxRecursion, maxFiles: limits.maxFiles, maxFileSize: limits.maxFileSize },
    html: { maxHtmlNormalize: limits.maxHtmlNormalize, maxHtmlNoTags: limits.maxHtmlNoTags },
    rar: { alertEncrypted: alerts.has('encrypted-archive') },
    installShield: { maxFiles: limits.maxFiles, maxFileSize: limits.maxFileSize },
  };
}

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
    createRarHandler(settings.rar),
    arjHandler,
    cabHandler,
    chmHandler,
    iso9660Handler,
    sisHandler,
    createInstallShieldMsiHandler(settings.installShield),
    autoitHandler,
    nsisHandler,
    machoUnibinHandler,
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

/** The handlers of one scanner, configured by its options and its engine's DCONF, found by file type. */
export class FormatHandlers {
  private readonly byFileType = new Map<string, FormatHandler>();

  constructor(
    options: ScanOptions,
    private readonly dconf: Dconf = DEFAULT_DCONF,
  ) {
    for (const handler of allHandlers(handlerSettings(options, dconf))) {
      for (const type of handler.fileTypes) {
        if (this.byFileType.has(type)) throw new Error(`two handlers for ${type}`);
        this.byFileType.set(type, handler);
      }
    }
  }

  /**
   * The handler for a file type, unless its `--scan-*` switch or its DCONF option is off, or it
   * unpacks only what the raw scan recognises inside a file and this was not `recognised` there.
   */
  for(fileType: string, disabled: ReadonlySet<ScanSwitch>, recognised = false): FormatHandler | undefined {
    const handler = this.byFileType.get(fileType);
    if (!handler || (handler.scanSwitch !== undefined && disabled.has(handler.scanSwitch)) || !dconfParses(this.dconf, fileType)) return undefined;
    return recognised || !handler.recognisedOnly ? handler : undefined;
  }
}

/** Every handler, with ClamAV's default limits (for listings). */
export function registeredHandlers(): readonly FormatHandler[] {
  return allHandlers(handlerSettings(scanOptions(), DEFAULT_DCONF));
}
