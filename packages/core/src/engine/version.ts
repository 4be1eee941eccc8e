/** The ClamAV release whose behaviour ClamTS reproduces, as reported by `--version` and VERSION. */
export const ENGINE_VERSION = '1.4.6';

/** ClamAV 1.4.6's functionality level (cl_retflevel), which decides which signatures load. */
export const FUNCTIONALITY_LEVEL = 216;

/** ClamTS's own package version. */
export const CLAMTS_VERSION = '0.1.0';
