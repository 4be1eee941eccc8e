import { BodyDetector, type SharedBodyDetector } from '../matching/body-detector.js';
import type { SharedMatchers } from '../matching/target-program.js';
import { HashIndex, type SharedHashIndex } from '../matching/hash-index.js';
import { NameTable, type SharedNameTable } from '../util/names.js';
import { FileTypeDatabaseBuilder, type FileTypeDetector } from '../filetypes/index.js';
import { IconDatabase, type SharedIconDatabase } from '../executables/icons/icon-database.js';
import { Engine, type DatabaseVersion, type FileTypeSource } from './engine.js';
import { settleNativeBufferMap } from './native-buffer-map.js';
import type { PhishingLists } from '../phishing/url-list.js';
import type { AuthenticodeTrustData } from '../executables/authenticode/trust.js';
import type { DconfWords } from './dconf.js';
import type { ArchivePasswords } from '../signatures/pwdb.js';

/**
 * An engine as structured-cloneable data whose arrays live in SharedArrayBuffers: posting it to a
 * worker thread (postMessage / workerData) shares the signature memory instead of copying it.
 */
export interface SharedEngineDescriptor {
  names: SharedNameTable;
  fileHashes: SharedHashIndex;
  allowHashes: SharedHashIndex;
  sectionHashes: SharedHashIndex;
  importHashes: SharedHashIndex;
  importHashesLoaded: boolean;
  /** Body, logical and container-metadata signatures. */
  body: SharedBodyDetector;
  /** Icon signatures (.idb), when loaded. */
  icons?: SharedIconDatabase;
  signatureCount: number;
  databaseVersion?: DatabaseVersion;
  /** The type detector is small: it is rebuilt from its `.ftm` sources in each thread. */
  fileTypeSources: readonly FileTypeSource[];
  /** The phishing URL lists (a few KiB of strings): copied, compiled again in each thread. */
  phishing: PhishingLists;
  /** The `.pwdb` passwords: plain data, copied. */
  passwords: ArchivePasswords;
  /** The Authenticode trust (.crb, .cat): plain data, copied. */
  authenticode: AuthenticodeTrustData;
  /** The dynamic engine configuration's words (eleven numbers). */
  dconfWords: DconfWords;
}

/**
 * The engine as a descriptor. With `matchers` 'all' (the default) every target's matcher is in
 * it, built now where it was not yet; with 'built' only those built so far (see SharedMatchers).
 */
export function shareEngine(engine: Engine, matchers: SharedMatchers = 'all'): SharedEngineDescriptor {
  return {
    names: engine.names.toShared(),
    fileHashes: engine.fileHashes.toShared(),
    allowHashes: engine.allowHashes.toShared(),
    sectionHashes: engine.sectionHashes.toShared(),
    importHashes: engine.importHashes.toShared(),
    importHashesLoaded: engine.importHashesLoaded,
    body: engine.body.toShared(matchers),
    icons: engine.icons?.toShared(),
    signatureCount: engine.signatureCount,
    databaseVersion: engine.databaseVersion,
    fileTypeSources: engine.fileTypeSources,
    phishing: engine.phishingLists,
    passwords: engine.passwords,
    authenticode: engine.authenticode.data,
    dconfWords: { ...engine.dconf.words },
  };
}

/** Rebuilds, in any thread, an engine that reads the shared memory of the original. */
export function engineFromShared(shared: SharedEngineDescriptor): Engine {
  // A thread that scans with a shared engine optimizes its own code (its file type detector is
  // rebuilt below, its regexes compile on first use): see native-buffer-map.ts.
  settleNativeBufferMap();
  return new Engine({
    names: NameTable.fromShared(shared.names),
    fileHashes: HashIndex.fromShared(shared.fileHashes),
    allowHashes: HashIndex.fromShared(shared.allowHashes),
    sectionHashes: HashIndex.fromShared(shared.sectionHashes),
    importHashes: HashIndex.fromShared(shared.importHashes),
    importHashesLoaded: shared.importHashesLoaded,
    signatureCount: shared.signatureCount,
    databaseVersion: shared.databaseVersion,
    fileTypes: rebuildFileTypes(shared.fileTypeSources),
    fileTypeSources: shared.fileTypeSources,
    body: BodyDetector.fromShared(shared.body),
    phishing: shared.phishing,
    passwords: shared.passwords,
    icons: shared.icons && IconDatabase.fromShared(shared.icons),
    authenticode: shared.authenticode,
    dconfWords: shared.dconfWords,
  });
}

function rebuildFileTypes(sources: readonly FileTypeSource[]): FileTypeDetector {
  const builder = new FileTypeDatabaseBuilder();
  for (const source of sources) builder.addFtm(source.data, { path: source.path, official: source.official });
  return builder.build();
}
