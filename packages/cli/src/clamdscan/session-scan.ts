import { closeSync } from 'node:fs';
import { ClamdSession, errnoMessage, type SessionReply } from '@clamts/core/client';
import type { ToolOutput } from '../common/output.js';
import { readSessionReply } from './replies.js';
import { openActionSource, sendRequest, type ActionSource, type RequestTally } from './request.js';
import { realPathOf, reportWalkProblem, WalkPolicy, type ScanRun } from './scan-run.js';
import { walkAborted } from './serial-scan.js';
import { trimSlashes, walkTree, type WalkReason, type WalkStatus } from './tree-walk.js';

/**
 * Files opened for quarantine stay open until their verdict arrives; clamdscan caps how many
 * (64, less under a low descriptor limit).
 */
const MAX_ACTION_SOURCES = 64;

interface Outstanding {
  /** The name the reply is printed under: the path as walked. */
  readonly file: string;
  readonly source: ActionSource | undefined;
}

/**
 * Scans one path over a single IDSESSION connection (ClamAV's parallel_client_scan, used with
 * `--multiscan` when files are streamed or passed): the tree is walked here, every file is sent
 * as its own request, and clamd answers them concurrently and in any order. Returns 1 when
 * something went wrong, 0 otherwise.
 */
export async function sessionScan(run: ScanRun, path: string): Promise<number> {
  const { out } = run.settings;
  const connection = await run.link.connect();
  if (!connection) return 1;
  let session: ClamdSession;
  try {
    session = await ClamdSession.open(connection);
  } catch (error) {
    out.error(`Can't send to clamd: ${errnoMessage(error)}`);
    connection.close();
    return 1;
  }
  return new SessionScan(run, session, path).run();
}

class SessionScan {
  private readonly out: ToolOutput;
  private readonly policy: WalkPolicy;
  private readonly tally: RequestTally;
  /** The requests sent and not answered yet, by number. */
  private readonly outstanding = new Map<number, Outstanding>();
  private files = 0;
  private infected = 0;
  private openSources = 0;
  /** END was sent: the reader stops once every request is answered. */
  private ending = false;
  /** The walk is over: whatever still arrives is ignored. */
  private stopped = false;
  /** The reader gave up (clamd closed the connection, or sent something unusable). */
  private readerDone = false;
  /** Wakes a walk that waits for open action sources to drop below the cap. */
  private sourceReleased: (() => void) | undefined;

  constructor(
    private readonly scanRun: ScanRun,
    private readonly session: ClamdSession,
    private readonly path: string,
  ) {
    this.out = scanRun.settings.out;
    this.policy = new WalkPolicy(scanRun, path, this.out);
    this.tally = { printOk: !scanRun.printInfectedOnly, errors: 0 };
  }

  async run(): Promise<number> {
    const { scanRun, session, out, tally, outstanding } = this;
    const reader = this.readReplies().then(() => {
      this.readerDone = true;
      this.sourceReleased?.();
    });
    const status = await walkTree(
      this.path,
      { ...scanRun.walk, excluded: (p) => this.policy.excluded(p), onAbort: () => walkAborted(scanRun) },
      (walked, reason) => this.visit(walked, reason),
    );
    if (status === 'continue') {
      this.ending = true;
      await session.end().catch((error: unknown) => out.error(`Can't send to clamd: ${errnoMessage(error)}`));
      // A reader waiting for a reply that is not coming is woken by clamd closing the connection.
      await reader;
    }
    this.stopped = true;
    session.close();
    for (const request of outstanding.values()) this.release(request);

    scanRun.totals.infected += this.infected;
    scanRun.totals.errors += tally.errors;
    if (status !== 'continue') return 1;
    if (outstanding.size > 0) {
      out.error('Clamd closed the connection before scanning all files.');
      return 1;
    }
    if (tally.errors > 0) return 1;
    if (this.files === 0) return 0;
    if (tally.printOk) out.info(`${trimSlashes(this.path).shown}: OK`);
    return 0;
  }

  /** Reads replies while the walk goes on; returns when the session is over or broken. */
  private async readReplies(): Promise<void> {
    while (!(this.ending && this.session.pending === 0)) {
      let reply: SessionReply | undefined;
      try {
        reply = await this.session.nextReply();
      } catch (error) {
        if (!this.stopped) this.out.error((error as Error).message);
        return;
      }
      if (this.stopped || reply === undefined || !this.handle(reply)) return;
    }
  }

  /** Prints and acts on one reply; false when clamdscan gives up on the session. */
  private handle(reply: SessionReply): boolean {
    const { out, tally } = this;
    const request = this.outstanding.get(reply.id)!;
    const outcome = readSessionReply(reply.line, request.file);
    // An unreadable reply leaves its request outstanding, as in ClamAV.
    if (outcome.kind === 'unparsable') {
      out.error(outcome.message);
      return false;
    }
    if (outcome.kind === 'found') {
      this.infected++;
      tally.printOk = false;
      out.info(outcome.shown);
      if (request.source) this.scanRun.settings.quarantine?.apply(request.source.displayPath);
    } else if (outcome.kind === 'error') {
      tally.errors++;
      tally.printOk = false;
      out.info(outcome.shown);
    }
    this.outstanding.delete(reply.id);
    this.release(request);
    return true;
  }

  private async visit(walked: string, reason: WalkReason): Promise<WalkStatus> {
    const { out, tally } = this;
    const realPath = realPathOf(walked, out);
    if (this.policy.excluded(realPath)) return 'continue';
    this.files++;
    if (reportWalkProblem(reason, walked, out, tally)) return 'continue';
    switch (reason) {
      case 'skipped-link':
      case 'top-directory':
        return 'continue';
      case 'file':
        break;
    }

    let source: ActionSource | undefined;
    if (this.scanRun.settings.quarantine) {
      while (this.openSources >= MAX_ACTION_SOURCES && !this.readerDone) {
        await new Promise<void>((resolve) => (this.sourceReleased = resolve));
      }
      if (this.readerDone) return 'abort';
      source = openActionSource(walked, realPath);
      if (!source) {
        out.warning(`Can't open file ${walked} for safe quarantine action.`);
        tally.errors++;
        return 'continue';
      }
      this.openSources++;
    }
    if (this.readerDone) {
      if (source) this.release({ file: walked, source });
      return 'abort';
    }

    let result = 0;
    const id = await this.session.send(async (live) => {
      result = await sendRequest(live, this.scanRun.settings, realPath, source);
      return result === 1;
    });
    if (id === undefined) {
      if (source) this.release({ file: walked, source });
      tally.printOk = false;
      tally.errors++;
      return result < 0 ? 'abort' : 'continue';
    }
    this.outstanding.set(id, { file: walked, source });
    return 'continue';
  }

  /** Closes a request's quarantine source, making room for another. */
  private release(request: Outstanding): void {
    if (!request.source) return;
    closeSync(request.source.fd);
    this.openSources--;
    this.sourceReleased?.();
  }
}
