/**
 * Errors are values with a code, so each caller decides how to report them
 * (clamscan prints ClamAV's wording, clamd replies on the socket, the library rethrows).
 *
 * The codes mirror libclamav's `cl_error_t` values that ClamTS can produce, and the default
 * message of each code is the text ClamAV's `cl_strerror()` gives for it, because that is
 * what ClamAV's tools print after `ERROR: `.
 */
const STRERROR = {
  EMALFDB: 'Malformed database',
  EVERIFY: "Can't verify database integrity",
  ESTAT: "Can't get file status",
  EOPEN: "Can't open file or directory",
  EREAD: "Can't read file",
  EWRITE: "Can't write to file",
  EFORMAT: 'Bad format or broken data',
  EMEM: "Can't allocate memory",
  EARG: 'Invalid argument passed to function',
  ETIMEOUT: 'Time limit reached',
  EMAXREC: 'Exceeded max recursion depth',
  EMAXSIZE: 'Exceeded max scan size',
  EMAXFILES: 'Exceeded max scan files',
  ECVD: 'Broken or not a CVD file',
  ECONFIG: 'Invalid configuration',
  EPROTO: 'Protocol error',
  /** CL_BREAK, an internal code that some of ClamAV's loaders return by mistake; cl_strerror does not know it. */
  EBREAK: 'Unknown error code',
} as const;

export type ClamErrorCode = keyof typeof STRERROR;

export class ClamError extends Error {
  readonly code: ClamErrorCode;
  /** The file the error is about, when there is one. */
  readonly path?: string;
  /** 1-based line number inside `path`, for database and config files. */
  readonly line?: number;

  constructor(code: ClamErrorCode, where: { path?: string; line?: number; message?: string } = {}) {
    super(where.message ?? STRERROR[code]);
    this.name = 'ClamError';
    this.code = code;
    this.path = where.path;
    this.line = where.line;
  }
}

/** ClamAV's `cl_strerror()` text for a code. */
export function strerror(code: ClamErrorCode): string {
  return STRERROR[code];
}

export function isClamError(value: unknown): value is ClamError {
  return value instanceof ClamError;
}
