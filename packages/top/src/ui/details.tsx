/** @jsxRuntime automatic */ // tsx compiles with the repository's tsconfig, which has no `jsx` setting.
import { Box } from 'ink';
import type { DaemonView } from '../dashboard.js';
import { memoryLines } from '../format.js';
import { spareMemoryUnits, memoryUnits } from '../stats-summary.js';
import { bar } from './bar.js';
import { figures, fit, fullWidth, Line, type Segment } from './line.js';
import type { Theme } from './theme.js';

/** Lines the details take, blank lines included. */
export const DETAILS_HEIGHT = 7;
/** The memory box's width, borders included; it sits at the right edge. */
const BOX_WIDTH = 41;

/**
 * The selected daemon's details: its version, the primary pool's threads and the queue, each
 * with a bar, and at the right a box of memory figures with a bar scaled to the most memory seen.
 */
export function Details({ view, width, theme }: { view: DaemonView; width: number; theme: Theme }) {
  const summary = view.summary!;
  const { primary } = summary;
  const left: Segment[][] = [
    [{ text: 'Primary threads: ' }, ...figures(`live${pad(primary.live, 3)} idle${pad(primary.idle, 3)} max${pad(primary.max, 3)}`, theme)],
    bar(primary.live, primary.idle, primary.max, false, theme),
    [{ text: 'Queue:' }, ...figures(`${pad(summary.queued, 6)} items ${pad(view.maxQueue, 6)} max`, theme)],
    bar(summary.queued, 0, view.maxQueue, view.queueRecord, theme),
    [],
    [],
  ];
  const box = memoryBox(view, theme);
  const leftWidth = box ? Math.max(width - BOX_WIDTH, 0) : width;
  return (
    <Box flexDirection="column">
      <Line width={width} theme={theme} segments={fullWidth(`Details for Clamd version: ${view.status.version?.description ?? ''}`, width, theme.columns)} />
      {left.map((segments, index) => (
        <Line key={index} width={width} theme={theme} segments={[...fit(segments, leftWidth), ...(box?.[index] ?? [])]} />
      ))}
    </Box>
  );
}

/**
 * The memory box's six lines, or undefined when the daemon reports no memory at all (neither
 * C library figures nor engine pools).
 */
function memoryBox(view: DaemonView, theme: Theme): Segment[][] | undefined {
  const memory = view.status.stats?.memory;
  if (!memory || (view.summary?.totalMemory === undefined && !(memory.poolsTotal > 0))) return undefined;
  const inner = BOX_WIDTH - 2;
  const framed = (segments: Segment[]): Segment[] => [{ text: '│' }, ...fit(segments, inner), { text: '│' }];
  return [
    [{ text: `┌${'─'.repeat(inner)}┐` }],
    ...memoryLines(memory).map(([label, text]) => framed([{ text: label }, ...figures(text, theme)])),
    // The bar's first column is the box's border.
    framed(bar(memoryUnits(memory), spareMemoryUnits(memory), view.peakMemory, view.memoryRecord, theme).slice(1)),
    [{ text: `└${'─'.repeat(inner)}┘` }],
  ];
}

const pad = (value: number, width: number) => String(value).padStart(width);
