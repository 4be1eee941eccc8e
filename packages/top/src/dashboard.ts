import type { DaemonStatus } from './daemon-monitor.js';
import { memoryUnits, summarizeStats, type StatsSummary } from './stats-summary.js';
import type { DaemonTarget } from './targets.js';

/** Everything the screen shows about one daemon. */
export interface DaemonView {
  /** 1-based, the NO column. */
  readonly number: number;
  readonly target: DaemonTarget;
  readonly status: DaemonStatus;
  /** Derived from `status.stats`; undefined without a report. */
  readonly summary: StatsSummary | undefined;
  /** The longest queue seen since the start or the last reset (MAXQ). */
  readonly maxQueue: number;
  /** The most memory seen (in `memoryUnits`), the memory bar's full scale. */
  readonly peakMemory: number;
  /** The last report set a new maximum: the bars mark it. */
  readonly queueRecord: boolean;
  readonly memoryRecord: boolean;
}

/**
 * The state the screen is drawn from: each daemon's latest status and the maxima observed.
 * Monitors push statuses in with `update`; React reads it through `subscribe`/`getSnapshot`
 * (each change makes a new snapshot array, so unchanged views keep their identity).
 */
export class Dashboard {
  private views: readonly DaemonView[];
  private readonly listeners = new Set<() => void>();

  constructor(targets: readonly DaemonTarget[]) {
    this.views = targets.map((target, index) => ({
      number: index + 1,
      target,
      status: { state: 'connecting' },
      summary: undefined,
      maxQueue: 0,
      peakMemory: 0,
      queueRecord: false,
      memoryRecord: false,
    }));
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): readonly DaemonView[] => this.views;

  /** A new status for daemon `index` (0-based). */
  update(index: number, status: DaemonStatus): void {
    this.replace(index, (view) => {
      const summary = status.stats && summarizeStats(status.stats, view.number);
      const queue = summary?.queued ?? 0;
      const memory = status.stats?.memory ? memoryUnits(status.stats.memory) : 0;
      return {
        ...view,
        status,
        summary,
        maxQueue: Math.max(view.maxQueue, queue),
        peakMemory: Math.max(view.peakMemory, memory),
        queueRecord: queue > view.maxQueue,
        memoryRecord: memory > view.peakMemory,
      };
    });
  }

  /** The `r` key: maxima start again from what the daemons show now. */
  resetMaxima(): void {
    this.views = this.views.map((view) => ({
      ...view,
      maxQueue: view.summary?.queued ?? 0,
      peakMemory: view.status.stats?.memory ? memoryUnits(view.status.stats.memory) : 0,
      queueRecord: false,
      memoryRecord: false,
    }));
    this.notify();
  }

  private replace(index: number, change: (view: DaemonView) => DaemonView): void {
    this.views = this.views.map((view, i) => (i === index ? change(view) : view));
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
