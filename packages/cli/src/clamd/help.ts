import { CLAMTS_VERSION } from '@clamts/core';

/** `clamd --help`: the options and layout of ClamAV's clamd, described by ClamTS. */
export function clamdHelp(): string {
  const rows: Array<[string, string, string]> = [
    ['--help', '-h', 'Show this help'],
    ['--version', '-V', 'Show version number'],
    ['--foreground', '-F', 'Run in foreground; do not daemonize'],
    ['--debug', '', 'Enable debug mode'],
    ['--log=FILE', '-l FILE', 'Log into FILE'],
    ['--config-file=FILE', '-c FILE', 'Read configuration from FILE'],
    ['--fail-if-cvd-older-than=days', '', 'Return with a nonzero error code if virus database outdated'],
    ['--datadir=DIRECTORY', '', 'Load signatures from DIRECTORY'],
    ['--pid=FILE', '-p FILE', "Write the daemon's pid to FILE"],
  ];
  const lines = [
    '',
    `                      ClamTS: Daemon ${CLAMTS_VERSION}`,
    '           A TypeScript implementation of the ClamAV tool suite',
    '',
    '    clamd [options]',
    '',
    ...rows.map(([long, short, text]) => `    ${long.padEnd(24)} ${short.padEnd(14)} ${text}`),
    '',
    'Pass in - as the filename for stdin.',
    '',
  ];
  return `${lines.join('\n')}\n`;
}
