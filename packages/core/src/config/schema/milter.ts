import { defineOptions } from '../types.js';

/**
 * clamav-milter.conf settings, followed by the clamd-era names clamav-milter now ignores.
 */
export const MILTER_OPTIONS = defineOptions([
  {
    name: 'ClamdSocket', type: 'string', tools: ['milter'], repeatable: true,
    examples: ['tcp:scanner.mydomain:7357'],
    description:
      'clamd socket to scan with, as unix:/absolute/path or\n' +
      'tcp:host[:port] (the port defaults to 3310 and is needed for IPv6\n' +
      'addresses). Required. May be repeated; the sockets are used in turn.',
  },
  {
    name: 'MilterSocket', type: 'string', tools: ['milter'],
    examples: ['/tmp/clamav-milter.sock', 'inet:7357'],
    description:
      'Socket the MTA talks to us on. Required. Forms:\n' +
      '  [unix:|local:]/path          - Unix socket\n' +
      '  inet:port@[host|address]     - IPv4\n' +
      '  inet6:port@[host|address]    - IPv6',
  },
  {
    name: 'MilterSocketGroup', type: 'string', tools: ['milter'], examples: ['virusgroup'],
    description: 'Group to give the (Unix) milter socket.',
  },
  {
    name: 'MilterSocketMode', type: 'string', tools: ['milter'], examples: ['660'],
    description: 'Permissions (octal) to give the (Unix) milter socket.',
  },
  {
    name: 'LocalNet', type: 'string', tools: ['milter'], repeatable: true,
    examples: ['local', '192.168.0.0/24', '1111:2222:3333::/48'],
    description:
      'Do not scan mail from this host or network (host[/mask]; the\n' +
      'word "local" means locally sent, non-SMTP mail). May be repeated.',
  },
  {
    name: 'OnClean', type: 'string', default: 'Accept', tools: ['milter'],
    choices: ['Accept', 'Reject', 'Defer', 'Blackhole', 'Quarantine'], examples: ['Accept'],
    description:
      'What to do with clean messages:\n' +
      '  Accept     - deliver\n' +
      '  Reject     - refuse with a 5xx error\n' +
      '  Defer      - refuse with a temporary 4xx error\n' +
      '  Blackhole  - accept and throw away\n' +
      '  Quarantine - accept and quarantine',
  },
  {
    name: 'OnInfected', type: 'string', default: 'Quarantine', tools: ['milter'],
    choices: ['Accept', 'Reject', 'Defer', 'Blackhole', 'Quarantine'], examples: ['Quarantine'],
    description: 'What to do with infected messages (same actions as OnClean).',
  },
  {
    name: 'OnFail', type: 'string', default: 'Defer', tools: ['milter'],
    choices: ['Accept', 'Reject', 'Defer'], examples: ['Defer'],
    description:
      'What to do when scanning fails (no scanner, timeout, bad reply):\n' +
      'Accept, Reject or Defer.',
  },
  {
    name: 'RejectMsg', type: 'string', tools: ['milter'], examples: ['MTA specific'],
    description:
      'Rejection text for infected mail (with OnInfected Reject); %v is\n' +
      'replaced by the signature name.',
  },
  {
    name: 'AddHeader', type: 'string', default: 'no', tools: ['milter'],
    choices: ['No', 'Replace', 'Yes', 'Add'], examples: ['Replace'],
    description:
      'Add X-Virus-Scanned and X-Virus-Status headers: Replace (or Yes)\n' +
      'replaces existing ones, Add adds on top of them, No adds none.',
  },
  {
    name: 'ReportHostname', type: 'string', tools: ['milter'], examples: ['my.mail.server.name'],
    description: 'Host name to put in the added headers instead of the real one.',
  },
  {
    name: 'VirusAction', type: 'string', tools: ['milter'],
    examples: ['/usr/local/bin/my_infected_message_handler'],
    description:
      'Program to run for each infected message. It gets the signature\n' +
      'name, queue id, sender, recipient, subject, message id and date as\n' +
      'arguments (MTA macros needed) and is waited for.',
  },
  {
    name: 'Chroot', type: 'string', tools: ['milter'], examples: ['/newroot'],
    description:
      'Directory to chroot into after reading the configuration and\n' +
      'before dropping privileges.',
  },
  {
    name: 'AllowList', type: 'string', tools: ['milter'], examples: ['/etc/allowed_addresses'],
    description:
      'File of basic POSIX regular expressions; mail to (or, with a From:\n' +
      'prefix, from) matching addresses is not scanned. Lines starting\n' +
      'with #, : or ! are ignored.',
  },
  {
    name: 'Whitelist', type: 'string', tools: ['milter'], examples: ['/etc/allowed_addresses'],
    description: 'Old name of AllowList.',
  },
  {
    name: 'SkipAuthenticated', type: 'string', tools: ['milter'],
    examples: ['SkipAuthenticated ^(tom|dick|henry)$'],
    description:
      'Do not scan mail from SMTP AUTH users matching this extended\n' +
      'regular expression (or listed in the file named after "file:").',
  },
  {
    name: 'LogInfected', type: 'string', tools: ['milter'], examples: ['Basic'],
    description:
      'How much to log about infected messages: Off, Basic or Full\n' +
      '(needs the msg_id, mail_addr, rcpt_addr and i macros in sendmail).',
  },
  {
    name: 'LogClean', type: 'string', tools: ['milter'], examples: ['Basic'],
    description: 'How much to log about clean messages: Off, Basic or Full.',
  },
  {
    name: 'SupportMultipleRecipients', type: 'bool', default: false, tools: ['milter'],
    examples: ['yes'],
    description:
      'Log, and run VirusAction, once per recipient instead of once per\n' +
      'message.',
  },
  { name: 'ArchiveBlockEncrypted', type: 'bool', tools: ['milter'], deprecated: true },
  { name: 'DatabaseDirectory', type: 'string', tools: ['milter'], deprecated: true },
  { name: 'Debug', type: 'bool', tools: ['milter'], deprecated: true },
  { name: 'DetectBrokenExecutables', type: 'bool', tools: ['milter'], deprecated: true },
  { name: 'LeaveTemporaryFiles', type: 'bool', tools: ['milter'], deprecated: true },
  { name: 'LocalSocket', type: 'string', tools: ['milter'], deprecated: true },
  { name: 'MailFollowURLs', type: 'bool', tools: ['milter'], deprecated: true },
  { name: 'MaxScanSize', type: 'size', tools: ['milter'], deprecated: true },
  { name: 'MaxFiles', type: 'number', tools: ['milter'], deprecated: true },
  { name: 'MaxRecursion', type: 'number', tools: ['milter'], deprecated: true },
  { name: 'PhishingSignatures', type: 'bool', tools: ['milter'], deprecated: true },
  { name: 'ScanArchive', type: 'bool', tools: ['milter'], deprecated: true },
  { name: 'ScanHTML', type: 'bool', tools: ['milter'], deprecated: true },
  { name: 'ScanMail', type: 'bool', tools: ['milter'], deprecated: true },
  { name: 'ScanOLE2', type: 'bool', tools: ['milter'], deprecated: true },
  { name: 'ScanPE', type: 'bool', tools: ['milter'], deprecated: true },
  { name: 'StreamMaxLength', type: 'size', tools: ['milter'], deprecated: true },
  { name: 'TCPAddr', type: 'string', tools: ['milter'], deprecated: true },
  { name: 'TCPSocket', type: 'number', tools: ['milter'], deprecated: true },
  { name: 'TemporaryDirectory', type: 'string', tools: ['milter'], deprecated: true },
]);
