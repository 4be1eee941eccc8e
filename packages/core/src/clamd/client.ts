/**
 * A client for clamd's protocol (ClamAV's or ClamTS's daemon), over its unix socket or TCP.
 *
 * ```ts
 * const clamd = new ClamdClient({ path: '/run/clamav/clamd.ctl' });
 * await clamd.ping();                                  // 'PONG'
 * await clamd.scanPath('CONTSCAN', '/srv/upload');     // ['/srv/upload/x: Eicar-Signature FOUND']
 * await clamd.scanStream(bytes);                       // ['stream: OK']
 * const stats = await clamd.stats();                   // stats.pools[0].threads.live …
 * ```
 *
 * Each method opens its own connection, as clamd answers one command per connection outside a
 * session; `session()` opens an IDSESSION for many requests on one connection. `ClamdClientConnection`
 * is the lower layer, for callers that drive the protocol themselves (clamdscan does).
 */
import { ClamError } from '../errors.js';
import {
  ClamdClientConnection,
  type ClamdEndpoint,
  type ConnectionOptions,
  type FdSender,
  type StreamOptions,
  type StreamSource,
} from './client-connection.js';
import { REPLY, type CommandName } from './protocol.js';
import type { PathCommand } from './connection.js';
import { ClamdSession } from './client-session.js';
import { parseStatsReply, type ClamdStats } from './client-stats.js';

export {
  ClamdClientConnection,
  type ClamdEndpoint,
  type ConnectionOptions,
  type FdSender,
  type StreamOptions,
  type StreamSource,
} from './client-connection.js';
export { encodeCommand, STREAM_CHUNK_BYTES } from './client-protocol.js';
export { CLAMDSCAN_REPLY_LIMIT, ReplyReader } from './client-reply-reader.js';
export { ClamdSession, type SessionReply } from './client-session.js';
export {
  parseStatsReply,
  type ClamdMemoryStats,
  type ClamdPoolStats,
  type ClamdQueueStats,
  type ClamdStats,
  type ClamdTask,
} from './client-stats.js';

/** STATS replies grow with the thread count; allow far more than clamdscan's reply buffer. */
const DEFAULT_REPLY_LIMIT = 1024 * 1024;

export class ClamdClient {
  private readonly options: ConnectionOptions;

  constructor(
    readonly endpoint: ClamdEndpoint,
    options: ConnectionOptions = {},
  ) {
    this.options = { maxReplyBytes: DEFAULT_REPLY_LIMIT, ...options };
  }

  /** A new connection to the daemon. */
  connect(): Promise<ClamdClientConnection> {
    return ClamdClientConnection.connect(this.endpoint, this.options);
  }

  /** 'PONG' from a live daemon. */
  async ping(): Promise<string> {
    return this.single('PING');
  }

  /** `ClamAV 1.4.6/27371/Tue Aug 20 …` (or `ClamTS …`): engine, database version and date. */
  async version(): Promise<string> {
    return this.single('VERSION');
  }

  /** The version and the commands the daemon announces with VERSIONCOMMANDS. */
  async versionCommands(): Promise<{ version: string; commands: string[] }> {
    const reply = await this.single('VERSIONCOMMANDS');
    const [version, list = ''] = reply.split('| COMMANDS:');
    return { version: version!, commands: list.trim().split(/\s+/).filter(Boolean) };
  }

  /** Asks for a database reload; resolves once clamd has accepted (RELOADING). */
  async reload(): Promise<void> {
    const reply = await this.single('RELOAD');
    if (!reply.startsWith(REPLY.RELOADING)) {
      throw new ClamError('EPROTO', { message: `Unexpected reply to RELOAD: ${reply}` });
    }
  }

  /** Asks the daemon to exit; it sends no reply. */
  async shutdown(): Promise<void> {
    await this.exchange((connection) => connection.sendCommand('SHUTDOWN'));
  }

  /** SCAN, RAWSCAN, CONTSCAN, MULTISCAN or ALLMATCHSCAN of a path the daemon can read. */
  scanPath(command: PathCommand, path: string): Promise<string[]> {
    return this.exchange((connection) => connection.sendCommand(command, path));
  }

  /** INSTREAM: the daemon scans the bytes sent (`stream: …` replies). */
  scanStream(source: StreamSource, options?: StreamOptions): Promise<string[]> {
    return this.exchange((connection) => connection.sendStream(source, options));
  }

  /** FILDES: the daemon scans an open descriptor passed over the unix socket. */
  scanDescriptor(fd: number, sendFd: FdSender): Promise<string[]> {
    return this.exchange((connection) => connection.sendDescriptor(fd, sendFd));
  }

  /** STATS, parsed. */
  async stats(): Promise<ClamdStats> {
    return parseStatsReply(await this.single('STATS'));
  }

  /** Opens an IDSESSION on a new connection. */
  async session(): Promise<ClamdSession> {
    return ClamdSession.open(await this.connect());
  }

  /** A command whose answer is one reply. */
  private async single(command: CommandName): Promise<string> {
    const [reply] = await this.exchange((connection) => connection.sendCommand(command));
    if (reply === undefined) throw new ClamError('EPROTO', { message: `No reply to ${command} from clamd` });
    return reply;
  }

  /**
   * Connects, sends, and collects every reply until clamd closes the connection. When sending
   * fails because clamd stopped listening (INSTREAM over StreamMaxLength), its reply explains why:
   * it is returned rather than the send error.
   */
  private async exchange(send: (connection: ClamdClientConnection) => Promise<unknown>): Promise<string[]> {
    const connection = await this.connect();
    try {
      let sendError: unknown;
      try {
        await send(connection);
      } catch (error) {
        sendError = error;
      }
      let replies: string[];
      try {
        replies = await connection.readAllReplies();
      } catch (readError) {
        throw sendError ?? readError;
      }
      if (sendError !== undefined && replies.length === 0) throw sendError;
      return replies;
    } finally {
      connection.close();
    }
  }
}
