import { fstatSync } from 'node:fs';
import { errnoMessage, type Config } from '@clamts/core/client';
import type { ParsedCommandLine } from '@clamts/core/client';
import type { ToolOutput } from '../common/output.js';
import { readFileList } from '../clamscan/file-list.js';
import type { Quarantine } from '../clamscan/quarantine.js';
import { pingClamd } from './daemon-commands.js';
import type { DaemonLink } from './daemon-link.js';
import { loadFdSender } from './fd-passing.js';
import type { ScanType } from './replies.js';
import { requestScan, type RequestSettings } from './request.js';
import type { ScanRun } from './scan-run.js';
import { serialScan } from './serial-scan.js';
import { sessionScan } from './session-scan.js';

/** cl_error_t values clamdscan exits with when --wait gives up (CL_ETIMEOUT) or fails (CL_ERROR). */
export const EXIT_TIMEOUT = 21;
export const EXIT_ERROR = 34;

/** What the scan did: the exit status and the summary's figures. */
export interface ClientResult {
  readonly status: number;
  readonly infected: number;
  readonly errors: number;
}

/**
 * Everything clamdscan does between its setup and its summary (ClamAV's client()): waits for
 * clamd if asked, picks how files reach clamd, then scans standard input, the files of
 * --file-list, the paths given, or the current directory. Exit status: 1 when something was
 * found, 2 when something failed, 0 otherwise.
 */
export async function runClient(
  options: ParsedCommandLine,
  config: Config,
  out: ToolOutput,
  link: DaemonLink,
  quarantine: Quarantine | undefined,
): Promise<ClientResult> {
  if (options.bool('wait')) {
    const ping = await pingClamd(link, out, options.string('ping'), true);
    if (ping !== 'answered') return { status: ping === 'timeout' ? EXIT_TIMEOUT : EXIT_ERROR, infected: 0, errors: 0 };
  }

  const fileList = options.string('file-list');
  const operands = options.operands;
  const fromStdin = operands.length === 1 && operands[0] === '-' && fileList === undefined;
  const multiscan = options.bool('multiscan');
  const remote = (await link.isRemote()) || options.bool('stream');
  if (quarantine && options.bool('allmatch')) out.warning('--allmatch is ignored when quarantine actions are enabled.');
  const fdSender = await loadFdSender();
  const { scanType, session } = chooseScanType({
    remote,
    canPassDescriptors: link.hasLocalSocket && fdSender !== undefined,
    passRequested: quarantine !== undefined || options.bool('fdpass') || fromStdin,
    streamRequested: quarantine !== undefined || fromStdin,
    multiscan,
    allmatch: options.bool('allmatch'),
  });

  const maxDepth = config.getNumber('MaxDirectoryRecursion');
  const settings: RequestSettings = {
    out,
    scanType,
    maxStream: config.getNumber('StreamMaxLength'),
    fdSender,
    quarantine,
  };
  const run: ScanRun = {
    settings,
    link,
    walk: {
      followDirectorySymlinks: config.getBool('FollowDirectorySymlinks'),
      followFileSymlinks: config.getBool('FollowFileSymlinks'),
      maxDepth: maxDepth > 0 ? maxDepth : Number.MAX_SAFE_INTEGER,
    },
    excludePatterns: config.getStrings('ExcludePath'),
    crossFilesystems: config.getBool('CrossFilesystems'),
    printInfectedOnly: options.bool('infected'),
    totals: { infected: 0, errors: 0 },
    allmatch: {},
  };

  let failures = 0;
  if (fromStdin) {
    const stdinFailed = await scanStdin(run);
    if (stdinFailed === undefined) return { status: 2, infected: 0, errors: 0 };
    failures = stdinFailed;
  } else if (operands.length > 0 || fileList !== undefined) {
    if (operands.length > 0 && fileList !== undefined) {
      out.warning('Only scanning files from --file-list (files passed at cmdline are ignored)');
    }
    let names: readonly string[] | undefined = operands;
    if (fileList !== undefined) {
      names = readFileList(fileList);
      if (names === undefined) out.stderr(`ERROR: --file-list: Can't open file ${fileList}\n`);
    }
    for (const name of names ?? []) {
      if (name === '-') {
        out.error('Scanning from standard input requires "-" to be the only file argument');
        continue;
      }
      failures += await scanPath(run, name, session);
    }
  } else {
    failures = await scanPath(run, '', session);
  }

  const { infected, errors } = run.totals;
  return { status: infected ? 1 : failures ? 2 : 0, infected, errors };
}

interface ScanTypeChoice {
  /** clamd cannot open the client's files: it is on another host, or --stream says so. */
  readonly remote: boolean;
  /** clamd listens on a LocalSocket and descriptors can be passed. */
  readonly canPassDescriptors: boolean;
  /** Reasons to hand clamd open files: quarantine, --fdpass, standard input. */
  readonly passRequested: boolean;
  /** Reasons to send file contents rather than paths: quarantine, standard input. */
  readonly streamRequested: boolean;
  readonly multiscan: boolean;
  readonly allmatch: boolean;
}

/**
 * ClamAV's choice of scan type. Quarantine needs the verdict to concern the very file acted on,
 * so its files are opened here and passed or streamed — with --multiscan over an IDSESSION for
 * parallelism. Otherwise paths go to clamd (CONTSCAN, MULTISCAN, ALLMATCHSCAN).
 */
export function chooseScanType(choice: ScanTypeChoice): { scanType: ScanType; session: boolean } {
  if (choice.canPassDescriptors && !choice.remote && choice.passRequested) {
    return { scanType: 'FILDES', session: choice.multiscan };
  }
  if (choice.streamRequested || choice.remote) return { scanType: 'STREAM', session: choice.multiscan };
  if (choice.multiscan) return { scanType: 'MULTI', session: false };
  return { scanType: choice.allmatch ? 'ALLMATCH' : 'CONT', session: false };
}

/**
 * Standard input, with one request. A pipe or terminal cannot be passed usefully, so it is
 * streamed. Returns the failure count, or undefined when standard input cannot even be examined.
 */
async function scanStdin(run: ScanRun): Promise<number | undefined> {
  const { out } = run.settings;
  let isRegular: boolean;
  try {
    isRegular = fstatSync(0).isFile();
  } catch (error) {
    out.info(`client.c: fstat failed for file name "-", with ${errnoMessage(error)}\n.`);
    return undefined;
  }
  const settings: RequestSettings = isRegular ? run.settings : { ...run.settings, scanType: 'STREAM' };
  const connection = await run.link.connect();
  if (!connection) return 1;
  try {
    // Outside the summary's error count, as in ClamAV.
    const result = await requestScan(connection, settings, undefined, undefined, { printOk: true, errors: 0 }, run.allmatch);
    if (result < 0) return 1;
    run.totals.infected = result;
    return 0;
  } finally {
    connection.close();
  }
}

/** One path given by the user, made absolute without resolving symlinks, as clamd needs it. */
async function scanPath(run: ScanRun, name: string, session: boolean): Promise<number> {
  let path = name;
  if (!name.startsWith('/')) {
    let cwd: string;
    try {
      cwd = process.cwd();
    } catch {
      run.settings.out.warning("Can't get absolute pathname of current working directory.");
      return 0;
    }
    path = `${cwd}/${name}`;
  }
  return session ? sessionScan(run, path) : serialScan(run, path);
}
