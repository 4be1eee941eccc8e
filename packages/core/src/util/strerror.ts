/** glibc's strerror() texts for the errno codes Node reports, as ClamAV's tools print them. */
const MESSAGES: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EPIPE: 'Broken pipe',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
  ENOTEMPTY: 'Directory not empty',
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ECONNABORTED: 'Software caused connection abort',
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  ETIMEDOUT: 'Connection timed out',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENOTSOCK: 'Socket operation on non-socket',
};

/** The C library's message for a Node error's `code`, or the error's own message. */
export function errnoMessage(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && MESSAGES[code]) return MESSAGES[code];
  return error instanceof Error ? error.message : String(error);
}

/** libuv's numbers for the two getaddrinfo failures Node reports alike as ENOTFOUND. */
const UV_EAI_NODATA = -3007;

/** glibc's gai_strerror() texts, as clamdscan prints them. */
const RESOLVER_MESSAGES: Record<string, string> = {
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
  EAI_FAIL: 'Non-recoverable failure in name resolution',
  EAI_FAMILY: 'ai_family not supported',
  EAI_SERVICE: 'Servname not supported for ai_socktype',
  EAI_MEMORY: 'Memory allocation failure',
  EAI_ADDRFAMILY: 'Address family for hostname not supported',
  EAI_SYSTEM: 'System error',
};

/** The message a C program prints for a failed getaddrinfo() (gai_strerror), or strerror otherwise. */
export function resolverMessage(error: unknown): string {
  const { code, errno } = error as NodeJS.ErrnoException;
  if (code === 'ENOTFOUND' && errno === UV_EAI_NODATA) return 'No address associated with hostname';
  return (code && RESOLVER_MESSAGES[code]) ?? errnoMessage(error);
}
