/**
 * Colours: ClamAV's own scheme paints white on black; --defaultcolors leaves the terminal's
 * background alone but keeps the coloured bars. Chalk decides at import whether to colour,
 * so colour is forced before Ink is loaded.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { parseStatsReply } from '@clamts/core';
import { REAL_IDLE_STATS, REAL_VERSION } from './fixtures.js';

process.env.FORCE_COLOR = '1';
const { cleanup, render } = await import('ink-testing-library');
const { createElement } = await import('react');
const { App } = await import('../src/ui/app.js');
const { createTheme } = await import('../src/ui/theme.js');
const { Dashboard } = await import('../src/dashboard.js');
const { parseTarget } = await import('../src/targets.js');
const { parseVersion } = await import('../src/version-info.js');

after(cleanup);

async function frame(useDefaults: boolean): Promise<string> {
  const dashboard = new Dashboard([parseTarget('/tmp/clamd.sock'), parseTarget('/tmp/lost.sock')]);
  dashboard.update(0, { state: 'online', connectedAt: 0, version: parseVersion(REAL_VERSION), stats: parseStatsReply(REAL_IDLE_STATS) });
  dashboard.update(1, { state: 'lost', problem: 'No such file or directory' });
  const screen = render(
    createElement(App, { dashboard, theme: createTheme(useDefaults), version: '0.1.0', size: { columns: 80, rows: 24 }, onQuit: () => {} }),
  );
  await delay(30);
  return screen.lastFrame()!;
}

const BLACK_BACKGROUND = '\x1b[40m';
const RED_BACKGROUND = '\x1b[41m';
const GREEN_BACKGROUND = '\x1b[42m';
const WHITE_BACKGROUND = '\x1b[47m';

describe('themes', () => {
  it('paints the whole screen black by default, with ClamAV\'s title, header and error colours', async () => {
    const screen = await frame(false);
    const lines = screen.split('\n');
    assert.ok(lines.at(-2)!.includes(BLACK_BACKGROUND), 'even blank lines get the background');
    assert.ok(lines[0]!.includes(WHITE_BACKGROUND));
    assert.ok(lines[1]!.includes(GREEN_BACKGROUND));
    assert.ok(lines[3]!.includes(RED_BACKGROUND), 'the lost daemon');
  });

  it('keeps the terminal\'s background with --defaultcolors', async () => {
    const screen = await frame(true);
    assert.ok(!screen.includes(BLACK_BACKGROUND));
    assert.ok(screen.split('\n')[1]!.includes(GREEN_BACKGROUND), 'bars keep their colours');
  });
});
