import { defineOptions } from '../types.js';

/**
 * clamonacc settings, which live in clamd.conf.
 */
export const ON_ACCESS_OPTIONS = defineOptions([
  {
    name: 'OnAccessMountPath', type: 'string', tools: ['clamd'], repeatable: true,
    examples: ['/', '/home/user'],
    description:
      'Watch this mount point (or the one containing this directory) for\n' +
      'file access; only notification is possible. Setting it turns off\n' +
      'the dynamic directory determination (DDD). May be repeated.',
  },
  {
    name: 'OnAccessIncludePath', type: 'string', tools: ['clamd'], repeatable: true,
    examples: ['/home', '/students'],
    description:
      'Scan files in this directory tree when they are accessed.\n' +
      'May be repeated.',
  },
  {
    name: 'OnAccessExcludePath', type: 'string', tools: ['clamd'], repeatable: true,
    examples: ['/home/bofh', '/root'],
    description:
      'Leave this directory tree out of on-access scanning (DDD only).\n' +
      'May be repeated.',
  },
  {
    name: 'OnAccessExcludeRootUID', type: 'bool', tools: ['clamd'], examples: ['no'],
    description: 'Let processes running as root access watched files without a scan.',
  },
  {
    name: 'OnAccessExcludeUID', type: 'number', tools: ['clamd'], repeatable: true, examples: ['0'],
    description:
      'Let processes with this UID access watched files without a scan.\n' +
      'May be repeated; a value of 0 anywhere turns the option off (use\n' +
      'OnAccessExcludeRootUID for root).',
  },
  {
    name: 'OnAccessExcludeUname', type: 'string', tools: ['clamd'], repeatable: true,
    examples: ['clamuser'],
    description:
      'Let processes of this user name access watched files without a scan.\n' +
      'May be repeated.',
  },
  {
    name: 'OnAccessMaxFileSize', type: 'size', default: 5242880, tools: ['clamd'], examples: ['5M'],
    description: 'Files larger than this are not scanned on access.',
  },
  {
    name: 'OnAccessDisableDDD', type: 'bool', default: false, tools: ['clamd'], examples: ['no'],
    description: 'Turn off the dynamic directory determination (Linux only).',
  },
  {
    name: 'OnAccessPrevention', type: 'bool', default: false, tools: ['clamd'], examples: ['yes'],
    description:
      'Block access to infected files instead of only reporting them\n' +
      '(fanotify).',
  },
  {
    name: 'OnAccessExtraScanning', type: 'bool', default: false, tools: ['clamd'],
    examples: ['yes'],
    description: 'Scan again and notify after some inotify events (DDD only).',
  },
  {
    name: 'OnAccessCurlTimeout', type: 'number', default: 5000, tools: ['clamd'],
    examples: ['10000L'],
    description:
      'Milliseconds clamonacc allows each connect, send and receive with\n' +
      'clamd.',
  },
  {
    name: 'OnAccessMaxThreads', type: 'number', default: 5, tools: ['clamd'], examples: ['10'],
    description:
      'Threads clamonacc uses to pass files to clamd; keep it below\n' +
      "clamd's MaxThreads.",
  },
  {
    name: 'OnAccessRetryAttempts', type: 'number', default: 0, tools: ['clamd'], examples: ['3'],
    description: 'How many times clamonacc retries a scan that failed.',
  },
  {
    name: 'OnAccessDenyOnError', type: 'bool', default: false, tools: ['clamd'], examples: ['yes'],
    description: 'With OnAccessPrevention, deny access when the scan fails.',
  },
]);
