import type { Terminator } from './protocol.js';

/**
 * The STATS reply: ClamAV's thread-pool report, which clamdtop and monitoring scripts parse.
 *
 * ```
 * POOLS: 1
 *
 * STATE: VALID PRIMARY
 * THREADS: live 2  idle 1 max 10 idle-timeout 30
 * QUEUE: 0 items
 * \tSCAN 0.001234 /path/being/scanned
 * \tIDLE 1.388895 
 *
 * MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used 5.883M pools_total 5.964M
 * END
 * ```
 */
export interface PoolStats {
  readonly state: 'VALID' | 'INVALID' | 'EXIT';
  /** Threads alive, of which idle. */
  readonly live: number;
  readonly idle: number;
  readonly max: number;
  /** Seconds (IdleTimeout). */
  readonly idleTimeout: number;
  /** When each queued job was queued (ms since the epoch): bulk (MULTISCAN files) and single queue. */
  readonly bulkQueue: readonly number[];
  readonly singleQueue: readonly number[];
  readonly tasks: readonly TaskStats[];
}

/** What one thread is doing. */
export interface TaskStats {
  /** SCAN, INSTREAM, IDLE…; undefined prints as N/A. */
  readonly command: string | undefined;
  /** When it started that (ms since the epoch). */
  readonly since: number;
  /** The file being scanned, when there is one. */
  readonly filename: string | undefined;
}

export interface MemoryStats {
  /** Engines in use by the listed tasks, and the memory they hold (bytes). */
  readonly pools: number;
  readonly poolsUsed: number;
  readonly poolsTotal: number;
}

/** Renders the STATS reply (without an IDSESSION id prefix, which goes before it). */
export function renderStats(pools: readonly PoolStats[], memory: MemoryStats, now: number, term: Terminator): string {
  let text = `POOLS: ${pools.length}\n\n`;
  pools.forEach((pool, index) => {
    // ClamAV marks the last pool of its list as the primary one.
    const primary = index === pools.length - 1 ? 'PRIMARY' : '';
    text += `STATE: ${pool.state} ${primary}\n`;
    text += `THREADS: live ${pool.live}  idle ${pool.idle} max ${pool.max} idle-timeout ${pool.idleTimeout}\n`;
    text += `QUEUE: ${pool.bulkQueue.length + pool.singleQueue.length} items`;
    text += queueWaits(pool.bulkQueue, now) + queueWaits(pool.singleQueue, now) + '\n';
    for (const task of pool.tasks) {
      text += `\t${task.command ?? 'N/A'} ${seconds((now - task.since) * 1000)} ${task.filename ?? ''}\n`;
    }
    text += '\n';
  });
  const megabytes = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(3)}M`;
  // ClamAV's Linux builds have no mallinfo() figures either; the pool figures are the engines'.
  text +=
    'MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A ' +
    `pools ${memory.pools} pools_used ${megabytes(memory.poolsUsed)} pools_total ${megabytes(memory.poolsTotal)}\n`;
  return `${text}END${term}`;
}

/** ` min_wait: … max_wait: … avg_wait: …` in seconds, for a non-empty queue. */
function queueWaits(queuedAt: readonly number[], now: number): string {
  if (queuedAt.length === 0) return '';
  const waits = queuedAt.map((at) => Math.round((now - at) * 1000)).filter((micros) => micros >= 0);
  const invalid = queuedAt.length - waits.length;
  const min = waits.length ? Math.min(...waits) : 0;
  const max = waits.length ? Math.max(...waits) : 0;
  const average = waits.length ? waits.reduce((a, b) => a + b, 0) / waits.length : 0;
  let text = ` min_wait: ${seconds(min)} max_wait: ${seconds(max)} avg_wait: ${seconds(average)}`;
  if (invalid) text += ` (INVALID timestamps: ${invalid})`;
  return text;
}

/** Microseconds as printf's `%f` of seconds. */
function seconds(micros: number): string {
  return (micros / 1e6).toFixed(6);
}
