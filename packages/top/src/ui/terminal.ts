import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

/** What a terminal that does not tell its size is taken to be. */
const FALLBACK: TerminalSize = { columns: 80, rows: 24 };

/**
 * The terminal's size, following resizes. The old frame is cleared on a resize: a narrower
 * terminal re-wraps what is on screen, which the incremental redraw could not erase.
 */
export function useTerminalSize(fixed?: TerminalSize): TerminalSize {
  const { stdout } = useStdout();
  const read = (): TerminalSize => fixed ?? { columns: stdout.columns || FALLBACK.columns, rows: stdout.rows || FALLBACK.rows };
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed) return;
    const resized = () => {
      stdout.write('\x1b[2J\x1b[H');
      setSize(read());
    };
    stdout.on('resize', resized);
    return () => {
      stdout.off('resize', resized);
    };
  }, [stdout, fixed]);
  return fixed ?? size;
}

/** The time, updated every `intervalMs`. */
export function useClock(now: () => number, intervalMs = 1000): number {
  const [time, setTime] = useState(now);
  useEffect(() => {
    const timer = setInterval(() => setTime(now()), intervalMs);
    return () => clearInterval(timer);
  }, [now, intervalMs]);
  return time;
}
