/**
 * DaemonMonitor against real ClamAV 1.4.6 clamd (skipped without it), and against a scripted
 * clamd for what a healthy daemon never does on demand: dropping the session.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { DaemonMonitor, type DaemonStatus } from '../src/daemon-monitor.js';
import { parseTarget } from '../src/targets.js';
import { HAVE_REAL_CLAMD, startRealClamd, type RealClamd } from '../../../test/clamdscan/real-clamd.js';
import { startFakeClamd } from '../../../test/clamdscan/fake-clamd.js';
import { join } from 'node:path';
import { REAL_IDLE_STATS, REAL_VERSION } from './fixtures.js';

const EICAR_MD5 = createHash('md5').update('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*').digest('hex');

/** Statuses as they are published, and a way to wait for one. */
function recorder() {
  const seen: DaemonStatus[] = [];
  const until = async (test: (status: DaemonStatus) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!seen.some(test)) {
      if (Date.now() > deadline) throw new Error(`no such status among ${JSON.stringify(seen.map((s) => s.state))}`);
      await delay(20);
    }
    return seen.find(test)!;
  };
  return { seen, record: (status: DaemonStatus) => seen.push(status), until };
}

describe('DaemonMonitor with real clamd', { skip: !HAVE_REAL_CLAMD && 'ClamAV clamd is not installed' }, () => {
  let clamd: RealClamd;
  before(async () => {
    clamd = await startRealClamd({ database: { 'test.hdb': `${EICAR_MD5}:68:Eicar-Test-Signature\n` } });
  });
  after(() => clamd?.stop());

  for (const how of ['unix socket', 'TCP'] as const) {
    it(`opens an IDSESSION over ${how}, reads VERSION, then polls STATS`, async () => {
      const { record, until } = recorder();
      const address = how === 'TCP' ? `127.0.0.1:${clamd.port}` : clamd.socket;
      const monitor = new DaemonMonitor(parseTarget(address), record, { intervalMs: 100 });
      await monitor.connect();
      assert.equal(monitor.current.state, 'online');
      assert.match(monitor.current.version!.description, /^ClamAV 1\.4\.6/);
      assert.equal(monitor.current.version!.engine, '1.4.6');
      monitor.start();
      const polled = await until((status) => status.stats !== undefined);
      const pool = polled.stats!.pools[0]!;
      assert.equal(pool.primary, true);
      assert.equal(pool.threads.max, 10);
      // The STATS request itself is what one thread is busy with.
      assert.ok(pool.tasks.some((task) => task.command === 'STATS'));
      assert.ok(polled.stats!.memory!.poolsTotal > 0);
      await monitor.stop();
    });
  }

  it('reports an address nobody listens on, with the C library\'s words', async () => {
    const { record } = recorder();
    const monitor = new DaemonMonitor(parseTarget(join(clamd.dir, 'nobody.sock')), record);
    await assert.rejects(monitor.connect(), { code: 'ENOENT' });
    assert.deepEqual(monitor.current, { state: 'lost', problem: 'No such file or directory', stats: undefined });
  });
});

describe('DaemonMonitor when the daemon goes away', () => {
  it('shows the session as lost and opens a new one when the daemon answers again', async () => {
    let answering = true;
    const fake = await startFakeClamd((command, connection) => {
      if (!answering) connection.destroy();
      else if (command.text === 'VERSION') connection.write(`${command.id}: ${REAL_VERSION}\0`);
      else if (command.text === 'STATS') connection.write(`${command.id}: ${REAL_IDLE_STATS}\0`);
    });
    const { seen, record, until } = recorder();
    const monitor = new DaemonMonitor(parseTarget(join(fake.dir, 'clamd.sock')), record, { intervalMs: 50 });
    try {
      await monitor.connect();
      monitor.start();
      await until((status) => status.stats !== undefined);
      answering = false;
      const lost = await until((status) => status.state === 'lost');
      assert.equal(lost.stats, undefined);
      assert.ok(lost.connectedAt !== undefined, 'it was connected before');
      assert.equal(lost.problem, 'Connection closed by clamd');
      await delay(200);
      assert.ok(seen.slice(seen.indexOf(lost)).every((status) => status.state === 'lost'), 'retried without success');
      answering = true;
      const back = await until((status) => seen.indexOf(status) > seen.indexOf(lost) && status.stats !== undefined);
      assert.equal(back.state, 'online');
      assert.ok(back.connectedAt! > lost.connectedAt!, 'a new session');
    } finally {
      await monitor.stop();
      await fake.close();
    }
  });
});
