import { configToolForFileName, CONFIG_FILE_NAMES, CLAMTS_VERSION, generateSampleConfig } from '@clamts/core';
import { CommandLineError, parseCommandLine, type ParsedCommandLine } from '@clamts/core';
import { ToolOutput } from '../common/output.js';
import { reportConfigFiles } from './config-report.js';
import { freshestDatabaseDirectory, reportDatabases } from './database-report.js';
import { reportBuild, reportPlatform, reportSoftware } from './environment-report.js';
import { clamconfHelp, VERSION_LINE } from './help.js';

/**
 * clamconf: returns the exit code. Like ClamAV's, it reports problems in what it checks
 * without failing: only a bad command line gives 1.
 */
export async function clamconfMain(argv: readonly string[]): Promise<number> {
  const out = new ToolOutput();
  let options: ParsedCommandLine;
  try {
    options = parseCommandLine('clamconf', argv);
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    out.stderr(`${error.lines.join('\n')}\n`);
    // ClamAV's clamconf prints this one on stdout.
    out.info("ERROR: Can't parse command line options");
    return 1;
  }
  for (const warning of options.warnings) out.stderr(`${warning}\n`);
  if (options.bool('help')) {
    out.info(clamconfHelp().slice(0, -1));
    return 0;
  }
  if (options.bool('version')) {
    out.info(VERSION_LINE);
    return 0;
  }
  const sampleName = options.string('generate-config');
  if (sampleName !== undefined) {
    printSample(sampleName, out);
    return 0;
  }

  const configs = await reportConfigFiles(options.string('config-dir')!, options.bool('non-default'), out);
  reportSoftware(out);
  const databaseDirectory = configs.freshclam?.getString('DatabaseDirectory') ?? (await freshestDatabaseDirectory());
  await reportDatabases(databaseDirectory, configs.clamd?.getString('DatabaseDirectory'), out);
  reportPlatform(out);
  reportBuild(out);
  return 0;
}

/** `-g NAME`: a sample configuration file, or the list of names when NAME is none of them. */
function printSample(name: string, out: ToolOutput): void {
  const tool = configToolForFileName(name);
  if (tool === undefined) {
    out.info(`ERROR: Unknown config file\nAvailable options: ${Object.values(CONFIG_FILE_NAMES).join(' ')}`);
    return;
  }
  out.info(generateSampleConfig(tool, CLAMTS_VERSION).slice(0, -1));
}
