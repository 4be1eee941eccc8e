import { readlink, realpath, stat } from 'node:fs/promises';
import { closeSync, fstat, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import {
  errnoMessage,
  messageReply,
  pathErrorReply,
  REPLY,
  statusReply,
  strerror,
  virusReply,
  type ClamdRequest,
  type Job,
  type PathCommand,
  type ReplyTarget,
} from '@clamts/core';
import type { EngineRef } from './engines.js';
import { receivePortStream } from './port-stream.js';
import type { DaemonLogger } from './logger.js';
import type { PoolJob, PoolThread, ThreadPool } from './thread-pool.js';
import { fsPath, walk, type WalkEntry } from './walk.js';
import type { ScanReply, ScanTarget } from './worker-messages.js';

/** The options that shape how requests are carried out (from clamd.conf). */
export interface RequestSettings {
  readonly allowAllMatchScan: boolean;
  readonly followDirSymlinks: boolean;
  readonly followFileSymlinks: boolean;
  readonly maxDirectoryRecursion: number;
  readonly crossFilesystems: boolean;
  readonly excludePaths: readonly RegExp[];
  readonly logClean: boolean;
  readonly extendedDetectionInfo: boolean;
  /** For the legacy STREAM command. */
  readonly streamMinPort: number;
  readonly streamMaxPort: number;
  readonly streamMaxLength: number;
  readonly commandReadTimeout: number;
  readonly readTimeout: number;
}

/** Where a request came from. */
export interface ClientInfo {
  /** INSTREAM's name in the log: `instream(127.0.0.1@40000)`, or `instream(local)`. */
  readonly streamName: string;
  /** The address the client reached clamd on, for STREAM's data port (127.0.0.1 for a Unix socket). */
  readonly localAddress: string;
}

/** What carrying out requests needs from the daemon. */
export interface RequestContext {
  readonly pool: ThreadPool;
  readonly logger: DaemonLogger;
  readonly settings: RequestSettings;
  /** The engine new requests use; the reference is held until `release`. */
  acquireEngine(): EngineRef;
  releaseEngine(engine: EngineRef): void;
  /** Runs VirusEvent for a detection (resolves when the command has finished, as in clamd). */
  virusEvent(path: string, virus: string): Promise<void>;
  /** The STATS reply, id prefix and terminator included. */
  stats(target: ReplyTarget): string;
  /** The device /proc is on (files there are skipped), if it is a procfs. */
  readonly procDevice: number | undefined;
}

/** ALLMATCHSCAN reports every signature; RAWSCAN turns every container and document handler off. */
interface ScanMode {
  readonly allMatch: boolean;
  readonly raw: boolean;
}

const PLAIN: ScanMode = { allMatch: false, raw: false };

/** The counts clamd keeps for one command (its scan_cb_data). */
interface Tally {
  total: number;
  errors: number;
  infected: number;
}

/** clamd's final `path: OK`: sent when nothing was found and not everything failed. */
function allClean(tally: Tally): boolean {
  return tally.infected === 0 && tally.errors !== tally.total;
}

/**
 * Carries out what connections dispatch, as clamd's scanner threads do: each request is a pool job
 * holding one thread; scans run on that thread's worker, while walks, replies and logs happen here.
 */
export class RequestRunner {
  /** MULTISCAN commands running (each holds a thread that only coordinates). */
  private multiscans = 0;

  constructor(private readonly context: RequestContext) {}

  dispatch(request: ClamdRequest, client: ClientInfo): void {
    const engine = this.context.acquireEngine();
    const job = request.job;
    const run = async (thread: PoolThread) => {
      try {
        if (job.cancelled) {
          this.context.logger.log('debug-nv', 'Client disconnected while command was active');
          if (request.kind === 'fildes') closeSync(request.fd);
          return;
        }
        await this.carryOut(request, thread, engine, client);
      } catch (error) {
        // A failure in one job must not take the daemon down; it is logged and the job ends.
        this.context.logger.error(`${commandName(request)} failed: ${(error as Error).message}`);
      } finally {
        this.context.releaseEngine(engine);
        job.finish();
      }
    };
    this.context.pool.dispatch({ command: commandName(request), run });
  }

  private async carryOut(request: ClamdRequest, thread: PoolThread, engine: EngineRef, client: ClientInfo): Promise<void> {
    switch (request.kind) {
      case 'path':
        return this.scanPath(request.command, request.path, request.job, thread, engine);
      case 'instream':
        return this.scanStream(request.data, request.job, thread, engine, client.streamName);
      case 'fildes':
        return this.scanDescriptor(request.fd, request.job, thread, engine);
      case 'stats':
        request.job.reply(this.context.stats(request.job.target));
        return;
      case 'stream':
        return this.portStream(request.job, thread, engine, client.localAddress);
    }
  }

  /** The legacy STREAM command: `PORT n`, then the data on that port, then the result. */
  private async portStream(job: Job, thread: PoolThread, engine: EngineRef, host: string): Promise<void> {
    const { settings, logger } = this.context;
    const term = job.target.term;
    const received = await receivePortStream({
      minPort: settings.streamMinPort,
      maxPort: settings.streamMaxPort,
      host,
      acceptTimeout: settings.commandReadTimeout,
      readTimeout: settings.readTimeout,
      maxLength: settings.streamMaxLength,
      announce: (port) => job.reply(`${REPLY.PORT} ${port}${term}`),
    });
    if (!received.ok) {
      logger.error(received.log);
      job.reply(`${received.reply} ${REPLY.ERROR}${term}`);
      return;
    }
    const name = `stream(${received.peer}@${received.port})`;
    if (received.truncated) logger.warning(`ScanStream(${received.peer}@${received.port}): Size limit reached (max: ${settings.streamMaxLength})`);
    thread.task.filename = received.peer;
    const reply = await this.scanOn(thread, engine, { kind: 'buffer', data: received.data }, PLAIN);
    if (job.cancelled) return;
    const virus = reply.viruses[0];
    if (virus !== undefined) {
      job.reply(virusReply({ id: 0, term }, REPLY.STREAM, virus));
      this.logDetection(name, virus, reply);
      await this.context.virusEvent(REPLY.STREAM, virus);
    } else if (reply.error) {
      const message = strerror(reply.error === 'EACCES' ? 'EOPEN' : reply.error);
      job.reply(messageReply({ id: 0, term }, REPLY.STREAM, message, REPLY.ERROR));
      logger.info(`${name}: ${message} ERROR`);
    } else {
      job.reply(statusReply({ id: 0, term }, REPLY.STREAM, REPLY.OK));
      if (settings.logClean) logger.info(`${name}: OK`);
    }
  }

  private async scanPath(command: PathCommand, path: string, job: Job, thread: PoolThread, engine: EngineRef): Promise<void> {
    const { settings, logger } = this.context;
    if (command === 'ALLMATCHSCAN' && !settings.allowAllMatchScan) {
      logger.log('debug-nv', 'Rejecting ALLMATCHSCAN command.');
      job.reply(messageReply(job.target, path, REPLY.ALLMATCH_DISABLED, REPLY.ERROR));
      return;
    }
    if (command === 'MULTISCAN') {
      const stats = await stat(fsPath(path)).catch(() => undefined);
      // MULTISCAN only fans out directories (ClamAV bug 1869); anything else is a CONTSCAN.
      if (!stats || stats.isDirectory()) return this.multiscan(path, job, engine);
      thread.task.command = 'CONTSCAN';
      command = 'CONTSCAN';
    }
    const tally: Tally = { total: 0, errors: 0, infected: 0 };
    const stopsAtDetection = command !== 'CONTSCAN';
    const allMatch = command === 'ALLMATCHSCAN';
    const raw = command === 'RAWSCAN';
    const result = await walk(path, await this.walkOptions(path, job, true), async (entry) => {
      const verdict = await this.visit(entry, job, tally);
      if (verdict !== 'scan') return verdict === 'continue';
      const file = entry as Extract<WalkEntry, { reason: 'file' }>;
      const real = await this.resolve(file.path, job, tally);
      if (real === undefined) return true;
      thread.task.filename = file.path;
      const outcome = await this.scanFile(thread, engine, real, file.path, job, tally, { allMatch, raw });
      thread.task.filename = undefined;
      return outcome === 'clean' || !stopsAtDetection;
    });
    if (!job.cancelled) this.finalReply(job, result.reported, tally);
  }

  /** MULTISCAN: this thread walks; each file is a bulk job of its own on another thread. */
  private async multiscan(path: string, job: Job, engine: EngineRef): Promise<void> {
    const { pool, logger } = this.context;
    if (this.multiscans + 1 >= pool.maxThreads) {
      // One thread only coordinates, so at least one more must be free to scan.
      logger.warning(`Not enough threads for multiscan. Max: ${pool.maxThreads}, Alive: ${pool.alive}, Multiscan: ${this.multiscans}+1`);
      job.reply(messageReply(job.target, path, REPLY.MULTISCAN_THREADS, REPLY.ERROR));
      return;
    }
    this.multiscans++;
    const walkTally: Tally = { total: 0, errors: 0, infected: 0 };
    const group: Tally = { total: 0, errors: 0, infected: 0 };
    const files: Array<Promise<void>> = [];
    try {
      const result = await walk(path, await this.walkOptions(path, job, false), async (entry) => {
        const verdict = await this.visit(entry, job, walkTally);
        if (verdict !== 'scan') return verdict === 'continue';
        const display = entry.path;
        const real = await this.resolve(display, job, walkTally);
        if (real === undefined) return true;
        await pool.bulkRoom();
        files.push(
          new Promise<void>((done) => {
            const fileJob: PoolJob = {
              command: 'MULTISCANFILE',
              run: async (fileThread) => {
                const tally: Tally = { total: 0, errors: 0, infected: 0 };
                try {
                  if (job.cancelled) tally.errors++;
                  else {
                    tally.total++;
                    fileThread.task.filename = display;
                    await this.scanFile(fileThread, engine, real, display, job, tally, PLAIN);
                  }
                } finally {
                  group.total++;
                  if (tally.infected) group.infected++;
                  else if (tally.errors) group.errors++;
                  done();
                }
              },
            };
            pool.dispatch(fileJob, true);
          }),
        );
        return true;
      });
      await Promise.all(files);
      // clamd decides from the file jobs alone: what the walk itself met does not count here.
      if (!job.cancelled) this.finalReply(job, result.reported, group);
    } finally {
      this.multiscans--;
    }
  }

  private finalReply(job: Job, reported: string, tally: Tally): void {
    if (allClean(tally)) job.reply(statusReply(job.target, reported, REPLY.OK));
  }

  private async walkOptions(path: string, job: Job, needStat: boolean) {
    const { settings } = this.context;
    const device = settings.crossFilesystems ? undefined : (await stat(fsPath(path)).catch(() => undefined))?.dev;
    const replies = needStat; // MULTISCAN's walk does not reply to exclusions
    return {
      followDirSymlinks: settings.followDirSymlinks,
      followFileSymlinks: settings.followFileSymlinks,
      needStat,
      maxDepth: settings.maxDirectoryRecursion,
      excluded: async (candidate: string) => {
        if (settings.excludePaths.some((pattern) => pattern.test(candidate))) {
          if (replies) job.reply(statusReply(job.target, candidate, REPLY.EXCLUDED));
          return true;
        }
        if (device !== undefined) {
          const stats = await stat(fsPath(candidate)).catch(() => undefined);
          if (stats && stats.dev !== device) {
            if (replies) job.reply(statusReply(job.target, candidate, REPLY.EXCLUDED_FILESYSTEM));
            return true;
          }
        }
        return false;
      },
    };
  }

  /**
   * clamd's scan_callback up to the scan itself: counts the entry and answers everything that is
   * not a file to scan. 'scan' means go on and scan the file.
   */
  private async visit(entry: WalkEntry, job: Job, tally: Tally): Promise<'continue' | 'stop' | 'scan'> {
    const { logger } = this.context;
    if (job.cancelled) {
      logger.warning('Client disconnected while scanjob was active');
      return 'stop';
    }
    tally.total++;
    switch (entry.reason) {
      case 'stat-error':
        job.reply(pathErrorReply(job.target, entry.path, errnoMessage(entry.error)));
        logger.warning(`File path check failure on: ${entry.path}`);
        tally.errors++;
        return 'continue';
      case 'skipped-directory':
        logger.warning(`Directory recursion limit reached, skipping ${entry.path}`);
        return 'continue';
      case 'skipped-link':
        logger.log('debug-nv', `Skipping symlink: ${entry.path}`);
        return 'continue';
      case 'skipped-special':
        if (entry.topLevel) job.reply(messageReply(job.target, entry.path, REPLY.NOT_SUPPORTED_FILE_TYPE, REPLY.ERROR));
        logger.debug(`Not supported file type: ${entry.path}`);
        return 'continue';
      case 'top-directory':
        return 'continue';
      case 'file':
        if (skippedFile(entry.stats, this.context.procDevice)) return 'continue';
        return 'scan';
    }
  }

  /** The path the scan opens: symlinked directories above it must not change what is opened. */
  private async resolve(path: string, job: Job, tally: Tally): Promise<string | undefined> {
    try {
      return await realpath(fsPath(path), 'latin1');
    } catch (error) {
      job.reply(pathErrorReply(job.target, path, errnoMessage(error)));
      this.context.logger.warning(`File path check failure for: ${path}`);
      tally.errors++;
      return undefined;
    }
  }

  /** Scans one file and reports it. Returns what was found. */
  private async scanFile(
    thread: PoolThread,
    engine: EngineRef,
    real: string,
    display: string,
    job: Job,
    tally: Tally,
    mode: ScanMode,
  ): Promise<'clean' | 'found' | 'error'> {
    const allMatch = mode.allMatch;
    const reply = await this.scanOn(thread, engine, { kind: 'file', path: real }, mode);
    if (job.cancelled) return 'error';
    const { logger } = this.context;
    if (reply.error === 'EACCES') {
      job.reply(messageReply(job.target, display, REPLY.ACCESS_DENIED, REPLY.ERROR));
      logger.debug(`Access denied: ${display}`);
      tally.errors++;
      return 'error';
    }
    if (reply.viruses.length > 0) {
      // In all-match mode clamd replies for each signature as it matches, then runs VirusEvent.
      const replied = allMatch ? reply.viruses : [reply.viruses[0] as string];
      if (!allMatch) await this.context.virusEvent(real, replied[0] as string);
      for (const virus of replied) {
        tally.infected++;
        job.reply(virusReply(job.target, display, virus));
        this.logDetection(display, virus, reply);
      }
      if (allMatch) await this.context.virusEvent(real, reply.viruses[0] as string);
      return 'found';
    }
    if (reply.error) {
      tally.errors++;
      const message = strerror(reply.error);
      job.reply(messageReply(job.target, display, message, REPLY.ERROR));
      logger.info(`${display}: ${message} ERROR`);
      return 'error';
    }
    if (this.context.settings.logClean) logger.info(`${display}: OK`);
    return 'clean';
  }

  private async scanStream(data: Uint8Array, job: Job, thread: PoolThread, engine: EngineRef, name: string): Promise<void> {
    thread.task.filename = name;
    await this.reportObject(await this.scanOn(thread, engine, { kind: 'buffer', data }, PLAIN), job, REPLY.STREAM, name);
  }

  private async scanDescriptor(fd: number, job: Job, thread: PoolThread, engine: EngineRef): Promise<void> {
    const name = `fd[${fd}]`;
    try {
      const stats = await fstatAsync(fd).catch(() => undefined);
      if (!stats?.isFile()) {
        this.context.logger.info(`${name}: Not a regular file. ERROR`);
        job.reply(messageReply(job.target, name, REPLY.NOT_REGULAR_FILE, REPLY.ERROR));
        return;
      }
      // The file's own name, for the log (clamd finds it the same way).
      const logName = await readlink(`/proc/self/fd/${fd}`, 'latin1').catch(() => name);
      thread.task.filename = name;
      await this.reportObject(await this.scanOn(thread, engine, { kind: 'descriptor', fd }, PLAIN), job, name, logName);
    } finally {
      this.context.logger.log('debug-nv', `Closed fd ${fd}`);
      closeSync(fd);
    }
  }

  /** The reply and log lines for a stream or descriptor (clamd's scanfd). */
  private async reportObject(reply: ScanReply, job: Job, replyName: string, logName: string): Promise<void> {
    if (job.cancelled) return;
    const { logger } = this.context;
    const virus = reply.viruses[0];
    if (virus !== undefined) {
      await this.context.virusEvent(logName, virus);
      job.reply(virusReply(job.target, replyName, virus));
      this.logDetection(logName, virus, reply);
    } else if (reply.error) {
      const message = strerror(reply.error === 'EACCES' ? 'EOPEN' : reply.error);
      job.reply(messageReply(job.target, replyName, message, REPLY.ERROR));
      logger.info(`${logName}: ${message} ERROR`);
    } else {
      job.reply(statusReply(job.target, replyName, REPLY.OK));
      if (this.context.settings.logClean) logger.info(`${logName}: OK`);
    }
  }

  private logDetection(name: string, virus: string, reply: ScanReply): void {
    const print = reply.fingerprint && this.context.settings.extendedDetectionInfo;
    const detail = print ? `(${reply.fingerprint?.md5}:${reply.fingerprint?.size})` : '';
    this.context.logger.info(`${name}: ${virus}${detail} FOUND`);
  }

  /** A scan on the thread's worker; a worker that dies mid-scan reads as an out-of-memory error. */
  private async scanOn(thread: PoolThread, engine: EngineRef, target: ScanTarget, mode: ScanMode): Promise<ScanReply> {
    const fields = { generation: engine.generation, target, ...mode, fingerprint: this.context.settings.extendedDetectionInfo };
    try {
      return await thread.scan(fields, engine);
    } catch {
      return { type: 'result', id: 0, viruses: [], error: 'EMEM' };
    }
  }
}

/** Empty files are skipped without a word, and so is anything on /proc. */
function skippedFile(stats: Stats | undefined, procDevice: number | undefined): boolean {
  if (!stats) return false;
  return stats.size === 0 || (procDevice !== undefined && stats.dev === procDevice);
}

function commandName(request: ClamdRequest): string {
  switch (request.kind) {
    case 'path':
      return request.command;
    case 'instream':
      return 'INSTREAM';
    case 'fildes':
      return 'FILDES';
    case 'stats':
      return 'STATS';
    case 'stream':
      return 'STREAM';
  }
}

const fstatAsync = promisify(fstat);
