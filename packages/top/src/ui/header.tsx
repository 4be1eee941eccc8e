/** @jsxRuntime automatic */ // tsx compiles with the repository's tsconfig, which has no `jsx` setting.
import { ctime } from '@clamts/core/client';
import { fullWidth, Line } from './line.js';
import type { Theme } from './theme.js';

/** The title bar: the tool's version and the time of day. */
export function Header({ version, now, width, theme }: { version: string; now: number; width: number; theme: Theme }) {
  const title = `  ClamdTOP version ${version}   ${ctime(new Date(now))}`;
  return <Line width={width} theme={theme} segments={fullWidth(title, width, theme.title)} />;
}
