import { closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { COMMAND_BUFFER_SIZE, type ClamdConnection, type ConnectionTransport } from '@clamts/core';
import type { DescriptorPassing, DescriptorReader } from './descriptor-passing.js';
import type { DaemonLogger } from './logger.js';

export interface TransportOptions {
  /** SendBufTimeout, milliseconds: how long a full send buffer may stay full. */
  readonly sendBufTimeout: number;
  /** Reads with recvmsg() so that FILDES descriptors arrive (Unix sockets, when the addon is there). */
  readonly descriptorPassing?: DescriptorPassing;
  /** The client stopped reading its replies for longer than SendBufTimeout. */
  readonly onDeadlock: () => void;
  /** The socket is closed for good. */
  readonly onClosed: () => void;
  readonly logger: DaemonLogger;
}

/**
 * A client socket as a clamd connection sees it. Data reaches the connection through Node's own
 * reading for TCP, and through the descriptor-passing reader for Unix sockets (libuv's read()
 * would throw passed descriptors away). Replies are written with Node's socket either way.
 *
 * Reading stops for two independent reasons: the connection wants no more data (`stopReading`),
 * or the daemon holds every connection while its job queue is full (`hold`), as clamd's receive
 * thread blocks then.
 */
export class SocketTransport implements ConnectionTransport {
  private connection: ClamdConnection | undefined;
  private readonly reader: DescriptorReader | undefined;
  private wantsData = true;
  private held = false;
  private closed = false;
  private gone = false;
  private readTimer: NodeJS.Timeout | undefined;
  private sendTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly options: TransportOptions,
  ) {
    const handle = (socket as unknown as { _handle?: { fd?: number } })._handle;
    if (options.descriptorPassing && handle?.fd !== undefined && handle.fd >= 0) {
      this.reader = options.descriptorPassing.reader(handle.fd, COMMAND_BUFFER_SIZE, (error, data, fd, truncated) => {
        if (error || data === undefined || truncated) {
          if (fd >= 0) closeSync(fd);
          if (truncated) options.logger.warning(`Control message truncated, ${data?.length ?? 0} bytes read`);
          this.connection?.readError();
        } else {
          this.connection?.receive(data, fd >= 0 ? fd : undefined);
        }
      });
    } else {
      socket.on('data', (data: Buffer) => this.connection?.receive(data));
      socket.on('end', () => this.connection?.readError());
    }
    socket.on('drain', () => this.clearSendTimer());
    socket.on('error', () => this.lost());
    socket.on('close', () => this.lost());
  }

  /** FILDES can work on this socket. */
  get passesDescriptors(): boolean {
    return this.reader !== undefined;
  }

  /** Connects the protocol side and starts reading. */
  attach(connection: ClamdConnection): void {
    this.connection = connection;
    this.updateReading();
  }

  write(text: string): void {
    if (this.closed || this.socket.destroyed) return;
    const flushed = this.socket.write(Buffer.from(text, 'latin1'));
    if (!flushed && !this.sendTimer) {
      this.sendTimer = setTimeout(() => {
        // The client does not read its replies: clamd gives up on it (IDSESSION deadlock).
        this.options.onDeadlock();
        this.socket.destroy();
      }, this.options.sendBufTimeout);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    this.reader?.close();
    if (this.socket.destroyed) return;
    // Replies already written still go out; then the socket is closed for good.
    this.socket.end(() => this.socket.destroy());
  }

  stopReading(): void {
    this.wantsData = false;
    this.updateReading();
  }

  closeDescriptor(fd: number): void {
    try {
      closeSync(fd);
    } catch {
      // Already closed: nothing to release.
    }
  }

  setReadTimeout(seconds: number | undefined): void {
    clearTimeout(this.readTimer);
    this.readTimer = undefined;
    if (seconds === undefined || this.closed) return;
    this.readTimer = setTimeout(() => this.connection?.timedOut(), Math.max(0, seconds) * 1000);
    this.readTimer.unref();
  }

  /** The daemon's job queue is full: stop reading for now. */
  hold(): void {
    this.held = true;
    this.updateReading();
  }

  release(): void {
    this.held = false;
    this.updateReading();
  }

  /** Closes at once, discarding anything unsent (daemon exit). */
  destroy(): void {
    this.closed = true;
    this.stopTimers();
    this.reader?.close();
    this.socket.destroy();
  }

  private updateReading(): void {
    if (!this.connection || this.closed) return;
    const reading = this.wantsData && !this.held;
    if (this.reader) {
      if (reading) this.reader.start();
      else this.reader.stop();
    } else if (reading) this.socket.resume();
    else this.socket.pause();
  }

  private clearSendTimer(): void {
    clearTimeout(this.sendTimer);
    this.sendTimer = undefined;
  }

  private stopTimers(): void {
    this.clearSendTimer();
    clearTimeout(this.readTimer);
    this.readTimer = undefined;
  }

  private lost(): void {
    if (this.gone) return;
    this.gone = true;
    this.stopTimers();
    this.reader?.close();
    if (!this.closed) this.connection?.disconnected();
    this.closed = true;
    this.options.onClosed();
  }
}
