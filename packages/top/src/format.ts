/**
 * The text of clamdtop's screen: column layouts and number formats are ClamAV's clamdtop's, so
 * that anyone used to it (or a script reading a capture of it) finds every figure where it was.
 */
import type { ClamdMemoryStats } from '@clamts/core/client';
import type { DaemonView } from './dashboard.js';
import type { TaskEntry } from './stats-summary.js';

export const SUMMARY_HEADER = 'NO CONNTIME LIV IDL QUEUE  MAXQ   MEM ENGINE  DBVER DBTIME        HOST';
/** The task list's header when it lists one daemon's tasks… */
export const TASK_HEADER = ' COMMAND       QUEUEDSINCE    FILE';
/** …and when it lists every daemon's, numbered. */
export const NUMBERED_TASK_HEADER = 'NO COMMAND     QUEUEDSINCE    FILE';

/** Characters between a bar's brackets. */
export const BAR_CELLS = 36;

/** printf's `%Nu`/`%Ns` (right-aligned, never cut). */
const right = (value: string | number, width: number) => String(value).padStart(width);
/** printf's `%-Ns`. */
const left = (value: string, width: number) => value.padEnd(width);
const two = (value: number) => String(value).padStart(2, '0');

/** How long a connection has been open: `hh:mm:ss`. */
export function connectionTime(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
}

/**
 * The MEM column: at most five characters, in M or (from 1024 MiB) G, with as many decimals as
 * fit — `2.35M`, `23.5M`, `235M`, `1.50G`.
 */
export function formatMemory(mib: number | undefined): string {
  if (mib === undefined || !(mib > 0)) return 'N/A';
  const [value, unit] = mib >= 1024 ? [mib / 1024, 'G'] : [mib, 'M'];
  const decimals = value >= 99.95 ? 0 : value >= 9.995 ? 1 : 2;
  return `${value.toFixed(decimals)}${unit}`.slice(0, 5);
}

/**
 * One daemon's row of the summary table. `width` is the screen's: the database version is cut
 * so that the row keeps to it as ClamAV's does; the row may still be longer than the screen.
 */
export function daemonRow(view: DaemonView, now: number, width: number): string {
  const { status, summary, target } = view;
  const number = right(view.number, 2);
  if (status.state === 'connecting') return `${number} Connecting to: ${target.address}`;
  if (status.state === 'lost') {
    const retry = status.connectedAt === undefined ? 'retrying' : 'connection lost, reconnecting';
    return `${number} ${target.address}: ${status.problem ?? 'no connection'} (${retry})`;
  }
  const time = connectionTime(now - (status.connectedAt ?? now));
  const version = status.version;
  let database = version?.database ?? '????';
  if (width > 61 && database.length > width - 61) database = database.slice(0, width - 61);
  const tail = `${left(version?.engine ?? '???', 7)} ${right(database, 5)} ${left(version?.databaseTime ?? 'N/A', 13)} ${target.label}`;
  if (!summary) return `${number} ${time} N/A N/A   N/A   N/A   N/A ${tail}`;
  const figures = [right(summary.live, 3), right(summary.idle, 3), right(summary.queued, 5), right(view.maxQueue, 5)];
  return `${number} ${time} ${figures.join(' ')} ${right(formatMemory(summary.totalMemory), 5)} ${tail}`;
}

/**
 * One line of the task list: the command (with the daemon's number when every daemon's tasks
 * are listed) in 15 columns, the seconds it has waited or run in the next 15, then the file.
 */
export function taskLine(task: TaskEntry, numbered: boolean): string {
  const command = task.command.slice(0, 14);
  const name = numbered ? `${right(task.daemon, 2)} ${command}` : ` ${command}`;
  const seconds = `${right(task.seconds.toFixed(3), 10)}s`;
  return `${left(name, 15).slice(0, 15)}${left(seconds, 15).slice(0, 15)}${task.file}`;
}

/** The three parts of a bar: cells busy, cells idle and cells free. */
export interface BarCells {
  readonly busy: number;
  readonly idle: number;
  readonly free: number;
}

/**
 * Splits a bar's cells as ClamAV's clamdtop does: `used - idle` busy cells rounded to nearest,
 * `idle` cells rounded down, the rest free. A bar without a maximum is empty.
 */
export function barCells(used: number, idle: number, max: number): BarCells {
  if (max <= 0) return { busy: 0, idle: 0, free: BAR_CELLS };
  const clamp = (cells: number, room: number) => Math.min(Math.max(cells, 0), room);
  const busy = clamp(Math.floor((Math.max(used - idle, 0) * BAR_CELLS + Math.floor(max / 2)) / max), BAR_CELLS);
  const idleCells = clamp(Math.floor((idle * BAR_CELLS) / max), BAR_CELLS - busy);
  return { busy, idle: idleCells, free: BAR_CELLS - busy - idleCells };
}

/** The memory box's three lines: a label and its figures (in MiB, `N/A` without libc figures). */
export function memoryLines(memory: ClamdMemoryStats): Array<readonly [label: string, figures: string]> {
  const mib = (value: number) => `${right(value.toFixed(0), 4)}M`;
  const { heap, mmap, used, free, releasable } = memory;
  const libc = heap !== undefined && mmap !== undefined && used !== undefined && free !== undefined && releasable !== undefined;
  return [
    ['Mem:  ', libc ? `heap ${mib(heap)} mmap ${mib(mmap)} unused${mib(releasable)}` : 'heap   N/A mmap   N/A unused  N/A'],
    ['Libc: ', libc ? `used ${mib(used)} free ${mib(free)} total ${mib(used + free)}` : 'used   N/A free   N/A total   N/A'],
    ['Pool: ', `count ${right(memory.pools, 4)} used ${mib(memory.poolsUsed)} total ${mib(memory.poolsTotal)}`],
  ];
}
