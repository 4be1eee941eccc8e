/** @jsxRuntime automatic */ // tsx compiles with the repository's tsconfig, which has no `jsx` setting.
import { Box, useInput, useStdin, type Key } from 'ink';
import { useCallback, useRef, useState, useSyncExternalStore } from 'react';
import type { Dashboard } from '../dashboard.js';
import { sortTasks } from '../stats-summary.js';
import { DaemonTable } from './daemon-table.js';
import { Details, DETAILS_HEIGHT } from './details.js';
import { Header } from './header.js';
import { HELP_KEYS, HelpScreen } from './help-screen.js';
import { Line } from './line.js';
import { detailedIndex, nextSelection, previousSelection } from './selection.js';
import { mainKeys, StatusBar } from './status-bar.js';
import { TaskList } from './task-list.js';
import { useClock, useTerminalSize, type TerminalSize } from './terminal.js';
import type { Theme } from './theme.js';

/** Why the screen was left: `q`, or Ctrl+C (which ClamAV treats as an interrupt). */
export type QuitReason = 'quit' | 'interrupt';

export interface AppProps {
  readonly dashboard: Dashboard;
  readonly theme: Theme;
  /** Shown in the title bar. */
  readonly version: string;
  readonly onQuit: (reason: QuitReason) => void;
  readonly now?: () => number;
  /** A fixed screen size instead of the terminal's (tests). */
  readonly size?: TerminalSize;
}

/**
 * clamdtop's screen: title, daemon table, the selected daemon's details, the task list and the
 * key hints, filling the terminal; `h` swaps in the help page until the next key.
 */
export function App({ dashboard, theme, version, onQuit, now = Date.now, size }: AppProps) {
  const views = useSyncExternalStore(dashboard.subscribe, dashboard.getSnapshot);
  const { columns: width, rows } = useTerminalSize(size);
  const time = useClock(now);
  const [selected, setSelected] = useState(-1);
  const [helpShown, setHelpShown] = useState(false);
  const { isRawModeSupported } = useStdin();

  // The key handler reads the screen's state through a ref, so that it never acts on a state
  // older than the frame on screen, however late React re-subscribes it.
  const latest = useRef({ helpShown, daemons: views.length });
  latest.current = { helpShown, daemons: views.length };
  const onKey = useCallback(
    (input: string, key: Key) => {
      const { helpShown: onHelpPage, daemons } = latest.current;
      if (key.ctrl && input === 'c') return onQuit('interrupt');
      if (onHelpPage) return setHelpShown(false);
      const letter = input.toLowerCase();
      if (letter === 'q') onQuit('quit');
      else if (letter === 'r') dashboard.resetMaxima();
      else if (letter === 'h') setHelpShown(true);
      else if (key.upArrow || (key.tab && key.shift)) setSelected((current) => previousSelection(current, daemons));
      else if (key.downArrow || key.tab) setSelected((current) => nextSelection(current, daemons));
    },
    [dashboard, onQuit],
  );
  useInput(onKey, { isActive: isRawModeSupported === true });

  // Ink redraws in place only while a frame is shorter than the terminal.
  const height = Math.max(rows - 1, 1);
  const filler = (used: number) =>
    Array.from({ length: Math.max(height - used - 1, 0) }, (_, index) => <Line key={index} width={width} theme={theme} segments={[]} />);

  if (helpShown) {
    const lines = Math.min(height - 1, 23);
    return (
      <Box flexDirection="column">
        <HelpScreen height={lines} width={width} theme={theme} />
        {filler(lines)}
        <StatusBar keys={HELP_KEYS} width={width} theme={theme} />
      </Box>
    );
  }

  const detailed = views[detailedIndex(selected, views.length)];
  const details = detailed?.summary ? detailed : undefined;
  const tasks = detailed ? (detailed.summary?.tasks ?? []) : sortTasks(views.flatMap((view) => view.summary?.tasks ?? []));
  const used = 1 + 1 + views.length + (details ? DETAILS_HEIGHT : 0);
  const taskLines = Math.max(height - used - 1, 0);
  const shownTasks = Math.min(taskLines, tasks.length + 1);
  return (
    <Box flexDirection="column">
      <Header version={version} now={time} width={width} theme={theme} />
      <DaemonTable views={views} selected={selected} now={time} width={width} theme={theme} />
      {details && <Details view={details} width={width} theme={theme} />}
      <TaskList tasks={tasks} numbered={!detailed} height={taskLines} width={width} theme={theme} />
      {filler(used + shownTasks)}
      <StatusBar keys={mainKeys(views.length)} width={width} theme={theme} />
    </Box>
  );
}
