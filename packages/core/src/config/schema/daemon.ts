import { DATADIR } from '../paths.js';
import { defineOptions } from '../types.js';

/**
 * Logging, sockets, threads and process settings of clamd (several shared with freshclam,
 * clamav-milter and clamscan).
 */
export const DAEMON_OPTIONS = defineOptions([
  {
    name: 'AlertExceedsMax', longopt: 'alert-exceeds-max', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: [''],
    description:
      'Report files that go over a scan limit as\n' +
      'Heuristics.Limits.Exceeded instead of passing them as clean.',
  },
  {
    name: 'CacheSize', longopt: 'cache-size', type: 'number', default: 65536,
    tools: ['clamd', 'clamscan'], examples: ['65536'],
    description: 'How many clean-file results the scan cache can hold.',
  },
  {
    name: 'PreludeEnable', longopt: 'prelude-enable', type: 'bool', default: false,
    tools: ['clamd'], examples: [''],
    description: 'Send alerts to a Prelude manager.',
  },
  {
    name: 'PreludeAnalyzerName', longopt: 'prelude-analyzer-name', type: 'string', tools: ['clamd'],
    examples: [''],
    description: 'Analyzer name reported to Prelude (shown in prewikka).',
  },
  {
    name: 'LogFile', longopt: 'log', shortopt: 'l', type: 'string',
    tools: ['clamd', 'milter', 'clamscan', 'clamdscan', 'clamonacc'], examples: ['/tmp/clamav.log'],
    description: 'Write the log to this file.',
  },
  {
    name: 'LogFileUnlock', type: 'bool', default: false, tools: ['clamd', 'milter'],
    examples: ['yes'],
    description:
      'Do not lock the log file. Without this, only one daemon\n' +
      'process at a time can write to it.',
  },
  {
    name: 'LogFileMaxSize', type: 'size', default: 1048576, tools: ['clamd', 'freshclam', 'milter'],
    examples: ['5M'],
    description: 'Largest size the log file may reach; 0 means no limit.',
  },
  {
    name: 'LogTime', type: 'bool', default: false, tools: ['clamd', 'freshclam', 'milter'],
    examples: ['yes'],
    description: 'Put a timestamp on every log line.',
  },
  {
    name: 'LogClean', type: 'bool', default: false, tools: ['clamd'], examples: ['yes'],
    description: 'Log clean files too (handy for debugging, makes the log much larger).',
  },
  {
    name: 'LogSyslog', type: 'bool', default: false, tools: ['clamd', 'freshclam', 'milter'],
    examples: ['yes'],
    description: 'Send log messages to syslog as well (works together with LogFile).',
  },
  {
    name: 'LogFacility', type: 'string', default: 'LOG_LOCAL6',
    tools: ['clamd', 'freshclam', 'milter'], argRequired: true, examples: ['LOG_MAIL'],
    description: "Syslog facility to log under (see 'man syslog' for the names).",
  },
  {
    name: 'LogVerbose', type: 'bool', default: false, tools: ['clamd', 'freshclam', 'milter'],
    examples: ['yes'],
    description: 'Log more detail.',
  },
  {
    name: 'LogRotate', longopt: 'log-rotate', type: 'bool', default: false,
    tools: ['clamd', 'freshclam', 'milter'], examples: ['yes'],
    description:
      'Rotate the log file when it reaches LogFileMaxSize\n' +
      '(which has to be set before this option).',
  },
  {
    name: 'ExtendedDetectionInfo', type: 'bool', default: false, tools: ['clamd'],
    examples: ['yes'],
    description:
      'Log the size and hash of each infected file next to the\n' +
      'signature name.',
  },
  {
    name: 'PidFile', longopt: 'pid', shortopt: 'p', type: 'string',
    tools: ['clamd', 'freshclam', 'milter'], examples: ['/run/clamav/clam.pid'],
    description: 'Write the process ID to this file.',
  },
  {
    name: 'TemporaryDirectory', longopt: 'tempdir', type: 'string',
    tools: ['clamd', 'milter', 'clamscan', 'sigtool'], examples: ['/tmp'],
    description: 'Directory for temporary files (the system default otherwise).',
  },
  {
    name: 'DatabaseDirectory', longopt: 'datadir', type: 'string', default: DATADIR,
    tools: ['clamd', 'freshclam', 'sigtool'], examples: ['/var/lib/clamav'],
    description:
      'Directory holding the signature databases. clamd and freshclam\n' +
      'should use the same one.',
  },
  {
    name: 'OfficialDatabaseOnly', longopt: 'official-db-only', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description:
      'Load only the official databases published by ClamAV and skip\n' +
      'third-party ones.',
  },
  {
    name: 'FailIfCvdOlderThan', longopt: 'fail-if-cvd-older-than', type: 'number',
    tools: ['clamd', 'clamscan'], examples: ['-1'],
    description:
      'Fail to start (non-zero exit) when the databases are older than\n' +
      'this many days.',
  },
  {
    name: 'YaraRules', longopt: 'yara-rules', type: 'string', tools: ['clamscan'],
    description: 'Whether YARA rules are used: yes, no, or only.',
  },
  {
    name: 'LocalSocket', type: 'string', tools: ['clamd'], examples: ['/run/clamav/clamd.sock'],
    description: 'Unix socket path clamd listens on.',
  },
  {
    name: 'LocalSocketGroup', type: 'string', tools: ['clamd'], examples: ['virusgroup'],
    description: 'Group to give the Unix socket.',
  },
  {
    name: 'LocalSocketMode', type: 'string', tools: ['clamd'], examples: ['660'],
    description: 'Permissions (octal) to give the Unix socket.',
  },
  {
    name: 'FixStaleSocket', type: 'bool', default: true, tools: ['clamd', 'milter'],
    examples: ['yes'],
    description: 'Remove a socket left behind by an unclean shutdown.',
  },
  {
    name: 'TCPSocket', type: 'number', tools: ['clamd'], examples: ['3310'],
    description: 'TCP port clamd listens on.',
  },
  {
    name: 'TCPAddr', type: 'string', tools: ['clamd'], repeatable: true, examples: ['localhost'],
    description:
      'Address to bind the TCP socket to (all interfaces when unset).\n' +
      'May be given more than once.',
  },
  {
    name: 'MaxConnectionQueueLength', type: 'number', default: 200, tools: ['clamd'],
    examples: ['30'],
    description: 'Longest backlog of connections waiting to be accepted.',
  },
  {
    name: 'StreamMaxLength', type: 'size', default: 104857600, tools: ['clamd'], examples: ['100M'],
    description:
      'Largest amount of data accepted in one stream (INSTREAM/STREAM);\n' +
      'the connection is closed when it goes over. Keep it in line with\n' +
      'the largest attachment your MTA accepts.',
  },
  {
    name: 'StreamMinPort', type: 'number', default: 1024, tools: ['clamd'], examples: ['1024'],
    description: 'Lowest port used for the data connection of the STREAM command.',
  },
  {
    name: 'StreamMaxPort', type: 'number', default: 2048, tools: ['clamd'], examples: ['2048'],
    description: 'Highest port used for the data connection of the STREAM command.',
  },
  {
    name: 'MaxThreads', type: 'number', default: 10, tools: ['clamd', 'milter'], examples: ['20'],
    description: 'Most threads working at the same time.',
  },
  {
    name: 'ReadTimeout', type: 'number', default: 120, tools: ['clamd'], examples: ['120'],
    description: 'Seconds to wait for data from a client before giving up.',
  },
  {
    name: 'CommandReadTimeout', type: 'number', default: 30, tools: ['clamd'], examples: ['30'],
    description: 'Seconds to wait for the first command after a client connects.',
  },
  {
    name: 'SendBufTimeout', type: 'number', default: 500, tools: ['clamd'], examples: ['200'],
    description:
      'Milliseconds to wait when the send buffer is full; keep it small\n' +
      'so a slow client cannot stall clamd.',
  },
  {
    name: 'ReadTimeout', type: 'number', default: 120, tools: ['milter'], examples: ['300'],
    description: 'Seconds to wait for an answer from clamd.',
  },
  {
    name: 'MaxQueue', type: 'number', default: 100, tools: ['clamd'], examples: ['200'],
    description:
      'Most jobs queued, counting those being worked on. Make it at\n' +
      'least twice MaxThreads, but mind the file descriptor limit:\n' +
      'MaxThreads*MaxRecursion + MaxQueue - MaxThreads + 6 must stay\n' +
      'below RLIMIT_NOFILE (often 1024).',
  },
  {
    name: 'IdleTimeout', type: 'number', default: 30, tools: ['clamd'], examples: ['60'],
    description: 'Seconds an idle worker thread waits for a job before it exits.',
  },
  {
    name: 'ExcludePath', type: 'string', tools: ['clamd'], repeatable: true,
    examples: ['^/proc/', '^/sys/'],
    description:
      'Do not scan paths that match this regular expression.\n' +
      'May be given more than once.',
  },
  {
    name: 'MaxDirectoryRecursion', longopt: 'max-dir-recursion', type: 'number', default: 15,
    tools: ['clamd', 'clamscan'], examples: ['15'],
    description: 'How many directory levels deep a scan goes.',
  },
  {
    name: 'FollowDirectorySymlinks', type: 'bool', default: false, tools: ['clamd'],
    examples: ['no'],
    description: 'Follow symbolic links to directories.',
  },
  {
    name: 'FollowFileSymlinks', type: 'bool', default: false, tools: ['clamd'], examples: ['no'],
    description: 'Follow symbolic links to regular files.',
  },
  {
    name: 'CrossFilesystems', longopt: 'cross-fs', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description: 'Scan into other mounted filesystems.',
  },
  {
    name: 'SelfCheck', type: 'number', default: 600, tools: ['clamd'], examples: ['600'],
    description: 'Seconds between checks of the databases for changes.',
  },
  {
    name: 'ConcurrentDatabaseReload', type: 'bool', default: true, tools: ['clamd'],
    examples: ['yes'],
    description:
      'Load new databases next to the running engine so scanning goes on\n' +
      'during a reload. This needs memory for two engines; turn it off to\n' +
      'block scans while reloading instead.',
  },
  {
    name: 'DisableCache', longopt: 'disable-cache', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Turn off the cache of clean-file results.',
  },
  {
    name: 'VirusEvent', type: 'string', tools: ['clamd'],
    examples: ['/opt/send_virus_alert_sms.sh'],
    description:
      'Command to run when something is found. The file and signature\n' +
      'names are in $CLAM_VIRUSEVENT_FILENAME and $CLAM_VIRUSEVENT_VIRUSNAME;\n' +
      '%v in the command is replaced by the signature name (%f is not\n' +
      'supported). Read these values in a script rather than putting them\n' +
      'on the command line, where they could inject commands.',
  },
  {
    name: 'ExitOnOOM', type: 'bool', default: false, tools: ['clamd'], examples: ['yes'],
    description: 'Stop the daemon when libclamav runs out of memory.',
  },
  {
    name: 'AllowAllMatchScan', type: 'bool', default: true, tools: ['clamd'], examples: ['yes'],
    description: 'Accept the ALLMATCHSCAN command.',
  },
  {
    name: 'Foreground', longopt: 'foreground', shortopt: 'F', type: 'bool', default: false,
    tools: ['clamd', 'freshclam', 'milter', 'clamonacc'], examples: ['no'],
    description: 'Stay in the foreground instead of becoming a daemon.',
  },
  {
    name: 'Debug', type: 'bool', default: false, tools: ['clamd', 'freshclam'], examples: ['no'],
    description: 'Turn on libclamav debug output.',
  },
  {
    name: 'LeaveTemporaryFiles', type: 'bool', default: false, tools: ['clamd'], examples: ['no'],
    description: 'Keep temporary files (for debugging).',
  },
  {
    name: 'GenerateMetadataJson', type: 'bool', default: false, tools: ['clamd'], examples: ['no'],
    description:
      'Record metadata about each scan as JSON. It is printed when Debug\n' +
      'is on and saved as metadata.json in the scan temporary directory\n' +
      'when LeaveTemporaryFiles is on.',
  },
  {
    name: 'User', type: 'string', tools: ['clamd', 'milter'], examples: ['clamav'],
    description: 'Switch to this user after starting (requires starting as root).',
  },
]);
