import { CLAMAV_USER, CLAMD_CONF } from '../paths.js';
import { defineOptions } from '../types.js';

/**
 * freshclam.conf settings.
 */
export const FRESHCLAM_OPTIONS = defineOptions([
  {
    name: 'UpdateLogFile', longopt: 'log', shortopt: 'l', type: 'string', tools: ['freshclam'],
    examples: ['/var/log/freshclam.log'],
    description: 'Write the update log to this file.',
  },
  {
    name: 'DatabaseOwner', longopt: 'user', shortopt: 'u', type: 'string', default: CLAMAV_USER,
    tools: ['freshclam'], argRequired: true, examples: [CLAMAV_USER],
    description: 'User freshclam switches to when started as root.',
  },
  {
    name: 'Checks', longopt: 'checks', shortopt: 'c', type: 'number', default: 12,
    tools: ['freshclam'], examples: ['24'],
    description: 'How many times a day to check for updates.',
  },
  {
    name: 'DNSDatabaseInfo', type: 'string', default: 'current.cvd.clamav.net',
    tools: ['freshclam'], argRequired: true, examples: ['current.cvd.clamav.net'],
    description:
      'Domain whose DNS TXT record announces the current database and\n' +
      'software versions. Change it only when running your own.',
  },
  {
    name: 'DatabaseMirror', type: 'string', tools: ['freshclam'], repeatable: true,
    examples: ['database.clamav.net'],
    description: 'Mirror to download from. May be repeated.',
  },
  {
    name: 'PrivateMirror', type: 'string', tools: ['freshclam'], repeatable: true,
    examples: ['mirror1.mynetwork.com', 'mirror2.mynetwork.com'],
    description:
      'Download from this private mirror. No DNS check is made: the\n' +
      'freshness of each database is judged from the server (CLD first,\n' +
      'then CVD). Overrides DatabaseMirror, DNSDatabaseInfo and\n' +
      'ScriptedUpdates. May be repeated for fallbacks.',
  },
  {
    name: 'MaxAttempts', type: 'number', default: 3, tools: ['freshclam'], examples: ['5'],
    description: 'How many times to try a download before giving up.',
  },
  {
    name: 'ScriptedUpdates', type: 'bool', default: true, tools: ['freshclam'], examples: ['yes'],
    description: 'Update with incremental (cdiff) patches.',
  },
  {
    name: 'TestDatabases', type: 'bool', default: true, tools: ['freshclam'], examples: ['yes'],
    description:
      'Load new databases in a test engine before replacing the old ones.\n' +
      'This needs a lot of memory; turn it off on small systems.',
  },
  {
    name: 'CompressLocalDatabase', type: 'bool', default: false, tools: ['freshclam'],
    examples: [''],
    description:
      'Keep the local databases (.cld) compressed. They are kept\n' +
      'uncompressed by default, which is faster to load.',
  },
  {
    name: 'ExtraDatabase', type: 'string', tools: ['freshclam'], repeatable: true,
    examples: ['dbname1', 'dbname2'],
    description: 'Also download this optional database. May be repeated.',
  },
  {
    name: 'ExcludeDatabase', type: 'string', tools: ['freshclam'], repeatable: true,
    examples: ['dbname1', 'dbname2'],
    description: 'Do not download this standard database. May be repeated.',
  },
  {
    name: 'DatabaseCustomURL', type: 'string', tools: ['freshclam'], repeatable: true,
    examples: ['http://myserver.com/mysigs.ndb', 'file:///mnt/nfs/local.hdb'],
    description:
      'Also download a database from this URL (http:// or file://).\n' +
      'May be repeated.',
  },
  {
    name: 'HTTPProxyServer', type: 'string', tools: ['freshclam'], examples: ['your-proxy'],
    description: 'HTTP proxy to use.',
  },
  {
    name: 'HTTPProxyPort', type: 'number', tools: ['freshclam'], examples: ['8080'],
    description: 'Port of the HTTP proxy.',
  },
  {
    name: 'HTTPProxyUsername', type: 'string', tools: ['freshclam'], examples: ['username'],
    description: 'User name for the HTTP proxy.',
  },
  {
    name: 'HTTPProxyPassword', type: 'string', tools: ['freshclam'], examples: ['pass'],
    description: 'Password for the HTTP proxy.',
  },
  {
    name: 'HTTPUserAgent', type: 'string', tools: ['freshclam'], examples: ['default'],
    description: 'User-Agent header to send instead of the default.',
  },
  {
    name: 'NotifyClamd', longopt: 'daemon-notify', type: 'string', default: CLAMD_CONF,
    tools: ['freshclam'], examples: ['yes'],
    description: 'After an update, send RELOAD to the clamd configured in this file.',
  },
  {
    name: 'OnUpdateExecute', longopt: 'on-update-execute', type: 'string', tools: ['freshclam'],
    examples: ['command'],
    description:
      'Command to run after a successful update (EXIT_1 makes freshclam\n' +
      'exit with 1 after an update).',
  },
  {
    name: 'OnErrorExecute', longopt: 'on-error-execute', type: 'string', tools: ['freshclam'],
    examples: ['command'],
    description: 'Command to run when an update fails.',
  },
  {
    name: 'OnOutdatedExecute', longopt: 'on-outdated-execute', type: 'string', tools: ['freshclam'],
    examples: ['command'],
    description:
      'Command to run when a newer ClamAV version is announced; %v is\n' +
      'replaced by the new version.',
  },
  {
    name: 'LocalIPAddress', longopt: 'local-address', shortopt: 'a', type: 'string',
    tools: ['freshclam'], examples: ['aaa.bbb.ccc.ddd'],
    description: 'Local address to download from (for hosts with several).',
  },
  {
    name: 'ConnectTimeout', type: 'number', default: 30, tools: ['freshclam'], examples: ['30'],
    description: 'Seconds allowed for connecting to the database server.',
  },
  {
    name: 'ReceiveTimeout', type: 'number', default: 60, tools: ['freshclam'], examples: ['60'],
    description: 'Seconds allowed for receiving data from the server; 0 means no limit.',
  },
  {
    name: 'Bytecode', type: 'bool', default: true, tools: ['freshclam'], examples: ['yes'],
    description: 'Download bytecode.cvd, which holds bytecode detections.',
  },
]);
