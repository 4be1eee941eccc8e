// Starting ClamTS's and ClamAV's clamd on private sockets for tests, and talking to them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLAMD_BIN = join(REPO_ROOT, 'bin/clamd');

/** A file the test database detects, and its signature's reported name. */
export const SAMPLE = Buffer.from('ClamTS clamd test sample: not a virus, just a known hash.\n');
export const SAMPLE_VIRUS = 'ClamTS.Test.Sample.UNOFFICIAL';

/** A named pipe (Node has no mkfifo()). */
export function makeFifo(path: string): void {
  if (spawnSync('mkfifo', [path]).status !== 0) throw new Error(`mkfifo ${path} failed`);
}

export function haveProgram(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** A scratch directory with a database that detects SAMPLE, and a small tree to scan. */
export class Workspace {
  readonly root = mkdtempSync(join(tmpdir(), 'clamts-clamd-'));
  readonly db = join(this.root, 'db');
  readonly files = join(this.root, 'files');

  constructor() {
    mkdirSync(this.db);
    mkdirSync(join(this.files, 'clean'), { recursive: true });
    const md5 = createHash('md5').update(SAMPLE).digest('hex');
    writeFileSync(join(this.db, 'test.hdb'), `${md5}:${SAMPLE.length}:ClamTS.Test.Sample\n`);
    writeFileSync(join(this.files, 'sample.bin'), SAMPLE);
    writeFileSync(join(this.files, 'clean', 'a.txt'), 'hello\n');
    writeFileSync(join(this.files, 'clean', 'b.txt'), 'world\n');
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface DaemonOptions {
  /** Extra clamd.conf lines. */
  readonly config?: readonly string[];
  /** Directory for socket, pid and log (default: a new one in the workspace). */
  readonly name?: string;
  readonly args?: readonly string[];
}

/** A clamd (ClamTS's or ClamAV's) running in the foreground for a test. */
export class RunningDaemon {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly process: ChildProcess,
    readonly dir: string,
    readonly socket: string,
    readonly port: number,
  ) {
    process.stdout?.on('data', (data: Buffer) => (this.stdout += data.toString('latin1')));
    process.stderr?.on('data', (data: Buffer) => (this.stderr += data.toString('latin1')));
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
  }

  get log(): string {
    const file = join(this.dir, 'clamd.log');
    return existsSync(file) ? readFileSync(file, 'latin1') : '';
  }

  get pidFile(): string {
    return join(this.dir, 'clamd.pid');
  }

  /** SIGTERM and wait for the exit status. */
  async stop(): Promise<number | null> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 20000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Writes a config for a daemon in `dir` and returns its path. */
export function writeConfig(workspace: Workspace, dir: string, port: number, extra: readonly string[] = []): string {
  mkdirSync(dir, { recursive: true });
  const lines = [
    `LocalSocket ${join(dir, 'clamd.sock')}`,
    `TCPSocket ${port}`,
    'TCPAddr 127.0.0.1',
    'Foreground yes',
    `DatabaseDirectory ${workspace.db}`,
    `PidFile ${join(dir, 'clamd.pid')}`,
    `LogFile ${join(dir, 'clamd.log')}`,
    ...extra,
  ];
  const path = join(dir, 'clamd.conf');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function startDaemon(command: string, args: string[], workspace: Workspace, options: DaemonOptions): Promise<RunningDaemon> {
  const dir = workspace.path(options.name ?? `daemon-${Math.random().toString(36).slice(2, 8)}`);
  const port = await freePort();
  const config = writeConfig(workspace, dir, port, options.config);
  const child = spawn(command, [...args, '-c', config, ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TZ: 'UTC' },
  });
  const daemon = new RunningDaemon(child, dir, join(dir, 'clamd.sock'), port);
  await waitUntilServing(daemon);
  return daemon;
}

/** ClamTS's clamd (bin/clamd). */
export function startClamTS(workspace: Workspace, options: DaemonOptions = {}): Promise<RunningDaemon> {
  return startDaemon(process.execPath, [CLAMD_BIN], workspace, options);
}

/** ClamAV's clamd from PATH. */
export function startClamAV(workspace: Workspace, options: DaemonOptions = {}): Promise<RunningDaemon> {
  return startDaemon('clamd', [], workspace, options);
}

async function waitUntilServing(daemon: RunningDaemon): Promise<void> {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (daemon.process.exitCode !== null) {
      throw new Error(`clamd exited with ${daemon.process.exitCode}: ${daemon.stderr}${daemon.stdout}`);
    }
    if (existsSync(daemon.socket)) {
      const reply = await exchange(daemon.socket, 'zPING\0', { timeout: 2000 }).catch(() => undefined);
      if (reply?.toString() === 'PONG\0<EOF>') return;
    }
    await sleep(50);
  }
  throw new Error(`clamd did not start: ${daemon.stderr}`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every `interval` ms until it holds or `timeout` ms have passed; returns whether it held. */
export async function waitFor(condition: () => boolean, timeout: number, interval = 20): Promise<boolean> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(interval);
  }
}

export type Target = string | { host: string; port: number };

export function connectTo(target: Target): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = typeof target === 'string' ? connect(target) : connect(target.port, target.host);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Sends `parts` (strings are byte strings; numbers are pauses in ms) and collects everything the
 * daemon sends back until it closes the connection or `timeout` ms pass without it closing. The
 * result ends with `<EOF>` or `<TIMEOUT>`.
 */
export async function exchange(target: Target, parts: string | ReadonlyArray<string | number | Buffer>, options: { timeout?: number } = {}): Promise<Buffer> {
  const socket = await connectTo(target);
  const received: Buffer[] = [];
  const done = new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve('<TIMEOUT>'), options.timeout ?? 3000);
    socket.on('data', (data) => received.push(data));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve('<EOF>');
    });
    socket.on('error', () => undefined);
  });
  for (const part of typeof parts === 'string' ? [parts] : parts) {
    if (typeof part === 'number') await sleep(part);
    else if (!socket.destroyed) socket.write(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
  }
  const end = await done;
  socket.destroy();
  return Buffer.concat([...received, Buffer.from(end)]);
}

/** An INSTREAM body: the data in one chunk and the zero-length end. */
export function instreamBody(data: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(data.length);
  return Buffer.concat([header, data, Buffer.alloc(4)]);
}
