/** Running a program in a detached tmux terminal and reading its screen, for end-to-end tests. */
import { spawnSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';

export const HAVE_TMUX = spawnSync('sh', ['-c', 'command -v tmux']).status === 0;

function tmux(...args: string[]): string {
  const result = spawnSync('tmux', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr}`);
  return result.stdout;
}

export class Terminal {
  private constructor(readonly name: string) {}

  /**
   * Starts `command` (a shell command line) in a terminal of the given size. The command's exit
   * status is printed as `EXIT=<status>` when it ends, and the terminal stays open to read it.
   */
  static open(name: string, command: string, columns = 100, rows = 30): Terminal {
    spawnSync('tmux', ['kill-session', '-t', name]);
    // Ink writes nothing but the last frame when it believes it runs in CI.
    tmux('new-session', '-d', '-s', name, '-x', String(columns), '-y', String(rows), `env -u CI TZ=UTC ${command}; echo EXIT=$?; sleep 600`);
    return new Terminal(name);
  }

  /** The screen's lines, without trailing blanks. */
  screen(): string[] {
    return tmux('capture-pane', '-p', '-t', this.name).split('\n').map((line) => line.trimEnd());
  }

  /** Waits until some line passes `test`, and returns the screen then. */
  async waitFor(test: (lines: string[]) => boolean, what: string, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.screen();
      if (test(lines)) return lines;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${lines.join('\n')}`);
      await delay(100);
    }
  }

  /** Keys in tmux's send-keys names (`q`, `Down`, `Tab`, `C-c`). */
  press(...keys: string[]): void {
    tmux('send-keys', '-t', this.name, ...keys);
  }

  resize(columns: number, rows: number): void {
    tmux('resize-window', '-t', this.name, '-x', String(columns), '-y', String(rows));
  }

  close(): void {
    spawnSync('tmux', ['kill-session', '-t', this.name]);
  }
}
