import { createServer, type Server, type Socket } from 'node:net';

/**
 * The data side of the legacy STREAM command (removed in ClamAV 0.99, served again for old
 * clients): clamd listens on a free port between StreamMinPort and StreamMaxPort, replies
 * `PORT n`, and reads what the client sends there until it closes the connection.
 */
export interface PortStreamOptions {
  readonly minPort: number;
  readonly maxPort: number;
  /** Where to listen: the address the client reached clamd on (127.0.0.1 for a Unix socket). */
  readonly host: string;
  /** Seconds to wait for the data connection (CommandReadTimeout) and between reads (ReadTimeout). */
  readonly acceptTimeout: number;
  readonly readTimeout: number;
  /** StreamMaxLength: data beyond it is not read; what came is scanned. */
  readonly maxLength: number;
  /** Called with the port before waiting for the client. */
  readonly announce: (port: number) => void;
}

export type PortStreamResult =
  | { readonly ok: true; readonly data: Buffer; readonly peer: string; readonly port: number; readonly truncated: boolean }
  | { readonly ok: false; readonly reply: string; readonly log: string };

/** How many ports are tried before giving up, as in clamd. */
const PORT_ATTEMPTS = 1000;

export async function receivePortStream(options: PortStreamOptions): Promise<PortStreamResult> {
  const bound = await bindFreePort(options);
  if (!bound) return { ok: false, reply: "Can't find any free port.", log: "ScanStream: Can't find any free port." };
  const { server, port } = bound;
  try {
    options.announce(port);
    const socket = await accept(server, options.acceptTimeout);
    if (!socket) return { ok: false, reply: 'Accept timeout.', log: `ScanStream ${port}: accept timeout.` };
    const peer = socket.remoteAddress ?? '';
    const received = await readAll(socket, options);
    if (!received) return { ok: false, reply: 'read timeout', log: `ScanStream(${peer}@${port}): read timeout.` };
    return { ok: true, data: received.data, peer, port, truncated: received.truncated };
  } finally {
    server.close();
  }
}

async function bindFreePort(options: PortStreamOptions): Promise<{ server: Server; port: number } | undefined> {
  const span = options.maxPort - options.minPort + 1;
  const start = Math.floor(Math.random() * span);
  for (let attempt = 0; attempt < Math.min(PORT_ATTEMPTS, span); attempt++) {
    const port = options.minPort + ((start + attempt) % span);
    const server = createServer({ pauseOnConnect: true });
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen({ port, host: options.host, backlog: 1, exclusive: true }, () => resolve(true));
    });
    if (listening) return { server, port };
    server.close();
  }
  return undefined;
}

function accept(server: Server, timeoutSeconds: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutSeconds * 1000);
    server.once('connection', (socket) => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/** Reads until the client closes; undefined if it stalls for longer than ReadTimeout. */
function readAll(socket: Socket, options: PortStreamOptions): Promise<{ data: Buffer; truncated: boolean } | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout;
    const finish = (result: { data: Buffer; truncated: boolean } | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(undefined), options.readTimeout * 1000);
    };
    socket.on('data', (chunk: Buffer) => {
      const room = options.maxLength - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      if (size >= options.maxLength) finish({ data: Buffer.concat(chunks, size), truncated: true });
      else arm();
    });
    socket.on('end', () => finish({ data: Buffer.concat(chunks, size), truncated: false }));
    socket.on('error', () => finish({ data: Buffer.concat(chunks, size), truncated: false }));
    arm();
    socket.resume();
  });
}
