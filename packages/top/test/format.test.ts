import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStatsReply, type ClamdMemoryStats } from '@clamts/core';
import { Dashboard } from '../src/dashboard.js';
import { barCells, connectionTime, daemonRow, formatMemory, memoryLines, taskLine } from '../src/format.js';
import { parseTarget } from '../src/targets.js';
import { parseVersion } from '../src/version-info.js';
import { REAL_BUSY_STATS, REAL_IDLE_STATS, REAL_VERSION } from './fixtures.js';

const socket = parseTarget('/tmp/clamd.sock');
const tcp = parseTarget('127.0.0.1:33101');

describe('number formats', () => {
  it('writes connection times as hh:mm:ss', () => {
    assert.equal(connectionTime(2_400), '00:00:02');
    assert.equal(connectionTime((3 * 3600 + 25 * 60 + 7) * 1000), '03:25:07');
  });

  it('fits memory into five characters like clamdtop\'s MEM column', () => {
    assert.equal(formatMemory(undefined), 'N/A');
    assert.equal(formatMemory(0), 'N/A');
    assert.equal(formatMemory(5.999), '6.00M');
    assert.equal(formatMemory(23.456), '23.5M');
    assert.equal(formatMemory(99.96), '100M');
    assert.equal(formatMemory(1536), '1.50G');
  });
});

describe('daemonRow', () => {
  const connectedAt = 1_000_000;
  const row = (stats: string, target = socket, width = 100) => {
    const dashboard = new Dashboard([target]);
    dashboard.update(0, { state: 'online', connectedAt, version: parseVersion(REAL_VERSION), stats: parseStatsReply(stats) });
    return daemonRow(dashboard.getSnapshot()[0]!, connectedAt + 2_500, width);
  };

  it('lays a row out as real clamdtop 1.4.6 does', () => {
    // Both rows were read off real clamdtop's screen for the same daemon.
    assert.equal(row(REAL_IDLE_STATS), ' 1 00:00:02   1   0     0     0   N/A 1.4.6       6 2021-06-23T01 local');
    assert.equal(row(REAL_IDLE_STATS, tcp), ' 1 00:00:02   1   0     0     0   N/A 1.4.6       6 2021-06-23T01 127.0.0.1:33101');
  });

  it('counts queued items and keeps their maximum', () => {
    assert.equal(row(REAL_BUSY_STATS), ' 1 00:00:02  10   0    50    50   N/A 1.4.6       6 2021-06-23T01 local');
  });

  it('shows N/A figures for a daemon without STATS, and why a daemon is missing', () => {
    const dashboard = new Dashboard([socket, tcp]);
    dashboard.update(0, { state: 'online', connectedAt, version: parseVersion('ClamAV 0.94'), statsUnsupported: true });
    dashboard.update(1, { state: 'lost', problem: 'Connection refused' });
    const [first, second] = dashboard.getSnapshot();
    assert.equal(daemonRow(first!, connectedAt, 100), ' 1 00:00:00 N/A N/A   N/A   N/A   N/A 0.94     ???? N/A           local');
    assert.equal(daemonRow(second!, connectedAt, 100), ' 2 127.0.0.1:33101: Connection refused (retrying)');
    dashboard.update(1, { state: 'lost', problem: 'Connection reset by peer', connectedAt });
    assert.match(daemonRow(dashboard.getSnapshot()[1]!, connectedAt, 100), /reset by peer \(connection lost, reconnecting\)$/);
  });
});

describe('taskLine', () => {
  const task = { daemon: 2, command: 'MULTISCANFILE', seconds: 0.435954, file: '/tmp/files/f9.bin' };

  it('puts the command, the seconds and the file in clamdtop\'s columns', () => {
    assert.equal(taskLine(task, false), ' MULTISCANFILE      0.436s    /tmp/files/f9.bin');
    // The time column overwrites a long command's last letter, as on clamdtop's screen.
    assert.equal(taskLine(task, true), ' 2 MULTISCANFIL     0.436s    /tmp/files/f9.bin');
    assert.equal(taskLine({ daemon: 1, command: 'STATS', seconds: 0.000004, file: '' }, false), ' STATS              0.000s    ');
  });
});

describe('bars', () => {
  it('splits 36 cells as clamdtop does', () => {
    // live 1 idle 0 max 10: real clamdtop draws four busy cells.
    assert.deepEqual(barCells(1, 0, 10), { busy: 4, idle: 0, free: 32 });
    assert.deepEqual(barCells(10, 4, 10), { busy: 22, idle: 14, free: 0 });
    assert.deepEqual(barCells(0, 0, 0), { busy: 0, idle: 0, free: 36 });
    assert.deepEqual(barCells(5, 9, 4), { busy: 0, idle: 36, free: 0 });
  });

  it('prints memory figures, N/A where the C library gives none (as real clamdtop shows)', () => {
    const memory = parseStatsReply(REAL_IDLE_STATS).memory!;
    assert.deepEqual(memoryLines(memory), [
      ['Mem:  ', 'heap   N/A mmap   N/A unused  N/A'],
      ['Libc: ', 'used   N/A free   N/A total   N/A'],
      ['Pool: ', 'count    1 used    6M total    6M'],
    ]);
    const full: ClamdMemoryStats = { heap: 12.4, mmap: 0.5, used: 10, free: 2.6, releasable: 1.2, pools: 2, poolsUsed: 300.4, poolsTotal: 301 };
    assert.deepEqual(memoryLines(full).map(([, text]) => text), [
      'heap   12M mmap    1M unused   1M',
      'used   10M free    3M total   13M',
      'count    2 used  300M total  301M',
    ]);
  });
});
