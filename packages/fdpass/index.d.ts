/**
 * Sends one NUL byte carrying `fd` (SCM_RIGHTS) on the Unix socket `socketFd`, waiting for room if
 * the socket's buffer is full. Throws an Error with `code` on failure.
 */
export declare function sendFd(socketFd: number, fd: number): void;

/**
 * Called for each read: `data` is undefined at end of stream; `fd` is the descriptor that came with
 * the data (-1: none); `truncated` is set when the peer sent more descriptors than fit.
 */
export type ReaderCallback = (error: (Error & { code?: string }) | null, data: Buffer | undefined, fd: number, truncated: boolean) => void;

/**
 * Reads a Unix socket with recvmsg(), so that descriptors passed along with the data are received.
 * It works on a duplicate of `socketFd`: the owner still writes to and closes the original, and
 * must never let libuv read it. Each read returns at most `maxRead` bytes.
 */
export declare class Reader {
  constructor(socketFd: number, maxRead: number, callback: ReaderCallback);
  start(): void;
  stop(): void;
  /** Stops reading and closes the duplicate descriptor. */
  close(): void;
}
