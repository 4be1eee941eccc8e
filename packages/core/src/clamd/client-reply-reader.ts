import type { Socket } from 'node:net';
import { ClamError } from '../errors.js';
import { NUL, REPLY } from './protocol.js';

/**
 * clamdscan reads replies into a buffer of PATH_MAX + 1024 bytes and gives up on a reply that
 * does not fit ("Overlong reply from clamd"). Clients that expect long replies (STATS of a busy
 * daemon) pass a larger limit.
 */
export const CLAMDSCAN_REPLY_LIMIT = 4096 + 1024;

/**
 * Splits what clamd sends into NUL-terminated replies, with the failure semantics of clamdscan's
 * reader: a connection that ends in the middle of a reply, or fails while reading (other than
 * by a reset), is a communication error — except that a daemon which rejects the `z` framing answers with a bare
 * "UNKNOWN COMMAND\n" and closes, which is reported as a rejected command.
 *
 * Replies that arrived before a failure are still handed out, in order, before the failure is.
 */
export class ReplyReader {
  private pending: Buffer = Buffer.alloc(0);
  /** How far `pending` is known to hold no terminator. */
  private scanned = 0;
  private ended = false;
  private failure: Error | undefined;
  private waiter: { resolve: (reply: string | undefined) => void; reject: (error: Error) => void } | undefined;

  constructor(
    socket: Socket,
    private readonly maxReplyBytes: number = CLAMDSCAN_REPLY_LIMIT,
  ) {
    socket.on('data', (data: Buffer) => {
      this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
      this.wake();
    });
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // Write failures belong to whoever writes; only a failed read spoils the replies. A reset
      // is how a close looks when clamd leaves data unread (it refused an INSTREAM, or a session
      // ended): after whole replies it ends them like a close, inside one it still truncates.
      if (error.code === 'ECONNRESET') this.finish();
      else if (error.syscall !== 'write') this.fail(communicationError());
    });
  }

  /** The next reply without its terminator; undefined once clamd has closed the connection. */
  next(): Promise<string | undefined> {
    if (this.waiter) return Promise.reject(new Error('ReplyReader.next() called while a read is pending'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.wake();
    });
  }

  /** Fails a pending or later read with `error` (a timeout, or the connection being dropped). */
  fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private finish(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const end = this.findTerminator();
    let outcome: { reply: string | undefined } | Error | undefined;
    if (end >= 0) {
      outcome = { reply: this.pending.toString('utf8', 0, end) };
      this.pending = this.pending.subarray(end + 1);
      this.scanned = 0;
    } else if (this.pending.length >= this.maxReplyBytes) {
      outcome = new ClamError('EPROTO', { message: 'Overlong reply from clamd' });
    } else if (this.failure) {
      outcome = this.failure;
    } else if (this.ended) {
      outcome = this.pending.length === 0 ? { reply: undefined } : this.truncationError();
    }
    if (outcome === undefined) return;
    this.waiter = undefined;
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome.reply);
  }

  /** The connection ended in the middle of a reply. */
  private truncationError(): ClamError {
    return this.pending.toString('latin1') === `${REPLY.UNKNOWN_COMMAND}\n`
      ? new ClamError('EPROTO', { message: 'Command rejected by clamd (wrong clamd version?)' })
      : communicationError();
  }

  /** The first terminator within the first `maxReplyBytes` bytes, or -1. */
  private findTerminator(): number {
    const limit = Math.min(this.pending.length, this.maxReplyBytes);
    const at = this.pending.subarray(0, limit).indexOf(NUL, this.scanned);
    this.scanned = at < 0 ? limit : at;
    return at;
  }
}

function communicationError(): ClamError {
  return new ClamError('EPROTO', { message: 'Communication error' });
}
