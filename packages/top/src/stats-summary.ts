import type { ClamdMemoryStats, ClamdStats } from '@clamts/core/client';

/** The figures clamdtop derives from one STATS report. */
export interface StatsSummary {
  /** Threads of every pool added up (the LIV and IDL columns). */
  readonly live: number;
  readonly idle: number;
  /** The primary pool's threads (the details view's bar). */
  readonly primary: { readonly live: number; readonly idle: number; readonly max: number };
  /** Items queued in every pool (the QUEUE column). */
  readonly queued: number;
  /** MiB of heap, mmap and engine pools when the C library reports them, else undefined (MEM is N/A). */
  readonly totalMemory: number | undefined;
  readonly memory: ClamdMemoryStats | undefined;
  /** What every thread is doing and every queued item, longest-waiting first. */
  readonly tasks: readonly TaskEntry[];
}

export interface TaskEntry {
  /** The 1-based number of the daemon it runs on. */
  readonly daemon: number;
  readonly command: string;
  readonly seconds: number;
  readonly file: string;
}

export function summarizeStats(stats: ClamdStats, daemon: number): StatsSummary {
  let live = 0;
  let idle = 0;
  let queued = 0;
  let primary = { live: 0, idle: 0, max: 0 };
  const tasks: TaskEntry[] = [];
  for (const pool of stats.pools) {
    live += pool.threads.live;
    idle += pool.threads.idle;
    queued += pool.queue.items;
    if (pool.primary) primary = { live: pool.threads.live, idle: pool.threads.idle, max: pool.threads.max };
    for (const task of pool.tasks) tasks.push({ daemon, ...task });
  }
  return { live, idle, primary, queued, totalMemory: totalMemory(stats.memory), memory: stats.memory, tasks: sortTasks(tasks) };
}

/** Longest-running first, as the task list shows them. */
export function sortTasks(tasks: TaskEntry[]): TaskEntry[] {
  return tasks.sort((a, b) => b.seconds - a.seconds);
}

function totalMemory(memory: ClamdMemoryStats | undefined): number | undefined {
  if (memory?.heap === undefined || memory.mmap === undefined) return undefined;
  return memory.heap + memory.mmap + memory.poolsTotal;
}

/**
 * The memory bar's scale: thousandths of a MiB of everything the daemon holds, truncated as
 * ClamAV's clamdtop truncates it (N/A figures count as 0).
 */
export function memoryUnits(memory: ClamdMemoryStats): number {
  return Math.floor(((memory.heap ?? 0) + (memory.mmap ?? 0) + memory.poolsTotal) * 1000);
}

/** The part of `memoryUnits` that is not in use: mmap, releasable and the pools' free space. */
export function spareMemoryUnits(memory: ClamdMemoryStats): number {
  const spare = (memory.mmap ?? 0) + (memory.releasable ?? 0) + memory.poolsTotal - memory.poolsUsed;
  return Math.max(0, Math.floor(spare * 1000));
}
