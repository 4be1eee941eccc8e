import type { LoadOptions } from '../../packages/core/src/signatures/database-context.js';

/**
 * The load options of clamscan's and clamd's default settings. A load through the engine cache
 * with them, from the built library (packages/core/dist, which clamd imports unbundled and
 * whose modules the bundled clamscan names), uses the same cache file as the tools.
 */
export const TOOL_DEFAULT_LOAD_OPTIONS: LoadOptions = {
  detectPua: false,
  officialOnly: false,
  phishingSignatures: true,
  bytecode: true,
  disableCertCheck: false,
  dumpCertificates: false,
};
