import { dconfAllows, type Dconf, type DconfModule, type DconfOption } from '../engine/dconf.js';

/** An option that must be on, or a module without options (MACHO) whose word must not be 0. */
type DconfGate = DconfOption | DconfModule;

/**
 * The DCONF option that must be on for ClamAV to parse each file type (scanners.c tests them
 * beside the `--scan-*` switches, for the type itself and for the types the raw scan finds
 * embedded in another file). Types not listed here are parsed whatever DCONF says.
 */
const GATES: ReadonlyMap<string, DconfGate> = new Map<string, DconfGate>([
  ['CL_TYPE_RAR', ['archive', 'rar']],
  ['CL_TYPE_ZIP', ['archive', 'zip']],
  ['CL_TYPE_ZIPSFX', ['archive', 'zip']],
  ['CL_TYPE_GZ', ['archive', 'gzip']],
  ['CL_TYPE_BZ', ['archive', 'bzip']],
  ['CL_TYPE_XZ', ['archive', 'xz']],
  ['CL_TYPE_ARJ', ['archive', 'arj']],
  ['CL_TYPE_MSSZDD', ['archive', 'szdd']],
  ['CL_TYPE_MSCAB', ['archive', 'cab']],
  ['CL_TYPE_MSCHM', ['archive', 'chm']],
  ['CL_TYPE_MSOLE2', ['archive', 'ole2']],
  ['CL_TYPE_POSIX_TAR', ['archive', 'tar']],
  ['CL_TYPE_OLD_TAR', ['archive', 'tar']],
  ['CL_TYPE_CPIO_OLD', ['archive', 'cpio']],
  ['CL_TYPE_CPIO_ODC', ['archive', 'cpio']],
  ['CL_TYPE_CPIO_NEWC', ['archive', 'cpio']],
  ['CL_TYPE_CPIO_CRC', ['archive', 'cpio']],
  ['CL_TYPE_BINHEX', ['archive', 'binhex']],
  ['CL_TYPE_SIS', ['archive', 'sis']],
  ['CL_TYPE_NULSFT', ['archive', 'nsis']],
  ['CL_TYPE_AUTOIT', ['archive', 'autoit']],
  ['CL_TYPE_ISHIELD_MSI', ['archive', 'ishield']],
  ['CL_TYPE_7Z', ['archive', 'sevenZip']],
  ['CL_TYPE_ISO9660', ['archive', 'iso9660']],
  ['CL_TYPE_HTML', ['document', 'html']],
  ['CL_TYPE_HTML_UTF16', ['document', 'html']],
  ['CL_TYPE_RTF', ['document', 'rtf']],
  ['CL_TYPE_PDF', ['document', 'pdf']],
  ['CL_TYPE_OOXML_WORD', ['document', 'ooxml']],
  ['CL_TYPE_OOXML_PPT', ['document', 'ooxml']],
  ['CL_TYPE_OOXML_XL', ['document', 'ooxml']],
  ['CL_TYPE_OOXML_HWP', ['document', 'ooxml']],
  ['CL_TYPE_MAIL', ['mail', 'mbox']],
  ['CL_TYPE_MHTML', ['mail', 'mbox']],
  ['CL_TYPE_TNEF', ['mail', 'tnef']],
  ['CL_TYPE_UUENCODED', ['other', 'uuencoded']],
  ['CL_TYPE_SCRENC', ['other', 'screnc']],
  ['CL_TYPE_MACHO_UNIBIN', 'macho'],
]);

/** Does DCONF let ClamAV parse this file type? */
export function dconfParses(dconf: Dconf, fileType: string): boolean {
  const gate = GATES.get(fileType);
  if (gate === undefined) return true;
  return typeof gate === 'string' ? dconf.words[gate] !== 0 : dconfAllows(dconf, gate);
}
