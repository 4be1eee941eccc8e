import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { PoolStats, SharedEngineDescriptor, TaskStats } from '@clamts/core';
import type { EngineMessage, ScanReply, ScanRequest, WorkerData, WorkerMessage } from './worker-messages.js';

/** Work for the pool: it holds one thread from `run` until the promise settles. */
export interface PoolJob {
  /** The command STATS shows for the thread running it (SCAN, INSTREAM, MULTISCANFILE…). */
  readonly command: string;
  run(thread: PoolThread): Promise<void>;
}

export interface PoolOptions {
  readonly maxThreads: number;
  /** Seconds an idle thread waits for work before it exits (IdleTimeout). */
  readonly idleTimeout: number;
  readonly maxQueue: number;
  /** What a new worker starts with (the engines jobs may use, the scan options). */
  readonly workerData: () => WorkerData;
  /** Called when a worker thread fails; the pool replaces it. */
  readonly onWorkerError: (error: Error) => void;
  /** The engine's messages from the workers. */
  readonly onEngineMessage: (message: EngineMessage) => void;
}

type ScanFields = Omit<ScanRequest, 'type' | 'id'>;

/** The worker file next to this module (TypeScript sources under tsx, JavaScript once built). */
/** Milliseconds since the epoch with sub-millisecond precision (STATS prints microseconds). */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './scan-worker.ts' : './scan-worker.js', import.meta.url);

/** One thread of the pool: a worker thread and what it is doing. */
export class PoolThread {
  /** For STATS. */
  task: { command: string; since: number; filename: string | undefined } = { command: 'IDLE', since: preciseNow(), filename: undefined };
  private readonly worker: Worker;
  private readonly known = new Set<number>();
  private readonly pending = new Map<number, { resolve: (reply: ScanReply) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  readonly online: Promise<void>;
  isOnline = false;
  private failure: Error | undefined;

  constructor(data: WorkerData, onFailure: (thread: PoolThread, error: Error) => void, onMessage: (message: EngineMessage) => void) {
    for (const { generation } of data.engines) this.known.add(generation);
    this.worker = new Worker(WORKER_URL, { workerData: data });
    this.online = new Promise((resolve) =>
      this.worker.once('online', () => {
        this.isOnline = true;
        resolve();
      }),
    );
    this.worker.on('message', (reply: ScanReply | EngineMessage) => {
      if (reply.type === 'log') return onMessage(reply);
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      waiter?.resolve(reply);
    });
    const fail = (error: Error) => {
      if (this.failure) return;
      this.failure = error;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
      onFailure(this, error);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`scan worker exited with code ${code}`)));
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Scans on this thread's worker with engine `generation`, sending the engine first if needed. */
  scan(fields: ScanFields, engine: { generation: number; descriptor: SharedEngineDescriptor }): Promise<ScanReply> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.known.has(engine.generation)) {
      this.post({ type: 'engine', generation: engine.generation, descriptor: engine.descriptor });
      this.known.add(engine.generation);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'scan', id, ...fields });
    });
  }

  forget(generation: number): void {
    if (this.known.delete(generation)) this.post({ type: 'drop', generation });
  }

  terminate(): Promise<number> {
    this.failure ??= new Error('scan worker stopped');
    return this.worker.terminate();
  }

  private post(message: WorkerMessage): void {
    // Buffers of INSTREAM data are handed over, not copied.
    const transfer = message.type === 'scan' && message.target.kind === 'buffer' ? [message.target.data.buffer as ArrayBuffer] : [];
    this.worker.postMessage(message, transfer);
  }
}

interface Queued {
  readonly job: PoolJob;
  readonly queuedAt: number;
}

/** A queue and how many items were taken from it in the current round (ClamAV's "popped"). */
class WorkQueue {
  readonly items: Queued[] = [];
  popped = 0;
}

/** When both queues have work, four single jobs are taken for every bulk (MULTISCAN file) job. */
const SINGLE_BULK_RATIO = 4;

/**
 * clamd's thread pool (thrmgr): up to MaxThreads worker threads, started when work is queued and
 * ended after IdleTimeout seconds without work; a queue for single jobs and one for MULTISCAN's
 * per-file jobs, bounded by MaxQueue counting the jobs being worked on. Emits 'room' when a queue
 * that was full has space again.
 */
export class ThreadPool extends EventEmitter {
  private readonly threads: PoolThread[] = [];
  private readonly idleThreads: PoolThread[] = [];
  private readonly idleTimers = new Map<PoolThread, NodeJS.Timeout>();
  private readonly single = new WorkQueue();
  private readonly bulk = new WorkQueue();
  private running = 0;
  private starting = 0;
  private state: 'VALID' | 'EXIT' = 'VALID';
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: PoolOptions) {
    super();
  }

  get maxThreads(): number {
    return this.options.maxThreads;
  }

  /** Threads alive, including those still starting. */
  get alive(): number {
    return this.threads.length;
  }

  /** True when a single job would have to wait for room (clamd's receive thread would block). */
  get contended(): boolean {
    return this.isContended(false);
  }

  /** Queues a job; bulk jobs are MULTISCAN's per-file scans. */
  dispatch(job: PoolJob, bulk = false): void {
    (bulk ? this.bulk : this.single).items.push({ job, queuedAt: preciseNow() });
    // A thread that is still starting counts as idle: it takes work the moment it is up.
    const queued = this.single.items.length + this.bulk.items.length;
    if (this.idleThreads.length + this.starting < queued && this.threads.length < this.options.maxThreads) this.startThread();
    this.schedule();
  }

  /** Resolves once a bulk job can be queued (MULTISCAN's walk waits here, as clamd's does). */
  async bulkRoom(): Promise<void> {
    while (this.isContended(true) && this.state === 'VALID') await new Promise((resolve) => this.once('room', resolve));
  }

  /** Sends every thread the news that an engine generation is no longer used. */
  forget(generation: number): void {
    for (const thread of this.threads) thread.forget(generation);
  }

  stats(): PoolStats {
    const tasks: TaskStats[] = [...this.threads].reverse().map((thread) => ({ ...thread.task }));
    return {
      state: this.state,
      live: this.threads.length,
      idle: this.idleThreads.length,
      max: this.options.maxThreads,
      idleTimeout: this.options.idleTimeout,
      bulkQueue: this.bulk.items.map((item) => item.queuedAt),
      singleQueue: this.single.items.map((item) => item.queuedAt),
      tasks,
    };
  }

  /** Resolves when no job is running or queued. */
  idle(): Promise<void> {
    if (this.running === 0 && this.single.items.length + this.bulk.items.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops once the queued jobs have run; resolves when all have and the threads have ended. */
  async shutdown(): Promise<void> {
    this.state = 'EXIT';
    this.emit('room');
    await this.idle();
    await Promise.all(this.threads.map((thread) => this.endThread(thread)));
  }

  private isContended(bulk: boolean): boolean {
    const { maxQueue } = this.options;
    if (bulk && this.bulk.items.length >= maxQueue / 2) return true;
    return this.bulk.items.length + this.single.items.length + this.threads.length - this.idleThreads.length >= maxQueue;
  }

  private startThread(): void {
    const thread = new PoolThread(
      this.options.workerData(),
      (failed, error) => this.threadFailed(failed, error),
      this.options.onEngineMessage,
    );
    this.threads.push(thread);
    this.starting++;
    void thread.online.then(() => {
      this.starting--;
      if (!thread.failed && this.threads.includes(thread)) this.becomeIdle(thread);
    });
  }

  private becomeIdle(thread: PoolThread): void {
    thread.task = { command: 'IDLE', since: preciseNow(), filename: undefined };
    this.idleThreads.push(thread);
    const timer = setTimeout(() => {
      const index = this.idleThreads.indexOf(thread);
      if (index !== -1) this.idleThreads.splice(index, 1);
      void this.endThread(thread);
    }, this.options.idleTimeout * 1000);
    timer.unref();
    this.idleTimers.set(thread, timer);
    this.schedule();
  }

  private schedule(): void {
    while (this.idleThreads.length > 0) {
      const next = this.pop();
      if (!next) break;
      const thread = this.idleThreads.pop() as PoolThread;
      clearTimeout(this.idleTimers.get(thread));
      this.idleTimers.delete(thread);
      void this.run(thread, next.job);
    }
  }

  private async run(thread: PoolThread, job: PoolJob): Promise<void> {
    this.running++;
    thread.task = { command: job.command, since: preciseNow(), filename: undefined };
    try {
      await job.run(thread);
    } finally {
      this.running--;
      if (!thread.failed && this.threads.includes(thread)) this.becomeIdle(thread);
      this.emit('room');
      if (this.running === 0 && this.single.items.length + this.bulk.items.length === 0) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
    }
  }

  /** Takes the next job, four single jobs for every bulk one when both queues have work. */
  private pop(): Queued | undefined {
    const singleFirst = this.single.popped < SINGLE_BULK_RATIO;
    const [first, second] = singleFirst ? [this.single, this.bulk] : [this.bulk, this.single];
    const [firstRatio, secondRatio] = singleFirst ? [SINGLE_BULK_RATIO, 1] : [1, SINGLE_BULK_RATIO];
    let item = first.items.shift();
    if (item) {
      if (++first.popped === firstRatio) second.popped = 0;
    } else {
      item = second.items.shift();
      if (item && ++second.popped === secondRatio) first.popped = 0;
    }
    return item;
  }

  private threadFailed(thread: PoolThread, error: Error): void {
    if (!this.threads.includes(thread)) return;
    if (!thread.isOnline) this.starting--;
    this.removeThread(thread);
    this.options.onWorkerError(error);
    const queued = this.single.items.length + this.bulk.items.length;
    if (queued > this.idleThreads.length && this.state === 'VALID') this.startThread();
  }

  private async endThread(thread: PoolThread): Promise<void> {
    this.removeThread(thread);
    await thread.terminate();
  }

  private removeThread(thread: PoolThread): void {
    clearTimeout(this.idleTimers.get(thread));
    this.idleTimers.delete(thread);
    const index = this.threads.indexOf(thread);
    if (index !== -1) this.threads.splice(index, 1);
    const idleIndex = this.idleThreads.indexOf(thread);
    if (idleIndex !== -1) this.idleThreads.splice(idleIndex, 1);
  }
}
