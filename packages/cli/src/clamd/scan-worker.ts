/**
 * A clamd worker thread: scans files, descriptors and buffers with engines that live in shared
 * memory (rebuilt here with engineFromShared, never copied). The main thread drives everything
 * else (walks, replies, logs); a worker only answers "scan this" messages.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { engineFromShared, isClamError, readForScan, Scanner, type ClamErrorCode, type Engine, type Logger, type ScanOptions, type ScanSwitch } from '@clamts/core';
import type { EngineMessage, ScanReply, ScanRequest, WorkerData, WorkerMessage } from './worker-messages.js';

const data = workerData as WorkerData;
const engines = new Map<number, Engine>();
for (const { generation, descriptor } of data.engines) engines.set(generation, engineFromShared(descriptor));
/** The scanners of each engine generation, one per kind of scan, each with its cache of clean results. */
const scanners = new Map<number, Map<string, Scanner>>();

const port = parentPort;
if (!port) throw new Error('scan-worker must run in a worker thread');

/** The engine's messages go to the main thread, which owns the terminal. */
const logger: Logger = {
  error: (message) => port.postMessage({ type: 'log', level: 'error', message } satisfies EngineMessage),
  warning: (message) => port.postMessage({ type: 'log', level: 'warning', message } satisfies EngineMessage),
  debug: (message) => port.postMessage({ type: 'log', level: 'debug', message } satisfies EngineMessage),
  debugEnabled: data.debug,
};

/** Every handler, for RAWSCAN. */
const ALL_HANDLERS: ReadonlySet<ScanSwitch> = new Set<ScanSwitch>(['archive', 'mail', 'ole2', 'pdf', 'html', 'xmldocs', 'pe', 'elf', 'swf', 'hwp3', 'onenote', 'image']);

port.on('message', (message: WorkerMessage) => {
  switch (message.type) {
    case 'engine':
      engines.set(message.generation, engineFromShared(message.descriptor));
      return;
    case 'drop':
      engines.delete(message.generation);
      scanners.delete(message.generation);
      return;
    case 'scan':
      port.postMessage(scan(message));
      return;
  }
});

/** An error the reply reports: a cl_error_t code, or EACCES for clamd's "Access denied.". */
class ScanFailure extends Error {
  constructor(readonly code: ClamErrorCode | 'EACCES') {
    super(code);
  }
}

function scan(request: ScanRequest): ScanReply {
  const reply: ScanReply = { type: 'result', id: request.id, viruses: [] };
  const scanner = scannerFor(request);
  try {
    const content = contentOf(request.target, scanner.options);
    reply.viruses = scanner.scanBuffer(content).viruses;
    if (request.fingerprint && reply.viruses.length > 0) {
      reply.fingerprint = { md5: createHash('md5').update(content).digest('hex'), size: content.length };
    }
  } catch (error) {
    if (error instanceof ScanFailure) reply.error = error.code;
    else if (isClamError(error)) reply.error = error.code;
    else throw error;
  }
  return reply;
}

function scannerFor({ generation, allMatch, raw }: ScanRequest): Scanner {
  const engine = engines.get(generation);
  if (!engine) throw new Error(`engine generation ${generation} is not loaded`);
  let ofEngine = scanners.get(generation);
  if (!ofEngine) scanners.set(generation, (ofEngine = new Map()));
  const kind = `${allMatch}:${raw}`;
  let scanner = ofEngine.get(kind);
  if (!scanner) {
    const options: ScanOptions = {
      ...data.scanOptions,
      logger,
      allMatch,
      disabledHandlers: raw ? ALL_HANDLERS : data.scanOptions.disabledHandlers,
    };
    ofEngine.set(kind, (scanner = new Scanner(engine, options)));
  }
  return scanner;
}

function contentOf(target: ScanRequest['target'], options: ScanOptions): Uint8Array {
  if (target.kind === 'buffer') return target.data;
  if (target.kind === 'descriptor') return readDescriptor(target.fd, options);
  let fd: number;
  try {
    fd = openSync(Buffer.from(target.path, 'latin1'), 'r');
  } catch (error) {
    throw new ScanFailure((error as NodeJS.ErrnoException).code === 'EACCES' ? 'EACCES' : 'EOPEN');
  }
  try {
    return readDescriptor(fd, options);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a descriptor with positional reads (a passed descriptor shares its offset with the
 * client, which must not move) and only up to one byte past MaxFileSize: enough for the scanner
 * to see that the file is too large without reading all of it. A large file goes to file-backed
 * memory, as in clamscan (see readForScan).
 */
function readDescriptor(fd: number, options: ScanOptions): Uint8Array {
  try {
    const limit = options.limits.maxFileSize > 0 ? options.limits.maxFileSize + 1 : Number.MAX_SAFE_INTEGER;
    return readForScan(fd, Math.min(fstatSync(fd).size, limit), options.temporaryDirectory);
  } catch {
    throw new ScanFailure('EREAD');
  }
}
