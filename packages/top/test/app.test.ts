/**
 * The screen, drawn with ink-testing-library from statuses built of real clamd replies. The
 * expected lines are real clamdtop 1.4.6's for the same replies (read off its screen in tmux),
 * except where ClamTS deliberately differs: the box is drawn with line characters, a record is
 * marked only when it is one, and lost daemons get a row of their own.
 */
process.env.TZ = 'UTC';

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { parseStatsReply } from '@clamts/core';
import { cleanup, render } from 'ink-testing-library';
import { createElement } from 'react';
import type { DaemonStatus } from '../src/daemon-monitor.js';
import { Dashboard } from '../src/dashboard.js';
import { parseTarget } from '../src/targets.js';
import { App, type QuitReason } from '../src/ui/app.js';
import { createTheme } from '../src/ui/theme.js';
import { parseVersion } from '../src/version-info.js';
import { REAL_BUSY_STATS, REAL_IDLE_STATS, REAL_VERSION } from './fixtures.js';

/** Sun Nov 22 00:00:00 2026 UTC; every daemon connected 2.5 s before. */
const NOW = Date.UTC(2026, 10, 22, 0, 0, 0);
const now = () => NOW;
const online = (stats: string): DaemonStatus => ({
  state: 'online',
  connectedAt: NOW - 2_500,
  version: parseVersion(REAL_VERSION),
  stats: parseStatsReply(stats),
});

afterEach(cleanup);

/** Renders the screen and lets React run its effects (the store and key subscriptions). */
async function show(dashboard: Dashboard, size = { columns: 100, rows: 30 }) {
  const quits: QuitReason[] = [];
  const screen = render(
    createElement(App, { dashboard, theme: createTheme(true), version: '0.1.0', now, size, onQuit: (reason) => quits.push(reason) }),
  );
  const lines = () => screen.lastFrame()!.split('\n');
  const press = async (keys: string) => {
    screen.stdin.write(keys);
    await delay(30);
  };
  await delay(30);
  return { screen, lines, press, quits };
}

describe('clamdtop screen, one daemon', () => {
  it('shows the title, the table, the details with the memory box, the tasks and the keys', async () => {
    const dashboard = new Dashboard([parseTarget('/tmp/clamd.sock')]);
    dashboard.update(0, online(REAL_IDLE_STATS));
    const { lines } = await show(dashboard);
    const screen = lines();
    assert.equal(screen.length, 29, 'one line short of the terminal, so Ink redraws in place');
    assert.deepEqual(
      screen.slice(0, 14).map((line) => line.trimEnd()),
      [
        '  ClamdTOP version 0.1.0   Sun Nov 22 00:00:00 2026',
        'NO CONNTIME LIV IDL QUEUE  MAXQ   MEM ENGINE  DBVER DBTIME        HOST',
        ' 1 00:00:02   1   0     0     0   N/A 1.4.6       6 2021-06-23T01 local',
        'Details for Clamd version: ClamAV 1.4.6/6/Wed Jun 23 01:34:05 2021',
        `Primary threads: live  1 idle  0 max 10                    ┌${'─'.repeat(39)}┐`,
        ' [||||                                ]                    │Mem:  heap   N/A mmap   N/A unused  N/A│',
        'Queue:     0 items      0 max                              │Libc: used   N/A free   N/A total   N/A│',
        ' [                                    ]                    │Pool: count    1 used    6M total    6M│',
        `                                                           │[${'|'.repeat(35)}>] │`,
        `                                                           └${'─'.repeat(39)}┘`,
        ' COMMAND       QUEUEDSINCE    FILE',
        ' STATS              0.000s',
        '',
        '',
      ],
    );
    assert.equal(screen.at(-1)!.trimEnd(), 'H - help Q - quit R - reset maximums');
  });

  it('marks a new longest queue on the queue bar, and starts again from the current queue on r', async () => {
    const dashboard = new Dashboard([parseTarget('/tmp/clamd.sock')]);
    dashboard.update(0, online(REAL_BUSY_STATS));
    const { lines, press } = await show(dashboard);
    assert.equal(lines()[6]!.slice(0, 29), 'Queue:    50 items     50 max');
    assert.equal(lines()[7]!.slice(0, 39), ` [${'|'.repeat(35)}>]`);
    assert.equal(lines()[11]!.trimEnd(), ' MULTISCAN          0.464s');
    dashboard.update(0, online(REAL_IDLE_STATS));
    await delay(30);
    assert.equal(lines()[2]!.slice(0, 32), ' 1 00:00:02   1   0     0    50 ');
    await press('r');
    assert.equal(lines()[2]!.slice(0, 32), ' 1 00:00:02   1   0     0     0 ');
  });

  it('leaves the task list out of a terminal too small for it, and says how many tasks are not shown', async () => {
    const dashboard = new Dashboard([parseTarget('/tmp/clamd.sock')]);
    dashboard.update(0, online(REAL_BUSY_STATS));
    const { lines } = await show(dashboard, { columns: 100, rows: 16 });
    const screen = lines();
    assert.equal(screen.length, 15);
    assert.equal(screen[10]!.trimEnd(), ' COMMAND       QUEUEDSINCE    FILE');
    assert.deepEqual(screen.slice(11, 14).map((line) => line.trimEnd()), [
      ' MULTISCAN          0.464s',
      ' MULTISCANFILE      0.463s    /tmp/h12/files/f1.bin',
      '*** 8 more task(s) not shown ***',
    ]);
  });
});

describe('clamdtop screen, several daemons', () => {
  const twoDaemons = () => {
    const dashboard = new Dashboard([parseTarget('/tmp/clamd.sock'), parseTarget('127.0.0.1:33101')]);
    dashboard.update(0, online(REAL_IDLE_STATS));
    dashboard.update(1, online(REAL_BUSY_STATS));
    return dashboard;
  };

  it('starts with every daemon\'s tasks, numbered, and no details', async () => {
    const { lines } = await show(twoDaemons());
    const screen = lines().map((line) => line.trimEnd());
    assert.equal(screen[3], ' 2 00:00:02  10   0    50    50   N/A 1.4.6       6 2021-06-23T01 127.0.0.1:33101');
    assert.equal(screen[4], 'NO COMMAND     QUEUEDSINCE    FILE');
    assert.equal(screen[5], ' 2 MULTISCAN        0.464s');
    assert.equal(screen[15], ' 1 STATS            0.000s', 'both daemons\' tasks, longest first');
    assert.equal(screen.at(-1), 'H - help Q - quit R - reset maximums ↑ - previous clamd ↓ - next clamd');
  });

  it('selects daemons with the arrows and Tab, returning to the overview past either end', async () => {
    const { lines, press } = await show(twoDaemons());
    const detailsOf = () => lines()[4]!.trimEnd();
    await press('\x1b[B'); // down
    assert.equal(detailsOf(), 'Details for Clamd version: ClamAV 1.4.6/6/Wed Jun 23 01:34:05 2021');
    assert.equal(lines()[11]!.trimEnd(), ' COMMAND       QUEUEDSINCE    FILE');
    assert.equal(lines()[12]!.trimEnd(), ' STATS              0.000s', 'only the selected daemon\'s tasks');
    await press('\t');
    assert.equal(lines()[5]!.slice(0, 39), 'Primary threads: live 10 idle  0 max 10');
    await press('\x1b[B');
    assert.equal(detailsOf(), 'NO COMMAND     QUEUEDSINCE    FILE');
    await press('\x1b[A'); // up from the overview: the last daemon
    assert.equal(lines()[5]!.slice(0, 39), 'Primary threads: live 10 idle  0 max 10');
    await press('\x1b[Z'); // shift-tab
    assert.equal(lines()[5]!.slice(0, 39), 'Primary threads: live  1 idle  0 max 10');
  });

  it('shows a daemon that cannot be reached in its row', async () => {
    const dashboard = twoDaemons();
    dashboard.update(1, { state: 'lost', problem: 'Connection refused', connectedAt: NOW - 5000 });
    const { lines } = await show(dashboard);
    assert.equal(lines()[3]!.trimEnd(), ' 2 127.0.0.1:33101: Connection refused (connection lost, reconnecting)');
    assert.equal(lines()[5]!.trimEnd(), ' 1 STATS            0.000s');
  });

  it('ends a row too long for the screen with ...', async () => {
    const { lines } = await show(twoDaemons(), { columns: 60, rows: 20 });
    assert.equal(lines()[3], ' 2 00:00:02  10   0    50    50   N/A 1.4.6       6 2021-...');
  });
});

describe('clamdtop keys', () => {
  it('opens the help page on h and closes it on any key', async () => {
    const dashboard = new Dashboard([parseTarget('/tmp/clamd.sock')]);
    dashboard.update(0, online(REAL_IDLE_STATS));
    const { lines, press, quits } = await show(dashboard);
    await press('h');
    assert.match(lines()[0]!, /^NO {15}The daemon's number/);
    assert.equal(lines().at(-1)!.trimEnd(), 'Press any key to exit help');
    await press('q');
    assert.deepEqual(quits, [], 'a key on the help page only closes it');
    assert.match(lines()[0]!, /ClamdTOP version/);
  });

  it('quits on q or Q, and reports Ctrl+C as an interrupt', async () => {
    const dashboard = new Dashboard([parseTarget('/tmp/clamd.sock')]);
    const { press, quits } = await show(dashboard);
    await press('Q');
    await press('\x03');
    assert.deepEqual(quits, ['quit', 'interrupt']);
  });
});
