import type { FileTypeDetector } from '../filetypes/index.js';
import { HashDetector } from '../matching/hash-detector.js';
import type { HashIndex } from '../matching/hash-index.js';
import type { BodyDetector } from '../matching/body-detector.js';
import type { NameTable } from '../util/names.js';
import { PhishingChecker } from '../phishing/phishing-check.js';
import type { PhishingLists } from '../phishing/url-list.js';
import type { IconDatabase } from '../executables/icons/icon-database.js';
import { AuthenticodeTrust, type AuthenticodeTrustData } from '../executables/authenticode/trust.js';
import { dconfOf, type Dconf, type DconfWords } from './dconf.js';
import type { ArchivePassword, ArchivePasswords } from '../signatures/pwdb.js';

export interface DatabaseVersion {
  version: number;
  /** Build time of that database, seconds since the epoch. */
  buildTime: number;
}

/** An `.ftm` file as loaded (its bytes are small: a few KiB). */
export interface FileTypeSource {
  data: Uint8Array;
  path: string;
  official: boolean;
}

export interface EngineParts {
  names: NameTable;
  fileHashes: HashIndex;
  allowHashes: HashIndex;
  sectionHashes: HashIndex;
  importHashes: HashIndex;
  importHashesLoaded: boolean;
  signatureCount: number;
  databaseVersion?: DatabaseVersion;
  fileTypes: FileTypeDetector;
  fileTypeSources: readonly FileTypeSource[];
  body: BodyDetector;
  phishing: PhishingLists;
  passwords: ArchivePasswords;
  icons?: IconDatabase;
  authenticode: AuthenticodeTrustData;
  dconfWords: Readonly<DconfWords>;
}

/**
 * A loaded, compiled signature database. Immutable: any number of scans (and worker threads)
 * may use one engine at the same time.
 */
export class Engine {
  readonly names: NameTable;
  readonly fileHashes: HashIndex;
  readonly allowHashes: HashIndex;
  readonly sectionHashes: HashIndex;
  readonly importHashes: HashIndex;
  /** Whether an .imp file was loaded: ClamAV's PE scan then reads the import table (scan_pe_imp). */
  readonly importHashesLoaded: boolean;
  /** ClamAV's "Known viruses". */
  readonly signatureCount: number;
  readonly databaseVersion?: DatabaseVersion;
  /** ClamAV's file typing: built-in magic, or the loaded `.ftm` files. */
  readonly fileTypes: FileTypeDetector;
  readonly fileTypeSources: readonly FileTypeSource[];
  /** Body (.ndb), logical (.ldb) and container-metadata (.cdb) signatures. */
  readonly body: BodyDetector;
  /** Icon signatures (.idb) that `IconGroup1`/`IconGroup2` logical signatures match PE icons against. */
  readonly icons?: IconDatabase;
  /** The `.crb` certificates and `.cat` hashes the Authenticode check of PE files trusts or blocks. */
  readonly authenticode: AuthenticodeTrust;
  /** Whole-object hash signatures (.hdb, .hsb). */
  readonly hashes: HashDetector;
  /** PE section hash signatures (.mdb, .msb). */
  readonly sectionHashDetector: HashDetector;
  /** PE import-table hash signatures (.imp). */
  readonly importHashDetector: HashDetector;
  /** The phishing URL lists (.pdb, .gdb, .wdb) as loaded: plain data, shared with worker threads. */
  readonly phishingLists: PhishingLists;
  /** The phishing check over those lists. */
  readonly phishing: PhishingChecker;
  /** The `.pwdb` passwords tried on encrypted archive members. */
  readonly passwords: ArchivePasswords;
  /** Those tried on zip members, in ClamAV's order: the zip list, then the list for any container. */
  readonly zipPasswords: readonly ArchivePassword[];
  /** Which modules, parsers, unpackers and heuristics are on (ClamAV's DCONF, set by `.cfg` databases). */
  readonly dconf: Dconf;

  constructor(parts: EngineParts) {
    this.names = parts.names;
    this.fileHashes = parts.fileHashes;
    this.allowHashes = parts.allowHashes;
    this.sectionHashes = parts.sectionHashes;
    this.importHashes = parts.importHashes;
    this.importHashesLoaded = parts.importHashesLoaded;
    this.signatureCount = parts.signatureCount;
    this.databaseVersion = parts.databaseVersion;
    this.fileTypes = parts.fileTypes;
    this.fileTypeSources = parts.fileTypeSources;
    this.body = parts.body;
    this.icons = parts.icons;
    this.authenticode = new AuthenticodeTrust(parts.authenticode);
    this.hashes = new HashDetector(this.fileHashes, this.names);
    this.sectionHashDetector = new HashDetector(this.sectionHashes, this.names);
    this.importHashDetector = new HashDetector(this.importHashes, this.names);
    this.phishingLists = parts.phishing;
    this.phishing = new PhishingChecker(parts.phishing);
    this.passwords = parts.passwords;
    this.zipPasswords = [...parts.passwords.zip, ...parts.passwords.any];
    this.dconf = dconfOf(parts.dconfWords);
  }
}
