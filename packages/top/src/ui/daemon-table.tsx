/** @jsxRuntime automatic */ // tsx compiles with the repository's tsconfig, which has no `jsx` setting.
import { Box } from 'ink';
import type { DaemonView } from '../dashboard.js';
import { daemonRow, SUMMARY_HEADER } from '../format.js';
import { fullWidth, Line, type Segment } from './line.js';
import type { Theme } from './theme.js';

export interface DaemonTableProps {
  readonly views: readonly DaemonView[];
  /** The 0-based index of the daemon whose details are shown, -1 for none. */
  readonly selected: number;
  readonly now: number;
  readonly width: number;
  readonly theme: Theme;
}

/** The column header and one row per daemon; a row too long for the screen ends in `...`. */
export function DaemonTable({ views, selected, now, width, theme }: DaemonTableProps) {
  return (
    <Box flexDirection="column">
      <Line width={width} theme={theme} segments={fullWidth(SUMMARY_HEADER, width, theme.columns)} />
      {views.map((view, index) => {
        const style = view.status.state === 'online' ? (index === selected ? theme.selected : undefined) : theme.error;
        const text = daemonRow(view, now, width);
        const segments: Segment[] =
          text.length > width && width > 3
            ? [{ text: text.slice(0, width - 3), style }, { text: '...', style: { ...theme.title, dimColor: true } }]
            : fullWidth(text, width, style);
        return <Line key={view.number} width={width} theme={theme} segments={segments} />;
      })}
    </Box>
  );
}
