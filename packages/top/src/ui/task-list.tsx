/** @jsxRuntime automatic */ // tsx compiles with the repository's tsconfig, which has no `jsx` setting.
import { Box } from 'ink';
import { NUMBERED_TASK_HEADER, TASK_HEADER, taskLine } from '../format.js';
import type { TaskEntry } from '../stats-summary.js';
import { fullWidth, Line } from './line.js';
import type { Theme } from './theme.js';

export interface TaskListProps {
  readonly tasks: readonly TaskEntry[];
  /** Every daemon's tasks, each with its daemon's number (no daemon selected among several). */
  readonly numbered: boolean;
  /** Lines available, the header included. */
  readonly height: number;
  readonly width: number;
  readonly theme: Theme;
}

/** Columns where the command ends and the time begins. */
const COMMAND_COLUMNS = 15;

/**
 * The queued and running commands, longest-waiting first. When they do not all fit, the last
 * line says how many are left out.
 */
export function TaskList({ tasks, numbered, height, width, theme }: TaskListProps) {
  if (height <= 0) return null;
  const room = height - 1;
  const shown = tasks.length > room ? tasks.slice(0, Math.max(room - 1, 0)) : tasks;
  const hidden = tasks.length - shown.length;
  return (
    <Box flexDirection="column">
      <Line width={width} theme={theme} segments={fullWidth(numbered ? NUMBERED_TASK_HEADER : TASK_HEADER, width, theme.columns)} />
      {shown.map((task, index) => {
        const text = taskLine(task, numbered);
        return (
          <Line
            key={index}
            width={width}
            theme={theme}
            segments={[{ text: text.slice(0, COMMAND_COLUMNS), style: theme.strong }, { text: text.slice(COMMAND_COLUMNS) }]}
          />
        );
      })}
      {hidden > 0 && room > 0 && (
        <Line width={width} theme={theme} segments={[{ text: `*** ${hidden} more task(s) not shown ***`, style: { ...theme.title, dimColor: true } }]} />
      )}
    </Box>
  );
}
