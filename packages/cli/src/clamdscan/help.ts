import { CLAMTS_VERSION } from '@clamts/core/client';

/** `clamdscan --help`: ClamAV 1.4's clamdscan options and layout, described by ClamTS. */
export function clamdscanHelp(): string {
  const rows: Array<[string, string, string]> = [
    ['--help', '-h', 'Print this help and exit'],
    ['--version', '-V', "Print clamd's version (or this program's) and exit"],
    ['--verbose', '-v', 'Report more of what is being done'],
    ['--quiet', '', 'Print error messages only'],
    ['--stdout', '', 'Send warnings and errors to standard output (this help always goes there)'],
    ['--log=FILE', '-l FILE', 'Append the scan report to FILE'],
    ['--file-list=FILE', '-f FILE', 'Scan the paths listed in FILE, one per line'],
    ['--ping', '-p A[:I]', 'Check up to A times, I seconds apart, that clamd answers'],
    ['--wait', '-w', 'Wait for clamd to come up before scanning (30 s, or as --ping says)'],
    ['--remove', '', 'Delete infected files'],
    ['--move=DIRECTORY', '', 'Move infected files to DIRECTORY'],
    ['--copy=DIRECTORY', '', 'Copy infected files to DIRECTORY'],
    ['--config-file=FILE', '-c', 'Read the clamd configuration from FILE'],
    ['--allmatch', '-z', 'Report every signature that matches, not just the first'],
    ['--multiscan', '-m', 'Let clamd scan with several threads at once'],
    ['--infected', '-i', 'Print infected files only'],
    ['--no-summary', '', 'Leave out the summary at the end'],
    ['--reload', '', 'Ask clamd to reload its signature databases'],
    ['--fdpass', '', 'Hand clamd open files instead of paths (clamd may run as another user)'],
    ['--stream', '', 'Send file contents to clamd instead of paths'],
  ];
  const lines = [
    '',
    `                      ClamTS: Daemon Client ${CLAMTS_VERSION}`,
    '           A TypeScript implementation of the ClamAV tool suite',
    '',
    '    clamdscan [options] [file/directory/-]',
    '',
  ];
  for (const [long, short, text] of rows) {
    lines.push(`    ${long.padEnd(21)} ${short.padEnd(14)} ${text}`.replace(/\s+$/, ''));
  }
  lines.push(
    '',
    'Pass in - as the only path to scan standard input.',
    '',
  );
  return lines.join('\n');
}
