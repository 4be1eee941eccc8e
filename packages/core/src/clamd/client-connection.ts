import { createConnection, type Socket } from 'node:net';
import { ClamError } from '../errors.js';
import { encodeCommand, STREAM_CHUNK_BYTES } from './client-protocol.js';
import { chunkHeader, type CommandName } from './protocol.js';
import { ReplyReader } from './client-reply-reader.js';

/** Where clamd listens: its LocalSocket, or one TCP address and port. */
export type ClamdEndpoint = { readonly path: string } | { readonly host: string; readonly port: number };

export interface ConnectionOptions {
  /** Longest reply accepted, terminator included (see `CLAMDSCAN_REPLY_LIMIT`). */
  readonly maxReplyBytes?: number;
  /**
   * Give up when clamd stays silent this long while a reply or a write is awaited. Without it
   * the client waits as long as clamdscan does: forever.
   */
  readonly timeoutMs?: number;
}

/**
 * Passes an open descriptor over a unix socket with SCM_RIGHTS, sending one byte along with it
 * (what the `fdpass` native addon's `sendFd(socketFd, fd)` does). Node cannot do this itself.
 */
export type FdSender = (socketFd: number, fd: number) => void;

/** Where INSTREAM data comes from: bytes in memory, or chunks as they are produced. */
export type StreamSource = Uint8Array | AsyncIterable<Uint8Array>;

export interface StreamOptions {
  /** Send at most this many bytes, as clamdscan cuts a stream at clamd.conf's StreamMaxLength. */
  readonly maxBytes?: number;
  /** Largest chunk put on the wire (default: clamdscan's 8188 bytes). */
  readonly chunkBytes?: number;
}

/**
 * One connection to clamd. Commands use the NUL framing (`zCOMMAND\0`), replies are read one at
 * a time with `readReply()`. Failures are ClamErrors: the connect error itself is passed through
 * (it carries the errno the caller reports), everything after it is EPROTO or ETIMEOUT.
 */
export class ClamdClientConnection {
  private readonly reader: ReplyReader;

  private constructor(
    readonly socket: Socket,
    options: ConnectionOptions,
  ) {
    this.reader = new ReplyReader(socket, options.maxReplyBytes);
    if (options.timeoutMs !== undefined) {
      socket.setTimeout(options.timeoutMs, () => {
        this.reader.fail(new ClamError('ETIMEOUT', { message: 'Timed out waiting for clamd' }));
        socket.destroy();
      });
    }
  }

  /** Connects; rejects with Node's error (code ENOENT, ECONNREFUSED…) when clamd is not there. */
  static connect(endpoint: ClamdEndpoint, options: ConnectionOptions = {}): Promise<ClamdClientConnection> {
    return new Promise((resolve, reject) => {
      const socket =
        'path' in endpoint ? createConnection({ path: endpoint.path }) : createConnection({ host: endpoint.host, port: endpoint.port });
      const onError = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      const onTimeout = () => onError(new ClamError('ETIMEOUT', { message: 'Timed out connecting to clamd' }));
      socket.once('error', onError);
      if (options.timeoutMs !== undefined) socket.setTimeout(options.timeoutMs, onTimeout);
      socket.once('connect', () => {
        socket.off('error', onError);
        socket.off('timeout', onTimeout);
        socket.setTimeout(0);
        resolve(new ClamdClientConnection(socket, options));
      });
    });
  }

  /** Sends `z<command>[ argument]\0`. */
  sendCommand(command: CommandName, argument?: string): Promise<void> {
    return this.write(encodeCommand(command, argument));
  }

  /** The next reply without its NUL; undefined once clamd has closed the connection. */
  readReply(): Promise<string | undefined> {
    return this.reader.next();
  }

  /** Every reply until clamd closes the connection. */
  async readAllReplies(): Promise<string[]> {
    const replies: string[] = [];
    for (let reply = await this.readReply(); reply !== undefined; reply = await this.readReply()) {
      replies.push(reply);
    }
    return replies;
  }

  /**
   * Sends INSTREAM and the data in length-prefixed chunks, then the empty chunk that ends it.
   * Returns how many bytes were sent. Stops early, like clamdscan, at `maxBytes`.
   *
   * Chunks are handed to the socket without waiting for each to be written (pausing only when
   * its buffer is full, as clamdscan's blocking send() does), and the end of the stream leaves in
   * the same write as the last chunk, found by reading one piece ahead: clamd refuses a stream
   * that passes its StreamMaxLength as soon as it reads the chunk, and closes; any later write
   * fails with EPIPE and the refusal is lost with the connection. That is also why clamdscan cuts
   * its streams at the limit (`maxBytes`). The socket keeps each chunk until it is written, so a
   * source must not reuse a chunk's memory for the next one.
   */
  async sendStream(source: StreamSource, options: StreamOptions = {}): Promise<number> {
    const chunkBytes = options.chunkBytes ?? STREAM_CHUNK_BYTES;
    let budget = options.maxBytes ?? Number.POSITIVE_INFINITY;
    let sent = 0;
    let failure: Error | undefined;
    const record = (error?: Error | null) => {
      failure ??= error ?? undefined;
    };
    /** Hands `parts` to the socket in one write; `final` waits until they are written. */
    const send = async (parts: Uint8Array[], final = false) => {
      if (failure) throw failure;
      if (this.socket.destroyed) throw brokenPipe();
      let room = true;
      let finished: (() => void) | undefined;
      const written = new Promise<void>((resolve) => (finished = resolve));
      this.socket.cork();
      parts.forEach((part, index) => {
        const isLast = index === parts.length - 1;
        room = this.socket.write(part, (error) => {
          record(error);
          if (isLast) finished!();
        });
      });
      this.socket.uncork();
      if (final) await written;
      else if (!room) await this.drained();
    };

    await send([encodeCommand('INSTREAM')]);
    const pieces = source instanceof Uint8Array ? single(source) : source[Symbol.asyncIterator]();
    const next = async () => {
      const step = await pieces.next();
      return step.done ? undefined : step.value;
    };
    let ended = false;
    for (let piece = await next(); piece !== undefined && budget > 0; ) {
      const upcoming = budget > piece.length ? await next() : undefined;
      for (let offset = 0; offset < piece.length && budget > 0; offset += chunkBytes) {
        const length = Math.min(chunkBytes, piece.length - offset, budget);
        budget -= length;
        const last = budget <= 0 || (upcoming === undefined && offset + length >= piece.length);
        const parts = [chunkHeader(length), piece.subarray(offset, offset + length)];
        if (last) parts.push(chunkHeader(0));
        await send(parts, last);
        sent += length;
        ended = last;
      }
      piece = upcoming;
    }
    if (!ended) await send([chunkHeader(0)], true);
    if (failure) throw failure;
    return sent;
  }

  /**
   * Sends FILDES and passes `fd` with it. The command must be on the wire before the descriptor
   * so clamd reads them in that order: its write is awaited first.
   */
  async sendDescriptor(fd: number, sendFd: FdSender): Promise<void> {
    await this.sendCommand('FILDES');
    this.passDescriptor(fd, sendFd);
  }

  /** The second half of FILDES: the byte that carries `fd`. Throws what `sendFd` throws. */
  passDescriptor(fd: number, sendFd: FdSender): void {
    // Node keeps the descriptor of a connected socket on its (undocumented but stable) handle.
    const socketFd = (this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (socketFd === undefined || socketFd < 0) {
      throw new ClamError('EARG', { message: 'FILDES needs a unix socket connection' });
    }
    sendFd(socketFd, fd);
  }

  /** Raw bytes, for callers that frame something themselves. Resolves once written. */
  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed || !this.socket.writable) {
        reject(brokenPipe());
        return;
      }
      this.socket.write(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Resolves when the socket's buffer has room again; rejects if the connection goes first. */
  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', closed);
        resolve();
      };
      const closed = () => {
        this.socket.off('drain', done);
        reject(brokenPipe());
      };
      this.socket.once('drain', done);
      this.socket.once('close', closed);
    });
  }

  /** Closes the connection (clamd finishes nothing more for it). */
  close(): void {
    this.socket.destroy();
  }
}

async function* single(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

/** What writing to a connection that is already gone fails with. */
function brokenPipe(): NodeJS.ErrnoException {
  return Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' });
}
