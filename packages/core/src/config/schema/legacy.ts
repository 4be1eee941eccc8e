import { defineOptions } from '../types.js';

/**
 * Old option names. The deprecated ones are accepted with a warning and ignored; the others
 * (AlgorithmicDetection, BlockMax…) are still ordinary options that ClamAV keeps for old configs.
 */
export const LEGACY_OPTIONS = defineOptions([
  {
    name: 'SafeBrowsing', type: 'bool', default: false, tools: ['freshclam'], deprecated: true,
    description: 'No longer used (Safe Browsing databases are not published).',
  },
  {
    name: 'TimeLimit', longopt: 'timelimit', type: 'number', default: 0, tools: ['clamscan'],
    deprecated: true,
    description: 'Old name of the scan time limit, in milliseconds.',
  },
  {
    name: 'DetectBrokenExecutables', longopt: 'detect-broken', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], deprecated: true,
    description: 'Old name of AlertBrokenExecutables.',
  },
  {
    name: 'AlgorithmicDetection', longopt: 'algorithmic-detection', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Old name of HeuristicAlerts.',
  },
  {
    name: 'BlockMax', longopt: 'block-max', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: [''],
    description: 'Old name of AlertExceedsMax.',
  },
  {
    name: 'PhishingAlwaysBlockSSLMismatch', longopt: 'phishing-ssl', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Old name of AlertPhishingSSLMismatch.',
  },
  {
    name: 'PhishingAlwaysBlockCloak', longopt: 'phishing-cloak', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Old name of AlertPhishingCloak.',
  },
  {
    name: 'PartitionIntersection', longopt: 'partition-intersection', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Old name of AlertPartitionIntersection.',
  },
  {
    name: 'OLE2BlockMacros', longopt: 'block-macros', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Old name of AlertOLE2Macros.',
  },
  {
    name: 'ArchiveBlockEncrypted', longopt: 'block-encrypted', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Old name of AlertEncrypted.',
  },
  { name: 'MailMaxRecursion', type: 'number', tools: ['clamd'], deprecated: true },
  { name: 'ArchiveMaxScanSize', type: 'size', tools: ['clamd'], deprecated: true },
  { name: 'ArchiveMaxRecursion', type: 'number', tools: ['clamd'], deprecated: true },
  { name: 'ArchiveMaxFiles', type: 'number', tools: ['clamd'], deprecated: true },
  { name: 'ArchiveMaxCompressionRatio', type: 'number', tools: ['clamd'], deprecated: true },
  { name: 'ArchiveBlockMax', type: 'bool', tools: ['clamd'], deprecated: true },
  { name: 'ArchiveLimitMemoryUsage', type: 'bool', tools: ['clamd'], deprecated: true },
  {
    name: 'MailFollowURLs', longopt: 'mail-follow-urls', type: 'bool', tools: ['clamd', 'clamscan'],
    deprecated: true,
  },
  {
    name: 'AllowSupplementaryGroups', type: 'bool', default: false,
    tools: ['clamd', 'freshclam', 'milter'], deprecated: true,
    description: 'No longer used: supplementary groups are always initialised.',
  },
  { name: 'ScanOnAccess', type: 'bool', tools: ['clamd'], deprecated: true },
]);
