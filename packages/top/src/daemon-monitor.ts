import { ClamdClient, ClamError, parseStatsReply, resolverMessage, type ClamdSession, type ClamdStats } from '@clamts/core/client';
import type { DaemonTarget } from './targets.js';
import { parseVersion, type VersionInfo } from './version-info.js';

/** How one daemon is doing, as the screen shows it. */
export interface DaemonStatus {
  /** `connecting` before the first attempt finished, `online` with a session, `lost` without. */
  readonly state: 'connecting' | 'online' | 'lost';
  /** Why the daemon is not online: the connect, read or protocol error. */
  readonly problem?: string;
  /** When the current session (or the last one) was opened, in ms since the epoch. */
  readonly connectedAt?: number;
  readonly version?: VersionInfo;
  /** The last STATS report of the current session. */
  readonly stats?: ClamdStats;
  /** The daemon answered STATS with something that is no report (a clamd without STATS). */
  readonly statsUnsupported?: boolean;
}

export interface MonitorOptions {
  /** Between two STATS requests, and between two reconnection attempts (default 1 s). */
  readonly intervalMs?: number;
  /** A silent daemon is given up after this long (default 30 s, ClamAV's receive timeout). */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

const DEFAULT_INTERVAL_MS = 1000;
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Watches one clamd over a persistent IDSESSION, as ClamAV's clamdtop does: VERSION once when the
 * session opens, then STATS about once a second. A lost connection is reported and retried every
 * interval until the daemon is back; nothing here ever throws at the caller after `connect()`.
 */
export class DaemonMonitor {
  private session: ClamdSession | undefined;
  private status: DaemonStatus = { state: 'connecting' };
  private running: Promise<void> | undefined;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private readonly intervalMs: number;
  private readonly client: ClamdClient;
  private readonly now: () => number;

  constructor(
    readonly target: DaemonTarget,
    private readonly onStatus: (status: DaemonStatus) => void,
    options: MonitorOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.now = options.now ?? Date.now;
    this.client = new ClamdClient(target.endpoint, { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  }

  /** The last status published. */
  get current(): DaemonStatus {
    return this.status;
  }

  /**
   * Opens the session, reads VERSION and the first STATS. Rejects with the error that prevented
   * the session (Node's connect error, with its `code` and `syscall`, or a ClamError), after
   * publishing the daemon as lost.
   */
  async connect(): Promise<void> {
    let session: ClamdSession | undefined;
    try {
      const { port } = this.target.endpoint as { port?: number };
      if (port !== undefined && !(Number.isInteger(port) && port <= 0xffff)) {
        throw Object.assign(new Error('Servname not supported for ai_socktype'), { syscall: 'getaddrinfo' });
      }
      session = await this.client.session();
      await session.request('VERSION');
      const reply = await session.nextReply();
      if (reply === undefined) throw connectionClosed();
      if (this.stopped) {
        session.close();
        return;
      }
      this.session = session;
      this.publish({ state: 'online', connectedAt: this.now(), version: parseVersion(reply.text) });
      // The first report right away, so that the screen opens with figures.
      await this.poll(session);
    } catch (error) {
      session?.close();
      this.publish({ ...this.status, state: 'lost', problem: problemText(error), stats: undefined });
      throw error;
    }
  }

  /** Polls until `stop()`, reconnecting whenever the session is gone. */
  start(): void {
    this.running ??= this.run();
  }

  /**
   * Stops polling and ends the session the way ClamAV's clamdtop does: END, then the connection
   * is closed without waiting for anything more (a STATS still unanswered is dropped).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    const session = this.session;
    this.session = undefined;
    if (session) {
      await session.end().catch(() => undefined);
      session.close();
    }
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.pause();
      if (this.stopped) break;
      if (this.session) await this.poll(this.session);
      else await this.connect().catch(() => undefined);
    }
  }

  private async poll(session: ClamdSession): Promise<void> {
    try {
      await session.request('STATS');
      const reply = await session.nextReply();
      if (reply === undefined) throw connectionClosed();
      const stats = parseStatsReply(reply.text);
      // A daemon without STATS answers UNKNOWN COMMAND (or COMMAND UNAVAILABLE): no pools at all.
      const unsupported = stats.pools.length === 0 && stats.memory === undefined;
      this.publish({ ...this.status, state: 'online', stats: unsupported ? undefined : stats, statsUnsupported: unsupported });
    } catch (error) {
      if (this.stopped) return;
      session.close();
      this.session = undefined;
      this.publish({ ...this.status, state: 'lost', problem: problemText(error), stats: undefined });
    }
  }

  private pause(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.intervalMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private publish(status: DaemonStatus): void {
    this.status = status;
    this.onStatus(status);
  }
}

/** The message a failure is reported with: the C library's wording for system errors. */
export function problemText(error: unknown): string {
  return error instanceof ClamError ? error.message : resolverMessage(error);
}

function connectionClosed(): ClamError {
  return new ClamError('EPROTO', { message: 'Connection closed by clamd' });
}
