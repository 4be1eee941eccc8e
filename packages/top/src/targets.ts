import { accessSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { ClamdEndpoint, Config } from '@clamts/core/client';

/** clamd's port when an address names none. */
export const DEFAULT_PORT = '3310';

/** One daemon clamdtop watches. */
export interface DaemonTarget {
  /** The address as given (or built from clamd.conf): what messages name. */
  readonly address: string;
  /** The HOST column: `local` for a unix socket, `host:port` (`[v6]:port`) for TCP. */
  readonly label: string;
  /**
   * Where to connect; for TCP the host is resolved when connecting, and a port that was written
   * as no number at all is NaN (connecting then fails, as getaddrinfo fails for ClamAV).
   */
  readonly endpoint: ClamdEndpoint;
  /** For TCP: the port as written (or the default), which messages show. */
  readonly service?: string;
}

/**
 * Reads a command-line address the way ClamAV's clamdtop does: an absolute path, or any name
 * that exists as a file, is a unix socket; anything else is `host`, `host:port`, `[v6]` or
 * `[v6]:port` — and a bare IPv6 address (more than one colon, no brackets) has no port.
 */
export function parseTarget(address: string, exists: (path: string) => boolean = fileExists): DaemonTarget {
  if (isAbsolute(address) || exists(address)) {
    return { address, label: 'local', endpoint: { path: address } };
  }
  const { host, port } = splitHostPort(address);
  const service = port ?? DEFAULT_PORT;
  const number = /^\d+$/.test(service) ? Number(service) : Number.NaN;
  return { address, label: joinHostPort(host, service), endpoint: { host, port: number }, service };
}

/**
 * The daemon clamd.conf describes, as an address for `parseTarget`: its LocalSocket, else
 * TCPSocket on the first TCPAddr (or localhost). Undefined when clamd listens on neither.
 */
export function addressFromConfig(config: Config): string | undefined {
  if (config.isEnabled('LocalSocket')) return config.getString('LocalSocket');
  if (!config.isEnabled('TCPSocket')) return undefined;
  const host = config.isEnabled('TCPAddr') ? config.getStrings('TCPAddr')[0]! : 'localhost';
  return joinHostPort(host, String(config.getNumber('TCPSocket')));
}

/** `host:port`, with an IPv6 address in brackets. */
export function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function splitHostPort(address: string): { host: string; port: string | undefined } {
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) return { host: address, port: undefined };
    const rest = address.slice(close + 1);
    return { host: address.slice(1, close), port: rest.startsWith(':') ? rest.slice(1) : undefined };
  }
  const colon = address.indexOf(':');
  if (colon < 0 || address.indexOf(':', colon + 1) >= 0) return { host: address, port: undefined };
  return { host: address.slice(0, colon), port: address.slice(colon + 1) };
}

function fileExists(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}
