import { problemText, type DaemonMonitor } from './daemon-monitor.js';

/** Where the messages before the screen opens go. */
export interface StartupOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * The figlet logo ClamAV's clamdtop prints while it connects.
 */
const LOGO = [
  '        __                    ____',
  '  _____/ /___ _____ ___  ____/ / /_____  ____',
  ' / ___/ / __ `/ __ `__ \\/ __  / __/ __ \\/ __ \\',
  '/ /__/ / /_/ / / / / / / /_/ / /_/ /_/ / /_/ /',
  '\\___/_/\\__,_/_/ /_/ /_/\\__,_/\\__/\\____/ .___/',
  '                                     /_/',
];

/**
 * Connects to every daemon once, in order, reporting each step as ClamAV's clamdtop does before
 * its screen opens (`Looking up:`, `Connecting to:`, `connect: <error>`). Returns how many
 * daemons answered; the others are left to their monitors to retry.
 */
export async function connectAll(monitors: readonly DaemonMonitor[], out: StartupOutput): Promise<number> {
  out.stdout(`${LOGO.join('\n')}\n`);
  let reached = 0;
  for (const monitor of monitors) {
    const { target } = monitor;
    if (target.service !== undefined) out.stdout(`Looking up: ${hostOf(monitor)}:${target.service}\n`);
    out.stdout(`Connecting to: ${target.address}\n`);
    try {
      await monitor.connect();
      reached++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).syscall === 'getaddrinfo') {
        out.stdout(`Could not look up ${hostOf(monitor)}:${target.service}, getaddrinfo returned: ${problemText(error)}\n`);
      } else {
        out.stderr(`connect: ${problemText(error)}\n`);
      }
    }
  }
  return reached;
}

function hostOf(monitor: DaemonMonitor): string {
  return (monitor.target.endpoint as { host: string }).host;
}
