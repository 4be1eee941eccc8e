import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import type { Socket } from 'node:net';
import {
  CLAMTS_VERSION,
  ClamdConnection,
  isClamError,
  renderStats,
  scanOptions,
  type ConnectionHost,
  type LoadOptions,
  type Alert,
  type ReplyTarget,
  type ScanOptions,
  type ScanSwitch,
} from '@clamts/core';
import { versionLine } from '../common/database-version.js';
import { ctime } from '@clamts/core';
import type { DescriptorPassing } from './descriptor-passing.js';
import { EngineRegistry, loadDatabase } from './engines.js';
import { listenLocal, listenTcp, type Listener } from './listeners.js';
import type { DaemonLogger } from './logger.js';
import { RequestRunner, type ClientInfo, type RequestSettings } from './requests.js';
import type { ClamdSettings } from './settings.js';
import { engineLimits, startupReport } from './startup-report.js';
import { preciseNow, ThreadPool } from './thread-pool.js';
import { SocketTransport } from './transport.js';
import { runVirusEvent } from './virus-event.js';

/** Database files whose changes SelfCheck notices (libclamav's CLI_DBEXT). */
const DATABASE_FILE = /\.(db|db2|db3|hdb|hdu|fp|mdb|mdu|hsb|hsu|sfp|msb|msu|ndb|ndu|ldb|ldu|sdb|zmd|rmd|pdb|gdb|wdb|cbc|ftm|cfg|cvd|cld|cud|cdb|cat|crb|idb|ioc|yar|yara|pwdb|ign|ign2|imp|info)$/i;

interface ClientConnection {
  readonly transport: SocketTransport;
  readonly connection: ClamdConnection;
}

/**
 * The running clamd: sockets, connections, the thread pool, the engine and its reloads, signals
 * and shutdown. `start` returns once the database is loaded and every socket listens.
 */
export class Daemon {
  private readonly listeners: Listener[] = [];
  private readonly clients = new Set<ClientConnection>();
  /** Connections accepted while MaxQueue connections were open: they wait, unread. */
  private readonly waiting: Array<{ socket: Socket; listener: Listener }> = [];
  private readonly engines: EngineRegistry;
  private readonly pool: ThreadPool;
  private readonly runner: RequestRunner;
  private readonly maxQueue: number;
  private databaseSnapshot = new Map<string, string>();
  private reloading = false;
  private reloadAgain = false;
  private stopping: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private held = false;
  readonly stopped: Promise<number>;
  private resolveStopped!: (code: number) => void;

  private constructor(
    private readonly settings: ClamdSettings,
    private readonly logger: DaemonLogger,
    private readonly descriptorPassing: DescriptorPassing | undefined,
  ) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.maxQueue = effectiveMaxQueue(settings, logger);
    this.engines = new EngineRegistry((generation) => this.pool.forget(generation));
    const scan = daemonScanOptions(settings);
    const engineLogger = logger.engineLogger();
    this.pool = new ThreadPool({
      maxThreads: Math.max(1, settings.number('MaxThreads')),
      idleTimeout: settings.number('IdleTimeout'),
      maxQueue: this.maxQueue,
      workerData: () => ({
        engines: this.engines.live().map(({ generation, descriptor }) => ({ generation, descriptor })),
        scanOptions: scan,
        debug: engineLogger.debugEnabled,
      }),
      onWorkerError: (error) => logger.error(`Scan thread failed: ${error.message}`),
      onEngineMessage: ({ level, message }) => engineLogger[level](message),
    });
    this.pool.on('room', () => {
      if (this.held && !this.pool.contended) this.setHold(false);
    });
    const virusEvent = settings.string('VirusEvent');
    const procDevice = procfsDevice();
    this.runner = new RequestRunner({
      pool: this.pool,
      logger,
      settings: requestSettings(settings),
      acquireEngine: () => this.engines.acquire(),
      releaseEngine: (engine) => this.engines.release(engine),
      virusEvent: async (path, virus) => {
        if (virusEvent !== undefined && !(await runVirusEvent(virusEvent, path, virus))) logger.error('VirusEvent: fork failed.');
      },
      stats: (target) => this.statsReply(target),
      procDevice,
    });
  }

  /** Loads the database and opens the sockets. Throws after logging when clamd cannot start. */
  static async start(settings: ClamdSettings, logger: DaemonLogger, descriptorPassing: DescriptorPassing | undefined): Promise<Daemon> {
    const daemon = new Daemon(settings, logger, descriptorPassing);
    await daemon.loadInitialDatabase();
    await daemon.openSockets();
    return daemon;
  }

  /** Starts serving: logs the configuration, arms signals and SelfCheck, accepts connections. */
  serve(): void {
    for (const [level, line] of startupReport(this.settings, processLimit('Max core file size'))) this.logger.log(level, line);
    this.logger.debug(`Listening daemon: PID: ${process.pid}`);
    this.logger.debug(`MaxQueue set to: ${this.maxQueue}`);
    const selfCheck = this.settings.number('SelfCheck');
    if (selfCheck > 0) {
      this.timers.push(setInterval(() => this.selfCheck(), selfCheck * 1000));
    }
    process.on('SIGTERM', () => void this.shutdown());
    process.on('SIGINT', () => void this.shutdown());
    process.on('SIGHUP', () => {
      this.logger.info('SIGHUP caught: re-opening log file.');
      this.logger.reopen();
    });
    process.on('SIGUSR2', () => this.reload());
  }

  /** clamd's progexit: stop accepting, let running jobs reply, clean up. */
  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    // A server's close callback waits for its open connections, so they are ended first:
    // an idle IDSESSION client (clamdtop) must not keep the daemon alive.
    const closed = this.listeners.map((listener) => new Promise((resolve) => listener.server.close(resolve)));
    for (const { socket } of this.waiting.splice(0)) socket.destroy();
    for (const client of this.clients) client.connection.shutdown();
    await this.pool.shutdown();
    for (const client of this.clients) client.transport.destroy();
    await Promise.all(closed);
    const pidFile = this.settings.string('PidFile');
    if (pidFile !== undefined) {
      try {
        unlinkSync(pidFile);
        this.logger.info('Pid file removed.');
      } catch {
        this.logger.error(`Can't unlink the pid file ${pidFile}`);
      }
    }
    this.logger.info(`--- Stopped at ${ctime(new Date())}`);
    this.logger.debug(`Closing the main socket${this.listeners.length > 1 ? 's' : ''}.`);
    const localSocket = this.settings.string('LocalSocket');
    if (localSocket !== undefined && this.listeners.some((listener) => listener.kind === 'local')) {
      try {
        unlinkSync(localSocket);
        this.logger.info('Socket file removed.');
      } catch (error) {
        // Closing a Node server already removes its socket file.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.logger.info('Socket file removed.');
        else this.logger.error(`Can't unlink the socket file ${localSocket}`);
      }
    }
    this.resolveStopped(0);
  }

  /** RELOAD, SIGUSR2, SelfCheck: load the database again; the old engine serves until then. */
  reload(): void {
    if (this.stopping) return;
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    this.reloading = true;
    void this.reloadDatabase().finally(() => {
      this.reloading = false;
      if (this.reloadAgain) {
        this.reloadAgain = false;
        this.reload();
      }
    });
  }

  private async reloadDatabase(): Promise<void> {
    const concurrent = this.settings.bool('ConcurrentDatabaseReload');
    if (!concurrent) {
      // Without concurrent reloads clamd stops taking commands and waits for running scans.
      this.setHold(true);
      await this.pool.idle();
    }
    const directory = this.databaseDirectory;
    this.logger.info(`Reading databases from ${directory}`);
    try {
      this.databaseSnapshot = snapshotDatabase(directory);
      const { engine, descriptor } = await loadDatabase(directory, this.loadOptions(), this.engineLog());
      this.logger.info(`Database correctly reloaded (${engine.signatureCount} signatures)`);
      if (!concurrent) this.logger.info('Database reload completed.');
      this.logger.info('Activating the newly loaded database...');
      this.engines.activate(engine, descriptor);
    } catch (error) {
      if (!isClamError(error)) throw error;
      this.logger.error(`reload_th: Database load failed: ${error.message}`);
      this.logger.warning('Database reload failed, keeping the previous instance');
    } finally {
      if (!concurrent) this.setHold(this.pool.contended);
    }
  }

  private selfCheck(): void {
    if (this.reloading || this.stopping) return;
    const now = snapshotDatabase(this.databaseDirectory);
    if (this.databaseSnapshot.size === 0) {
      this.logger.info('No stats for Database check - forcing reload');
    } else if (!sameSnapshot(now, this.databaseSnapshot)) {
      this.logger.info('SelfCheck: Database modification detected. Forcing reload.');
    } else {
      this.logger.info('SelfCheck: Database status OK.');
      return;
    }
    this.reload();
  }

  private get databaseDirectory(): string {
    return this.settings.string('DatabaseDirectory') as string;
  }

  private loadOptions(): Omit<LoadOptions, 'logger'> {
    const exclude = this.settings.strings('ExcludePUA');
    const include = this.settings.strings('IncludePUA');
    return {
      detectPua: this.settings.bool('DetectPUA'),
      puaFilter: exclude.length ? { mode: 'exclude', categories: exclude } : include.length ? { mode: 'include', categories: include } : undefined,
      officialOnly: this.settings.bool('OfficialDatabaseOnly'),
      phishingSignatures: this.settings.bool('PhishingSignatures'),
      bytecode: this.settings.bool('Bytecode'),
      disableCertCheck: this.settings.bool('DisableCertCheck'),
      // clamd has no --dumpcerts; said explicitly so that clamscan's engine cache files fit clamd.
      dumpCertificates: false,
    };
  }

  private engineLog() {
    const engineLogger = this.logger.engineLogger();
    return {
      debugEnabled: engineLogger.debugEnabled,
      write: (level: 'error' | 'warning' | 'debug', message: string) => engineLogger[level](message),
    };
  }

  private async loadInitialDatabase(): Promise<void> {
    const { settings, logger } = this;
    const directory = this.databaseDirectory;
    logger.log('info-nf', `Reading databases from ${directory}`);
    if (settings.bool('DetectPUA')) {
      const exclude = settings.strings('ExcludePUA');
      const include = settings.strings('IncludePUA');
      if (exclude.length) logger.log('info-nf', `Excluded PUA categories: ${exclude.join(' ')}`);
      if (include.length) {
        if (exclude.length) fatal(logger, 'ExcludePUA and IncludePUA cannot be used at the same time');
        logger.log('info-nf', `Included PUA categories: ${include.join(' ')}`);
      }
    } else {
      logger.log('info-nf', 'Not loading PUA signatures.');
    }
    if (settings.bool('OfficialDatabaseOnly')) logger.log('info-nf', 'Only loading official signatures.');
    if (!settings.bool('PhishingSignatures')) logger.log('info-nf', 'Not loading phishing signatures.');
    if (settings.bool('Bytecode')) {
      const security = settings.string('BytecodeSecurity') ?? 'TrustSigned';
      if (security !== 'TrustSigned' && security !== 'Paranoid') fatal(logger, `Unable to parse bytecode security setting:${security}`);
      logger.log('info-nf', `Bytecode: Security mode set to "${security}".`);
      if (settings.bool('BytecodeUnsigned')) logger.log('info-nf', 'Bytecode: Enabled support for unsigned bytecode.');
    } else {
      logger.log('info-nf', 'Bytecode support disabled.');
    }
    if (!settings.bool('PhishingScanURLs')) logger.log('info-nf', 'Disabling URL based phishing detection.');
    try {
      this.databaseSnapshot = snapshotDatabase(directory);
      const { engine, descriptor } = await loadDatabase(directory, this.loadOptions(), this.engineLog());
      this.engines.activate(engine, descriptor);
      logger.log('info-nf', `Loaded ${engine.signatureCount} signatures.`);
    } catch (error) {
      if (!isClamError(error)) throw error;
      fatal(logger, error.message);
    }
  }

  private async openSockets(): Promise<void> {
    const { settings, logger } = this;
    const backlog = settings.number('MaxConnectionQueueLength');
    const accept = (socket: Socket, listener: Listener) => this.accept(socket, listener);
    if (settings.isEnabled('TCPSocket')) {
      const port = settings.number('TCPSocket');
      const addresses = settings.strings('TCPAddr');
      for (const address of addresses.length ? addresses : [undefined]) {
        this.listeners.push(...(await listenTcp(address, port, backlog, accept, logger)));
      }
    }
    const localSocket = settings.string('LocalSocket');
    if (localSocket !== undefined) {
      this.listeners.push(
        await listenLocal(
          localSocket,
          {
            mode: settings.string('LocalSocketMode'),
            group: settings.string('LocalSocketGroup'),
            fixStale: settings.bool('FixStaleSocket'),
            backlog,
          },
          accept,
          logger,
        ),
      );
    }
    if (this.listeners.length === 0) fatal(logger, 'Not listening on any interfaces');
  }

  private accept(socket: Socket, listener: Listener): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    // clamd leaves connections beyond MaxQueue in the kernel's backlog; here they wait unread.
    if (this.clients.size > this.maxQueue) {
      this.waiting.push({ socket, listener });
      socket.once('close', () => {
        const index = this.waiting.findIndex((entry) => entry.socket === socket);
        if (index !== -1) this.waiting.splice(index, 1);
      });
      return;
    }
    this.logger.log('debug-nv', 'Got new connection');
    const local = listener.kind === 'local';
    const client: ClientInfo = {
      streamName: !local && socket.remoteFamily === 'IPv4' ? `instream(${socket.remoteAddress}@${socket.remotePort})` : 'instream(local)',
      localAddress: local ? '127.0.0.1' : (socket.localAddress ?? '127.0.0.1'),
    };
    let entry: ClientConnection | undefined;
    const transport = new SocketTransport(socket, {
      sendBufTimeout: this.settings.number('SendBufTimeout'),
      descriptorPassing: local ? this.descriptorPassing : undefined,
      logger: this.logger,
      onDeadlock: () => this.logger.log('debug-nv', 'Client not reading its replies: closing the connection'),
      onClosed: () => {
        if (entry) this.clients.delete(entry);
        this.admitWaiting();
      },
    });
    const host: ConnectionHost = {
      dispatch: (_connection, request) => {
        this.runner.dispatch(request, client);
        if (this.pool.contended) this.setHold(true);
      },
      versionString: () => this.versionString(),
      shutdown: () => void this.shutdown(),
      reload: () => this.reload(),
    };
    const connection = new ClamdConnection(host, transport, {
      streamMaxLength: this.settings.number('StreamMaxLength'),
      commandReadTimeout: this.settings.number('CommandReadTimeout'),
      readTimeout: this.settings.number('ReadTimeout'),
      descriptorPassing: transport.passesDescriptors,
      logger: this.logger.protocolLogger(),
    });
    entry = { transport, connection };
    this.clients.add(entry);
    if (this.held) transport.hold();
    transport.attach(connection);
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.clients.size <= this.maxQueue && !this.stopping) {
      const next = this.waiting.shift() as { socket: Socket; listener: Listener };
      if (!next.socket.destroyed) this.accept(next.socket, next.listener);
    }
  }

  /** While the job queue is full, no connection is read (clamd's receive thread blocks then). */
  private setHold(held: boolean): void {
    if (held === this.held) return;
    this.held = held;
    for (const { transport } of this.clients) {
      if (held) transport.hold();
      else transport.release();
    }
  }

  private versionString(): string {
    return versionLine(`ClamTS ${CLAMTS_VERSION}`, this.engines.current?.engine.databaseVersion);
  }

  private statsReply(target: ReplyTarget): string {
    const inUse = this.engines.inUse();
    const bytes = inUse.reduce((sum, engine) => sum + engine.bytes, 0);
    const memory = { pools: inUse.length, poolsUsed: bytes, poolsTotal: bytes };
    const prefix = target.id ? `${target.id}: ` : '';
    return prefix + renderStats([this.pool.stats()], memory, preciseNow(), target.term);
  }
}

/** Logs an error that stops clamd from starting and throws it. */
function fatal(logger: DaemonLogger, message: string): never {
  logger.error(message);
  throw new StartupError(message);
}

/** clamd cannot start; the reason has been logged. */
export class StartupError extends Error {}

/**
 * MaxQueue as clamd adjusts it against the open-file limit: at least MaxThreads, at most what the
 * descriptors allow, and raised to twice MaxThreads when that fits.
 */
function effectiveMaxQueue(settings: ClamdSettings, logger: DaemonLogger): number {
  const maxThreads = settings.number('MaxThreads');
  let maxQueue = settings.number('MaxQueue');
  const limit = processLimit('Max open files');
  if (limit === undefined || limit === 'unlimited') return maxQueue;
  const openFiles = Number(limit);
  const warn = settings.isSet('MaxQueue');
  const maxRecursion = settings.number('MaxRecursion');
  // MaxThreads * MaxRecursion + (MaxQueue - MaxThreads) + 6 descriptors must stay below the limit.
  let ceiling = openFiles - maxRecursion * maxThreads - 6 + maxThreads;
  if (maxQueue < maxThreads) {
    maxQueue = maxThreads;
    if (warn) logger.warning(`MaxQueue value too low, increasing to: ${maxQueue}`);
  }
  if (ceiling < maxThreads) {
    logger.warning(`MaxThreads * MaxRecursion is too high: ${maxRecursion * maxThreads}, open file descriptor limit is: ${openFiles}`);
    ceiling = maxThreads;
  }
  if (maxQueue > ceiling) {
    maxQueue = ceiling;
    if (warn) logger.warning(`MaxQueue value too high, lowering to: ${maxQueue}`);
  } else if (maxQueue < 2 * maxThreads && maxQueue < ceiling) {
    maxQueue = Math.min(2 * maxThreads, ceiling);
    logger.warning(`MaxQueue is lower than twice MaxThreads, increasing to: ${maxQueue}`);
  }
  return maxQueue;
}

/** A soft resource limit from /proc/self/limits (Node has no getrlimit): a number or "unlimited". */
function processLimit(name: string): string | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((text) => text.startsWith(name));
    return line?.slice(name.length).trim().split(/\s+/)[0];
  } catch {
    return undefined;
  }
}

/** The device of /proc when it is a procfs (its files are skipped by scans, as in clamd). */
function procfsDevice(): number | undefined {
  try {
    const stats = statSync('/proc');
    return stats.size === 0 ? stats.dev : undefined;
  } catch {
    return undefined;
  }
}

/** Name → identity of the database files in a directory (libclamav's cl_statinidir). */
function snapshotDatabase(directory: string): Map<string, string> {
  const snapshot = new Map<string, string>();
  try {
    for (const name of readdirSync(directory)) {
      if (!DATABASE_FILE.test(name)) continue;
      try {
        const stats = statSync(`${directory}/${name}`);
        snapshot.set(name, `${stats.ino}:${stats.mtimeMs}:${stats.size}`);
      } catch {
        // Vanished between readdir and stat: the next check sees the change.
      }
    }
  } catch {
    // An unreadable directory has no stats; the check forces a reload, which then reports why.
  }
  return snapshot;
}

function sameSnapshot(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([name, identity]) => b.get(name) === identity);
}

/** The scan options clamd.conf asks for (the logger stays in the main thread). */
function daemonScanOptions(settings: ClamdSettings): Omit<ScanOptions, 'logger'> {
  const archives = settings.bool('ScanArchive');
  const alerts = new Set<Alert>();
  if (settings.bool('AlertEncrypted') || settings.bool('AlertEncryptedDoc')) alerts.add('encrypted-doc');
  if (archives && (settings.bool('AlertEncrypted') || settings.bool('AlertEncryptedArchive'))) alerts.add('encrypted-archive');
  if ((settings.bool('ScanPE') || settings.bool('ScanELF')) && settings.bool('AlertBrokenExecutables')) alerts.add('broken');
  if (settings.bool('AlertBrokenMedia')) alerts.add('broken-media');
  if (settings.bool('ScanOLE2') && settings.bool('AlertOLE2Macros')) alerts.add('macros');
  const handlers: Array<[ScanSwitch, string]> = [
    ['archive', 'ScanArchive'],
    ['mail', 'ScanMail'],
    ['ole2', 'ScanOLE2'],
    ['pdf', 'ScanPDF'],
    ['html', 'ScanHTML'],
    ['xmldocs', 'ScanXMLDOCS'],
    ['pe', 'ScanPE'],
    ['elf', 'ScanELF'],
    ['swf', 'ScanSWF'],
    ['hwp3', 'ScanHWP3'],
    ['onenote', 'ScanOneNote'],
    ['image', 'ScanImage'],
  ];
  const { logger: _unused, ...options } = scanOptions({
    alertExceedsMax: settings.bool('AlertExceedsMax'),
    alerts,
    heuristicAlerts: settings.bool('HeuristicAlerts'),
    heuristicScanPrecedence: settings.bool('HeuristicScanPrecedence'),
    disabledHandlers: new Set(handlers.filter(([, option]) => !settings.bool(option)).map(([name]) => name)),
    phishingScanUrls: settings.bool('PhishingScanURLs'),
    alertPhishingSsl: settings.bool('AlertPhishingSSLMismatch') || settings.bool('PhishingAlwaysBlockSSLMismatch'),
    alertPhishingCloak: settings.bool('AlertPhishingCloak') || settings.bool('PhishingAlwaysBlockCloak'),
    // As in libclamav, a cache size of 0 keeps the default.
    cacheSize: settings.bool('DisableCache') || settings.bool('GenerateMetadataJson') ? 0 : settings.number('CacheSize') || undefined,
    temporaryDirectory: settings.string('TemporaryDirectory'),
    limits: engineLimits(settings),
  });
  return options;
}

function requestSettings(settings: ClamdSettings): RequestSettings {
  return {
    allowAllMatchScan: settings.bool('AllowAllMatchScan'),
    followDirSymlinks: settings.bool('FollowDirectorySymlinks'),
    followFileSymlinks: settings.bool('FollowFileSymlinks'),
    maxDirectoryRecursion: settings.number('MaxDirectoryRecursion'),
    crossFilesystems: settings.bool('CrossFilesystems'),
    excludePaths: settings.strings('ExcludePath').flatMap((pattern) => {
      try {
        return [new RegExp(pattern)];
      } catch {
        // As in clamd, a pattern that does not compile matches nothing.
        return [];
      }
    }),
    logClean: settings.bool('LogClean'),
    extendedDetectionInfo: settings.bool('ExtendedDetectionInfo'),
    streamMinPort: settings.number('StreamMinPort'),
    streamMaxPort: settings.number('StreamMaxPort'),
    streamMaxLength: settings.number('StreamMaxLength'),
    commandReadTimeout: settings.number('CommandReadTimeout'),
    readTimeout: settings.number('ReadTimeout'),
  };
}
