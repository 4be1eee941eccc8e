/** @jsxRuntime automatic */ // tsx compiles with the repository's tsconfig, which has no `jsx` setting.
import { Box } from 'ink';
import { Line } from './line.js';
import type { Theme } from './theme.js';

/** What each heading and figure of the main screen means. */
const EXPLANATIONS: ReadonlyArray<readonly [term: string, meaning: string]> = [
  ['NO', 'The daemon\'s number (the order it was given in)'],
  ['CONNTIME', 'How long clamdtop has been connected to it'],
  ['LIV', 'Threads alive, in all of its pools'],
  ['IDL', 'Threads of those waiting for work'],
  ['QUEUE', 'Requests waiting for a free thread'],
  ['MAXQ', 'The longest queue seen (R starts again)'],
  ['MEM', 'Memory in use, when the daemon can tell'],
  ['ENGINE', 'The daemon\'s version'],
  ['DBVER', 'The version of its daily database'],
  ['DBTIME', 'When that database was built (to the hour)'],
  ['HOST', 'Where it listens; local is a unix socket'],
  ['Primary threads', 'The pool that serves requests'],
  ['live', 'Threads running a command or scanning'],
  ['idle', 'Threads waiting; they end after IdleTimeout'],
  ['max', 'The most threads the pool may have (MaxThreads)'],
  ['Queue', 'Requests accepted but not yet taken by a thread'],
  ['COMMAND', 'What a thread is doing, or what waits in the queue'],
  ['QUEUEDSINCE', 'Seconds it has been running or waiting'],
  ['FILE', 'The file being scanned, if any'],
  ['Mem', 'Heap and mmap memory, as the C library counts it'],
  ['Libc', 'Memory the C library has in use and free'],
  ['Pool', 'Memory of the loaded signature engines'],
  ['Keys', 'Q quits, R resets maxima, arrows or Tab pick a daemon'],
];

/** The help page, cut to `height` lines. */
export function HelpScreen({ height, width, theme }: { height: number; width: number; theme: Theme }) {
  return (
    <Box flexDirection="column">
      {EXPLANATIONS.slice(0, Math.max(height, 0)).map(([term, meaning]) => (
        <Line key={term} width={width} theme={theme} segments={[{ text: term.padEnd(15), style: theme.strong }, { text: `  ${meaning}` }]} />
      ))}
    </Box>
  );
}

export const HELP_KEYS = ['Press any key to exit help'];
