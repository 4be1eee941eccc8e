import { silentLogger, type Logger } from '../util/logger.js';
import { frameCommand, type FramedCommand } from './framing.js';
import { InstreamDecoder } from './instream.js';
import { COMMAND_BUFFER_SIZE, commandList, parseCommand, REPLY, SESSION_COMMANDS, type CommandName, type Terminator } from './protocol.js';
import { errorReply, statusReply, type ReplyTarget } from './replies.js';

/** Commands that scan a path the client names. */
export type PathCommand = 'SCAN' | 'RAWSCAN' | 'CONTSCAN' | 'MULTISCAN' | 'ALLMATCHSCAN';

/** Work the daemon carries out for a connection, off the receiving path (clamd's dispatched jobs). */
export type ClamdRequest =
  | { readonly kind: 'path'; readonly command: PathCommand; readonly path: string; readonly job: Job }
  | { readonly kind: 'instream'; readonly data: Uint8Array; readonly job: Job }
  | { readonly kind: 'fildes'; readonly fd: number; readonly job: Job }
  | { readonly kind: 'stats'; readonly job: Job }
  | { readonly kind: 'stream'; readonly job: Job };

/**
 * A dispatched request's link back to its connection: where its replies go, whether it should
 * stop, and the call that says it is done.
 */
export interface Job {
  readonly target: ReplyTarget;
  /** The client is gone or broke the protocol: stop without replying. */
  readonly cancelled: boolean;
  /** Sends a reply (dropped once the connection is closed). */
  reply(text: string): void;
  /** The request has sent all its replies. Call exactly once. */
  finish(): void;
}

/** What a connection needs from the daemon. */
export interface ConnectionHost {
  /** Queues a request; the daemon calls `jobFinished()` on the connection once it has replied. */
  dispatch(connection: ClamdConnection, request: ClamdRequest): void;
  /** `ClamTS 0.1.0/27371/Sun Aug 25 08:35:03 2024`, or without the database part. */
  versionString(): string;
  shutdown(): void;
  reload(): void;
}

/** The socket side of a connection. */
export interface ConnectionTransport {
  /** Sends a byte string. */
  write(text: string): void;
  /** Closes the connection once what was written has been sent. */
  close(): void;
  /** No more data is wanted from the client. */
  stopReading(): void;
  /** Closes a descriptor the client passed that nobody claimed. */
  closeDescriptor(fd: number): void;
  /** Arms (or with undefined, disarms) the inactivity timer; on expiry call `timedOut()`. */
  setReadTimeout(seconds: number | undefined): void;
}

export interface ConnectionSettings {
  /** StreamMaxLength, bytes. */
  readonly streamMaxLength: number;
  /** Seconds: CommandReadTimeout (first command) and ReadTimeout (afterwards). */
  readonly commandReadTimeout: number;
  readonly readTimeout: number;
  /** Whether FILDES can work on this connection (a Unix socket with descriptor passing). */
  readonly descriptorPassing: boolean;
  readonly logger?: Logger;
}

/**
 * - command: reading commands;
 * - stream: reading INSTREAM chunks;
 * - wait-ancillary: FILDES arrived, waiting for the packet carrying the descriptor;
 * - wait-reply: no more commands accepted, waiting for running jobs to reply;
 * - closed.
 */
export type ConnectionMode = 'command' | 'stream' | 'wait-ancillary' | 'wait-reply' | 'closed';

/** The length of "FILDES\n": a FILDES command must be followed by the byte that carries the descriptor. */
const FILDES_WITH_TERMINATOR = 7;

/**
 * An IDSESSION (clamd's job group): it counts the receiving side as one job until END, plus each
 * dispatched request; the connection closes when the count drops to zero.
 */
interface SessionGroup {
  jobs: number;
  terminated: boolean;
}

/**
 * One client connection of clamd: framing, command dispatch, INSTREAM, IDSESSION numbering and
 * the rules for when the connection ends, modelled on clamd's receive loop so that every reply and
 * every close happens where clamd's would.
 *
 * Data is processed in reads of at most the command buffer's free space, as clamd reads; which
 * bytes arrive in one read matters for unprefixed commands (one read is one command) and for
 * FILDES (the descriptor belongs to the read that carried it).
 */
export class ClamdConnection {
  private modeValue: ConnectionMode = 'command';
  private readonly buffer = new Uint8Array(COMMAND_BUFFER_SIZE);
  private length = 0;
  private id = 0;
  private term: Terminator = '\0';
  private group: SessionGroup | undefined;
  private inFlight = 0;
  /** The socket is gone, or the daemon stops: nothing more can be sent. */
  private gone = false;
  private receivedFd: number | undefined;
  private stream: InstreamDecoder | undefined;
  private readonly logger: Logger;

  constructor(
    private readonly host: ConnectionHost,
    private readonly transport: ConnectionTransport,
    private readonly settings: ConnectionSettings,
  ) {
    this.logger = settings.logger ?? silentLogger;
    transport.setReadTimeout(settings.commandReadTimeout);
  }

  get mode(): ConnectionMode {
    return this.modeValue;
  }

  /** Data from the client, with the descriptor that came with it (SCM_RIGHTS), if any. */
  receive(data: Uint8Array, fd?: number): void {
    let pos = 0;
    do {
      if (!this.reading) {
        if (fd !== undefined) this.transport.closeDescriptor(fd);
        return;
      }
      if (this.length >= this.buffer.length) {
        // clamd cannot read into a full buffer: it treats that as a read error.
        if (fd !== undefined) this.transport.closeDescriptor(fd);
        this.readError();
        return;
      }
      const take = Math.min(this.buffer.length - this.length, data.length - pos);
      const last = pos + take >= data.length;
      this.processRead(data.subarray(pos, pos + take), last ? fd : undefined);
      pos += take;
    } while (pos < data.length);
  }

  /** The client closed its side, or reading failed. */
  readError(): void {
    if (!this.reading) return;
    this.logger.debug('Client disconnected');
    this.fail();
  }

  /** The inactivity timer expired. */
  timedOut(): void {
    if (!this.reading) return;
    this.logger.debug('Client read timed out');
    this.transport.write(`${REPLY.COMMAND_READ_TIMED_OUT}\n`);
    this.fail();
  }

  /** The socket is gone for good (reset, closed, deadlocked): running jobs cannot reply any more. */
  disconnected(): void {
    this.gone = true;
    this.stream = undefined;
    this.releaseDescriptor();
    this.modeValue = 'closed';
  }

  /**
   * The daemon is shutting down: no more commands are read; connections without running jobs
   * close now, the others once their jobs have replied.
   */
  shutdown(): void {
    if (this.modeValue === 'closed') return;
    this.stream = undefined;
    this.releaseDescriptor();
    this.endReceiving();
    if (this.inFlight === 0) this.close();
  }

  private currentMode(): ConnectionMode {
    return this.modeValue;
  }

  private get reading(): boolean {
    return this.modeValue === 'command' || this.modeValue === 'stream' || this.modeValue === 'wait-ancillary';
  }

  /** One read's worth of data: clamd's receive-loop iteration for one socket. */
  private processRead(data: Uint8Array, fd: number | undefined): void {
    this.releaseDescriptor();
    this.buffer.set(data, this.length);
    this.length += data.length;
    this.receivedFd = fd;
    if (this.modeValue === 'wait-ancillary') this.modeValue = 'command';

    while (this.length > 0 && (this.modeValue === 'command' || this.modeValue === 'stream')) {
      if (this.modeValue === 'stream') {
        if (!this.consumeStream()) return;
        continue;
      }
      const outcome = this.parseCommands();
      if (outcome === 'error') return this.failWithReply();
      if (outcome === 'abort') return this.fail();
      if (outcome === 'wait') return;
      // (Read through a method: TypeScript cannot see that executing commands changed it.)
      if (this.currentMode() === 'wait-reply' && this.length > 0) {
        this.logger.warning(`Client sent garbage after last command: ${this.length} bytes`);
        return this.failWithReply();
      }
    }
  }

  /**
   * Parses and executes the commands in the buffer (clamd's parse_dispatch_cmd). Returns 'wait'
   * when more data is needed, 'mode' when the mode changed, 'error' on a protocol error that gets
   * "Error processing command.", 'abort' on one that ends the connection without it.
   */
  private parseCommands(): 'wait' | 'mode' | 'error' | 'abort' {
    let fd = this.receivedFd;
    this.receivedFd = undefined;
    let pos = 0;
    let outcome: 'wait' | 'mode' | 'error' | 'abort' = 'wait';
    let command: FramedCommand | undefined;
    while (this.modeValue === 'command' && (command = frameCommand(this.buffer, this.length, pos))) {
      if (this.group && command.legacy) {
        this.logger.debug(`Received oldstyle command inside IDSESSION: ${command.text}`);
        this.transport.write(errorReply(this.target(), REPLY.ONLY_PREFIXED_IN_SESSION));
        outcome = 'error';
        break;
      }
      const parsed = parseCommand(command.text, command.legacy);
      const name = parsed.known ? parsed.spec.name : undefined;
      let length = command.length;
      if (name === 'FILDES') {
        if (this.length <= command.textStart + FILDES_WITH_TERMINATOR) {
          // The descriptor travels with the byte after the command: wait for that packet.
          this.modeValue = 'wait-ancillary';
          break;
        }
        length++;
      }
      this.term = command.term;
      const result = this.execute(name, parsed.known ? parsed.argument : undefined, fd);
      if (name === 'FILDES') fd = undefined;
      if (this.group?.terminated) {
        outcome = 'abort';
        break;
      }
      if (!this.group || result === 'done') {
        if (result === 'done' && this.groupFinished()) {
          this.close();
          outcome = 'mode';
          break;
        }
        this.endReceiving();
      }
      if (this.reading) this.transport.setReadTimeout(this.settings.readTimeout);
      pos += length + 1;
      if (this.modeValue !== 'command') {
        outcome = 'mode';
        break;
      }
      this.id++;
    }
    if (fd !== undefined) {
      this.logger.debug(`Unclaimed file descriptor received, closing: ${fd}`);
      this.transport.closeDescriptor(fd);
      if (this.modeValue === 'closed') return 'mode';
      this.transport.write(errorReply(this.target(), REPLY.FD_WITHOUT_FILDES));
      return 'abort';
    }
    if (outcome !== 'error') this.discard(Math.min(pos, this.length));
    return outcome;
  }

  /**
   * Runs one command (clamd's execute_or_dispatch_command). 'done' means the command completed and
   * the connection ends (outside a session); 'continue' that more commands may follow.
   */
  private execute(name: CommandName | undefined, argument: string | undefined, fd: number | undefined): 'done' | 'continue' {
    const target = this.target();
    if (this.group && (name === undefined || !SESSION_COMMANDS.has(name))) {
      this.logger.debug(`SESSION: command is not valid inside IDSESSION: ${name ?? 'UNKNOWN'}`);
      this.transport.write(errorReply(target, REPLY.INVALID_IN_SESSION));
      // clamd forgets the session here, so the connection closes at once.
      this.group = undefined;
      return 'done';
    }
    const quick = this.group ? 'continue' : 'done';
    switch (name) {
      case 'SHUTDOWN':
      case 'QUIT':
        this.host.shutdown();
        return 'done';
      case 'RELOAD':
        this.transport.write(`${REPLY.RELOADING}${this.term}`);
        this.host.reload();
        return 'done';
      case 'PING':
        this.transport.write(statusReply(target, undefined, REPLY.PONG));
        return quick;
      case 'VERSION':
        this.transport.write(statusReply(target, undefined, this.host.versionString()));
        return quick;
      case 'VERSIONCOMMANDS':
        this.transport.write(statusReply(target, undefined, `${this.host.versionString()}|${commandList()}`));
        return quick;
      case 'DETSTATS':
      case 'DETSTATSCLEAR':
        // Removed from ClamAV: it closes the connection without a word.
        return 'done';
      case 'INSTREAM':
        this.stream = new InstreamDecoder(this.settings.streamMaxLength);
        this.modeValue = 'stream';
        return 'continue';
      case 'IDSESSION':
        this.group = { jobs: 1, terminated: false };
        return 'continue';
      case 'END':
        if (!this.group) this.transport.write(statusReply(target, undefined, REPLY.UNKNOWN_COMMAND));
        return 'done';
      case 'FILDES':
        if (fd === undefined) {
          const message = this.settings.descriptorPassing ? REPLY.NO_FD_RECEIVED : REPLY.FILDES_UNSUPPORTED;
          this.transport.write(errorReply(target, message));
          return 'done';
        }
        this.dispatch((job) => ({ kind: 'fildes', fd, job }));
        return 'continue';
      case 'STATS':
        this.dispatch((job) => ({ kind: 'stats', job }));
        return 'continue';
      case 'STREAM':
        this.dispatch((job) => ({ kind: 'stream', job }));
        return 'continue';
      case 'SCAN':
      case 'RAWSCAN':
      case 'CONTSCAN':
      case 'MULTISCAN':
      case 'ALLMATCHSCAN':
        this.dispatch((job) => ({ kind: 'path', command: name, path: argument as string, job }));
        return 'continue';
      default:
        this.transport.write(statusReply(target, undefined, REPLY.UNKNOWN_COMMAND));
        return 'done';
    }
  }

  /** Feeds buffered bytes to INSTREAM (clamd's handle_stream). Returns false to wait for data. */
  private consumeStream(): boolean {
    const decoder = this.stream as InstreamDecoder;
    this.transport.setReadTimeout(this.settings.readTimeout);
    const progress = decoder.push(this.buffer.subarray(0, this.length));
    if (progress.state === 'more') {
      this.length = 0;
      return false;
    }
    if (progress.state === 'too-large') {
      this.logger.warning(
        `INSTREAM: Size limit reached, (requested: ${progress.requested}, max: ${progress.remaining})`,
      );
      this.transport.write(errorReply(this.target(), REPLY.SIZE_LIMIT_EXCEEDED));
      this.fail();
      return false;
    }
    this.discard(progress.used);
    this.stream = undefined;
    this.modeValue = 'command';
    if (!this.group) this.endReceiving();
    this.dispatch((job) => ({ kind: 'instream', data: decoder.data(), job }));
    this.id++;
    return this.modeValue === 'command';
  }

  private dispatch(build: (job: Job) => ClamdRequest): void {
    const group = this.group;
    if (group) group.jobs++;
    this.inFlight++;
    let finished = false;
    const connection = this;
    const job: Job = {
      target: this.target(),
      get cancelled() {
        return connection.gone || group?.terminated === true;
      },
      reply: (text) => {
        if (this.modeValue !== 'closed') this.transport.write(text);
      },
      finish: () => {
        if (finished) return;
        finished = true;
        this.inFlight--;
        // The last job of a session, or the one job of a plain command, closes the connection.
        const last = group ? --group.jobs === 0 : true;
        if (this.modeValue === 'closed') return;
        if (last || (this.modeValue === 'wait-reply' && this.inFlight === 0)) this.close();
      },
    };
    this.host.dispatch(this, build(job));
  }

  private target(): ReplyTarget {
    return { id: this.id, term: this.term };
  }

  /** clamd's thrmgr_group_finished for the receiving side: true when nothing else keeps it open. */
  private groupFinished(): boolean {
    if (!this.group) return true;
    if (this.group.jobs > 0) this.group.jobs--;
    return this.group.jobs === 0;
  }

  /** Drops the first `count` bytes of the buffer. */
  private discard(count: number): void {
    this.buffer.copyWithin(0, count, this.length);
    this.length -= count;
  }

  private releaseDescriptor(): void {
    if (this.receivedFd === undefined) return;
    this.logger.debug(`Closing unclaimed FD: ${this.receivedFd}`);
    this.transport.closeDescriptor(this.receivedFd);
    this.receivedFd = undefined;
  }

  /** No more commands: clamd stops watching the socket (MODE_WAITREPLY). */
  private endReceiving(): void {
    if (this.modeValue === 'stream' || this.modeValue === 'closed') return;
    this.modeValue = 'wait-reply';
    this.transport.stopReading();
    this.transport.setReadTimeout(undefined);
  }

  /** A protocol error after which clamd says "Error processing command." and gives up. */
  private failWithReply(): void {
    this.transport.write(errorReply(this.target(), REPLY.ERROR_PROCESSING));
    this.fail();
  }

  /**
   * Gives up on the connection: a session's running jobs stop, and the connection closes once
   * no job is left to reply. (A plain command's one job still replies, as in clamd.)
   */
  private fail(): void {
    this.stream = undefined;
    this.releaseDescriptor();
    if (this.group) this.group.terminated = true;
    this.groupFinished();
    this.endReceiving();
    if (this.inFlight === 0) this.close();
  }

  private close(): void {
    if (this.modeValue === 'closed') return;
    this.modeValue = 'closed';
    this.transport.stopReading();
    this.transport.setReadTimeout(undefined);
    this.transport.close();
  }
}
