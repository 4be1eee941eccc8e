import { lookup } from 'node:dns/promises';
import { createServer, isIP } from 'node:net';
import {
  CLAMDSCAN_REPLY_LIMIT,
  ClamdClientConnection,
  errnoMessage,
  resolverMessage,
  type ClamdEndpoint,
  type Config,
} from '@clamts/core/client';
import type { ToolOutput } from '../common/output.js';

/** sockaddr_un holds 108 bytes: clamdscan copies the LocalSocket path into it, cut to 107. */
const SUN_PATH_BYTES = 107;

/**
 * How clamdscan reaches clamd, from clamd.conf: the LocalSocket when there is one, else TCP on
 * TCPSocket at the first TCPAddr. These are the rules of ClamAV 1.4's clamdscan, including its
 * quirks: a failed LocalSocket falls through to TCP, only the first TCPAddr is ever connected to
 * (the others only matter to the "is clamd remote?" test), and TCP needs a TCPAddr at all.
 */
export class DaemonLink {
  private readonly localSocket: string | undefined;
  /** TCPSocket as clamdscan formats it into the service string ("-1" when unset). */
  private readonly service: string;
  private readonly tcpEnabled: boolean;
  /** Every TCPAddr, or [undefined] when none is set (the wildcard). */
  private readonly tcpAddresses: readonly (string | undefined)[];

  constructor(
    config: Config,
    private readonly out: ToolOutput,
  ) {
    this.localSocket = config.isEnabled('LocalSocket') ? config.getString('LocalSocket') : undefined;
    this.service = String(config.getNumber('TCPSocket'));
    this.tcpEnabled = config.isEnabled('TCPSocket');
    const addresses = config.getStrings('TCPAddr');
    this.tcpAddresses = addresses.length > 0 ? addresses : [undefined];
  }

  /** clamd.conf names a LocalSocket (FILDES is possible). */
  get hasLocalSocket(): boolean {
    return this.localSocket !== undefined;
  }

  /**
   * Whether clamd runs on another machine, so that it cannot open the files itself and they
   * must be streamed: an address of TCPAddr that this host cannot bind to is not ours.
   */
  async isRemote(): Promise<boolean> {
    if (this.localSocket !== undefined || !this.tcpEnabled) return false;
    for (const address of this.tcpAddresses) {
      const host = address === 'any' ? undefined : address;
      if (host === undefined) continue; // the wildcard address is always ours
      let addresses: string[];
      try {
        addresses = await resolve(host, this.service);
      } catch (error) {
        this.out.error(`Can't lookup clamd hostname: ${resolverMessage(error)}`);
        continue;
      }
      for (const ip of addresses) {
        if (!(await canBind(ip))) return true;
      }
    }
    return false;
  }

  /** A connection to clamd, or undefined after reporting why there is none. */
  async connect(): Promise<ClamdClientConnection | undefined> {
    if (this.localSocket !== undefined) {
      const path = Buffer.from(this.localSocket).subarray(0, SUN_PATH_BYTES).toString();
      try {
        return await open({ path });
      } catch (error) {
        this.out.error(`Could not connect to clamd on LocalSocket ${this.localSocket}: ${errnoMessage(error)}`);
      }
    }
    const first = this.tcpAddresses[0];
    if (first === undefined) return undefined;
    const host = first === 'any' ? undefined : first;
    let addresses: string[];
    try {
      addresses = await resolve(host, this.service);
    } catch (error) {
      this.out.error(`Could not lookup ${host ?? ''}: ${resolverMessage(error)}`);
      return undefined;
    }
    const port = Number(this.service) & 0xffff;
    for (const ip of addresses) {
      try {
        return await open({ host: ip, port });
      } catch (error) {
        this.out.error(`Could not connect to clamd on ${first}: ${errnoMessage(error)}`);
      }
    }
    return undefined;
  }
}

function open(endpoint: ClamdEndpoint): Promise<ClamdClientConnection> {
  return ClamdClientConnection.connect(endpoint, { maxReplyBytes: CLAMDSCAN_REPLY_LIMIT });
}

/**
 * getaddrinfo(host, service) as glibc does it for clamdscan: the service is a number that must
 * not be negative once read as an int (TCPSocket unset gives "-1"); no host means loopback.
 */
async function resolve(host: string | undefined, service: string): Promise<string[]> {
  if (Number(service) < 0) throw Object.assign(new Error('bad service'), { code: 'EAI_SERVICE' });
  if (host === undefined) return ['::1', '127.0.0.1'];
  if (isIP(host)) return [host];
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((entry) => entry.address);
}

/** Binding a listening socket to `ip` (any port) succeeds only for this host's addresses. */
function canBind(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: ip, port: 0, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

