/**
 * The reply to clamd's STATS command, parsed.
 *
 * Real clamd prints, per thread pool, a STATE, THREADS and QUEUE line followed by one
 * tab-indented line per task, and then one MEMSTATS line and END:
 *
 * ```
 * POOLS: 1
 *
 * STATE: VALID PRIMARY
 * THREADS: live 2  idle 1 max 10 idle-timeout 30
 * QUEUE: 0 items
 * \tSTATS 0.000004 
 *
 * MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used 5.883M pools_total 5.964M
 * END
 * ```
 *
 * The QUEUE line gains ` min_wait: … max_wait: … avg_wait: …` while items wait, and the memory
 * figures are numbers (`heap 12.345M`) where the C library can report them — which ClamTS's clamd
 * does, from Node's memory usage. The parser accepts both spellings of every figure, the `\n` and
 * NUL endings, and ignores lines it does not know, so a newer daemon does not break it.
 */

export interface ClamdStats {
  readonly pools: readonly ClamdPoolStats[];
  /** Undefined when the reply has no MEMSTATS line the parser understands. */
  readonly memory: ClamdMemoryStats | undefined;
  /** An `ERROR: …` line clamd printed instead of MEMSTATS. */
  readonly error: string | undefined;
}

export interface ClamdPoolStats {
  /** VALID, INVALID or EXIT. */
  readonly state: string;
  /** The daemon's main pool (real clamd marks exactly one). */
  readonly primary: boolean;
  readonly threads: { readonly live: number; readonly idle: number; readonly max: number; readonly idleTimeout: number };
  readonly queue: ClamdQueueStats;
  /** What each thread is doing; idle threads show as IDLE. */
  readonly tasks: readonly ClamdTask[];
}

export interface ClamdQueueStats {
  readonly items: number;
  /** Seconds the queued items have waited; present only while something waits. */
  readonly minWait?: number;
  readonly maxWait?: number;
  readonly avgWait?: number;
}

export interface ClamdTask {
  readonly command: string;
  /** Seconds since the task started. */
  readonly seconds: number;
  /** The file being scanned; empty for commands that have none. */
  readonly file: string;
}

/** Memory figures in MiB; the C library's figures are undefined where clamd prints N/A. */
export interface ClamdMemoryStats {
  readonly heap?: number;
  readonly mmap?: number;
  readonly used?: number;
  readonly free?: number;
  readonly releasable?: number;
  /** Engines counted in the pool figures. */
  readonly pools: number;
  readonly poolsUsed: number;
  readonly poolsTotal: number;
}

interface MutablePool {
  state: string;
  primary: boolean;
  threads: { live: number; idle: number; max: number; idleTimeout: number };
  queue: ClamdQueueStats;
  tasks: ClamdTask[];
}

const FIGURE = String.raw`(N\/A|[0-9.]+M)`;
const MEMSTATS = new RegExp(
  String.raw`^\s*heap ${FIGURE} mmap ${FIGURE} used ${FIGURE} free ${FIGURE} releasable ${FIGURE}` +
    String.raw` pools ([0-9]+) pools_used ([0-9.]+)M pools_total ([0-9.]+)M`,
);
const THREADS = /^\s*live\s+(\d+)\s+idle\s+(\d+)\s+max\s+(\d+)(?:\s+idle-timeout\s+(\d+))?/;
const QUEUE = /^\s*(\d+)\s+items?(?:\s+min_wait:\s+([0-9.]+)\s+max_wait:\s+([0-9.]+)\s+avg_wait:\s+([0-9.]+|-?nan|inf))?/;
const TASK = /^\t(\S+) ([0-9.]+) ?(.*)$/;

export function parseStatsReply(reply: string): ClamdStats {
  const pools: MutablePool[] = [];
  let memory: ClamdMemoryStats | undefined;
  let error: string | undefined;
  let pool: MutablePool | undefined;

  for (const line of reply.replace(/\0$/, '').split('\n')) {
    if (line === 'END') break;
    const task = TASK.exec(line);
    if (task) {
      pool?.tasks.push({ command: task[1]!, seconds: Number(task[2]), file: task[3]! });
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).toUpperCase();
    const value = line.slice(colon + 1);
    switch (key) {
      case 'STATE': {
        const words = value.trim().split(/\s+/);
        pool = {
          state: words[0] ?? '',
          primary: words.includes('PRIMARY'),
          threads: { live: 0, idle: 0, max: 0, idleTimeout: 0 },
          queue: { items: 0 },
          tasks: [],
        };
        pools.push(pool);
        break;
      }
      case 'THREADS': {
        const m = THREADS.exec(value);
        if (m && pool) {
          pool.threads = { live: Number(m[1]), idle: Number(m[2]), max: Number(m[3]), idleTimeout: Number(m[4] ?? 0) };
        }
        break;
      }
      case 'QUEUE': {
        const m = QUEUE.exec(value);
        if (m && pool) {
          pool.queue =
            m[2] === undefined
              ? { items: Number(m[1]) }
              : { items: Number(m[1]), minWait: Number(m[2]), maxWait: Number(m[3]), avgWait: Number(m[4]) };
        }
        break;
      }
      case 'MEMSTATS':
        memory = parseMemory(value);
        break;
      case 'ERROR':
        error = value.trim();
        break;
    }
  }
  return { pools, memory, error };
}

function parseMemory(value: string): ClamdMemoryStats | undefined {
  const m = MEMSTATS.exec(value);
  if (!m) return undefined;
  const figure = (text: string) => (text === 'N/A' ? undefined : Number(text.slice(0, -1)));
  return {
    heap: figure(m[1]!),
    mmap: figure(m[2]!),
    used: figure(m[3]!),
    free: figure(m[4]!),
    releasable: figure(m[5]!),
    pools: Number(m[6]),
    poolsUsed: Number(m[7]),
    poolsTotal: Number(m[8]),
  };
}
