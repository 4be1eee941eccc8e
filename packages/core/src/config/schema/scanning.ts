import { defineOptions } from '../types.js';

/**
 * What the engine scans and how: bytecode, PUA, file-format switches, alerts and limits.
 */
export const SCAN_OPTIONS = defineOptions([
  {
    name: 'Bytecode', longopt: 'bytecode', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Load bytecode signatures. Keep this on: many recent detections\n' +
      'depend on bytecode.',
  },
  {
    name: 'BytecodeSecurity', type: 'string', default: 'TrustSigned', tools: ['clamd'],
    choices: ['TrustSigned', 'Paranoid'], examples: ['TrustSigned'],
    description:
      'How far bytecode is trusted:\n' +
      '  TrustSigned - trust bytecode from signed .cvd/.cld files and add\n' +
      '                run-time checks to bytecode from anywhere else\n' +
      '  Paranoid    - add run-time checks to all bytecode',
  },
  {
    name: 'BytecodeTimeout', longopt: 'bytecode-timeout', type: 'number', default: 10000,
    tools: ['clamd', 'clamscan'], examples: ['10000'],
    description: 'Time limit for running bytecode, in milliseconds.',
  },
  {
    name: 'BytecodeUnsigned', longopt: 'bytecode-unsigned', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Also load bytecode that does not come from a signed .cvd/.cld file.',
  },
  {
    name: 'BytecodeMode', longopt: 'bytecode-mode', type: 'string', default: 'Auto',
    tools: ['clamd', 'clamscan'], argRequired: true,
    choices: ['Auto', 'ForceJIT', 'ForceInterpreter', 'Test'], examples: ['Auto'],
    description:
      'How bytecode runs:\n' +
      '  Auto             - JIT when available, otherwise the interpreter\n' +
      '  ForceJIT         - JIT only; fail when it is not available\n' +
      '  ForceInterpreter - interpreter only\n' +
      '  Test             - run both and compare; every failure is fatal',
  },
  {
    name: 'Statistics', longopt: 'statistics', type: 'string', tools: ['clamscan', 'clambc'],
    repeatable: true, choices: ['None', 'Bytecode', 'PCRE'],
    description: 'Execution statistics to print: None, Bytecode or PCRE.',
  },
  {
    name: 'DetectPUA', longopt: 'detect-pua', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description: 'Detect Potentially Unwanted Applications.',
  },
  {
    name: 'ExcludePUA', longopt: 'exclude-pua', type: 'string', tools: ['clamd', 'clamscan'],
    repeatable: true, examples: ['NetTool', 'PWTool'],
    description:
      'Leave out this PUA category (see the ClamAV PUA documentation\n' +
      'for the list). May be given more than once.',
  },
  {
    name: 'IncludePUA', longopt: 'include-pua', type: 'string', tools: ['clamd', 'clamscan'],
    repeatable: true, examples: ['Spy', 'Scanner', 'RAT'],
    description: 'Use only this PUA category. May be given more than once.',
  },
  {
    name: 'ScanPE', longopt: 'scan-pe', type: 'bool', default: true, tools: ['clamd', 'clamscan'],
    examples: ['yes'],
    description:
      'Analyse PE (Windows executable) files in depth, including\n' +
      'unpacking of common packers such as UPX. When off, the files are\n' +
      'still matched as they are.',
  },
  {
    name: 'ScanELF', longopt: 'scan-elf', type: 'bool', default: true, tools: ['clamd', 'clamscan'],
    examples: ['yes'],
    description:
      'Analyse ELF (Unix executable) files in depth. When off, the files\n' +
      'are still matched as they are.',
  },
  {
    name: 'ScanMail', longopt: 'scan-mail', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Parse e-mail messages and scan their parts and attachments. When\n' +
      'off, messages are still matched as plain files.',
  },
  {
    name: 'ScanPartialMessages', type: 'bool', default: false, tools: ['clamd'], examples: ['no'],
    description:
      'Put together and scan RFC 1341 messages split over several mails.\n' +
      'The pieces are kept under $TemporaryDirectory/clamav-partial, which\n' +
      'needs cleaning up. This can be abused for denial of service; avoid\n' +
      'it on busy servers.',
  },
  {
    name: 'PhishingSignatures', longopt: 'phishing-sigs', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description: 'Detect phishing with signatures.',
  },
  {
    name: 'PhishingScanURLs', longopt: 'phishing-scan-urls', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description: 'Check the URLs in mails for phishing with heuristics.',
  },
  {
    name: 'HeuristicAlerts', longopt: 'heuristic-alerts', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Enable heuristic detections (Heuristics.*), which catch things\n' +
      'such as broken or exploit-laden files.',
  },
  {
    name: 'HeuristicScanPrecedence', longopt: 'heuristic-scan-precedence', type: 'bool',
    default: false, tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Stop at the first heuristic detection instead of finishing the scan\n' +
      'to look for a signature match. A signature match always stops the\n' +
      'scan at once, whatever this says.',
  },
  {
    name: 'StructuredDataDetection', longopt: 'detect-structured', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Enable the Data Loss Prevention module (credit card and SSN numbers).',
  },
  {
    name: 'StructuredMinCreditCardCount', longopt: 'structured-cc-count', type: 'number',
    default: 3, tools: ['clamd', 'clamscan'], examples: ['5'],
    description: 'Fewest credit card numbers in a file that trigger a detection.',
  },
  {
    name: 'StructuredMinSSNCount', longopt: 'structured-ssn-count', type: 'number', default: 3,
    tools: ['clamd', 'clamscan'], examples: ['5'],
    description: 'Fewest Social Security numbers in a file that trigger a detection.',
  },
  {
    name: 'StructuredSSNFormatNormal', type: 'bool', default: true, tools: ['clamd'],
    examples: ['yes'],
    description: 'Look for SSNs written as xxx-yy-zzzz.',
  },
  {
    name: 'StructuredSSNFormatStripped', type: 'bool', default: false, tools: ['clamd'],
    examples: ['no'],
    description: 'Look for SSNs written as xxxyyzzzz.',
  },
  {
    name: 'ScanHTML', longopt: 'scan-html', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Normalise HTML and decode JavaScript and ScriptEncoder content\n' +
      'before matching. When off, the files are still matched as they are.',
  },
  {
    name: 'ScanOLE2', longopt: 'scan-ole2', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Look inside OLE2 files (Microsoft Office documents, .msi). When off,\n' +
      'the files are still matched as they are.',
  },
  {
    name: 'AlertBrokenExecutables', longopt: 'alert-broken', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Report malformed executables (PE, ELF, Mach-O) as\n' +
      'Broken.Executable.',
  },
  {
    name: 'AlertBrokenMedia', longopt: 'alert-broken-media', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description: 'Report malformed image files (JPEG, TIFF, PNG, GIF) as Broken.Media.',
  },
  {
    name: 'AlertEncrypted', longopt: 'alert-encrypted', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Report encrypted archives and documents (zip, 7z, rar, pdf).',
  },
  {
    name: 'StructuredCCOnly', longopt: 'structured-cc-mode', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Look for credit card numbers only, not debit or private label cards.',
  },
  {
    name: 'AlertEncryptedArchive', longopt: 'alert-encrypted-archive', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Report encrypted archives (zip, 7z, rar).',
  },
  {
    name: 'AlertEncryptedDoc', longopt: 'alert-encrypted-doc', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description: 'Report encrypted documents (pdf).',
  },
  {
    name: 'AlertOLE2Macros', longopt: 'alert-macros', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description:
      'Report OLE2 files containing VBA macros as\n' +
      'Heuristics.OLE2.ContainsMacros when no signature matched them.',
  },
  {
    name: 'AlertPhishingSSLMismatch', longopt: 'alert-phishing-ssl', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: [''],
    description:
      'Report URLs whose SSL use does not match, even without a database\n' +
      'entry. Prone to false positives.',
  },
  {
    name: 'AlertPhishingCloak', longopt: 'alert-phishing-cloak', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description:
      'Report cloaked URLs, even without a database entry. Prone to false\n' +
      'positives.',
  },
  {
    name: 'AlertPartitionIntersection', longopt: 'alert-partition-intersection', type: 'bool',
    default: false, tools: ['clamd', 'clamscan'], examples: ['yes'],
    description: 'Report raw disk images whose partitions overlap.',
  },
  {
    name: 'ScanPDF', longopt: 'scan-pdf', type: 'bool', default: true, tools: ['clamd', 'clamscan'],
    examples: ['yes'],
    description:
      'Decode and look inside PDF files. When off, the files are still\n' +
      'matched as they are.',
  },
  {
    name: 'ScanSWF', longopt: 'scan-swf', type: 'bool', default: true, tools: ['clamd', 'clamscan'],
    examples: ['yes'],
    description:
      'Decode and look inside SWF (Flash) files. When off, the files are\n' +
      'still matched as they are.',
  },
  {
    name: 'ScanXMLDOCS', longopt: 'scan-xmldocs', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Look inside XML-based documents (such as Office Open XML). When off,\n' +
      'the files are still matched as they are.',
  },
  {
    name: 'ScanHWP3', longopt: 'scan-hwp3', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Look inside HWP3 (Hangul) documents. When off, the files are still\n' +
      'matched as they are.',
  },
  {
    name: 'ScanOneNote', longopt: 'scan-onenote', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Look inside OneNote files. When off, the files are still matched\n' +
      'as they are.',
  },
  {
    name: 'ScanArchive', longopt: 'scan-archive', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Unpack archives and compressed files and scan what is inside. When\n' +
      'off, the files are still matched as they are.',
  },
  {
    name: 'ScanImage', longopt: 'scan-image', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description: 'Parse image files. When off, the files are still matched as they are.',
  },
  {
    name: 'ScanImageFuzzyHash', longopt: 'scan-image-fuzzy-hash', type: 'bool', default: true,
    tools: ['clamd', 'clamscan'], examples: ['yes'],
    description:
      'Compute fuzzy hashes of images so that image-hash signatures can\n' +
      'match files that contain them. Turning it off loses those detections.',
  },
  {
    name: 'ForceToDisk', longopt: 'force-to-disk', type: 'bool', default: false,
    tools: ['clamd', 'clamscan'], examples: ['no'],
    description:
      'Write in-memory and nested content to temporary files before\n' +
      'scanning it (more disk writes; useful with LeaveTemporaryFiles).',
  },
  {
    name: 'MaxScanTime', longopt: 'max-scantime', type: 'number', default: 0,
    tools: ['clamd', 'clamscan'], examples: ['120000'],
    description:
      'Time limit for scanning one file, in milliseconds; 0 means no limit.\n' +
      'Without a limit, some files can tie up a scanning thread for a long\n' +
      'time.',
  },
  {
    name: 'MaxScanSize', longopt: 'max-scansize', type: 'size', default: 419430400,
    tools: ['clamd', 'clamscan'], examples: ['400M'],
    description:
      'Most data scanned for one input file, counting everything unpacked\n' +
      'from it; 0 means no limit (not recommended).',
  },
  {
    name: 'MaxFileSize', longopt: 'max-filesize', type: 'size', default: 104857600,
    tools: ['clamd', 'milter', 'clamscan'], examples: ['100M'],
    description:
      'Files larger than this are not scanned, whether given directly or\n' +
      'found inside a container; 0 means no limit (not recommended).',
  },
  {
    name: 'MaxRecursion', longopt: 'max-recursion', type: 'number', default: 17,
    tools: ['clamd', 'clamscan'], examples: ['17'],
    description:
      'How deeply nested containers are unpacked; 0 means no limit\n' +
      '(not recommended).',
  },
  {
    name: 'MaxFiles', longopt: 'max-files', type: 'number', default: 10000,
    tools: ['clamd', 'clamscan'], examples: ['10000'],
    description:
      'Most files scanned inside one container; 0 means no limit\n' +
      '(not recommended).',
  },
  {
    name: 'MaxEmbeddedPE', longopt: 'max-embeddedpe', type: 'size', default: 41943040,
    tools: ['clamd', 'clamscan'], examples: ['40M'],
    description: 'Files larger than this are not searched for embedded PE files.',
  },
  {
    name: 'MaxHTMLNormalize', longopt: 'max-htmlnormalize', type: 'size', default: 41943040,
    tools: ['clamd', 'clamscan'], examples: ['40M'],
    description: 'HTML files larger than this are not normalised.',
  },
  {
    name: 'MaxHTMLNoTags', longopt: 'max-htmlnotags', type: 'size', default: 8388608,
    tools: ['clamd', 'clamscan'], examples: ['8M'],
    description: 'Normalised HTML larger than this is not scanned.',
  },
  {
    name: 'MaxScriptNormalize', longopt: 'max-scriptnormalize', type: 'size', default: 20971520,
    tools: ['clamd', 'clamscan'], examples: ['20M'],
    description: 'Script content larger than this is not normalised.',
  },
  {
    name: 'MaxZipTypeRcg', longopt: 'max-ziptypercg', type: 'size', default: 1048576,
    tools: ['clamd', 'clamscan'], examples: ['1M'],
    description: 'ZIP files larger than this are not checked again for PE content.',
  },
  {
    name: 'MaxPartitions', longopt: 'max-partitions', type: 'number', default: 50,
    tools: ['clamd', 'clamscan'], examples: ['128'],
    description: 'Most partitions of a raw disk image that are scanned.',
  },
  {
    name: 'MaxIconsPE', longopt: 'max-iconspe', type: 'number', default: 100,
    tools: ['clamd', 'clamscan'], examples: ['100'],
    description: 'Most icons of a PE file that are scanned.',
  },
  {
    name: 'MaxRecHWP3', longopt: 'max-rechwp3', type: 'number', default: 16,
    tools: ['clamd', 'clamscan'], examples: ['16'],
    description: 'Deepest recursion allowed while parsing an HWP3 file.',
  },
  {
    name: 'PCREMatchLimit', longopt: 'pcre-match-limit', type: 'number', default: 100000,
    tools: ['clamd', 'clamscan'], examples: ['100000'],
    description:
      'Most calls to the PCRE match function in one regex match; the\n' +
      'match stops there and the scan goes on.',
  },
  {
    name: 'PCRERecMatchLimit', longopt: 'pcre-recmatch-limit', type: 'number', default: 2000,
    tools: ['clamd', 'clamscan'], examples: ['5000'],
    description:
      'Most recursive calls to the PCRE match function in one regex match;\n' +
      'values above PCREMatchLimit have no effect.',
  },
  {
    name: 'PCREMaxFileSize', longopt: 'pcre-max-filesize', type: 'size', default: 104857600,
    tools: ['clamd', 'clamscan'], examples: ['100M'],
    description:
      'PCRE subsignatures are not run on files larger than this, unless\n' +
      'they are limited to a smaller part; 0 means no limit.',
  },
]);
