import { CLAMD_CONF, CONFDIR, DATADIR, FRESHCLAM_CONF, MILTER_CONF } from '../paths.js';
import { FUNCTIONALITY_LEVEL } from '../../engine/version.js';
import { defineOptions } from '../types.js';

const ALL_TOOLS = [
  'clamd',
  'freshclam',
  'clamscan',
  'clamdscan',
  'sigtool',
  'milter',
  'clamconf',
  'clamdtop',
  'clambc',
  'clamonacc',
] as const;


/**
 * Options that exist on the command line only (they have no config-file name).
 *
 * A config file may still name the ones that belong to its tool, by their long spelling: ClamAV
 * looks names up among all of the tool's options, so "debug yes" in clamd.conf is accepted.
 */
export const COMMAND_LINE_OPTIONS = defineOptions([
  {
    longopt: 'help', shortopt: 'h', type: 'bool', default: false, tools: ALL_TOOLS,
    description: 'Print the usage text and exit.',
  },
  {
    longopt: 'config-file', shortopt: 'c', type: 'string', default: CLAMD_CONF,
    tools: ['clamd', 'clamdscan', 'clamdtop', 'clamonacc'], argRequired: true,
    description: 'Read the clamd configuration from this file.',
  },
  {
    longopt: 'config-file', type: 'string', default: FRESHCLAM_CONF, tools: ['freshclam'],
    argRequired: true,
    description: 'Read the freshclam configuration from this file.',
  },
  {
    longopt: 'config-file', shortopt: 'c', type: 'string', default: MILTER_CONF, tools: ['milter'],
    argRequired: true,
    description: 'Read the clamav-milter configuration from this file.',
  },
  {
    longopt: 'version', shortopt: 'V', type: 'bool', default: false, tools: ALL_TOOLS,
    description: 'Print the version and exit.',
  },
  {
    longopt: 'debug', type: 'bool', default: false,
    tools: ['clambc', 'clamd', 'freshclam', 'clamscan', 'sigtool'],
    description: 'Turn on libclamav debug output.',
  },
  {
    longopt: 'gen-json', type: 'bool', default: false, tools: ['clamd', 'clamscan', 'sigtool'],
    description: 'Produce the JSON metadata record of each scan.',
  },
  {
    longopt: 'verbose', shortopt: 'v', type: 'bool', default: false,
    tools: ['freshclam', 'clamscan', 'clamdscan', 'sigtool', 'clamonacc'],
    description: 'Report more of what the tool is doing.',
  },
  {
    longopt: 'dumpcerts', type: 'bool', default: false, tools: ['clamscan'],
    description: 'Print the Authenticode certificate chain of PE files.',
  },
  {
    longopt: 'quiet', type: 'bool', default: false,
    tools: ['freshclam', 'clamscan', 'clamdscan', 'sigtool', 'clamonacc'],
    description: 'Print error messages only.',
  },
  {
    longopt: 'leave-temps', type: 'bool', default: false, tools: ['clamscan', 'sigtool'],
    description: 'Keep the temporary files made during a scan.',
  },
  {
    longopt: 'no-warnings', type: 'bool', default: false, tools: ['freshclam'],
    description: 'Do not print warnings.',
  },
  {
    longopt: 'show-progress', type: 'bool', default: false, tools: ['freshclam'],
    description: 'Show download progress.',
  },
  {
    longopt: 'stdout', type: 'bool', default: false,
    tools: ['freshclam', 'clamscan', 'clamdscan', 'sigtool', 'clamonacc'],
    description: 'Write messages to standard output instead of standard error.',
  },
  {
    longopt: 'daemon', shortopt: 'd', type: 'bool', default: false, tools: ['freshclam'],
    description: 'Run in the background and check for updates periodically.',
  },
  {
    longopt: 'no-dns', type: 'bool', default: false, tools: ['freshclam'],
    description: 'Skip the DNS version check.',
  },
  {
    longopt: 'list-mirrors', type: 'bool', default: false, tools: ['freshclam'],
    description: 'Print the mirror details and exit.',
  },
  {
    longopt: 'update-db', type: 'string', tools: ['freshclam'], repeatable: true,
    description: 'Update only the named database (may be repeated).',
  },
  {
    longopt: 'reload', type: 'bool', default: false, tools: ['clamdscan'],
    description: 'Ask clamd to reload its databases.',
  },
  {
    longopt: 'multiscan', shortopt: 'm', type: 'bool', default: false,
    tools: ['clamdscan', 'clamonacc'],
    description: 'Let clamd scan with several threads at once.',
  },
  {
    longopt: 'fdpass', type: 'bool', default: false, tools: ['clamdscan', 'clamonacc'],
    description: 'Hand clamd the open file descriptor instead of the path.',
  },
  {
    longopt: 'stream', type: 'bool', default: false, tools: ['clamdscan', 'clamonacc'],
    description: 'Send the file contents to clamd.',
  },
  {
    longopt: 'allmatch', shortopt: 'z', type: 'bool', default: false,
    tools: ['clamscan', 'clamdscan', 'clamonacc'],
    description: 'Keep scanning after the first match and report every match.',
  },
  {
    longopt: 'normalize', type: 'bool', default: true, tools: ['clamscan'],
    description: 'Normalise HTML, script and text before matching.',
  },
  {
    longopt: 'database', shortopt: 'd', type: 'string', default: DATADIR, tools: ['clamscan'],
    repeatable: true, argRequired: true,
    description: 'Load signatures from this file or directory (may be repeated).',
  },
  {
    longopt: 'recursive', shortopt: 'r', type: 'bool', default: false, tools: ['clamscan'],
    description: 'Descend into directories.',
  },
  {
    longopt: 'gen-mdb', type: 'bool', default: false, tools: ['clamscan'],
    description: 'Always print MDB signatures for PE sections.',
  },
  {
    longopt: 'follow-dir-symlinks', type: 'number', default: 1, tools: ['clamscan'],
    description: 'Directory symlinks: 0 never followed, 1 only on the command line, 2 always.',
  },
  {
    longopt: 'follow-file-symlinks', type: 'number', default: 1, tools: ['clamscan'],
    description: 'File symlinks: 0 never followed, 1 only on the command line, 2 always.',
  },
  {
    longopt: 'bell', type: 'bool', default: false, tools: ['clamscan'],
    description: 'Ring the terminal bell on a detection.',
  },
  {
    longopt: 'no-summary', type: 'bool', default: false, tools: ['clamscan', 'clamdscan'],
    description: 'Leave out the summary at the end.',
  },
  {
    longopt: 'file-list', shortopt: 'f', type: 'string', tools: ['clamscan', 'clamdscan'],
    description: 'Scan the files listed in this file.',
  },
  {
    longopt: 'infected', shortopt: 'i', type: 'bool', default: false,
    tools: ['clamscan', 'clamdscan', 'clamonacc'],
    description: 'Print infected files only.',
  },
  {
    longopt: 'ping', shortopt: 'p', type: 'string', tools: ['clamdscan', 'clamonacc'],
    description: 'Check that clamd answers (attempts[:interval]).',
  },
  {
    longopt: 'wait', shortopt: 'w', type: 'bool', default: false, tools: ['clamdscan', 'clamonacc'],
    description: 'Wait for clamd to come up before giving up.',
  },
  {
    longopt: 'suppress-ok-results', shortopt: 'o', type: 'bool', default: false,
    tools: ['clamscan'],
    description: 'Do not print clean files.',
  },
  {
    longopt: 'move', type: 'string', tools: ['clamscan', 'clamdscan', 'clamonacc'],
    description: 'Move infected files to this directory.',
  },
  {
    longopt: 'copy', type: 'string', tools: ['clamscan', 'clamdscan', 'clamonacc'],
    description: 'Copy infected files to this directory.',
  },
  {
    longopt: 'remove', type: 'bool', default: false, tools: ['clamscan', 'clamdscan', 'clamonacc'],
    description: 'Delete infected files.',
  },
  {
    longopt: 'exclude', type: 'string', tools: ['clamscan'], repeatable: true,
    description: 'Skip files whose names match this regular expression.',
  },
  {
    longopt: 'exclude-dir', type: 'string', tools: ['clamscan'], repeatable: true,
    description: 'Skip directories whose names match this regular expression.',
  },
  {
    longopt: 'include', type: 'string', tools: ['clamscan'], repeatable: true,
    description: 'Scan only files whose names match this regular expression.',
  },
  {
    longopt: 'include-dir', type: 'string', tools: ['clamscan'], repeatable: true,
    description: 'Scan only directories whose names match this regular expression.',
  },
  {
    longopt: 'structured-ssn-format', type: 'number', default: 0, tools: ['clamscan'],
    description: 'SSN layouts to look for: 0 normal, 1 stripped, 2 both.',
  },
  {
    longopt: 'hex-dump', type: 'bool', default: false, tools: ['sigtool'],
    description: 'Convert standard input to hexadecimal.',
  },
  {
    longopt: 'md5', type: 'bool', default: false, tools: ['sigtool'],
    description: 'Print MD5 hash signatures of the given files.',
  },
  {
    longopt: 'sha1', type: 'bool', default: false, tools: ['sigtool'],
    description: 'Print SHA1 hash signatures of the given files.',
  },
  {
    longopt: 'sha256', type: 'bool', default: false, tools: ['sigtool'],
    description: 'Print SHA256 hash signatures of the given files.',
  },
  {
    longopt: 'mdb', type: 'bool', default: false, tools: ['sigtool'],
    description: 'Print MDB section signatures of the given PE files.',
  },
  {
    longopt: 'imp', type: 'bool', default: false, tools: ['sigtool'],
    description: 'Print import table hash signatures of the given PE files.',
  },
  {
    longopt: 'fuzzy-img', type: 'bool', default: false, tools: ['sigtool'],
    description: 'Print fuzzy image hashes of the given files.',
  },
  {
    longopt: 'print-certs', type: 'string', tools: ['sigtool'],
    description: 'Print the Authenticode certificates of a PE file.',
  },
  {
    longopt: 'html-normalise', type: 'string', tools: ['sigtool'],
    description: 'Write the normalised forms of an HTML file.',
  },
  {
    longopt: 'ascii-normalise', type: 'string', tools: ['sigtool'],
    description: 'Write the normalised form of a text file.',
  },
  {
    longopt: 'utf16-decode', type: 'string', tools: ['sigtool'],
    description: 'Decode a UTF-16 file.',
  },
  {
    longopt: 'build', shortopt: 'b', type: 'string', tools: ['sigtool'],
    description: 'Build a CVD database file.',
  },
  {
    longopt: 'max-bad-sigs', type: 'number', default: 3000, tools: ['sigtool'],
    description: 'Allowed count of mismatched signatures when building a CVD (0: no limit).',
  },
  {
    longopt: 'flevel', type: 'number', default: FUNCTIONALITY_LEVEL, tools: ['sigtool'],
    description: 'Functionality level written into a built CVD.',
  },
  {
    longopt: 'cvd-version', type: 'number', default: 0, tools: ['sigtool'],
    description: 'Version number written into a built CVD.',
  },
  {
    longopt: 'unsigned', type: 'bool', default: false, tools: ['sigtool'],
    description: 'Build an unsigned database.',
  },
  {
    longopt: 'no-cdiff', type: 'bool', default: false, tools: ['sigtool'],
    description: 'Do not create a cdiff when building.',
  },
  {
    longopt: 'server', type: 'string', tools: ['sigtool'],
    description: 'Signing server to use.',
  },
  {
    longopt: 'unpack', shortopt: 'u', type: 'string', tools: ['sigtool'],
    description: 'Unpack a CVD or CLD file.',
  },
  {
    longopt: 'unpack-current', type: 'string', tools: ['sigtool'],
    description: 'Unpack the installed copy of a database.',
  },
  {
    longopt: 'info', shortopt: 'i', type: 'string', tools: ['sigtool'],
    description: 'Print information about a database file.',
  },
  {
    longopt: 'list-sigs', shortopt: 'l', type: 'string', default: DATADIR, tools: ['sigtool'],
    description: 'List the signature names of a database.',
  },
  {
    longopt: 'find-sigs', shortopt: 'f', type: 'string', default: DATADIR, tools: ['sigtool'],
    argRequired: true,
    description: 'Find signatures whose names match a regular expression.',
  },
  {
    longopt: 'decode-sigs', type: 'bool', default: false, tools: ['sigtool'],
    description: 'Decode signatures read from standard input.',
  },
  {
    longopt: 'test-sigs', type: 'string', tools: ['sigtool'],
    description: 'Test signatures against a file.',
  },
  {
    longopt: 'vba', type: 'string', tools: ['sigtool'],
    description: 'Extract VBA/Word6 macro code.',
  },
  {
    longopt: 'vba-hex', type: 'string', tools: ['sigtool'],
    description: 'Extract VBA/Word6 macro code as hexadecimal.',
  },
  {
    longopt: 'diff', shortopt: 'd', type: 'string', tools: ['sigtool'],
    description: 'Create a diff between two CVD files.',
  },
  {
    longopt: 'compare', shortopt: 'c', type: 'string', tools: ['sigtool'],
    description: 'Compare two files line by line.',
  },
  {
    longopt: 'run-cdiff', shortopt: 'r', type: 'string', tools: ['sigtool'],
    description: 'Apply a cdiff to the databases in the current directory.',
  },
  {
    longopt: 'verify-cdiff', type: 'string', tools: ['sigtool'],
    description: 'Check a cdiff against a CVD file.',
  },
  {
    longopt: 'hybrid', type: 'bool', default: false, tools: ['sigtool'],
    description: 'Build a database with both regular and bytecode signatures.',
  },
  {
    longopt: 'defaultcolors', shortopt: 'd', type: 'bool', default: false, tools: ['clamdtop'],
    description: "Use the terminal's default colours.",
  },
  {
    longopt: 'config-dir', shortopt: 'c', type: 'string', default: CONFDIR, tools: ['clamconf'],
    argRequired: true,
    description: 'Read the configuration files from this directory.',
  },
  {
    longopt: 'non-default', shortopt: 'n', type: 'bool', default: false, tools: ['clamconf'],
    description: 'Show only settings that differ from the defaults.',
  },
  {
    longopt: 'generate-config', shortopt: 'g', type: 'string', tools: ['clamconf'],
    description: 'Print a sample configuration file of this name.',
  },
  {
    longopt: 'force-interpreter', shortopt: 'f', type: 'bool', default: false, tools: ['clambc'],
    description: 'Run bytecode in the interpreter, never the JIT.',
  },
  {
    longopt: 'trust-bytecode', shortopt: 't', type: 'bool', default: true, tools: ['clambc'],
    description: 'Trust the loaded bytecode.',
  },
  {
    longopt: 'info', shortopt: 'i', type: 'bool', default: false, tools: ['clambc'],
    description: 'Print bytecode information without running it.',
  },
  {
    longopt: 'printsrc', shortopt: 'p', type: 'bool', default: false, tools: ['clambc'],
    description: 'Print the source of the bytecode.',
  },
  {
    longopt: 'printbcir', shortopt: 'c', type: 'bool', default: false, tools: ['clambc'],
    description: 'Print the intermediate representation of the bytecode.',
  },
  {
    longopt: 'input', shortopt: 'r', type: 'string', tools: ['clambc'],
    description: 'File to run the bytecode on.',
  },
  {
    longopt: 'trace', shortopt: 'T', type: 'number', default: 7, tools: ['clambc'],
    description: 'Bytecode trace level.',
  },
  {
    longopt: 'no-trace-showsource', shortopt: 's', type: 'bool', default: false, tools: ['clambc'],
    description: 'Leave out source lines while tracing.',
  },
  {
    longopt: 'archive-verbose', shortopt: 'a', type: 'bool', default: false, tools: ['clamscan'],
    description: 'Show the files found inside archives.',
  },
  {
    longopt: 'bytecode-trust-all', shortopt: 't', type: 'bool', default: false, tools: ['clamscan'],
    deprecated: true,
  },
  { longopt: 'http-proxy', type: 'string', tools: ['freshclam'], deprecated: true },
  { longopt: 'proxy-user', type: 'string', tools: ['freshclam'], deprecated: true },
  { longopt: 'log-verbose', type: 'bool', default: false, tools: ['freshclam'], deprecated: true },
  { longopt: 'force', type: 'bool', default: false, tools: ['clamscan'], deprecated: true },
  {
    longopt: 'disable-summary', type: 'bool', default: false, tools: ['clamscan', 'clamdscan'],
    deprecated: true,
  },
  {
    longopt: 'disable-archive', type: 'bool', default: false, tools: ['clamscan'], deprecated: true,
  },
  { longopt: 'no-archive', type: 'bool', default: false, tools: ['clamscan'], deprecated: true },
  { longopt: 'no-pe', type: 'bool', default: false, tools: ['clamscan'], deprecated: true },
  { longopt: 'no-elf', type: 'bool', default: false, tools: ['clamscan'], deprecated: true },
  { longopt: 'no-ole2', type: 'bool', default: false, tools: ['clamscan'], deprecated: true },
  { longopt: 'no-pdf', type: 'bool', default: false, tools: ['clamscan'], deprecated: true },
  { longopt: 'no-html', type: 'bool', default: false, tools: ['clamscan'], deprecated: true },
  { longopt: 'no-mail', type: 'bool', default: false, tools: ['clamscan'], deprecated: true },
  {
    longopt: 'no-phishing-sigs', type: 'bool', default: false, tools: ['clamscan'],
    deprecated: true,
  },
  {
    longopt: 'no-phishing-scan-urls', type: 'bool', default: false, tools: ['clamscan'],
    deprecated: true,
  },
  {
    longopt: 'no-algorithmic', type: 'bool', default: false, tools: ['clamscan'], deprecated: true,
  },
  {
    longopt: 'no-phishing-restrictedscan', type: 'bool', default: false, tools: ['clamscan'],
    deprecated: true,
  },
  { longopt: 'max-ratio', type: 'number', default: 0, tools: ['clamscan'], deprecated: true },
  { longopt: 'max-space', type: 'size', default: 0, tools: ['clamscan'], deprecated: true },
  { longopt: 'unzip', type: 'string', default: 'foo', tools: ['clamscan'], deprecated: true },
  { longopt: 'unrar', type: 'string', default: 'foo', tools: ['clamscan'], deprecated: true },
  { longopt: 'arj', type: 'string', default: 'foo', tools: ['clamscan'], deprecated: true },
  { longopt: 'unzoo', type: 'string', default: 'foo', tools: ['clamscan'], deprecated: true },
  { longopt: 'lha', type: 'string', default: 'foo', tools: ['clamscan'], deprecated: true },
  { longopt: 'jar', type: 'string', default: 'foo', tools: ['clamscan'], deprecated: true },
  { longopt: 'tar', type: 'string', default: 'foo', tools: ['clamscan'], deprecated: true },
  { longopt: 'tgz', type: 'string', default: 'foo', tools: ['clamscan'], deprecated: true },
  { longopt: 'deb', type: 'string', default: 'foo', tools: ['clamscan'], deprecated: true },
  {
    longopt: 'watch-list', shortopt: 'W', type: 'string', tools: ['clamonacc'],
    description: 'Watch the paths listed in this file.',
  },
  {
    longopt: 'exclude-list', shortopt: 'e', type: 'string', tools: ['clamonacc'],
    description: 'Leave out the paths listed in this file.',
  },
]);
