// bin/clamd under stress and abuse: descriptor passing, the legacy STREAM command, VirusEvent,
// many clients at once, clients that stall or vanish, and no descriptors leaked afterwards.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLAMTS_VERSION } from '../../packages/core/src/engine/version.js';
import { connectTo, exchange, instreamBody, REPO_ROOT, SAMPLE, SAMPLE_VIRUS, sleep, startClamTS, waitFor, Workspace, type RunningDaemon } from './harness.js';

const workspace = new Workspace();
let daemon: RunningDaemon;
const events = workspace.path('events.txt');
/** Larger than the engine's spill threshold: read into file-backed memory in TemporaryDirectory. */
const LARGE = Buffer.alloc(20 * 1024 * 1024, 'ClamTS large sample ');
const temporaryDirectory = workspace.path('tmp');

/** The addon, when it was built (`pnpm install` builds it). */
function fdpass(): { sendFd(socketFd: number, fd: number): void } | undefined {
  try {
    return createRequire(import.meta.url)(join(REPO_ROOT, 'packages/fdpass/build/Release/fdpass.node'));
  } catch {
    return undefined;
  }
}

/**
 * The daemon's open sockets and files. Each worker thread's event loop has descriptors of its own
 * (an epoll, an eventfd, a pipe) that come and go with the thread: they are left out.
 */
function openDescriptors(): number {
  const dir = `/proc/${daemon.process.pid}/fd`;
  return readdirSync(dir).filter((fd) => {
    try {
      return !/^(anon_inode|pipe):/.test(readlinkSync(`${dir}/${fd}`));
    } catch {
      return false;
    }
  }).length;
}

before(async () => {
  mkdirSync(temporaryDirectory);
  writeFileSync(workspace.path('files', 'large.bin'), LARGE);
  writeFileSync(join(workspace.db, 'large.hdb'), `${createHash('md5').update(LARGE).digest('hex')}:${LARGE.length}:ClamTS.Test.Large\n`);
  daemon = await startClamTS(workspace, {
    config: [
      `TemporaryDirectory ${temporaryDirectory}`,
      'StreamMaxLength 1M',
      'CommandReadTimeout 1',
      'ReadTimeout 2',
      'MaxThreads 4',
      // Room in the kernel's queue for all 500 connections of the load test at once: with the
      // default (200) a busy machine refuses some with EAGAIN before clamd can accept them.
      'MaxConnectionQueueLength 1000',
      'StreamMinPort 30000',
      'StreamMaxPort 30999',
      `VirusEvent echo "$CLAM_VIRUSEVENT_VIRUSNAME $CLAM_VIRUSEVENT_FILENAME %v" >> ${events}`,
    ],
  });
});
after(async () => {
  assert.equal(await daemon.stop(), 0);
  workspace.remove();
});

describe('clamd FILDES', { skip: fdpass() ? false : 'the fdpass addon is not built' }, () => {
  async function sendDescriptor(command: string, fd: number): Promise<string> {
    const socket = await connectTo(daemon.socket);
    const reply = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (data) => (text += data.toString('latin1')));
      socket.on('close', () => resolve(text));
    });
    socket.write(command);
    await sleep(50);
    (fdpass() as { sendFd(socketFd: number, fd: number): void }).sendFd((socket as unknown as { _handle: { fd: number } })._handle.fd, fd);
    return reply;
  }

  it('scans the file behind a passed descriptor, and refuses what is not a regular file', async () => {
    const fd = openSync(workspace.path('files', 'sample.bin'), 'r');
    try {
      assert.match(await sendDescriptor('zFILDES\0', fd), new RegExp(`^fd\\[\\d+\\]: ${SAMPLE_VIRUS.replace(/\./g, '\\.')} FOUND\0$`));
    } finally {
      closeSync(fd);
    }
    const directory = openSync(workspace.path('files'), 'r');
    try {
      assert.match(await sendDescriptor('nFILDES\n', directory), /^fd\[\d+\]: Not a regular file ERROR\n$/);
    } finally {
      closeSync(directory);
    }
  });
});

describe('clamd with large files', () => {
  it('scans a file larger than the spill threshold and leaves nothing in TemporaryDirectory', async () => {
    const path = workspace.path('files', 'large.bin');
    assert.equal((await exchange(daemon.socket, `nSCAN ${path}\n`)).toString(), `${path}: ClamTS.Test.Large.UNOFFICIAL FOUND\n<EOF>`);
    assert.deepEqual(readdirSync(temporaryDirectory), []);
  });
});

describe('clamd legacy STREAM', () => {
  it('replies PORT n and scans what arrives on that port', async () => {
    const socket = await connectTo({ host: '127.0.0.1', port: daemon.port });
    let text = '';
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.on('data', (data) => (text += data.toString('latin1')));
    socket.write('nSTREAM\n');
    while (!/PORT \d+\n/.test(text)) await sleep(20);
    const port = Number(/PORT (\d+)/.exec(text)?.[1]);
    assert.ok(port >= 30000 && port <= 30999);
    const data = connect(port, '127.0.0.1');
    await new Promise((resolve) => data.once('connect', resolve));
    data.end(SAMPLE);
    await closed;
    assert.equal(text, `PORT ${port}\nstream: ${SAMPLE_VIRUS} FOUND\n`);
  });
});

describe('clamd VirusEvent', () => {
  it('runs the command with the CLAM_VIRUSEVENT_* environment and %v', async () => {
    const sample = workspace.path('files', 'sample.bin');
    writeFileSync(events, '');
    await exchange(daemon.socket, `zSCAN ${sample}\0`);
    assert.equal(readFileSync(events, 'utf8'), `${SAMPLE_VIRUS} ${sample} ${SAMPLE_VIRUS}\n`);
  });
});

describe('clamd under load', () => {
  it('answers 500 concurrent connections, every one', async () => {
    const before = openDescriptors();
    const sample = workspace.path('files', 'sample.bin');
    const requests = Array.from({ length: 500 }, (_, i) => {
      switch (i % 4) {
        case 0:
          return exchange(daemon.socket, 'zPING\0', { timeout: 30000 }).then((reply) => [reply, 'PONG\0<EOF>']);
        case 1:
          return exchange({ host: '127.0.0.1', port: daemon.port }, `zSCAN ${sample}\0`, { timeout: 30000 }).then((reply) => [
            reply,
            `${sample}: ${SAMPLE_VIRUS} FOUND\0<EOF>`,
          ]);
        case 2:
          return exchange(daemon.socket, [Buffer.concat([Buffer.from('zINSTREAM\0'), instreamBody(SAMPLE)])], { timeout: 30000 }).then(
            (reply) => [reply, `stream: ${SAMPLE_VIRUS} FOUND\0<EOF>`],
          );
        default:
          return exchange(daemon.socket, 'zIDSESSION\0zPING\0zVERSION\0zEND\0', { timeout: 30000 }).then((reply) => [
            reply,
            `1: PONG\x002: ClamTS ${CLAMTS_VERSION}\0<EOF>`,
          ]);
      }
    });
    for (const [reply, expected] of await Promise.all(requests)) assert.equal(reply.toString('latin1'), expected);
    await sleep(200);
    assert.ok(openDescriptors() <= before + 2, `descriptors: ${before} before, ${openDescriptors()} after`);
  });

  it('never runs more than MaxThreads threads', async () => {
    const stats = (await exchange(daemon.socket, 'zSTATS\0')).toString();
    const live = Number(/THREADS: live (\d+)/.exec(stats)?.[1]);
    assert.ok(live >= 1 && live <= 4, stats);
    assert.match(stats, /max 4 idle-timeout 30\n/);
  });
});

describe('clamd with misbehaving clients', () => {
  it('times out a client that sends nothing, or stalls in a stream', async () => {
    assert.equal((await exchange(daemon.socket, [], { timeout: 4000 })).toString(), 'COMMAND READ TIMED OUT\n<EOF>');
    assert.equal((await exchange(daemon.socket, 'zINSTREAM\0\0\0\0\x05hel', { timeout: 5000 })).toString(), 'COMMAND READ TIMED OUT\n<EOF>');
  });

  it('refuses a stream over StreamMaxLength', async () => {
    // The chunk header announces 2 MiB: clamd refuses at the header, before the data.
    const header = Buffer.from([0, 0x20, 0, 0]);
    const reply = await exchange(daemon.socket, [Buffer.concat([Buffer.from('zINSTREAM\0'), header, Buffer.alloc(100)])], { timeout: 5000 });
    assert.equal(reply.toString(), 'INSTREAM size limit exceeded. ERROR\0<EOF>');
  });

  it('survives clients that vanish mid-command, mid-stream and mid-scan, and leaks nothing', async () => {
    const before = openDescriptors();
    for (let i = 0; i < 50; i++) {
      const socket = await connectTo(i % 2 ? daemon.socket : { host: '127.0.0.1', port: daemon.port });
      socket.write(['zINSTR', 'zINSTREAM\0\0\0\x10\0abc', `zSCAN ${workspace.path('files')}\0`][i % 3] as string);
      socket.destroy();
    }
    await sleep(500);
    assert.equal((await exchange(daemon.socket, 'zPING\0')).toString(), 'PONG\0<EOF>');
    await sleep(3000);
    assert.ok(openDescriptors() <= before + 2, `descriptors: ${before} before, ${openDescriptors()} after`);
  });

  it('drops a client that never reads the replies of its session (SendBufTimeout)', async () => {
    const before = openDescriptors();
    const socket = await connectTo(daemon.socket);
    socket.pause();
    socket.on('error', () => undefined);
    // Far more replies than the socket buffers hold; the client reads none of them.
    socket.write(`zIDSESSION\0${'zVERSIONCOMMANDS\0'.repeat(4000)}`);
    // The daemon holds the connection for at least SendBufTimeout (500 ms) once its buffers fill.
    assert.ok(await waitFor(() => openDescriptors() > before, 5000), 'the daemon never accepted the connection');
    // Then it lets go of the connection although the client still holds its end.
    assert.ok(await waitFor(() => openDescriptors() <= before, 15000), `descriptors: ${before} before, ${openDescriptors()} now`);
    assert.equal(socket.destroyed, false);
    assert.equal((await exchange(daemon.socket, 'zPING\0')).toString(), 'PONG\0<EOF>');
    socket.destroy();
  });
});
