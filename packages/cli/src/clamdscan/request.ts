import { closeSync, constants, fstatSync, openSync, read, readSync, statSync } from 'node:fs';
import { STREAM_CHUNK_BYTES, errnoMessage, type ClamdClientConnection, type FdSender } from '@clamts/core/client';
import type { ToolOutput } from '../common/output.js';
import type { Quarantine } from '../clamscan/quarantine.js';
import { readScanReply, SCAN_COMMANDS, type ScanType } from './replies.js';

/** What every request of one clamdscan run needs. */
export interface RequestSettings {
  readonly out: ToolOutput;
  readonly scanType: ScanType;
  /** clamd.conf's StreamMaxLength: clamdscan never streams more than clamd accepts. */
  readonly maxStream: number;
  /** SCM_RIGHTS support; FILDES is only chosen when it is there. */
  readonly fdSender: FdSender | undefined;
  readonly quarantine: Quarantine | undefined;
}

/**
 * A file clamdscan opened itself so that the verdict and the quarantine action concern the same
 * file: it is scanned through this descriptor, and acted on under its display path.
 */
export interface ActionSource {
  readonly fd: number;
  readonly displayPath: string;
}

/** The `printok` flag and error count a request updates, as clamdscan passes them around. */
export interface RequestTally {
  printOk: boolean;
  errors: number;
}

/** The outcome of sending: 1 sent, 0 a soft failure (reported, go on), -1 a hard failure. */
export type SendResult = 1 | 0 | -1;

/**
 * One request outside a session and its replies (ClamAV's dsresult): sends `file` the way the
 * scan type asks, prints what clamdscan prints for each reply, and applies the quarantine action.
 * Returns the number of infections, or a send result of 0 or -1 (-1: give up on this file).
 * `file` undefined means standard input; `state.lastAllmatchFile` carries ClamAV's static memory
 * of the last file counted in ALLMATCH mode.
 */
export async function requestScan(
  connection: ClamdClientConnection,
  settings: RequestSettings,
  file: string | undefined,
  source: ActionSource | undefined,
  tally: RequestTally,
  state: { lastAllmatchFile?: string },
): Promise<number> {
  const { out, scanType } = settings;
  const shownName = source?.displayPath ?? file;

  const sent = await sendRequest(connection, settings, file, source);
  if (sent <= 0) {
    tally.printOk = false;
    tally.errors++;
    return sent;
  }

  let infected = 0;
  let answered = false;
  for (;;) {
    let reply: string | undefined;
    try {
      reply = await connection.readReply();
    } catch (error) {
      out.error((error as Error).message);
      return -1;
    }
    if (reply === undefined) break;
    answered = true;
    if (file === undefined) out.info(reply);
    const outcome = readScanReply(reply, scanType, shownName);
    if (outcome.kind === 'unparsable') {
      out.info(outcome.message);
      return -1;
    }
    if (outcome.kind === 'found') {
      tally.printOk = false;
      if (scanType !== 'ALLMATCH') {
        infected++;
      } else if (file !== undefined && file !== state.lastAllmatchFile) {
        // ALLMATCHSCAN reports each signature; the file counts once.
        infected++;
        state.lastAllmatchFile = file;
      }
      if (shownName !== undefined) {
        out.info(outcome.shown);
        if (source && settings.quarantine) settings.quarantine.apply(source.displayPath);
      }
    } else if (outcome.kind === 'error') {
      tally.errors++;
      tally.printOk = false;
      if (shownName !== undefined) out.info(outcome.shown);
    }
  }
  if (!answered) return noReply(out, file);
  return infected;
}

/** clamd closed the connection without a word: fine for a directory, a failure otherwise. */
function noReply(out: ToolOutput, file: string | undefined): number {
  if (file === undefined) {
    // ClamAV's format string puts the newline before the full stop.
    out.info('STDIN: noreply from clamd\n.');
    return -1;
  }
  let isDirectory: boolean;
  try {
    isDirectory = statSync(file).isDirectory();
  } catch (error) {
    out.info(`${file}: stat() failed with ${errnoMessage(error)}, clamd may not be responding`);
    return -1;
  }
  if (!isDirectory) {
    out.info(`${file}: no reply from clamd`);
    return -1;
  }
  return 0;
}

/** Sends the request for one file (or standard input) in the scan type's way. */
export async function sendRequest(
  connection: ClamdClientConnection,
  settings: RequestSettings,
  file: string | undefined,
  source: ActionSource | undefined,
): Promise<SendResult> {
  const { out, scanType } = settings;
  switch (scanType) {
    case 'STREAM':
      return source
        ? streamDescriptor(connection, settings, source.fd, source.displayPath, true)
        : streamFile(connection, settings, file);
    case 'FILDES':
      return source ? passDescriptor(connection, settings, source.fd) : passFile(connection, settings, file);
    default:
      if (file === undefined) {
        out.info('Filename cannot be NULL for MULTISCAN or CONTSCAN.');
        return -1;
      }
      return sendOrReport(out, () => connection.sendCommand(commandOf(scanType), file));
  }
}

function commandOf(scanType: ScanType): 'CONTSCAN' | 'MULTISCAN' | 'ALLMATCHSCAN' {
  return SCAN_COMMANDS[scanType] as 'CONTSCAN' | 'MULTISCAN' | 'ALLMATCHSCAN';
}

async function sendOrReport(out: ToolOutput, send: () => Promise<unknown>): Promise<SendResult> {
  try {
    await send();
    return 1;
  } catch (error) {
    out.error(`Can't send to clamd: ${errnoMessage(error)}`);
    return -1;
  }
}

/** INSTREAM of a file clamdscan opens, or of standard input. */
async function streamFile(connection: ClamdClientConnection, settings: RequestSettings, file: string | undefined): Promise<SendResult> {
  if (file === undefined) return streamDescriptor(connection, settings, 0, undefined, false);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    settings.out.info(`${file}: Failed to open file. ERROR`);
    return 0;
  }
  try {
    return await streamDescriptor(connection, settings, fd, file, false);
  } finally {
    closeSync(fd);
  }
}

class StreamReadError extends Error {}
class StreamTooLongError extends Error {}

/**
 * INSTREAM of an open descriptor, cut at StreamMaxLength — or, for a file about to be
 * quarantined (`refuseOverLimit`), refused when longer, since a verdict on part of a file must
 * not decide its fate.
 */
async function streamDescriptor(
  connection: ClamdClientConnection,
  settings: RequestSettings,
  fd: number,
  displayName: string | undefined,
  refuseOverLimit: boolean,
): Promise<SendResult> {
  const { out, maxStream } = settings;
  const name = displayName ?? 'STDIN';
  const tooLong = `${name}: File size exceeds StreamMaxLength; refusing to send a truncated quarantine stream. ERROR`;
  if (refuseOverLimit) {
    const stats = fstatSync(fd);
    if (stats.isFile() && stats.size > maxStream) {
      out.error(tooLong);
      return 0;
    }
  }
  try {
    await connection.sendStream(readChunks(fd, maxStream, refuseOverLimit), {
      maxBytes: refuseOverLimit ? undefined : maxStream,
    });
    return 1;
  } catch (error) {
    if (error instanceof StreamReadError) {
      out.error(`Failed to read from ${name}.`);
      return refuseOverLimit ? -1 : 0;
    }
    if (error instanceof StreamTooLongError) {
      out.error(tooLong);
      return -1;
    }
    out.error(`Can't send to clamd: ${errnoMessage(error)}`);
    return -1;
  }
}

/**
 * The descriptor's bytes from the start (standard input from where it is), in clamdscan's chunk
 * size. With `refuseOverLimit`, data beyond `limit` is an error instead of being left out.
 * Regular files are read synchronously, as clamdscan reads them: a small file then goes out in
 * one piece, before clamd can answer (see `sendStream`). Pipes are read without blocking.
 */
async function* readChunks(fd: number, limit: number, refuseOverLimit: boolean): AsyncGenerator<Uint8Array> {
  const regular = fstatSync(fd).isFile();
  let position = 0;
  let total = 0;
  for (;;) {
    // A new buffer each time: the socket keeps a chunk until it is written.
    const buffer = Buffer.allocUnsafe(STREAM_CHUNK_BYTES);
    const at = fd === 0 ? null : position;
    let length: number;
    try {
      length = regular ? readSync(fd, buffer, 0, buffer.length, at) : await readAsync(fd, buffer, at);
    } catch {
      throw new StreamReadError();
    }
    if (length === 0) return;
    position += length;
    total += length;
    if (refuseOverLimit && total > limit) throw new StreamTooLongError();
    yield buffer.subarray(0, length);
    if (!refuseOverLimit && total >= limit) return;
  }
}

function readAsync(fd: number, buffer: Buffer, position: number | null): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, buffer.length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
  });
}

/** FILDES of a file clamdscan opens (or of standard input). */
async function passFile(connection: ClamdClientConnection, settings: RequestSettings, file: string | undefined): Promise<SendResult> {
  if (file === undefined) return passDescriptor(connection, settings, 0);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    settings.out.info(`${file}: Failed to open file`);
    return 0;
  }
  try {
    return await passDescriptor(connection, settings, fd);
  } finally {
    closeSync(fd);
  }
}

async function passDescriptor(connection: ClamdClientConnection, settings: RequestSettings, fd: number): Promise<SendResult> {
  const { out, fdSender } = settings;
  const sent = await sendOrReport(out, () => connection.sendCommand('FILDES'));
  if (sent !== 1) return sent;
  try {
    connection.passDescriptor(fd, fdSender!);
    return 1;
  } catch (error) {
    out.error(`FD send failed: ${errnoMessage(error)}`);
    return -1;
  }
}

/**
 * Opens a file to be scanned and then quarantined (ClamAV's action source): its real path,
 * without following a symlink swapped in meanwhile, and only if it is a regular file.
 * Undefined when that fails (ClamAV reports CL_EOPEN).
 */
export function openActionSource(displayPath: string, realPath: string): ActionSource | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(realPath, constants.O_RDONLY | constants.O_NOFOLLOW);
    if (fstatSync(fd).isFile()) return { fd, displayPath };
  } catch {
    // Reported by the caller like any other failure to open.
  }
  if (fd !== undefined) closeSync(fd);
  return undefined;
}
