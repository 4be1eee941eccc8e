import { lookup } from 'node:dns/promises';
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { errnoMessage } from '@clamts/core';
import type { DaemonLogger } from './logger.js';

/** A listening socket and what it is, for the log and for FILDES. */
export interface Listener {
  readonly server: Server;
  readonly kind: 'local' | 'tcp';
}

export type ConnectionHandler = (socket: Socket, listener: Listener) => void;

/** Thrown when a socket cannot be set up; the message has been logged already. */
export class ListenError extends Error {}

function newServer(onConnection: ConnectionHandler, kind: Listener['kind']): Listener {
  // Unix sockets are read by the descriptor-passing reader, so Node must never start reading them;
  // both kinds stay open for writing after the client shuts its side down, as clamd's do.
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
  const listener: Listener = { server, kind };
  server.on('connection', (socket) => onConnection(socket, listener));
  return listener;
}

function listen(server: Server, options: { path?: string; host?: string; port?: number; backlog: number; ipv6Only?: boolean }): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onError = (error: NodeJS.ErrnoException) => resolve(error);
    server.once('error', onError);
    server.listen({ ...options, exclusive: true }, () => {
      server.off('error', onError);
      resolve(undefined);
    });
  });
}

/** Parses LocalSocketMode (octal), or undefined when it is not a valid one. */
function socketMode(text: string): number | undefined {
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

/** The LocalSocket listener (clamd's localserver()): stale sockets, directory, mode and group. */
export async function listenLocal(
  path: string,
  options: { mode?: string; group?: string; fixStale: boolean; backlog: number },
  onConnection: ConnectionHandler,
  logger: DaemonLogger,
): Promise<Listener> {
  const fail = (message: string): never => {
    logger.error(message);
    throw new ListenError(message);
  };
  const mode = options.mode === undefined ? 0o777 : (socketMode(options.mode) ?? fail(`Invalid LocalSocketMode ${options.mode}`));
  createSocketDirectory(path, mode, logger);

  const listener = newServer(onConnection, 'local');
  let error = await listen(listener.server, { path, backlog: options.backlog });
  if (error?.code === 'EADDRINUSE') {
    if (await someoneListens(path)) fail(`LOCAL: Socket file ${path} is in use by another process.`);
    if (!options.fixStale) fail(`LOCAL: Socket file ${path} exists. Either remove it, or configure a different one.`);
    logger.log('info-nf', `LOCAL: Removing stale socket file ${path}`);
    try {
      unlinkSync(path);
    } catch (unlinkError) {
      fail(`LOCAL: Socket file ${path} could not be removed: ${errnoMessage(unlinkError)}`);
    }
    error = await listen(listener.server, { path, backlog: options.backlog });
    if (error) fail(`LOCAL: Socket file ${path} could not be bound: ${errnoMessage(error)} (unlink tried)`);
  } else if (error) {
    fail(`LOCAL: Socket file ${path} could not be bound: ${errnoMessage(error)}`);
  }
  logger.log('info-nf', `LOCAL: Unix socket file ${path}`);
  logger.log('info-nf', `LOCAL: Setting connection queue length to ${options.backlog}`);

  if (options.group !== undefined) {
    const gid = /^\d+$/.test(options.group) ? Number(options.group) : groupId(options.group);
    if (gid === undefined) fail(`Unknown group ${options.group}`);
    try {
      chownSync(path, -1, gid as number);
    } catch {
      fail(`Failed to change socket ownership to group ${options.group}`);
    }
  }
  try {
    chmodSync(path, mode & 0o666);
  } catch {
    fail(`Cannot set socket permission for ${path} to ${(mode & 0o666).toString(8)}`);
  }
  return listener;
}

/** clamd creates a missing socket directory (one level) with the socket's mode. */
function createSocketDirectory(path: string, mode: number, logger: DaemonLogger): void {
  if (!/\/.*\//.test(path)) return;
  const directory = dirname(path);
  try {
    statSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return;
    const umask = process.umask(0o011);
    try {
      mkdirSync(directory, mode);
      logger.info(`Localserver: Creating socket directory: ${directory}`);
    } catch (mkdirError) {
      logger.error(`LOCAL: Could not create socket directory: ${directory}: ${errnoMessage(mkdirError)}`);
      if ((mkdirError as NodeJS.ErrnoException).code === 'ENOENT') logger.error('LOCAL: Ensure parent directory exists.');
    } finally {
      process.umask(umask);
    }
  }
}

function someoneListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** getgrnam() from /etc/group. */
function groupId(name: string): number | undefined {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [group, , gid] = line.split(':');
      if (group === name && gid !== undefined) return Number(gid);
    }
  } catch {
    // No group database: the group is unknown.
  }
  return undefined;
}

/**
 * The TCPSocket listeners (clamd's tcpserver()) for one TCPAddr (undefined or "all": every
 * interface). Each address the name resolves to gets its own socket; one that fails to bind is
 * logged and skipped, as in clamd.
 */
export async function listenTcp(
  address: string | undefined,
  port: number,
  backlog: number,
  onConnection: ConnectionHandler,
  logger: DaemonLogger,
): Promise<Listener[]> {
  let hosts: Array<{ address: string; family: number }>;
  if (address === undefined || address === 'all') {
    hosts = [
      { address: '0.0.0.0', family: 4 },
      { address: '::', family: 6 },
    ];
  } else {
    try {
      hosts = await lookup(address, { all: true });
    } catch (error) {
      const message = `TCP: getaddrinfo failed: ${(error as NodeJS.ErrnoException).code === 'ENOTFOUND' ? 'Name or service not known' : errnoMessage(error)}`;
      logger.error(message);
      throw new ListenError(message);
    }
  }
  const listeners: Listener[] = [];
  for (const host of hosts) {
    const listener = newServer(onConnection, 'tcp');
    const error = await listen(listener.server, { host: host.address, port, backlog, ipv6Only: host.family === 6 });
    if (error) {
      logger.error(`TCP: Cannot bind to [${host.address}]:${port}: ${errnoMessage(error)}`);
      continue;
    }
    logger.log('info-nf', `TCP: Bound to [${host.address}]:${port}`);
    logger.log('info-nf', `TCP: Setting connection queue length to ${backlog}`);
    listeners.push(listener);
  }
  return listeners;
}
