import { ClamError } from '../errors.js';
import type { ClamdClientConnection, FdSender, StreamOptions, StreamSource } from './client-connection.js';
import type { CommandName } from './protocol.js';

/** One reply inside an IDSESSION. */
export interface SessionReply {
  /** The number of the request it answers. */
  readonly id: number;
  /** The reply after its `<id>: ` prefix. */
  readonly text: string;
  /** The whole reply as received. */
  readonly line: string;
}

/**
 * `<id>: <text>`: clamd numbers the requests of a session from 1 in the order it reads them.
 * The number is read as C's atoi() reads it (clamdscan does), so only what follows it varies.
 */
const NUMBERED_REPLY = /^[ \t\n\v\f\r]*\+?(\d+)(?:: )?/;

/**
 * An IDSESSION: several requests on one connection, answered asynchronously and out of order,
 * each reply prefixed with its request's number. The session keeps the same count clamd keeps,
 * so each `request…` call returns the number its reply will carry.
 *
 * Replies are read with `nextReply()`, which may run concurrently with requests being sent (clamd
 * stops reading requests while its replies go unread, so a client must keep reading).
 */
export class ClamdSession {
  private lastId = 0;
  private readonly outstanding = new Set<number>();

  private constructor(private readonly connection: ClamdClientConnection) {}

  /** Sends IDSESSION on a fresh connection. */
  static async open(connection: ClamdClientConnection): Promise<ClamdSession> {
    await connection.sendCommand('IDSESSION');
    return new ClamdSession(connection);
  }

  /** How many requests still wait for their reply. */
  get pending(): number {
    return this.outstanding.size;
  }

  /** Sends a command (SCAN, PING, STATS…) and returns its request number. */
  request(command: CommandName, argument?: string): Promise<number> {
    return this.sendAlways((connection) => connection.sendCommand(command, argument));
  }

  /** Streams data with INSTREAM and returns its request number. */
  requestStream(source: StreamSource, options?: StreamOptions): Promise<number> {
    return this.sendAlways((connection) => connection.sendStream(source, options));
  }

  /** Passes a descriptor with FILDES and returns its request number. */
  requestDescriptor(fd: number, sendFd: FdSender): Promise<number> {
    return this.sendAlways((connection) => connection.sendDescriptor(fd, sendFd));
  }

  /**
   * Sends one request with `transmit` and returns its number. The number is taken before
   * sending, so that a reply can never arrive for a number not yet outstanding; when `transmit`
   * reports that nothing went out (false) it is given back, and undefined returned. Requests are
   * sent one at a time. A request that fails half-way (throws) breaks the session, since clamd's
   * count is then unknown.
   */
  async send(transmit: (connection: ClamdClientConnection) => Promise<boolean>): Promise<number | undefined> {
    const id = ++this.lastId;
    this.outstanding.add(id);
    let sent: boolean;
    try {
      sent = await transmit(this.connection);
    } catch (error) {
      this.outstanding.delete(id);
      throw error;
    }
    if (sent) return id;
    this.outstanding.delete(id);
    this.lastId--;
    return undefined;
  }

  /**
   * The next reply; undefined once clamd has closed the connection (check `pending` to see
   * whether replies went missing). A reply that answers no outstanding request is a protocol
   * error, as it is to clamdscan.
   */
  async nextReply(): Promise<SessionReply | undefined> {
    const line = await this.connection.readReply();
    if (line === undefined) return undefined;
    const match = NUMBERED_REPLY.exec(line);
    const id = match ? Number(match[1]) : 0;
    if (!this.outstanding.delete(id)) {
      throw new ClamError('EPROTO', { message: 'Bogus session id from clamd' });
    }
    return { id, text: line.slice(match![0].length), line };
  }

  /** Sends END: clamd answers what is outstanding, then closes the connection. */
  async end(): Promise<void> {
    await this.connection.sendCommand('END');
  }

  /** Drops the connection without waiting for anything. */
  close(): void {
    this.connection.close();
  }

  private async sendAlways(transmit: (connection: ClamdClientConnection) => Promise<unknown>): Promise<number> {
    const id = await this.send(async (connection) => {
      await transmit(connection);
      return true;
    });
    return id!;
  }
}
