import { Worker } from 'node:worker_threads';
import { ClamError, engineFromShared, type ClamErrorCode, type Engine, type LoadOptions, type SharedEngineDescriptor } from '@clamts/core';
import type { LoadReply, LoadRequest } from './load-worker.js';

/** One loaded database, as jobs hold it: a number to name it to workers and its shared form. */
export interface EngineRef {
  readonly generation: number;
  readonly descriptor: SharedEngineDescriptor;
  readonly engine: Engine;
  /** Bytes of shared memory it occupies (STATS' pools_used). */
  readonly bytes: number;
}

export type EngineLogLevel = 'error' | 'warning' | 'debug';

const LOAD_WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './load-worker.ts' : './load-worker.js', import.meta.url);

/**
 * Loads a database directory in a worker thread, so that the daemon keeps serving (with the old
 * engine) while a reload parses and compiles. The engine comes back in shared memory.
 */
export function loadDatabase(
  directory: string,
  options: Omit<LoadOptions, 'logger'>,
  log: { readonly debugEnabled: boolean; write(level: EngineLogLevel, message: string): void },
): Promise<{ engine: Engine; descriptor: SharedEngineDescriptor }> {
  return new Promise((resolve, reject) => {
    const request: LoadRequest = { directory, options, debug: log.debugEnabled };
    const worker = new Worker(LOAD_WORKER_URL, { workerData: request });
    let settled = false;
    worker.on('message', (reply: LoadReply) => {
      if (reply.type === 'log') return log.write(reply.level, reply.message);
      settled = true;
      void worker.terminate();
      if (reply.type === 'loaded') resolve({ engine: engineFromShared(reply.descriptor), descriptor: reply.descriptor });
      else reject(new ClamError(reply.code as ClamErrorCode, { path: reply.path, message: reply.message }));
    });
    worker.on('error', (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`database loader exited with code ${code}`));
      settled = true;
    });
  });
}

/**
 * The engines in use: the current one, which new jobs get, and older ones that running jobs
 * still hold after a reload. An engine is let go (workers drop their view of it) when it is no
 * longer current and its last job has finished, as clamd frees an engine on its last unref.
 */
export class EngineRegistry {
  private currentRef: EngineRef | undefined;
  private nextGeneration = 1;
  private readonly holders = new Map<EngineRef, number>();

  constructor(private readonly retire: (generation: number) => void) {}

  get current(): EngineRef | undefined {
    return this.currentRef;
  }

  /** Makes a newly loaded engine the one new jobs use. */
  activate(engine: Engine, descriptor: SharedEngineDescriptor): EngineRef {
    const previous = this.currentRef;
    this.currentRef = { generation: this.nextGeneration++, descriptor, engine, bytes: sharedBytes(descriptor) };
    this.holders.set(this.currentRef, 0);
    if (previous) this.releaseIfUnused(previous);
    return this.currentRef;
  }

  acquire(): EngineRef {
    const ref = this.currentRef;
    if (!ref) throw new Error('no engine loaded');
    this.holders.set(ref, (this.holders.get(ref) ?? 0) + 1);
    return ref;
  }

  release(ref: EngineRef): void {
    this.holders.set(ref, (this.holders.get(ref) ?? 1) - 1);
    this.releaseIfUnused(ref);
  }

  /** Every engine jobs may still use, for new workers. */
  live(): EngineRef[] {
    return [...this.holders.keys()];
  }

  /** The engines that running or queued jobs hold (STATS counts their memory). */
  inUse(): EngineRef[] {
    return [...this.holders].filter(([, count]) => count > 0).map(([ref]) => ref);
  }

  private releaseIfUnused(ref: EngineRef): void {
    if (ref === this.currentRef || (this.holders.get(ref) ?? 0) > 0) return;
    this.holders.delete(ref);
    this.retire(ref.generation);
  }
}

/** The size of the shared memory behind a descriptor. */
function sharedBytes(value: unknown, seen = new Set<SharedArrayBuffer>()): number {
  if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer;
    if (buffer instanceof SharedArrayBuffer && !seen.has(buffer)) {
      seen.add(buffer);
      return buffer.byteLength;
    }
    return 0;
  }
  if (value === null || typeof value !== 'object') return 0;
  let total = 0;
  for (const child of Object.values(value)) total += sharedBytes(child, seen);
  return total;
}
