import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStatsReply } from '@clamts/core';
import { Dashboard } from '../src/dashboard.js';
import { parseTarget } from '../src/targets.js';
import { REAL_BUSY_STATS, REAL_IDLE_STATS } from './fixtures.js';

const online = (stats: string) => ({ state: 'online' as const, connectedAt: 0, stats: parseStatsReply(stats) });

describe('Dashboard', () => {
  it('sums threads and queues, lists tasks longest first and keeps the maxima', () => {
    const dashboard = new Dashboard([parseTarget('/a.sock'), parseTarget('/b.sock')]);
    let changes = 0;
    dashboard.subscribe(() => changes++);
    dashboard.update(1, online(REAL_BUSY_STATS));
    const busy = dashboard.getSnapshot()[1]!;
    assert.equal(busy.summary!.live, 10);
    assert.equal(busy.summary!.queued, 50);
    assert.deepEqual(busy.summary!.primary, { live: 10, idle: 0, max: 10 });
    assert.equal(busy.summary!.tasks[0]!.command, 'MULTISCAN');
    assert.equal(busy.summary!.tasks.at(-1)!.command, 'STATS');
    assert.ok(busy.summary!.tasks.every((task) => task.daemon === 2));
    assert.equal(busy.maxQueue, 50);
    assert.equal(busy.queueRecord, true);
    assert.equal(busy.peakMemory, 5999);
    assert.equal(busy.memoryRecord, true);

    dashboard.update(1, online(REAL_IDLE_STATS));
    const idle = dashboard.getSnapshot()[1]!;
    assert.equal(idle.maxQueue, 50, 'the maximum outlives the queue');
    assert.equal(idle.queueRecord, false);
    assert.equal(idle.memoryRecord, false);
    assert.equal(dashboard.getSnapshot()[0]!.status.state, 'connecting', 'the other daemon is untouched');
    assert.equal(changes, 2);
  });

  it('starts the maxima again from the current figures on reset', () => {
    const dashboard = new Dashboard([parseTarget('/a.sock')]);
    dashboard.update(0, online(REAL_BUSY_STATS));
    dashboard.update(0, online(REAL_IDLE_STATS));
    dashboard.resetMaxima();
    assert.equal(dashboard.getSnapshot()[0]!.maxQueue, 0);
    dashboard.update(0, online(REAL_BUSY_STATS));
    assert.equal(dashboard.getSnapshot()[0]!.queueRecord, true);
  });

  it('forgets the report of a daemon that is lost', () => {
    const dashboard = new Dashboard([parseTarget('/a.sock')]);
    dashboard.update(0, online(REAL_BUSY_STATS));
    dashboard.update(0, { state: 'lost', problem: 'Connection reset by peer', connectedAt: 0 });
    assert.equal(dashboard.getSnapshot()[0]!.summary, undefined);
    assert.equal(dashboard.getSnapshot()[0]!.maxQueue, 50);
  });
});
