/**
 * Loads and compiles a database directory off the main thread, for clamd's start and reloads.
 * The engine is sent back in shared memory; the loader's messages are forwarded as they come.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadEngineCached, type LoadOptions, type SharedEngineDescriptor } from '@clamts/core';
import type { EngineLogLevel } from './engines.js';

export interface LoadRequest {
  readonly directory: string;
  readonly options: Omit<LoadOptions, 'logger'>;
  readonly debug: boolean;
}

export type LoadReply =
  | { readonly type: 'log'; readonly level: EngineLogLevel; readonly message: string }
  | { readonly type: 'loaded'; readonly descriptor: SharedEngineDescriptor }
  | { readonly type: 'failed'; readonly code: string; readonly message: string; readonly path?: string };

const port = parentPort;
if (port) {
  const request = workerData as LoadRequest;
  const send = (reply: LoadReply) => port.postMessage(reply);
  const forward = (level: EngineLogLevel) => (message: string) => send({ type: 'log', level, message });
  const logger = { error: forward('error'), warning: forward('warning'), debug: forward('debug'), debugEnabled: request.debug };
  // From the engine cache when it holds this database: its shared memory goes to clamd as it is.
  const loaded = await loadEngineCached([request.directory], { ...request.options, logger });
  if (loaded.ok) {
    const { descriptor } = loaded;
    // The descriptor has every target's matcher, built for the scan threads: all are cached.
    // Before the reply: clamd ends this thread when it has the engine.
    loaded.saveCache();
    send({ type: 'loaded', descriptor });
  } else {
    const { error } = loaded;
    // As clamd: a signature that fails to compile is a "Database initialization error".
    const message = loaded.stage === 'compile' ? `Database initialization error: ${error.message}` : error.message;
    send({ type: 'failed', code: error.code, message, path: error.path });
  }
}
