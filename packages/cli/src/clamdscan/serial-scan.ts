import { closeSync } from 'node:fs';
import { strerror } from '@clamts/core/client';
import { clientNamesFiles } from './replies.js';
import { openActionSource, requestScan, type ActionSource, type RequestTally } from './request.js';
import { realPathOf, reportWalkProblem, WalkPolicy, type ScanRun } from './scan-run.js';
import { trimSlashes, walkTree, type WalkReason, type WalkStatus } from './tree-walk.js';

/**
 * Scans one path with a connection per request (ClamAV's serial_client_scan): a directory goes
 * to clamd whole (CONTSCAN, MULTISCAN) or is walked here file by file (streams, passed
 * descriptors, ALLMATCHSCAN, quarantine). Prints `<path>: OK` when nothing was found and nothing
 * failed. Returns 1 when something went wrong, 0 otherwise.
 */
export async function serialScan(run: ScanRun, path: string): Promise<number> {
  const { settings, link } = run;
  const { out, scanType, quarantine } = settings;
  const shown = trimSlashes(path).shown;
  const policy = new WalkPolicy(run, path, out);
  const tally: RequestTally = { printOk: !run.printInfectedOnly, errors: 0 };
  let files = 0;
  let infected = 0;

  const visit = async (walked: string, reason: WalkReason): Promise<WalkStatus> => {
    const realPath = realPathOf(walked, out);
    if (policy.excluded(realPath)) return 'continue';
    files++;
    let target = realPath;
    let source: ActionSource | undefined;
    if (reportWalkProblem(reason, walked, out, tally)) return 'continue';
    switch (reason) {
      case 'skipped-link':
        return 'continue';
      case 'top-directory':
        // Walked here when the files are sent one by one; otherwise clamd gets it whole.
        if (clientNamesFiles(scanType) || quarantine) return 'continue';
        break;
      case 'file':
        if (quarantine) {
          source = openActionSource(walked, realPath);
          if (!source) {
            out.warning(`Can't open file ${walked} for safe quarantine action: ${strerror('EOPEN')}`);
            tally.errors++;
            return 'continue';
          }
          target = walked;
        }
        break;
    }

    try {
      const connection = await link.connect();
      if (!connection) {
        tally.errors++;
        return 'abort';
      }
      try {
        const result = await requestScan(connection, settings, target, source, tally, run.allmatch);
        if (result < 0) {
          tally.errors++;
          return 'abort';
        }
        infected += result;
      } finally {
        connection.close();
      }
    } finally {
      if (source) closeSync(source.fd);
    }
    return reason === 'top-directory' ? 'break' : 'continue';
  };

  const status = await walkTree(path, { ...run.walk, excluded: (p) => policy.excluded(p), onAbort: () => walkAborted(run) }, visit);
  run.totals.infected += infected;
  run.totals.errors += tally.errors;

  if (tally.errors === 0 && status !== 'abort') {
    if (tally.printOk) out.info(`${shown}: OK`);
    return 0;
  }
  if (files === 0) {
    out.info(`${shown}: No files scanned`);
    return 0;
  }
  return 1;
}

/** libclamav's complaint when a walk inside a directory is cut short. */
export function walkAborted(run: ScanRun): void {
  run.settings.out.libclamavLogger().error('File tree walk aborted.');
}
