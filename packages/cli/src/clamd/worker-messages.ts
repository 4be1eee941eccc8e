import type { ClamErrorCode, ScanOptions, SharedEngineDescriptor } from '@clamts/core';

/** What a scan worker is started with. */
export interface WorkerData {
  /** Every engine generation that jobs may still ask for. */
  readonly engines: ReadonlyArray<{ readonly generation: number; readonly descriptor: SharedEngineDescriptor }>;
  /** The daemon's scan options (limits, heuristics, handlers), without the logger, which stays here. */
  readonly scanOptions: Omit<ScanOptions, 'logger'>;
  /** Forward the engine's debug messages. */
  readonly debug: boolean;
}

/** What a worker is asked to scan. Paths are byte strings. */
export type ScanTarget =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'descriptor'; readonly fd: number }
  | { readonly kind: 'buffer'; readonly data: Uint8Array };

export interface ScanRequest {
  readonly type: 'scan';
  readonly id: number;
  readonly generation: number;
  readonly target: ScanTarget;
  readonly allMatch: boolean;
  /** RAWSCAN: no container or document handler runs. */
  readonly raw: boolean;
  /** Also return the MD5 and size of what was found infected (ExtendedDetectionInfo). */
  readonly fingerprint: boolean;
}

export type WorkerMessage =
  | ScanRequest
  | { readonly type: 'engine'; readonly generation: number; readonly descriptor: SharedEngineDescriptor }
  | { readonly type: 'drop'; readonly generation: number };

/** A message of the engine raised while scanning (libclamav's cli_errmsg/cli_warnmsg/cli_dbgmsg). */
export interface EngineMessage {
  readonly type: 'log';
  readonly level: 'error' | 'warning' | 'debug';
  readonly message: string;
}

export interface ScanReply {
  readonly type: 'result';
  readonly id: number;
  viruses: string[];
  /** Why the object could not be scanned: a cl_error_t code, or EACCES ("Access denied."). */
  error?: ClamErrorCode | 'EACCES';
  fingerprint?: { readonly md5: string; readonly size: number };
}
