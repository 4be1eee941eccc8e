import type { DatabaseContext } from './database-context.js';
import type { DatabaseInput } from './database-input.js';
import { loadBodyDatabase, type BodyFormat } from './body-db.js';
import { loadCatalogDatabase, loadCrbDatabase } from './crb.js';
import { loadDconfDatabase } from './dconf-db.js';
import { loadHashDatabase, type HashPurpose } from './hash-db.js';
import { loadIconDatabase } from './icon-db.js';
import { loadIgnoreDatabase } from './ignore-db.js';
import { loadPasswordDatabase } from './pwdb.js';
import { DATABASE_LINE_BUFFER, LOGICAL_LINE_BUFFER } from './lines.js';
import { loadUrlListDatabase, type UrlList } from './url-list-db.js';

/** Loads one database file into `ctx.engine`; returns the number of signatures loaded. */
export type FormatLoader = (input: DatabaseInput, ctx: DatabaseContext) => number;

export interface DatabaseFormat {
  /** File-name endings, matched case-insensitively, as ClamAV's cli_strbcasestr does. */
  readonly suffixes: readonly string[];
  /** Loaded only when that option is on, otherwise skipped (like ClamAV). */
  readonly requires?: 'pua' | 'phishing' | 'bytecode';
  /** Absent while ClamTS does not implement the format yet: the file is skipped with a debug line. */
  readonly load?: FormatLoader;
  /** The size of the buffer ClamAV's loader reads its lines into, when not DATABASE_LINE_BUFFER. */
  readonly lineBuffer?: number;
}

const hashes =
  (purpose: HashPurpose, pick: (ctx: DatabaseContext) => Parameters<typeof loadHashDatabase>[2]): FormatLoader =>
  (input, ctx) =>
    loadHashDatabase(input, purpose, pick(ctx), ctx);

const importHashes: FormatLoader = (input, ctx) => {
  ctx.engine.importHashesLoaded = true;
  return loadHashDatabase(input, 'pe-import', ctx.engine.importHashes, ctx);
};

const body =
  (format: BodyFormat): FormatLoader =>
  (input, ctx) =>
    loadBodyDatabase(input, format, ctx.engine.body, ctx);

const fileTypeMagic: FormatLoader = (input, ctx) => {
  ctx.engine.addFileTypes({ data: input.whole(), path: ctx.path, official: ctx.official }, ctx.logger);
  return 0;
};

const urlList =
  (list: UrlList): FormatLoader =>
  (input, ctx) =>
    // With DCONF's phishing engine off ClamAV passes over these files unread.
    ctx.engine.dconf.phishing.engine ? loadUrlListDatabase(input, list, ctx) : 0;

const ignoreList: FormatLoader = (input, ctx) => {
  loadIgnoreDatabase(input.whole(), ctx.path, ctx.engine.ignored, ctx.logger);
  return 0;
};

/**
 * Every database format ClamAV 1.4 knows, in the order ClamAV's cli_load tests the endings
 * (the order matters: `.fp` also ends `.sfp`, `.ign` is tested before `.ign2`).
 * Containers (.cvd/.cld/.cud) are handled by the loader itself.
 */
export const DATABASE_FORMATS: readonly DatabaseFormat[] = [
  { suffixes: ['.db'] },
  { suffixes: ['.crb'], load: loadCrbDatabase },
  { suffixes: ['.hdb', '.hsb'], load: hashes('file', (ctx) => ctx.engine.fileHashes) },
  { suffixes: ['.hdu', '.hsu'], requires: 'pua', load: hashes('file', (ctx) => ctx.engine.fileHashes) },
  { suffixes: ['.fp', '.sfp'], load: hashes('allow', (ctx) => ctx.engine.allowHashes) },
  { suffixes: ['.mdb', '.msb'], load: hashes('pe-section', (ctx) => ctx.engine.sectionHashes) },
  { suffixes: ['.imp'], load: importHashes },
  { suffixes: ['.mdu', '.msu'], requires: 'pua', load: hashes('pe-section', (ctx) => ctx.engine.sectionHashes) },
  { suffixes: ['.ndb'], load: body('ndb') },
  { suffixes: ['.ndu'], requires: 'pua', load: body('ndb') },
  { suffixes: ['.ldb'], load: body('ldb'), lineBuffer: LOGICAL_LINE_BUFFER },
  { suffixes: ['.ldu'], requires: 'pua', load: body('ldb'), lineBuffer: LOGICAL_LINE_BUFFER },
  { suffixes: ['.cbc'], requires: 'bytecode' },
  { suffixes: ['.sdb'] },
  { suffixes: ['.zmd'] },
  { suffixes: ['.rmd'] },
  { suffixes: ['.cfg'], load: loadDconfDatabase },
  { suffixes: ['.info'] },
  { suffixes: ['.wdb'], requires: 'phishing', load: urlList('allow') },
  { suffixes: ['.pdb', '.gdb'], requires: 'phishing', load: urlList('domain') },
  { suffixes: ['.ftm'], load: fileTypeMagic },
  { suffixes: ['.ign', '.ign2'], load: ignoreList },
  { suffixes: ['.idb'], load: loadIconDatabase },
  { suffixes: ['.cdb'], load: body('cdb') },
  { suffixes: ['.cat'], load: loadCatalogDatabase },
  { suffixes: ['.ioc'] },
  { suffixes: ['.yar', '.yara'] },
  { suffixes: ['.pwdb'], load: loadPasswordDatabase },
];

export const CONTAINER_SUFFIXES = ['.cvd', '.cld', '.cud'] as const;
export type ContainerSuffix = (typeof CONTAINER_SUFFIXES)[number];

function endsWithIgnoreCase(name: string, suffix: string): boolean {
  return name.length >= suffix.length && name.slice(-suffix.length).toLowerCase() === suffix;
}

export function containerKindOf(name: string): 'cvd' | 'cld' | 'cud' | undefined {
  const suffix = CONTAINER_SUFFIXES.find((s) => endsWithIgnoreCase(name, s));
  return suffix ? (suffix.slice(1) as 'cvd' | 'cld' | 'cud') : undefined;
}

export function formatOf(name: string): DatabaseFormat | undefined {
  return DATABASE_FORMATS.find((format) => format.suffixes.some((s) => endsWithIgnoreCase(name, s)));
}

/** The size of the buffer ClamAV's loader for the database file `name` reads its lines into. */
export function lineBufferOf(name: string): number {
  return formatOf(name)?.lineBuffer ?? DATABASE_LINE_BUFFER;
}

/**
 * Does a directory scan pick this file up? ClamAV's CLI_DBEXT: every format and container except
 * `.info`, which is only read from inside containers.
 */
export function isDirectoryDatabase(name: string): boolean {
  if (containerKindOf(name)) return true;
  const format = formatOf(name);
  return format !== undefined && !format.suffixes.includes('.info');
}
