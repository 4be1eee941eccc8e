import type { FileTypeDetector } from '../filetypes/index.js';
import { HashDetector } from '../matching/hash-detector.js';
import type { HashIndex } from '../matching/hash-index.js';
import type { BodyDetector } from '../matching/body-detector.js';
import type { NameTable } from '../util/names.js';
import type { IconDatabase } from '../executables/icons/icon-database.js';

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
  signatureCount: number;
  databaseVersion?: DatabaseVersion;
  fileTypes: FileTypeDetector;
  fileTypeSources: readonly FileTypeSource[];
  body: BodyDetector;
  icons?: IconDatabase;
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
  /** Whole-object hash signatures (.hdb, .hsb). */
  readonly hashes: HashDetector;
  /** PE section hash signatures (.mdb, .msb). */
  readonly sectionHashDetector: HashDetector;

  constructor(parts: EngineParts) {
    this.names = parts.names;
    this.fileHashes = parts.fileHashes;
    this.allowHashes = parts.allowHashes;
    this.sectionHashes = parts.sectionHashes;
    this.importHashes = parts.importHashes;
    this.signatureCount = parts.signatureCount;
    this.databaseVersion = parts.databaseVersion;
    this.fileTypes = parts.fileTypes;
    this.fileTypeSources = parts.fileTypeSources;
    this.body = parts.body;
    this.icons = parts.icons;
    this.hashes = new HashDetector(this.fileHashes, this.names);
    this.sectionHashDetector = new HashDetector(this.sectionHashes, this.names);
  }
}
