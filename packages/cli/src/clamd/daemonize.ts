import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';

/**
 * Becoming a daemon without fork(): the command starts a detached copy of itself (its own session,
 * stdio on /dev/null) and waits. The copy starts up, loading the database and opening its sockets,
 * and sends whatever it would print on the terminal meanwhile over an IPC channel, which the
 * waiting command prints. When the copy is ready it says so and the command exits 0; if the copy
 * exits first, the command exits with its status. This is what clamd does with fork() and a signal
 * to the waiting parent, so scripts see the same thing: clamd returns once the daemon is serving.
 */

/** Set in the environment of the detached copy. */
const CHILD_MARK = 'CLAMTS_CLAMD_DAEMON';

type DaemonMessage = { readonly console: 1 | 2; readonly text: string } | { readonly ready: true };

/** Is this process the detached daemon? */
export function isDaemonChild(): boolean {
  return process.env[CHILD_MARK] === '1' && typeof process.send === 'function';
}

/** In the daemon: where console output goes until it is ready (the waiting command's terminal). */
export function daemonConsole(fd: 1 | 2, text: string): void {
  process.send?.({ console: fd, text } satisfies DaemonMessage);
}

/** In the daemon: startup is complete; the waiting command may exit. */
export function daemonReady(): Promise<void> {
  return new Promise((resolve) => {
    process.send?.({ ready: true } satisfies DaemonMessage, undefined, {}, () => {
      process.disconnect?.();
      resolve();
    });
  });
}

/** In the command: starts the daemon and returns the exit status to use. */
export function launchDaemon(argv: readonly string[]): Promise<number> {
  const script = process.argv[1] as string;
  const child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env: { ...process.env, [CHILD_MARK]: '1' },
  });
  return new Promise((resolve) => {
    let ready = false;
    child.on('message', (message: DaemonMessage) => {
      if ('console' in message) {
        writeSync(message.console, Buffer.from(message.text, 'latin1'));
      } else if (message.ready) {
        ready = true;
        child.unref();
        child.disconnect();
        resolve(0);
      }
    });
    child.once('exit', (code, signal) => {
      if (!ready) resolve(code ?? (signal ? 1 : 0));
    });
    child.once('error', (error) => {
      process.stderr.write(`ERROR: daemonize() failed: ${error.message}\n`);
      resolve(1);
    });
  });
}
