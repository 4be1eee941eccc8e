/**
 * @clamts/core: load ClamAV signature databases and scan files, buffers and streams.
 *
 * ```ts
 * import { loadEngine, Scanner } from '@clamts/core';
 * const engine = await loadEngine(['/var/lib/clamav']);
 * const result = await new Scanner(engine).scanFile('/tmp/upload.bin');
 * if (result.viruses.length) console.log(result.viruses[0]);
 * ```
 *
 * Programs that only talk to clamd or read configuration import `@clamts/core/client`, a part of
 * this API that loads without the engine.
 */
export * from './client.js';
export { listInDirectoryOrder } from './util/directory.js';
export { readForScan } from './util/file-backed.js';
export { Engine } from './engine/engine.js';
export { EngineBuilder } from './engine/engine-builder.js';
export { shareEngine, engineFromShared, type SharedEngineDescriptor } from './engine/shared-engine.js';
export { loadEngineCached, LoadedEngine, type LoadFailure } from './engine/engine-cache.js';
export { engineCacheDirectory } from './engine/cache-directory.js';
export { Scanner, type ScanResult } from './engine/scanner.js';
export { COUNT_PRECISION } from './matching/verify.js';
export { scanOptions, DEFAULT_LIMITS, type Alert, type ScanOptions, type ScanLimits } from './engine/scan-options.js';
export type { FormatHandler, ExtractedObject, ExtractionContext, HeuristicKind, ScanSwitch } from './formats/handler.js';
export { registeredHandlers } from './formats/registry.js';
export { DatabaseLoader, loadEngine } from './signatures/loader.js';
export type { LoadOptions } from './signatures/database-context.js';
export type { PuaFilter } from './signatures/pua.js';
export { defaultDatabasePaths, BUNDLED_DATABASE_DIR, SYSTEM_DATABASE_DIR } from './signatures/default-database.js';
export { isDirectoryDatabase } from './signatures/database-formats.js';
export { databaseAge } from './signatures/database-age.js';
