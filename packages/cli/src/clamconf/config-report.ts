import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import {
  CONFIG_FILE_NAMES,
  isClamError,
  loadConfigFile,
  renderConfigOptions,
  type Config,
  type ConfigTool,
} from '@clamts/core';
import type { ToolOutput } from '../common/output.js';

/** The configurations that could be read, by tool. */
export type ParsedConfigs = Partial<Record<ConfigTool, Config>>;

/**
 * The first part of clamconf's report: for each of clamd.conf, freshclam.conf and
 * clamav-milter.conf in `directory`, either `… not found` or its options (every one, or with
 * `nonDefault` only those that differ from the default), deprecated options marked as such.
 * A file that does not parse is reported on stderr as ClamAV reports it, under an empty listing.
 */
export async function reportConfigFiles(directory: string, nonDefault: boolean, out: ToolOutput): Promise<ParsedConfigs> {
  out.info(`Checking configuration files in ${directory}`);
  const parsed: ParsedConfigs = {};
  for (const [tool, name] of Object.entries(CONFIG_FILE_NAMES) as Array<[ConfigTool, string]>) {
    const path = `${directory}/${name}`;
    if (!(await readable(path))) {
      out.info(`\n${name} not found`);
      continue;
    }
    out.info(`\nConfig file: ${name}\n${'-'.repeat(name.length + 13)}`);
    let config: Config;
    try {
      config = await loadConfigFile(path, tool, { keepDeprecated: true, onWarning: (message) => out.stderr(`WARNING: ${message}\n`) });
    } catch (error) {
      if (!isClamError(error)) throw error;
      // A file that vanished between the check and the read says nothing more, as in ClamAV.
      if (error.code === 'ECONFIG') out.stderr(`ERROR: ${error.message}\n`);
      continue;
    }
    const listing = renderConfigOptions(config, { nonDefault });
    if (listing) out.info(listing.slice(0, -1));
    parsed[tool] = config;
  }
  return parsed;
}

async function readable(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
