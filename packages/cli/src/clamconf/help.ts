import { CLAMTS_VERSION } from '@clamts/core';

/** `clamconf --version`. */
export const VERSION_LINE = `ClamTS Configuration Tool ${CLAMTS_VERSION}`;

/** `clamconf --help`: ClamAV 1.4's clamconf options and layout, described by ClamTS. */
export function clamconfHelp(): string {
  const rows: Array<[string, string, string]> = [
    ['--help', '-h', 'Print this help and exit'],
    ['--version', '-V', 'Print the version and exit'],
    ['--config-dir=DIR', '-c DIR', 'Check the configuration files in DIR'],
    ['--non-default', '-n', 'List only the options set to something other than their default'],
    ['--generate-config=NAME', '-g NAME', 'Print a sample NAME (clamd.conf, freshclam.conf or clamav-milter.conf)'],
  ];
  const lines = [
    '',
    `                       ClamTS: Configuration Tool ${CLAMTS_VERSION}`,
    '           A TypeScript implementation of the ClamAV tool suite',
    '',
  ];
  for (const [long, short, text] of rows) {
    lines.push(`    ${long.padEnd(22)} ${short.padEnd(10)} ${text}`);
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}
