/** @jsxRuntime automatic */ // tsx compiles with the repository's tsconfig, which has no `jsx` setting.
import { Line, type Segment } from './line.js';
import type { Theme } from './theme.js';

/** The bottom line: the keys, each in reverse video. */
export function StatusBar({ keys, width, theme }: { keys: readonly string[]; width: number; theme: Theme }) {
  const segments: Segment[] = keys.flatMap((key, index) => [...(index > 0 ? [{ text: ' ' }] : []), { text: key, style: theme.keys }]);
  return <Line width={width} theme={theme} segments={segments} />;
}

/** The keys of the main screen; selecting a daemon is only offered when there are several. */
export function mainKeys(daemons: number): string[] {
  const keys = ['H - help', 'Q - quit', 'R - reset maximums'];
  if (daemons > 1) keys.push('↑ - previous clamd', '↓ - next clamd');
  return keys;
}
