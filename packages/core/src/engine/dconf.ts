import type { Logger } from '../util/logger.js';

/**
 * ClamAV's dynamic engine configuration (DCONF): one 32-bit word per module whose bits switch
 * parsers, unpackers and heuristics on and off. Databases change it with `.cfg` lines (see
 * signatures/dconf-db.ts); the engine keeps the result, and scans ask named questions of it
 * (`engine.dconf.pe.swizzor`) instead of testing bits.
 */

/** The modules, in the order ClamAV lists them. */
export const DCONF_MODULES = ['pe', 'elf', 'macho', 'archive', 'document', 'mail', 'other', 'phishing', 'bytecode', 'stats', 'pcre'] as const;
export type DconfModule = (typeof DCONF_MODULES)[number];

/** One switch of a module: the name a query uses, the name ClamAV prints, its bit, its default. */
interface DconfOptionSpec {
  readonly module: DconfModule;
  readonly query: string;
  readonly label: string;
  readonly bit: number;
  readonly on: boolean;
}

const option = <M extends DconfModule, Q extends string>(module: M, query: Q, label: string, bit: number, on = true) =>
  ({ module, query, label, bit, on }) as const;

/** Every option, in the order of ClamAV's table (which is the order of the debug listing). */
export const DCONF_OPTIONS = [
  option('pe', 'parite', 'PARITE', 0x1),
  option('pe', 'kriz', 'KRIZ', 0x2),
  option('pe', 'magistr', 'MAGISTR', 0x4),
  option('pe', 'polipos', 'POLIPOS', 0x8),
  option('pe', 'md5sect', 'MD5SECT', 0x10),
  option('pe', 'upx', 'UPX', 0x20),
  option('pe', 'fsg', 'FSG', 0x40),
  option('pe', 'swizzor', 'SWIZZOR', 0x80, false),
  option('pe', 'petite', 'PETITE', 0x100),
  option('pe', 'pespin', 'PESPIN', 0x200),
  option('pe', 'yc', 'YC', 0x400),
  option('pe', 'wwpack', 'WWPACK', 0x800),
  option('pe', 'nspack', 'NSPACK', 0x1000),
  option('pe', 'mew', 'MEW', 0x2000),
  option('pe', 'upack', 'UPACK', 0x4000),
  option('pe', 'aspack', 'ASPACK', 0x8000),
  option('pe', 'catalog', 'CATALOG', 0x10000),
  option('pe', 'certs', 'CERTS', 0x20000),
  option('pe', 'matchicon', 'MATCHICON', 0x40000),
  option('pe', 'imptbl', 'IMPTBL', 0x80000),
  option('elf', 'enabled', '', 0x1),
  option('macho', 'enabled', '', 0x1),
  option('archive', 'rar', 'RAR', 0x1),
  option('archive', 'zip', 'ZIP', 0x2),
  option('archive', 'gzip', 'GZIP', 0x4),
  option('archive', 'bzip', 'BZIP', 0x8),
  option('archive', 'arj', 'ARJ', 0x1000),
  option('archive', 'szdd', 'SZDD', 0x10),
  option('archive', 'cab', 'CAB', 0x20),
  option('archive', 'chm', 'CHM', 0x40),
  option('archive', 'ole2', 'OLE2', 0x80),
  option('archive', 'tar', 'TAR', 0x100),
  option('archive', 'cpio', 'CPIO', 0x4000),
  option('archive', 'binhex', 'BINHEX', 0x200),
  option('archive', 'sis', 'SIS', 0x400),
  option('archive', 'nsis', 'NSIS', 0x800),
  option('archive', 'autoit', 'AUTOIT', 0x2000),
  option('archive', 'ishield', 'ISHIELD', 0x8000),
  option('archive', 'sevenZip', '7zip', 0x10000),
  option('archive', 'iso9660', 'ISO9660', 0x20000),
  option('archive', 'dmg', 'DMG', 0x40000),
  option('archive', 'xar', 'XAR', 0x80000),
  option('archive', 'hfsplus', 'HFSPLUS', 0x100000),
  option('archive', 'xz', 'XZ', 0x200000),
  option('archive', 'passwd', 'PASSWD', 0x400000),
  option('archive', 'mbr', 'MBR', 0x800000),
  option('archive', 'gpt', 'GPT', 0x1000000),
  option('archive', 'apm', 'APM', 0x2000000),
  option('archive', 'egg', 'EGG', 0x4000000),
  option('archive', 'udf', 'UDF', 0x8000000),
  option('archive', 'lha', 'LHA', 0x10000000),
  option('archive', 'alz', 'ALZ', 0x20000000),
  option('document', 'html', 'HTML', 0x1),
  option('document', 'rtf', 'RTF', 0x2),
  option('document', 'pdf', 'PDF', 0x4),
  option('document', 'script', 'SCRIPT', 0x8),
  option('document', 'htmlSkipRaw', 'HTMLSKIPRAW', 0x10),
  option('document', 'jsnorm', 'JSNORM', 0x20),
  option('document', 'swf', 'SWF', 0x40),
  option('document', 'ooxml', 'OOXML', 0x100),
  option('document', 'msxml', 'MSPML', 0x80),
  option('document', 'hwp', 'HWP', 0x200),
  option('document', 'onenote', 'ONENOTE', 0x400),
  option('mail', 'mbox', 'MBOX', 0x1),
  option('mail', 'tnef', 'TNEF', 0x2),
  option('other', 'uuencoded', 'UUENCODED', 0x1),
  option('other', 'screnc', 'SCRENC', 0x2),
  option('other', 'riff', 'RIFF', 0x4),
  option('other', 'jpeg', 'JPEG', 0x8),
  option('other', 'cryptff', 'CRYPTFF', 0x10),
  option('other', 'dlp', 'DLP', 0x20),
  option('other', 'mydoomlog', 'MYDOOMLOG', 0x40),
  option('other', 'prefiltering', 'PREFILTERING', 0x80),
  option('other', 'pdfNameObj', 'PDFNAMEOBJ', 0x100),
  option('other', 'partitionIntersection', 'PRTNINTXN', 0x200),
  option('other', 'lzw', 'LZW', 0x400),
  option('other', 'gif', 'GIF', 0x1000),
  option('other', 'png', 'PNG', 0x800),
  option('other', 'tiff', 'TIFF', 0x2000),
  option('other', 'imageFuzzyHash', 'IMAGE FUZZY HASH', 0x4000),
  option('phishing', 'engine', 'ENGINE', 0x1),
  option('phishing', 'entconv', 'ENTCONV', 0x2),
  option('bytecode', 'interpreter', 'INTERPRETER', 0x1),
  option('bytecode', 'jitX86', 'JIT X86', 0x2),
  option('bytecode', 'jitPpc', 'JIT PPC', 0x4),
  option('bytecode', 'jitArm', 'JIT ARM', 0x8, false),
  option('stats', 'disabled', 'DISABLED', 0x1, false),
  option('stats', 'peSectionDisabled', 'PESECTION DISABLED', 0x2, false),
  option('pcre', 'support', 'SUPPORT', 0x1),
  option('pcre', 'options', 'OPTIONS', 0x2),
  option('pcre', 'global', 'GLOBAL', 0x4),
] as const satisfies readonly DconfOptionSpec[];

type OptionOf<M extends DconfModule> = Extract<(typeof DCONF_OPTIONS)[number], { module: M }>['query'];

/** The raw words, one per module: plain data, kept in the engine cache and sent to worker threads. */
export type DconfWords = Record<DconfModule, number>;

/** The named questions: `dconf.archive.zip` is whether ClamAV's ARCHIVE ZIP bit is set. */
export type DconfFlags = { readonly [M in DconfModule]: { readonly [O in OptionOf<M>]: boolean } };

/** An engine's DCONF: its words and the named flags read from them. */
export type Dconf = DconfFlags & { readonly words: Readonly<DconfWords> };

/** A DCONF option named by module and query name, for tables that map options to what they gate. */
export type DconfOption = { [M in DconfModule]: readonly [M, OptionOf<M>] }[DconfModule];

/** ClamAV's cli_dconf_init: every default-on option's bit set. */
export function defaultDconfWords(): DconfWords {
  const words = Object.fromEntries(DCONF_MODULES.map((module) => [module, 0])) as DconfWords;
  for (const spec of DCONF_OPTIONS) if (spec.on) words[spec.module] |= spec.bit;
  return words;
}

export function dconfOf(words: Readonly<DconfWords>): Dconf {
  const flags = Object.fromEntries(DCONF_MODULES.map((module) => [module, {} as Record<string, boolean>]));
  for (const spec of DCONF_OPTIONS) flags[spec.module]![spec.query] = (words[spec.module] & spec.bit) !== 0;
  return Object.freeze({ ...(flags as unknown as DconfFlags), words: Object.freeze({ ...words }) });
}

/** Is the option on? For code that holds an option from a table rather than naming it. */
export function dconfAllows(dconf: Dconf, [module, query]: DconfOption): boolean {
  return (dconf[module] as Record<string, boolean>)[query] === true;
}

export const DEFAULT_DCONF: Dconf = dconfOf(defaultDconfWords());

/** How ClamAV names a module in `.cfg` lines and in its listing. */
export function dconfModuleName(module: DconfModule): string {
  return module.toUpperCase();
}

/**
 * These modules' headings have a colon after the name; the later ones have none. ELF and
 * MACHO list no options, and MACHO's heading shows the ELF word (both as ClamAV prints them).
 */
const HEADING_WITH_COLON: ReadonlySet<DconfModule> = new Set(['pe', 'elf', 'macho', 'archive', 'document', 'mail', 'other']);
const WITHOUT_OPTION_LINES: ReadonlySet<DconfModule> = new Set(['elf', 'macho']);
const HEADING_WORD: Partial<Record<DconfModule, DconfModule>> = { macho: 'elf' };

/** ClamAV's cli_dconf_print: the listing clamscan --debug shows once the engine is compiled. */
export function dconfListing(words: Readonly<DconfWords>): string[] {
  const lines = ['Dynamic engine configuration settings:', '--------------------------------------'];
  for (const module of DCONF_MODULES) {
    const word = words[module];
    const heading = words[HEADING_WORD[module] ?? module] !== 0 ? 'On' : 'Off';
    lines.push(`Module ${dconfModuleName(module)}${HEADING_WITH_COLON.has(module) ? ':' : ''} ${heading}`);
    if (word === 0 || WITHOUT_OPTION_LINES.has(module)) continue;
    for (const spec of DCONF_OPTIONS) {
      if (spec.module !== module) continue;
      lines.push(`   * Submodule ${spec.label.padStart(10)}:\t${(word & spec.bit) !== 0 ? 'On' : '** Off **'}`);
    }
  }
  return lines;
}

export function logDconf(words: Readonly<DconfWords>, logger: Logger): void {
  if (!logger.debugEnabled) return;
  for (const line of dconfListing(words)) logger.debug(line);
}
