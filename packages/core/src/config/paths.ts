import type { ConfigTool } from './types.js';

/**
 * Locations ClamAV is built with. ClamTS replaces the Debian build of ClamAV 1.4, so it uses the
 * same directories and account: defaults such as DatabaseDirectory and NotifyClamd, and the config
 * files the tools open when no path is given, come from here.
 */
export const CONFDIR = '/etc/clamav';
export const DATADIR = '/var/lib/clamav';
export const CLAMAV_USER = 'clamav';

/** The file name of each tool's configuration, in the order clamconf reports them. */
export const CONFIG_FILE_NAMES: Readonly<Record<ConfigTool, string>> = {
  clamd: 'clamd.conf',
  freshclam: 'freshclam.conf',
  milter: 'clamav-milter.conf',
};

export const CLAMD_CONF = `${CONFDIR}/${CONFIG_FILE_NAMES.clamd}`;
export const FRESHCLAM_CONF = `${CONFDIR}/${CONFIG_FILE_NAMES.freshclam}`;
export const MILTER_CONF = `${CONFDIR}/${CONFIG_FILE_NAMES.milter}`;

/** The tool whose configuration file has this name ("clamd.conf" → 'clamd'), as `clamconf -g` takes it. */
export function configToolForFileName(fileName: string): ConfigTool | undefined {
  const tools = Object.keys(CONFIG_FILE_NAMES) as ConfigTool[];
  return tools.find((tool) => CONFIG_FILE_NAMES[tool] === fileName);
}
