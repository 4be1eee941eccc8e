import { DEFAULT_LIMITS, type ScanLimits } from '@clamts/core';
import type { ClamdSettings } from './settings.js';

/** The options behind the engine's main limits; unset, the engine's own defaults apply. */
const LIMIT_OPTIONS: ReadonlyArray<[keyof ScanLimits, string]> = [
  ['maxScanTime', 'MaxScanTime'],
  ['maxScanSize', 'MaxScanSize'],
  ['maxFileSize', 'MaxFileSize'],
  ['maxRecursion', 'MaxRecursion'],
  ['maxFiles', 'MaxFiles'],
  ['maxHtmlNormalize', 'MaxHTMLNormalize'],
  ['maxHtmlNoTags', 'MaxHTMLNoTags'],
  ['maxScriptNormalize', 'MaxScriptNormalize'],
  ['maxEmbeddedPe', 'MaxEmbeddedPE'],
  ['maxIconsPe', 'MaxIconsPE'],
];

/** The limits scans run with: clamd sets the engine's only for the options clamd.conf sets. */
export function engineLimits(settings: ClamdSettings): ScanLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [field, option] of LIMIT_OPTIONS) {
    if (settings.isSet(option)) limits[field] = settings.number(option);
  }
  return limits;
}

/**
 * The lines clamd logs when it starts serving: the scan limits in force and which file types and
 * heuristics are on, worded as ClamAV words them so log watchers keep working.
 */
export function startupReport(settings: ClamdSettings, coreDumpLimit: string | undefined): Array<['info' | 'warning' | 'debug', string]> {
  const lines: Array<['info' | 'warning' | 'debug', string]> = [];
  const limits = engineLimits(settings);
  const limit = (value: number, set: string, disabled: string) => {
    lines.push(value > 0 ? ['info', set.replace('%s', String(value))] : ['warning', disabled]);
  };
  limit(limits.maxScanTime, 'Limits: Global time limit set to %s milliseconds.', 'Limits: Global time limit protection disabled.');
  limit(limits.maxScanSize, 'Limits: Global size limit set to %s bytes.', 'Limits: Global size limit protection disabled.');
  limit(limits.maxFileSize, 'Limits: File size limit set to %s bytes.', 'Limits: File size limit protection disabled.');
  limit(limits.maxRecursion, 'Limits: Recursion level limit set to %s.', 'Limits: Recursion level limit protection disabled.');
  limit(limits.maxFiles, 'Limits: Files limit set to %s.', 'Limits: Files limit protection disabled.');
  if (coreDumpLimit !== undefined) lines.push(['debug', `Limits: Core-dump limit is ${coreDumpLimit}.`]);
  const plain: Array<[string, string]> = [
    ['MaxEmbeddedPE', 'Limits: MaxEmbeddedPE limit set to %s bytes.'],
    ['MaxHTMLNormalize', 'Limits: MaxHTMLNormalize limit set to %s bytes.'],
    ['MaxHTMLNoTags', 'Limits: MaxHTMLNoTags limit set to %s bytes.'],
    ['MaxScriptNormalize', 'Limits: MaxScriptNormalize limit set to %s bytes.'],
    ['MaxZipTypeRcg', 'Limits: MaxZipTypeRcg limit set to %s bytes.'],
    ['MaxPartitions', 'Limits: MaxPartitions limit set to %s.'],
    ['MaxIconsPE', 'Limits: MaxIconsPE limit set to %s.'],
    ['MaxRecHWP3', 'Limits: MaxRecHWP3 limit set to %s.'],
    ['PCREMatchLimit', 'Limits: PCREMatchLimit limit set to %s.'],
    ['PCRERecMatchLimit', 'Limits: PCRERecMatchLimit limit set to %s.'],
    ['PCREMaxFileSize', 'Limits: PCREMaxFileSize limit set to %s.'],
  ];
  for (const [option, text] of plain) lines.push(['info', text.replace('%s', String(settings.number(option)))]);

  const archives = settings.bool('ScanArchive');
  const toggle = (option: string, on: string, off?: string) => {
    if (settings.bool(option)) lines.push(['info', on]);
    else if (off) lines.push(['info', off]);
  };
  toggle('ScanArchive', 'Archive support enabled.', 'Archive support disabled.');
  toggle('ScanImage', 'Image (graphics) scanning support enabled.', 'Image (graphics) scanning support disabled.');
  toggle('ScanImageFuzzyHash', 'Detection using image fuzzy hash enabled.', 'Detection using image fuzzy hash disabled.');
  if (settings.bool('AlertEncrypted')) {
    lines.push(['info', archives ? 'Alerting of encrypted archives _and_ documents enabled.' : 'Alerting of encrypted documents enabled.']);
  }
  if (settings.bool('AlertEncryptedArchive')) {
    lines.push(
      archives
        ? ['info', 'Alerting of encrypted archives enabled.']
        : ['warning', 'Encrypted archive alerting requested, but archive support is disabled!'],
    );
  }
  toggle('AlertEncryptedDoc', 'Alerting of encrypted documents enabled.');
  toggle('AlertExceedsMax', 'Heuristic alerting enabled for scans that exceed set maximums.', 'AlertExceedsMax heuristic detection disabled.');
  toggle('HeuristicAlerts', 'Heuristic alerts enabled.', 'Heuristic alerts disabled.');
  toggle('ScanPE', 'Portable Executable support enabled.', 'Portable Executable support disabled.');
  toggle('ScanELF', 'ELF support enabled.', 'ELF support disabled.');
  if ((settings.bool('ScanPE') || settings.bool('ScanELF')) && settings.bool('AlertBrokenExecutables')) {
    lines.push(['info', 'Alerting on broken executables enabled.']);
  }
  toggle('AlertBrokenMedia', 'Media (Graphics) Format Validation enabled');
  if (settings.bool('ScanMail')) {
    lines.push(['info', 'Mail files support enabled.']);
    toggle('ScanPartialMessages', 'Mail: RFC1341 handling enabled.');
  } else {
    lines.push(['info', 'Mail files support disabled.']);
  }
  toggle('ScanOLE2', 'OLE2 support enabled.', 'OLE2 support disabled.');
  if (settings.bool('ScanOLE2')) toggle('AlertOLE2Macros', 'OLE2: Heuristic alerts for VBA macros enabled.');
  toggle('ScanPDF', 'PDF support enabled.', 'PDF support disabled.');
  toggle('ScanSWF', 'SWF support enabled.', 'SWF support disabled.');
  toggle('ScanHTML', 'HTML support enabled.', 'HTML support disabled.');
  toggle('ScanXMLDOCS', 'XMLDOCS support enabled.', 'XMLDOCS support disabled.');
  toggle('ScanHWP3', 'HWP3 support enabled.', 'HWP3 support disabled.');
  toggle('ScanOneNote', 'OneNote support enabled.', 'OneNote support disabled.');
  if (settings.bool('PhishingScanURLs')) {
    toggle('AlertPhishingSSLMismatch', 'Phishing: Always checking for SSL mismatches.');
    toggle('AlertPhishingCloak', 'Phishing: Always checking for cloaked urls.');
  }
  toggle('AlertPartitionIntersection', 'Raw DMG: Always checking for partitions intersections');
  toggle('HeuristicScanPrecedence', 'Heuristic: precedence enabled');
  if (settings.bool('StructuredDataDetection')) {
    lines.push(['info', 'Structured data detection enabled.']);
  }
  const selfCheck = settings.number('SelfCheck');
  lines.push(['info', selfCheck > 0 ? `Self checking every ${selfCheck} seconds.` : 'Self checking disabled.']);
  return lines;
}
