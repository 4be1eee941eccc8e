/** @jsxRuntime automatic */ // tsx compiles with the repository's tsconfig, which has no `jsx` setting.
import { CommandLineError, parseCommandLine, type ParsedCommandLine } from '@clamts/core/client';
import { CLAMTS_VERSION, isClamError, loadConfigFile } from '@clamts/core/client';
import { render } from 'ink';
import { DaemonMonitor } from './daemon-monitor.js';
import { Dashboard } from './dashboard.js';
import { clamdtopHelp, VERSION_LINE } from './help.js';
import { connectAll } from './startup.js';
import { addressFromConfig, parseTarget, type DaemonTarget } from './targets.js';
import { App, type QuitReason } from './ui/app.js';
import { createTheme } from './ui/theme.js';

/** ClamAV's clamdtop exit codes, with the reason it prints for each abnormal one. */
const EXIT = {
  commandLine: { code: 1, reason: 'Invalid command-line arguments' },
  noConnection: { code: 2, reason: 'Unable to connect to all clamds' },
  interrupt: { code: 5, reason: 'User interrupt' },
} as const;

/** The terminal's alternate screen, which curses programs use so the shell's screen comes back. */
const ENTER_ALTERNATE_SCREEN = '\x1b[?1049h';
const LEAVE_ALTERNATE_SCREEN = '\x1b[?1049l';

/** clamdtop: returns the exit code. */
export async function clamdtopMain(argv: readonly string[]): Promise<number> {
  let options: ParsedCommandLine;
  try {
    options = parseCommandLine('clamdtop', argv);
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    process.stderr.write(`${error.lines.join('\n')}\nERROR: Can't parse command line options\n`);
    return abnormal(EXIT.commandLine);
  }
  for (const warning of options.warnings) process.stderr.write(`${warning}\n`);
  if (options.bool('help')) {
    process.stdout.write(clamdtopHelp());
    return 0;
  }
  if (options.bool('version')) {
    process.stdout.write(`${VERSION_LINE}\n`);
    return 0;
  }

  const targets = options.operands.length > 0 ? options.operands.map((address) => parseTarget(address)) : await configuredTarget(options);
  if (typeof targets === 'number') return targets;

  const dashboard = new Dashboard(targets);
  const monitors = targets.map((target, index) => new DaemonMonitor(target, (status) => dashboard.update(index, status)));
  const reached = await connectAll(monitors, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
  if (reached === 0) return abnormal(EXIT.noConnection);

  for (const monitor of monitors) monitor.start();
  const reason = await showScreen(dashboard, options.bool('defaultcolors'));
  await Promise.all(monitors.map((monitor) => monitor.stop()));
  return reason === 'interrupt' ? abnormal(EXIT.interrupt) : 0;
}

/** The daemon clamd.conf names, or the exit code after saying why there is none. */
async function configuredTarget(options: ParsedCommandLine): Promise<DaemonTarget[] | number> {
  const path = options.string('config-file')!;
  let address: string | undefined;
  try {
    const config = await loadConfigFile(path, 'clamd', { onWarning: (message) => process.stderr.write(`WARNING: ${message}\n`) });
    address = addressFromConfig(config);
  } catch (error) {
    if (!isClamError(error)) throw error;
    if (error.code === 'ECONFIG') process.stderr.write(`ERROR: ${error.message}\n`);
    process.stderr.write(`Can't parse clamd configuration file ${path}\n`);
    return abnormal(EXIT.commandLine);
  }
  if (address === undefined) {
    process.stderr.write("Can't find how to connect to clamd\n");
    return abnormal(EXIT.noConnection);
  }
  return [parseTarget(address)];
}

/** Runs the screen until `q` or an interrupt. */
async function showScreen(dashboard: Dashboard, defaultColors: boolean): Promise<QuitReason> {
  const { stdout } = process;
  const alternate = stdout.isTTY === true;
  const leaveAlternate = () => stdout.write(LEAVE_ALTERNATE_SCREEN);
  if (alternate) {
    stdout.write(ENTER_ALTERNATE_SCREEN);
    // Whatever ends the process, the shell's screen comes back.
    process.once('exit', leaveAlternate);
  }
  let quit!: (reason: QuitReason) => void;
  const quitting = new Promise<QuitReason>((resolve) => (quit = resolve));
  const interrupted = () => quit('interrupt');
  process.once('SIGINT', interrupted);
  const instance = render(<App dashboard={dashboard} theme={createTheme(defaultColors)} version={CLAMTS_VERSION} onQuit={quit} />, {
    exitOnCtrlC: false,
    patchConsole: false,
  });
  // Ink settles this promise on unmount only if it was asked for before.
  const exited = instance.waitUntilExit();
  const reason = await quitting;
  process.off('SIGINT', interrupted);
  instance.unmount();
  await exited;
  if (alternate) {
    process.off('exit', leaveAlternate);
    leaveAlternate();
  }
  return reason;
}

function abnormal(exit: { code: number; reason: string }): number {
  process.stderr.write(`Abnormal program termination: ${exit.reason}\n`);
  return exit.code;
}
