/**
 * A private real ClamAV clamd for tests: its own temp directory, LocalSocket there, TCPSocket on a
 * free 127.0.0.1 port, Foreground, a small database — never the system service. When the tests
 * run as root, clamd drops to the clamav account (User), so that files only root may read give
 * clamd's permission errors while the client can still open them (the point of --fdpass).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAVE_REAL_CLAMD = ['clamd', 'clamdscan'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);

/** Drop clamd to this account when running as root, if it exists. */
const DAEMON_USER = process.getuid?.() === 0 && spawnSync('id', ['clamav']).status === 0 ? 'clamav' : undefined;

/** The account's uid and gid, for the directory clamd creates its socket in. */
function accountIds(user: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface RealClamd {
  /** The temp directory that holds everything (world-readable, so the daemon's account can enter it). */
  readonly dir: string;
  readonly socket: string;
  readonly port: number;
  /** clamd.conf of this daemon; clamdscan reads it too. */
  readonly config: string;
  /** Whether clamd runs under another account than the tests. */
  readonly dropsPrivileges: boolean;
  /** Writes another clamd.conf for clients (same daemon, other connection settings). */
  clientConfig(name: string, lines: readonly string[]): string;
  stop(): Promise<void>;
}

export interface ClamdSetup {
  /** Database files: name → content. */
  readonly database: Record<string, string>;
  /** More clamd.conf lines. */
  readonly extraConfig?: readonly string[];
}

export async function startRealClamd(setup: ClamdSetup): Promise<RealClamd> {
  const dir = mkdtempSync(join(tmpdir(), 'clamts-realclamd-'));
  chmodSync(dir, 0o755);
  const databaseDir = join(dir, 'db');
  mkdirSync(databaseDir, { mode: 0o755 });
  for (const [name, content] of Object.entries(setup.database)) writeFileSync(join(databaseDir, name), content, { mode: 0o644 });
  // clamd binds its socket after dropping privileges: the directory must be its own.
  const runDir = join(dir, 'run');
  mkdirSync(runDir, { mode: 0o755 });
  if (DAEMON_USER) {
    const { uid, gid } = accountIds(DAEMON_USER);
    chownSync(runDir, uid, gid);
  }
  const socket = join(runDir, 'clamd.sock');
  const port = await freePort();
  const config = join(dir, 'clamd.conf');
  const lines = [
    `LocalSocket ${socket}`,
    `TCPSocket ${port}`,
    'TCPAddr 127.0.0.1',
    'Foreground yes',
    `DatabaseDirectory ${databaseDir}`,
    ...(DAEMON_USER ? [`User ${DAEMON_USER}`] : []),
    ...(setup.extraConfig ?? []),
  ];
  writeFileSync(config, `${lines.join('\n')}\n`, { mode: 0o644 });

  const child = spawn('clamd', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  try {
    await waitForPong(socket, child, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    dir,
    socket,
    port,
    config,
    dropsPrivileges: DAEMON_USER !== undefined,
    clientConfig(name, clientLines) {
      const path = join(dir, name);
      writeFileSync(path, `${clientLines.join('\n')}\n`);
      return path;
    },
    async stop() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls the socket with PING until clamd answers (it listens only once the database is loaded). */
async function waitForPong(socket: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`clamd exited with ${child.exitCode}: ${stderr()}`);
    if ((await ping(socket)) === 'PONG') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`clamd did not come up: ${stderr()}`);
}

function ping(socket: string): Promise<string> {
  return new Promise((resolve) => {
    const connection = createConnection(socket);
    let reply = '';
    connection.on('connect', () => connection.write('zPING\0'));
    connection.on('data', (data) => (reply += data.toString()));
    connection.on('close', () => resolve(reply.replace(/\0$/, '')));
    connection.on('error', () => resolve(''));
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
