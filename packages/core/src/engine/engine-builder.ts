import { BUILTIN_FTM } from '../filetypes/builtin-ftm.js';
import { FileTypeDatabaseBuilder, ftmMagicType } from '../filetypes/index.js';
import { BodySignatureBuilder } from '../matching/body-signature-builder.js';
import { DATABASE_LINE_BUFFER, forEachLine } from '../signatures/lines.js';
import { silentLogger } from '../util/logger.js';
import { HashIndexBuilder } from '../matching/hash-index.js';
import { IgnoreList } from '../signatures/ignore-db.js';
import { NameTable } from '../util/names.js';
import type { Logger } from '../util/logger.js';
import type { PhishingLists } from '../phishing/url-list.js';
import { Engine, type DatabaseVersion, type FileTypeSource } from './engine.js';
import { FUNCTIONALITY_LEVEL } from './version.js';
import { dconfOf, defaultDconfWords, logDconf, type Dconf } from './dconf.js';
import type { IconDatabaseBuilder } from '../executables/icons/icon-database.js';
import { AuthenticodeTrustBuilder } from '../executables/authenticode/trust.js';
import { noArchivePasswords, type ArchivePasswords } from '../signatures/pwdb.js';

/**
 * The mutable side of an engine: database loaders add signatures here, then `build()` produces
 * the immutable `Engine` that scanners share.
 */
export class EngineBuilder {
  readonly functionalityLevel = FUNCTIONALITY_LEVEL;
  readonly names = new NameTable();
  /** .hdb .hsb (.hdu .hsu with PUA): whole-object hashes that detect. */
  readonly fileHashes = new HashIndexBuilder();
  /** .fp .sfp: whole-object hashes that allow (a match makes a detection void). */
  readonly allowHashes = new HashIndexBuilder();
  /** .mdb .msb (.mdu .msu): PE section hashes. */
  readonly sectionHashes = new HashIndexBuilder();
  /** .imp: PE import-table hashes. */
  readonly importHashes = new HashIndexBuilder();
  /** Whether an .imp file was loaded (even one without signatures): ClamAV then reads PE import tables. */
  importHashesLoaded = false;
  readonly ignored = new IgnoreList();
  /** .ndb .ldb .cdb (.ndu .ldu with PUA): body, logical and container-metadata signatures. */
  readonly body = new BodySignatureBuilder();
  /** .pdb .gdb (domain list) and .wdb (allow list): the phishing check's URL lists. */
  readonly phishing: PhishingLists = { domain: { regexes: [], hosts: [] }, allow: { regexes: [], hosts: [] }, urlHashes: {} };
  /** .idb: the icons of the last icon database loaded (each replaces the one before, as in ClamAV). */
  icons?: IconDatabaseBuilder;
  /** .pwdb: the passwords tried on encrypted archive members. */
  readonly passwords: ArchivePasswords = noArchivePasswords();
  /** .crb and .cat: the certificates and catalog hashes of the Authenticode check. */
  readonly authenticode = new AuthenticodeTrustBuilder();
  /** The dynamic engine configuration: ClamAV's defaults, changed by `.cfg` databases. */
  readonly dconfWords = defaultDconfWords();
  /** The configuration as loaded so far (loaders that depend on it, as ClamAV's, see the `.cfg` files loaded before them). */
  get dconf(): Dconf {
    return dconfOf(this.dconfWords);
  }

  /** What ClamAV reports as "Known viruses". */
  signatureCount = 0;
  /** Version of the newest official daily/main container loaded, for `--version` and VERSION. */
  databaseVersion?: DatabaseVersion;
  /** `.ftm` files in load order; kept so that worker threads can rebuild the (small) type detector. */
  readonly fileTypeSources: FileTypeSource[] = [];
  private readonly fileTypes = new FileTypeDatabaseBuilder();

  /**
   * Adds an `.ftm` file's type magic (ClamAV does not count these as signatures). Its pattern
   * lines (magic type 1) also join the body matcher, where ClamAV recognises embedded types.
   */
  addFileTypes(source: FileTypeSource, logger: Logger): void {
    this.fileTypes.addFtm(source.data, { path: source.path, official: source.official, logger });
    this.fileTypeSources.push(source);
    forEachLine(source.data, (line) => this.addTypePattern(line), DATABASE_LINE_BUFFER);
  }

  /**
   * Adds a line's body pattern (magic type 1) to the matcher. A database's lines have passed the
   * type detector's checks (addFtm); the built-in list is ClamAV's own.
   */
  private addTypePattern(line: string): void {
    if (line.startsWith('#') || ftmMagicType(line, this.functionalityLevel) !== 1) return;
    const [, offset, hex, name, requiredType, type] = line.split(':') as [string, string, string, string, string, string];
    this.body.addFileTypePattern(hex, offset, name, { type, requiredType });
  }

  build(logger: Logger = silentLogger): Engine {
    // Without an .ftm database ClamAV's built-in type patterns join the matcher after everything.
    if (this.fileTypeSources.length === 0) for (const line of BUILTIN_FTM) this.addTypePattern(line);
    this.names.freeze();
    const body = this.body.build(logger, this.dconf.pcre);
    // ClamAV lists its configuration once the engine is compiled, before the first scan.
    logDconf(this.dconfWords, logger);
    return new Engine({
      names: this.names,
      fileHashes: this.fileHashes.build(),
      allowHashes: this.allowHashes.build(),
      sectionHashes: this.sectionHashes.build(),
      importHashes: this.importHashes.build(),
      importHashesLoaded: this.importHashesLoaded,
      signatureCount: this.signatureCount,
      databaseVersion: this.databaseVersion,
      fileTypes: this.fileTypes.build(),
      body,
      icons: this.icons?.build(),
      authenticode: this.authenticode.build(),
      fileTypeSources: this.fileTypeSources,
      phishing: this.phishing,
      passwords: this.passwords,
      dconfWords: this.dconfWords,
    });
  }
}
