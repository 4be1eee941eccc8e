import { chdir } from 'node:process';
import { arch, type } from 'node:os';
import { writeFileSync } from 'node:fs';
import { CLAMTS_VERSION, errnoMessage, isClamError, loadConfigFile, type Config } from '@clamts/core';
import { CommandLineError, parseCommandLine, type ParsedCommandLine } from '@clamts/core';
import { dailyDatabaseVersion, versionLine } from '../common/database-version.js';
import { ctime } from '@clamts/core';
import { Daemon, StartupError } from './daemon.js';
import { daemonConsole, daemonReady, isDaemonChild, launchDaemon } from './daemonize.js';
import { loadDescriptorPassing } from './descriptor-passing.js';
import { clamdHelp } from './help.js';
import { ListenError } from './listeners.js';
import { DaemonLogger } from './logger.js';
import { dropPrivileges } from './privileges.js';
import { ClamdSettings } from './settings.js';

const PRODUCT = `ClamTS ${CLAMTS_VERSION}`;

/** clamd: returns the exit status (0 after a clean shutdown, 1 when it cannot start, 2 for the pid file). */
export async function clamdMain(argv: readonly string[]): Promise<number> {
  let commandLine: ParsedCommandLine;
  try {
    commandLine = parseCommandLine('clamd', argv);
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    process.stderr.write(`${error.lines.join('\n')}\nERROR: Can't parse command line options\n`);
    return 1;
  }
  if (commandLine.bool('help')) {
    process.stdout.write(clamdHelp());
    return 0;
  }

  const configPath = commandLine.string('config-file') as string;
  let config: Config;
  try {
    config = await loadConfigFile(configPath, 'clamd', { onWarning: (message) => process.stderr.write(`WARNING: ${message}\n`) });
  } catch (error) {
    if (!isClamError(error)) throw error;
    if (error.code === 'ECONFIG') process.stderr.write(`ERROR: ${error.message}\n`);
    process.stderr.write(`ERROR: Can't open/parse the config file ${configPath}\n`);
    return 1;
  }
  const settings = new ClamdSettings(commandLine, config);
  if (settings.bool('version')) {
    process.stdout.write(`${versionLine(PRODUCT, dailyDatabaseVersion(settings.string('DatabaseDirectory') as string))}\n`);
    return 0;
  }
  const logFile = settings.string('LogFile');
  if (logFile !== undefined && !logFile.startsWith('/')) {
    process.stderr.write('ERROR: LogFile requires full path.\n');
    return 1;
  }
  const child = isDaemonChild();
  if (!settings.bool('Foreground') && !child) return launchDaemon(argv);
  return runDaemon(settings, child, commandLine.bool('debug'));
}

async function runDaemon(settings: ClamdSettings, child: boolean, debugMode: boolean): Promise<number> {
  const maxSize = settings.number('LogFileMaxSize');
  const logger = new DaemonLogger({
    file: settings.string('LogFile'),
    time: settings.bool('LogTime'),
    verbose: settings.bool('LogVerbose'),
    debug: settings.bool('Debug'),
    maxSize,
    rotate: settings.bool('LogRotate'),
    console: child ? daemonConsole : undefined,
  });
  try {
    if (settings.string('LogFile') !== undefined && !logger.log('info-nf', `+++ Started at ${ctime(new Date())}`)) {
      process.stderr.write("ERROR: Can't initialize the internal logger\n");
      return 1;
    }
    const pidFile = settings.string('PidFile');
    if (pidFile !== undefined && !writePidFile(pidFile, logger)) return 2;
    const user = settings.string('User');
    if (user !== undefined && !dropPrivileges(user, settings.string('LogFile'), logger)) return 1;

    logger.log('info-nf', 'Received 0 file descriptor(s) from systemd.');
    if (!settings.isEnabled('TCPSocket') && !settings.isEnabled('LocalSocket')) {
      logger.error('Please define server type (local and/or TCP).');
      return startupFailed(logger);
    }
    logger.log('info-nf', `clamd daemon ${PRODUCT} (OS: ${type()}, ARCH: ${machine()}, CPU: ${machine()})`);
    logger.log('info-nf', maxSize > 0 ? `Log file size limited to ${maxSize} bytes.` : 'Log file size limit disabled.');
    const minPort = settings.number('StreamMinPort');
    const maxPort = settings.number('StreamMaxPort');
    if (minPort < 1024 || minPort > maxPort || maxPort > 65535) {
      logger.error(`Invalid StreamMinPort/StreamMaxPort: ${minPort}, ${maxPort}`);
      return startupFailed(logger);
    }

    let daemon: Daemon;
    try {
      daemon = await Daemon.start(settings, logger, await loadDescriptorPassing());
    } catch (error) {
      if (error instanceof StartupError || error instanceof ListenError) return startupFailed(logger);
      throw error;
    }
    if (child) {
      if (!debugMode) chdir('/');
      logger.detachConsole();
      await daemonReady();
    }
    daemon.serve();
    return await daemon.stopped;
  } finally {
    logger.close();
  }
}

/** clamd's last words when it could not start. */
function startupFailed(logger: DaemonLogger): number {
  logger.debug('Closing the main socket.');
  return 1;
}

/** The pid file, written as clamd writes it (umask 022); false when it cannot be. */
function writePidFile(path: string, logger: DaemonLogger): boolean {
  const umask = process.umask(0o022);
  try {
    writeFileSync(path, `${process.pid}\n`);
    return true;
  } catch (error) {
    logger.error(`Can't save PID to file ${path}: ${errnoMessage(error)}`);
    return false;
  } finally {
    process.umask(umask);
  }
}

/** uname's machine name for Node's architecture names. */
function machine(): string {
  const names: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7l' };
  return names[arch()] ?? arch();
}
