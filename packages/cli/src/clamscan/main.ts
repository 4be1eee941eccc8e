import { lstatSync, statSync } from 'node:fs';
import { hrtime } from 'node:process';
import {
  CLAMTS_VERSION,
  databaseAge,
  defaultDatabasePaths,
  isClamError,
  loadEngineCached,
  scanOptions,
  Scanner,
  type Alert,
  type LoadedEngine,
  type LoadOptions,
  type PuaFilter,
  type ScanSwitch,
} from '@clamts/core';
import { CommandLineError, parseCommandLine, type ParsedCommandLine } from '@clamts/core';
import { dailyDatabaseVersion, versionLine } from '../common/database-version.js';
import { ToolOutput } from '../common/output.js';
import { clamscanHelp } from './help.js';
import { quarantineFromOptions, type Quarantine } from './quarantine.js';
import { readFileList } from './file-list.js';
import { RegexFilter } from '../common/regex-filter.js';
import { ScanManager, type SymlinkPolicy, type WalkSettings } from './scan-manager.js';
import { printSummary } from './summary.js';

const PRODUCT = `ClamTS ${CLAMTS_VERSION}`;

/** clamscan: returns the exit code (0 clean, 1 virus found, 2 error — or ClamAV's special codes). */
export async function clamscanMain(argv: readonly string[]): Promise<number> {
  let options: ParsedCommandLine;
  try {
    options = parseCommandLine('clamscan', argv);
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    process.stderr.write(`${error.lines.join('\n')}\nERROR: Can't parse command line options\n`);
    return 2;
  }

  if (options.bool('version')) {
    const databases = options.strings('database');
    const directory = databases[0] ?? defaultDatabasePaths()[0]!;
    process.stdout.write(`${versionLine(PRODUCT, dailyDatabaseVersion(directory))}\n`);
    return 0;
  }
  if (options.bool('help')) {
    process.stdout.write(clamscanHelp());
    return 0;
  }

  const out = new ToolOutput({
    quiet: options.bool('quiet'),
    verbose: options.bool('verbose'),
    stdout: options.bool('stdout'),
    logFile: options.string('log'),
    debug: options.bool('debug'),
  });
  try {
    if (options.has('log') && !out.logOnly('\n-------------------------------------------------------------------------------\n')) {
      out.consoleError('Problem with internal logger.');
      return 2;
    }
    const quarantine = quarantineFromOptions(options, out);
    if (quarantine === null) return 2;

    const started = new Date();
    const startedAt = hrtime.bigint();
    const run = await scan(options, out, quarantine);
    if (!options.bool('no-summary')) {
      printSummary(out, {
        knownViruses: run.knownViruses,
        engineVersion: CLAMTS_VERSION,
        stats: run.manager?.stats ?? { files: 0, directories: 0, infectedFiles: 0, errors: 0, scannedBlocks: 0, readBlocks: 0 },
        notRemoved: quarantine?.notRemoved ?? 0,
        notMoved: quarantine?.notMoved ?? 0,
        copyMode: options.has('copy'),
        started,
        startedAt,
        ended: new Date(),
        endedAt: hrtime.bigint(),
      });
    }
    // With the target matchers the scan built (the PE target's at the first executable).
    run.loaded?.saveCache();
    return run.status;
  } finally {
    out.close();
  }
}

/**
 * `--fail-if-cvd-older-than=DAYS`: true (after ClamAV's error line) when a database path's newest
 * signed container is older, or cannot be read.
 */
function checkDatabaseAge(paths: readonly string[], days: number, out: ToolOutput): boolean {
  const logger = out.libclamavLogger();
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = lstatSync(path).isDirectory();
    } catch {
      out.error(`Can't access database directory/file: ${path}`);
      return true;
    }
    if (!isDirectory && !/\.c[vl]d$/i.test(path)) continue;
    let age: number | undefined;
    try {
      age = databaseAge(path, logger);
    } catch (error) {
      if (!isClamError(error)) throw error;
      out.error(error.message);
      return true;
    }
    if (age !== undefined && days * 86400 < age) {
      out.error(`Virus database is older than ${days} days!`);
      return true;
    }
  }
  return false;
}

/** The `--alert-*` heuristics that are on. */
function alertsFrom(options: ParsedCommandLine): Set<Alert> {
  const alerts = new Set<Alert>();
  if (options.bool('alert-encrypted') || options.bool('alert-encrypted-archive')) alerts.add('encrypted-archive');
  if (options.bool('alert-encrypted') || options.bool('alert-encrypted-doc')) alerts.add('encrypted-doc');
  if (options.bool('alert-broken')) alerts.add('broken');
  if (options.bool('alert-broken-media')) alerts.add('broken-media');
  if (options.bool('alert-macros')) alerts.add('macros');
  return alerts;
}

/** The handlers a `--scan-*=no` turns off (HTML also needs `--normalize`, as in ClamAV). */
function disabledHandlersFrom(options: ParsedCommandLine): Set<ScanSwitch> {
  const switches: ScanSwitch[] = ['archive', 'mail', 'ole2', 'pdf', 'html', 'xmldocs', 'pe', 'elf', 'swf', 'hwp3', 'onenote', 'image'];
  const disabled = new Set(switches.filter((name) => !options.bool(`scan-${name}`)));
  if (!options.bool('normalize')) disabled.add('html');
  return disabled;
}


interface ScanRun {
  status: number;
  knownViruses: number;
  manager?: ScanManager;
  /** The loaded databases, whose engine cache file is written once the run is over. */
  loaded?: LoadedEngine;
}

/** ClamAV's scanmanager(): check options, load the databases, scan, and work out the exit code. */
async function scan(options: ParsedCommandLine, out: ToolOutput, quarantine: Quarantine | undefined): Promise<ScanRun> {
  const followDirSymlinks = options.number('follow-dir-symlinks');
  const followFileSymlinks = options.number('follow-file-symlinks');
  if (followDirSymlinks > 2) return fail('--follow-dir-symlinks: Invalid argument');
  if (followFileSymlinks > 2) return fail('--follow-file-symlinks: Invalid argument');

  let puaFilter: PuaFilter | undefined;
  if (options.bool('detect-pua')) {
    const exclude = options.strings('exclude-pua');
    const include = options.strings('include-pua');
    if (exclude.length > 0 && include.length > 0) {
      return fail('--exclude-pua and --include-pua cannot be used at the same time');
    }
    if (exclude.length > 0) puaFilter = { mode: 'exclude', categories: exclude };
    if (include.length > 0) puaFilter = { mode: 'include', categories: include };
  }

  const loadOptions: LoadOptions = {
    detectPua: options.bool('detect-pua'),
    puaFilter,
    officialOnly: options.bool('official-db-only'),
    phishingSignatures: options.bool('phishing-scan-urls'),
    bytecode: options.bool('bytecode'),
    disableCertCheck: options.bool('nocerts'),
    dumpCertificates: options.bool('dumpcerts'),
    logger: out.libclamavLogger(),
  };
  const databases = options.has('database') ? options.strings('database') : defaultDatabasePaths();
  if (options.has('fail-if-cvd-older-than')) {
    const outdated = checkDatabaseAge(databases, options.number('fail-if-cvd-older-than'), out);
    if (outdated) return { status: 2, knownViruses: 0 };
  }
  const loaded = await loadEngineCached(databases, loadOptions);
  if (!loaded.ok) {
    if (loaded.stage === 'compile') return fail(`Database initialization error: ${loaded.error.message}`, loaded.signatureCount);
    out.error(loaded.error.message);
    return { status: 2, knownViruses: loaded.signatureCount };
  }
  const { engine } = loaded;

  let filters: Pick<WalkSettings, 'exclude' | 'excludeDir' | 'include' | 'includeDir'>;
  try {
    filters = {
      exclude: options.strings('exclude').map((p) => new RegexFilter(p)),
      excludeDir: options.strings('exclude-dir').map((p) => new RegexFilter(p)),
      include: options.strings('include').map((p) => new RegexFilter(p)),
      includeDir: options.strings('include-dir').map((p) => new RegexFilter(p)),
    };
  } catch (error) {
    return fail(`Invalid regular expression: ${(error as Error).message}`, engine.signatureCount);
  }

  const scanner = new Scanner(
    engine,
    scanOptions({
      allMatch: options.bool('allmatch'),
      alertExceedsMax: options.bool('alert-exceeds-max'),
      alerts: alertsFrom(options),
      heuristicAlerts: options.bool('heuristic-alerts'),
      heuristicScanPrecedence: options.bool('heuristic-scan-precedence'),
      disabledHandlers: disabledHandlersFrom(options),
      phishingScanUrls: options.bool('phishing-scan-urls'),
      alertPhishingSsl: options.bool('alert-phishing-ssl') || options.bool('phishing-ssl'),
      alertPhishingCloak: options.bool('alert-phishing-cloak') || options.bool('phishing-cloak'),
      // As in libclamav, a cache size of 0 keeps the default; collecting metadata (--gen-json) bypasses the cache.
      cacheSize: options.bool('disable-cache') || options.bool('gen-json') ? 0 : given('cache-size') || undefined,
      temporaryDirectory: options.string('tempdir'),
      // clamscan's descriptors: 0-2, then the --log file when there is one, then the scanned file.
      descriptor: options.string('log') === undefined ? 3 : 4,
      logger: out.libclamavLogger(),
      // Like clamscan, only the limits given on the command line replace the engine's own.
      limits: {
        maxFileSize: given('max-filesize'),
        maxScanSize: given('max-scansize'),
        maxFiles: given('max-files'),
        maxRecursion: given('max-recursion'),
        maxScanTime: given('max-scantime'),
        maxHtmlNormalize: given('max-htmlnormalize'),
        maxHtmlNoTags: given('max-htmlnotags'),
        maxScriptNormalize: given('max-scriptnormalize'),
        maxEmbeddedPe: given('max-embeddedpe'),
        maxIconsPe: given('max-iconspe'),
      },
    }),
  );
  const manager = new ScanManager(
    scanner,
    {
      recursive: options.bool('recursive'),
      printInfectedOnly: options.bool('infected'),
      printClean: !options.bool('suppress-ok-results'),
      bell: options.bool('bell'),
      crossFs: options.bool('cross-fs'),
      followDirSymlinks: followDirSymlinks as SymlinkPolicy,
      followFileSymlinks: followFileSymlinks as SymlinkPolicy,
      maxDirRecursion: options.number('max-dir-recursion'),
      quarantine,
      ...filters,
    },
    out,
  );

  const fileList = options.string('file-list');
  if (fileList !== undefined) {
    if (options.operands.length > 0) out.warning('Only scanning files from --file-list (files passed at cmdline are ignored)');
    const list = readFileList(fileList);
    if (list === undefined) {
      out.stderr(`ERROR: --file-list: Can't open file ${fileList}\n`);
      manager.status = 54;
    } else {
      await manager.scanOperands(list);
    }
  } else if (options.operands.length > 0) {
    await manager.scanOperands(options.operands);
  } else {
    const cwd = process.cwd();
    await manager.scanDirectory(cwd, 1, statSync(cwd).dev);
  }

  // An infection decides the exit code, then errors, then anything else that went wrong.
  const { stats } = manager;
  const status = stats.infectedFiles ? 1 : stats.errors ? 2 : manager.status;
  return { status, knownViruses: engine.signatureCount, manager, loaded };

  function given(long: string): number | undefined {
    return options.has(long) ? options.number(long) : undefined;
  }

  function fail(message: string, knownViruses = 0): ScanRun {
    out.error(message);
    return { status: 2, knownViruses };
  }
}
