import { CLAMTS_VERSION } from '@clamts/core/client';

/** `clamdtop --version`. */
export const VERSION_LINE = `ClamTS Monitoring Tool ${CLAMTS_VERSION}`;

/** `clamdtop --help`: ClamAV 1.4's clamdtop command line, described by ClamTS. */
export function clamdtopHelp(): string {
  const rows: Array<[string, string, string]> = [
    ['--help', '-h', 'Print this help and exit'],
    ['--version', '-V', 'Print the version and exit'],
    ['--config-file=FILE', '-c FILE', 'Find the daemon through this clamd.conf (when no address is given)'],
    ['--defaultcolors', '-d', "Keep the terminal's own foreground and background colours"],
    ['host[:port]', '', 'Watch the clamd listening on host at port (3310 when left out)'],
    ['[ipv6]:port', '', 'The same for an IPv6 address'],
    ['/path/to/clamd.sock', '', 'Watch the clamd listening on this unix socket'],
  ];
  const lines = [
    '',
    `                       ClamTS: Monitoring Tool ${CLAMTS_VERSION}`,
    '           A TypeScript implementation of the ClamAV tool suite',
    '',
    '    clamdtop [-hVc] [host[:port] /path/to/clamd.sock ...]',
    '',
  ];
  for (const [long, short, text] of rows) {
    lines.push(`    ${long.padEnd(21)} ${short.padEnd(14)} ${text}`.replace(/\s+$/, ''));
  }
  lines.push(
    '',
    'Keys: q quits, r resets the maxima, h explains the screen, the arrow keys and Tab pick a daemon.',
    '',
  );
  return lines.join('\n');
}
