// bin/clamd for real: start, daemonize, signals, reloads, shutdown.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CLAMD_BIN,
  connectTo,
  exchange,
  sleep,
  startClamTS,
  Workspace,
  writeConfig,
  freePort,
  REPO_ROOT,
  SAMPLE_VIRUS,
  type RunningDaemon,
} from './harness.js';
import { TOOL_DEFAULT_LOAD_OPTIONS } from '../support/tool-load-options.js';

const workspace = new Workspace();
after(() => workspace.remove());

/** Polls until `check` holds (or fails after `ms`). */
async function eventually(check: () => boolean | Promise<boolean>, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(50);
  }
}

describe('clamd lifecycle', () => {
  it('serves on its Unix socket and TCP port, writes its pid, and exits cleanly on SIGTERM', async () => {
    const daemon = await startClamTS(workspace);
    assert.equal((await exchange(daemon.socket, 'zPING\0')).toString(), 'PONG\0<EOF>');
    assert.equal((await exchange({ host: '127.0.0.1', port: daemon.port }, 'nPING\n')).toString(), 'PONG\n<EOF>');
    assert.equal(readFileSync(daemon.pidFile, 'utf8'), `${daemon.process.pid}\n`);
    assert.equal(await daemon.stop(), 0);
    assert.equal(existsSync(daemon.socket), false);
    assert.equal(existsSync(daemon.pidFile), false);
    assert.match(daemon.log, /\+\+\+ Started at .*\n[\s\S]*Loaded 1 signatures\.\n[\s\S]*Pid file removed\.\n--- Stopped at .*\nSocket file removed\.\n$/);
  });

  it('exits on SIGTERM even while an idle IDSESSION client (like clamdtop) stays connected', async () => {
    const daemon = await startClamTS(workspace);
    const client = await connectTo(daemon.socket);
    client.write('zIDSESSION\0zPING\0');
    await new Promise((resolve) => client.once('data', resolve));
    const started = Date.now();
    assert.equal(await daemon.stop(), 0);
    assert.ok(Date.now() - started < 10000, 'clamd took too long to stop');
    client.destroy();
    assert.equal(existsSync(daemon.socket), false);
  });

  it('stops on SHUTDOWN', async () => {
    const daemon = await startClamTS(workspace);
    assert.equal((await exchange(daemon.socket, 'zSHUTDOWN\0')).toString(), '<EOF>');
    assert.equal(await daemon.exited, 0);
    assert.equal(existsSync(daemon.socket), false);
  });

  it('daemonizes: returns once it serves, keeps running detached, and reports start-up failures', async () => {
    const dir = workspace.path('detached');
    const config = writeConfig(workspace, dir, await freePort());
    writeFileSync(config, readFileSync(config, 'utf8').replace('Foreground yes\n', ''));
    const started = spawnSync(process.execPath, [CLAMD_BIN, '-c', config], { encoding: 'utf8', timeout: 30000 });
    assert.equal(started.status, 0, started.stderr);
    // Already serving when the command returns.
    assert.equal((await exchange(join(dir, 'clamd.sock'), 'zPING\0')).toString(), 'PONG\0<EOF>');
    const pid = Number(readFileSync(join(dir, 'clamd.pid'), 'utf8'));
    assert.notEqual(pid, started.pid);
    process.kill(pid, 'SIGTERM');
    await eventually(() => !existsSync(join(dir, 'clamd.pid')));

    const broken = writeConfig(workspace, workspace.path('broken'), await freePort());
    const text = readFileSync(broken, 'utf8').replace('Foreground yes\n', '').replace(/^DatabaseDirectory .*$/m, 'DatabaseDirectory /nonexistent/db');
    writeFileSync(broken, text);
    const failed = spawnSync(process.execPath, [CLAMD_BIN, '-c', broken], { encoding: 'utf8', timeout: 30000 });
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /ERROR: /);
  });

  it('refuses a bad config file with ClamAV’s messages', () => {
    const config = workspace.path('bad.conf');
    writeFileSync(config, 'Example\n');
    const run = spawnSync(process.execPath, [CLAMD_BIN, '-c', config], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.equal(run.stderr, `ERROR: Please edit the example config file ${config}\nERROR: Can't open/parse the config file ${config}\n`);
  });
});

describe('clamd database reloads', () => {
  let daemon: RunningDaemon;
  const extra = workspace.path('files', 'extra.bin');
  after(() => daemon?.stop());

  it('reloads on RELOAD, keeps the old engine when the new database is broken, and on SIGUSR2', async () => {
    daemon = await startClamTS(workspace, { config: ['SelfCheck 0'] });
    writeFileSync(extra, 'another sample\n');
    const scanExtra = async () => (await exchange(daemon.socket, `zSCAN ${extra}\0`)).toString();
    assert.equal(await scanExtra(), `${extra}: OK\0<EOF>`);

    const md5 = createHash('md5').update('another sample\n').digest('hex');
    writeFileSync(join(workspace.db, 'extra.hdb'), `${md5}:15:Extra.Sample\n`);
    assert.equal((await exchange(daemon.socket, 'zRELOAD\0')).toString(), 'RELOADING\0<EOF>');
    await eventually(() => daemon.log.includes('Activating the newly loaded database...'));
    assert.equal(await scanExtra(), `${extra}: Extra.Sample.UNOFFICIAL FOUND\0<EOF>`);

    writeFileSync(join(workspace.db, 'broken.hdb'), 'not a signature line\n');
    daemon.process.kill('SIGUSR2');
    await eventually(() => daemon.log.includes('Database reload failed, keeping the previous instance'));
    assert.equal(await scanExtra(), `${extra}: Extra.Sample.UNOFFICIAL FOUND\0<EOF>`);
  });

  it('reloads by itself when SelfCheck sees the database change', async () => {
    await daemon.stop();
    renameSync(join(workspace.db, 'broken.hdb'), join(workspace.db, 'broken.txt'));
    daemon = await startClamTS(workspace, { config: ['SelfCheck 1'] });
    await eventually(() => daemon.log.includes('SelfCheck: Database status OK.'));
    writeFileSync(join(workspace.db, 'more.hdb'), `${createHash('md5').update('x').digest('hex')}:1:More.Sample\n`);
    await eventually(() => daemon.log.includes('SelfCheck: Database modification detected. Forcing reload.'));
    await eventually(() => daemon.log.includes('Database correctly reloaded (3 signatures)'));
  });

  it('answers every request while reloading under load', async () => {
    const requests = Array.from({ length: 200 }, (_, i) =>
      exchange(daemon.socket, i % 2 ? `zSCAN ${workspace.path('files', 'sample.bin')}\0` : 'zPING\0', { timeout: 20000 }),
    );
    daemon.process.kill('SIGUSR2');
    const replies = (await Promise.all(requests)).map((reply) => reply.toString());
    replies.forEach((reply, i) => {
      assert.equal(reply, i % 2 ? `${workspace.path('files', 'sample.bin')}: ${SAMPLE_VIRUS} FOUND\0<EOF>` : 'PONG\0<EOF>');
    });
  });
});

describe('clamd engine cache', () => {
  it('writes the engine cache, with every target’s matcher, before it serves', async () => {
    const cached = new Workspace();
    after(() => cached.remove());
    // Over the cache's 1 MiB threshold (made-up hashes), and patterns of the PE and mail targets.
    const filler = Array.from({ length: 24_000 }, (_, i) => `${createHash('md5').update(`filler ${i}`).digest('hex')}:${i + 1}:ClamTS.Filler-${i}\n`);
    writeFileSync(join(cached.db, 'filler.hdb'), filler.join(''));
    writeFileSync(join(cached.db, 'targets.ndb'), 'ClamTS.PE.Test-1:1:*:436c616d54535045\nClamTS.Mail.Test-1:4:*:436c616d54534d61696c\n');
    // Files changed less than a second ago are not cached.
    await sleep(1100);
    const saved = process.env.CLAMTS_CACHE_DIR;
    process.env.CLAMTS_CACHE_DIR = cached.path('cache');
    try {
      const daemon = await startClamTS(cached);
      assert.equal(await daemon.stop(), 0);
      // The engine library as clamd runs it (built, unbundled), with the options of clamd's defaults.
      const { loadEngineCached } = (await import(join(REPO_ROOT, 'packages/core/dist/index.js'))) as typeof import('../../packages/core/src/index.js');
      const loaded = await loadEngineCached([cached.db], TOOL_DEFAULT_LOAD_OPTIONS);
      assert.ok(loaded.ok && loaded.fromCache, 'clamd wrote the cache');
      const programs = loaded.engine.body.programs;
      assert.deepEqual(
        programs.flatMap((program, target) => (program?.hasMatcher ? [target] : [])),
        programs.flatMap((program, target) => (program ? [target] : [])),
      );
      assert.ok(programs[1] && programs[4], 'the PE and mail targets have patterns');
    } finally {
      if (saved === undefined) delete process.env.CLAMTS_CACHE_DIR;
      else process.env.CLAMTS_CACHE_DIR = saved;
    }
  });
});

describe('clamd log file', () => {
  it('reopens the log on SIGHUP and logs detections', async () => {
    const daemon = await startClamTS(workspace, { config: ['LogTime yes', 'LogClean yes'] });
    const log = join(daemon.dir, 'clamd.log');
    renameSync(log, `${log}.1`);
    daemon.process.kill('SIGHUP');
    await eventually(() => readFileSync(`${log}.1`, 'latin1').includes('SIGHUP caught: re-opening log file.'));
    await exchange(daemon.socket, `zSCAN ${workspace.path('files', 'sample.bin')}\0`);
    await exchange(daemon.socket, `zSCAN ${workspace.path('files', 'clean', 'a.txt')}\0`);
    await eventually(() => existsSync(log) && readFileSync(log, 'latin1').includes('a.txt: OK'));
    const text = readFileSync(log, 'latin1');
    assert.match(text, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} -> \/.*sample\.bin: ClamTS\.Test\.Sample\.UNOFFICIAL FOUND\n/m);
    await daemon.stop();
  });
});
