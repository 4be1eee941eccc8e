import type { EngineBuilder } from '../engine/engine-builder.js';
import type { Logger } from '../util/logger.js';
import type { PuaFilter } from './pua.js';

/** How databases are loaded (clamscan's and clamd's database options). */
export interface LoadOptions {
  /** Load PUA databases (.hdu, .hsu, .mdu, .msu, .ndu, .ldu): `--detect-pua` / `DetectPUA`. */
  detectPua?: boolean;
  /** `--include-pua` / `--exclude-pua` categories (only with detectPua). */
  puaFilter?: PuaFilter;
  /** `--official-db-only`: skip databases that are not signed containers in a directory. */
  officialOnly?: boolean;
  /** Load phishing databases (.pdb, .gdb, .wdb); ClamAV's default is on. */
  phishingSignatures?: boolean;
  /** Load bytecode (.cbc, and bytecode in containers); ClamAV's default is on. */
  bytecode?: boolean;
  /** `--nocerts` / `DisableCertCheck`: no `.crb`/`.cat` loaded, no Authenticode check. */
  disableCertCheck?: boolean;
  /** `--dumpcerts`: debug lines with the certificates of `.crb` lines and signatures. */
  dumpCertificates?: boolean;
  logger?: Logger;
}

/** Everything a database-format loader needs to know about the file it is reading. */
export interface DatabaseContext {
  /** The path as the user gave it (ClamAV prints it unchanged in messages). */
  readonly path: string;
  /** From a signed official container: names stay as they are (no `.UNOFFICIAL`). */
  readonly official: boolean;
  /** Set for PUA databases when a category filter applies. */
  readonly puaFilter?: PuaFilter;
  readonly options: LoadOptions;
  readonly logger: Logger;
  readonly engine: EngineBuilder;
  /** The size of the buffer ClamAV's loader for this file reads its lines into (see forEachLine). */
  readonly lineBuffer: number;
}
