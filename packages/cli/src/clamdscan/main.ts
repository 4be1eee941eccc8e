import { hrtime } from 'node:process';
import { CLAMD_CONF, CLAMTS_VERSION, isClamError, loadConfigFile, type Config } from '@clamts/core/client';
import { CommandLineError, parseCommandLine, type ParsedCommandLine } from '@clamts/core/client';
import { ToolOutput } from '../common/output.js';
import { quarantineFromOptions } from '../clamscan/quarantine.js';
import { pingClamd, printDaemonVersion, reloadDatabase } from './daemon-commands.js';
import { DaemonLink } from './daemon-link.js';
import { clamdscanHelp } from './help.js';
import { EXIT_ERROR, EXIT_TIMEOUT, runClient } from './scan-client.js';
import { printSummary } from './summary.js';

/** The line clamdscan starts its log with (and also prints). */
const LOG_SEPARATOR = '--------------------------------------';

/**
 * clamdscan: scans through a running clamd. Returns the exit code: 0 nothing found, 1 something
 * found, 2 errors; 21 or 34 when --ping/--wait time out or fail.
 */
export async function clamdscanMain(argv: readonly string[]): Promise<number> {
  const raw = new ToolOutput();
  let options: ParsedCommandLine;
  try {
    // Like ClamAV's clamdscan, clamscan's options are accepted with a warning.
    options = parseCommandLine('clamdscan', argv, 'clamscan');
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    raw.stderr(`${error.lines.join('\n')}\nERROR: Can't parse command line options\n`);
    return 2;
  }
  for (const warning of options.warnings) raw.stderr(`${warning}\n`);

  if (options.bool('help')) {
    process.stdout.write(clamdscanHelp());
    return 0;
  }

  const config = await readClamdConfig(options.string('config-file') ?? CLAMD_CONF, raw);
  if (!config) return 2;

  const consoleOptions = { quiet: options.bool('quiet'), verbose: options.bool('verbose'), stdout: options.bool('stdout') };
  const terminal = new ToolOutput(consoleOptions);
  if (options.bool('version')) {
    // The daemon's version; this program's own when clamd cannot be asked.
    if (!(await printDaemonVersion(new DaemonLink(config, terminal), terminal))) {
      process.stdout.write(`ClamTS ${CLAMTS_VERSION}\n`);
    }
    return 0;
  }
  if (options.has('ping') && !options.bool('wait')) {
    const ping = await pingClamd(new DaemonLink(config, terminal), terminal, options.string('ping'), false);
    return ping === 'answered' ? 0 : ping === 'timeout' ? EXIT_TIMEOUT : EXIT_ERROR;
  }

  // From here on, messages also go to the --log file.
  const out = new ToolOutput({ ...consoleOptions, logFile: options.string('log') });
  try {
    if (options.has('log')) {
      if (!out.logOnly(LOG_SEPARATOR)) {
        out.consoleError('Problem with internal logger.');
        return 2;
      }
      out.consoleOnly(LOG_SEPARATOR);
    }
    const link = new DaemonLink(config, out);
    if (options.bool('reload')) return await reloadDatabase(link, out);

    const quarantine = quarantineFromOptions(options, out);
    if (quarantine === null) return 2;

    const started = new Date();
    const startedAt = hrtime.bigint();
    const result = await runClient(options, config, out, link, quarantine);
    if (!options.bool('no-summary')) {
      printSummary(out, {
        infected: result.infected,
        errors: result.errors,
        notRemoved: quarantine?.notRemoved ?? 0,
        notMoved: quarantine?.notMoved ?? 0,
        started,
        startedAt,
        endedAt: hrtime.bigint(),
        ended: new Date(),
      });
    }
    return result.status;
  } finally {
    out.close();
  }
}

/**
 * clamd.conf, whose connection settings clamdscan uses. Its warnings and errors go to standard
 * error whatever the command line says, as ClamAV prints them before reading its own options.
 */
async function readClamdConfig(path: string, raw: ToolOutput): Promise<Config | undefined> {
  try {
    return await loadConfigFile(path, 'clamd', { onWarning: (message) => raw.stderr(`WARNING: ${message}\n`) });
  } catch (error) {
    if (!isClamError(error)) throw error;
    if (error.code === 'ECONFIG') raw.stderr(`ERROR: ${error.message}\n`);
    raw.stderr(`ERROR: Can't parse clamd configuration file ${path}\n`);
    return undefined;
  }
}

