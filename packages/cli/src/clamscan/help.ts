import { CLAMTS_VERSION } from '@clamts/core';

/** `clamscan --help`: the same options and layout as ClamAV's clamscan, described by ClamTS. */
export function clamscanHelp(): string {
  const rows: Array<[string, string, string] | null> = [
    ['--help', '-h', 'Show this help'],
    ['--version', '-V', 'Print version number'],
    ['--verbose', '-v', 'Be verbose'],
    ['--archive-verbose', '-a', 'Show filenames inside scanned archives'],
    ['--debug', '', 'Enable the engine\'s debug messages'],
    ['--quiet', '', 'Only output error messages'],
    ['--stdout', '', 'Write to stdout instead of stderr. Does not affect \'debug\' messages.'],
    ['--no-summary', '', 'Disable summary at end of scanning'],
    ['--infected', '-i', 'Only print infected files'],
    ['--suppress-ok-results', '-o', 'Skip printing OK files'],
    ['--bell', '', 'Sound bell on virus detection'],
    null,
    ['--tempdir=DIRECTORY', '', 'Create temporary files in DIRECTORY'],
    ['--leave-temps[=yes/no(*)]', '', 'Do not remove temporary files'],
    ['--force-to-disk[=yes/no(*)]', '', 'Write nested files to disk before scanning them'],
    ['--gen-json[=yes/no(*)]', '', 'Generate JSON metadata for the scanned file(s)'],
    ['--database=FILE/DIR', '-d FILE/DIR', 'Load signatures from FILE, or every database file in DIR'],
    ['--official-db-only[=yes/no(*)]', '', 'Only load official signatures'],
    ['--fail-if-cvd-older-than=days', '', 'Return with a nonzero error code if virus database outdated.'],
    ['--log=FILE', '-l FILE', 'Save scan report to FILE'],
    ['--recursive[=yes/no(*)]', '-r', 'Scan subdirectories recursively'],
    ['--allmatch[=yes/no(*)]', '-z', 'Continue scanning within file after finding a match'],
    ['--cross-fs[=yes(*)/no]', '', 'Scan files and directories on other filesystems'],
    ['--follow-dir-symlinks[=0/1(*)/2]', '', 'Follow directory symlinks (0 = never, 1 = direct, 2 = always)'],
    ['--follow-file-symlinks[=0/1(*)/2]', '', 'Follow file symlinks (0 = never, 1 = direct, 2 = always)'],
    ['--file-list=FILE', '-f FILE', 'Scan files from FILE'],
    ['--remove[=yes/no(*)]', '', 'Remove infected files. Be careful!'],
    ['--move=DIRECTORY', '', 'Move infected files into DIRECTORY'],
    ['--copy=DIRECTORY', '', 'Copy infected files into DIRECTORY'],
    ['--exclude=REGEX', '', 'Don\'t scan file names matching REGEX'],
    ['--exclude-dir=REGEX', '', 'Don\'t scan directories matching REGEX'],
    ['--include=REGEX', '', 'Only scan file names matching REGEX'],
    ['--include-dir=REGEX', '', 'Only scan directories matching REGEX'],
    null,
    ['--detect-pua[=yes/no(*)]', '', 'Detect Possibly Unwanted Applications'],
    ['--exclude-pua=CAT', '', 'Skip PUA sigs of category CAT'],
    ['--include-pua=CAT', '', 'Load PUA sigs of category CAT'],
    ['--alert-exceeds-max[=yes/no(*)]', '', 'Alert on files that exceed max file size, max scan size, or max recursion limit'],
    null,
    ['--max-filesize=#n', '', 'Files larger than this will be skipped and assumed clean'],
    ['--max-scansize=#n', '', 'The maximum amount of data to scan for each container file (**)'],
    ['--max-files=#n', '', 'The maximum number of files to scan for each container file (**)'],
    ['--max-recursion=#n', '', 'Maximum archive recursion level for container file (**)'],
    ['--max-dir-recursion=#n', '', 'Maximum directory recursion level'],
  ];
  const lines = [
    '',
    `                       ClamTS: Scanner ${CLAMTS_VERSION}`,
    '           A TypeScript implementation of the ClamAV tool suite',
    '',
    '    clamscan [options] [file/directory/-]',
    '',
  ];
  for (const row of rows) {
    if (!row) {
      lines.push('');
      continue;
    }
    const [long, short, text] = row;
    lines.push(`    ${long.padEnd(21)} ${short.padEnd(14)} ${text}`.replace(/\s+$/, ''));
  }
  lines.push(
    '',
    'Pass in - as the filename for stdin.',
    'Every other option of ClamAV 1.4\'s clamscan is accepted; docs/clamscan.md lists which ones ClamTS acts on.',
    '',
    '(*) Default scan settings',
    '(**) Certain files (e.g. documents, archives, etc.) may in turn contain other',
    '   files inside. The above options ensure safe processing of this kind of data.',
    '',
  );
  return lines.join('\n');
}
