/**
 * A scripted stand-in for clamd on a unix socket, for the replies a healthy clamd never gives
 * (garbage, overlong lines, bogus session ids, connections dropped half-way). Each command the
 * client sends is handed to the script with the connection, which answers as it likes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeCommand {
  /** The command without its `z` and NUL. */
  readonly text: string;
  /** For INSTREAM: the streamed bytes (read up to the end-of-stream chunk). */
  readonly data?: Buffer;
  /** Within an IDSESSION, the number clamd would give this request. */
  readonly id?: number;
}

export type FakeScript = (command: FakeCommand, connection: Socket) => void;

export interface FakeClamd {
  readonly dir: string;
  /** A clamd.conf pointing clients at the fake. */
  readonly config: string;
  close(): Promise<void>;
}

export async function startFakeClamd(script: FakeScript): Promise<FakeClamd> {
  const dir = mkdtempSync(join(tmpdir(), 'clamts-fakeclamd-'));
  const socket = join(dir, 'clamd.sock');
  const config = join(dir, 'clamd.conf');
  writeFileSync(config, `LocalSocket ${socket}\n`);
  const server: Server = createServer((connection) => serve(connection, script));
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    dir,
    config,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

/** Splits the client's bytes into commands (and INSTREAM data) and runs the script on each. */
function serve(connection: Socket, script: FakeScript): void {
  let buffer = Buffer.alloc(0);
  let session = false;
  let nextId = 1;
  connection.on('error', () => {});
  connection.on('data', (data: Buffer) => {
    buffer = Buffer.concat([buffer, data]);
    for (;;) {
      const end = buffer.indexOf(0);
      if (end < 0 || buffer[0] !== 0x7a) return;
      const text = buffer.toString('utf8', 1, end);
      let rest = buffer.subarray(end + 1);
      let streamed: Buffer | undefined;
      if (text === 'INSTREAM') {
        const chunks: Buffer[] = [];
        let offset = 0;
        for (;;) {
          if (rest.length < offset + 4) return; // wait for more
          const length = rest.readUInt32BE(offset);
          if (length === 0) break;
          if (rest.length < offset + 4 + length) return;
          chunks.push(rest.subarray(offset + 4, offset + 4 + length));
          offset += 4 + length;
        }
        streamed = Buffer.concat(chunks);
        rest = rest.subarray(offset + 4);
      } else if (text === 'FILDES') {
        if (rest.length < 1) return;
        rest = rest.subarray(1); // the byte that carried the descriptor
      }
      buffer = rest;
      if (text === 'IDSESSION') {
        session = true;
        continue;
      }
      const id = session && text !== 'END' ? nextId++ : undefined;
      script({ text, data: streamed, id }, connection);
    }
  });
}

export interface AsyncRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a program without blocking the event loop (the fake daemon lives in this process). */
export function runAsync(command: string, args: readonly string[], options: { cwd?: string; input?: string } = {}): Promise<AsyncRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, TZ: 'UTC' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString('latin1')));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString('latin1')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
    // A program that does not read its input may exit before it is written (EPIPE): that is
    // not the test's concern.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', () => clearTimeout(timer));
  });
}
