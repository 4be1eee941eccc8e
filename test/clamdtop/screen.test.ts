/**
 * bin/clamdtop in a real terminal (tmux) watching live daemons: ClamAV 1.4.6's clamd and, when
 * bin/clamd runs, ClamTS's. The rows are compared with real clamdtop's for the same daemon, and
 * the screen is followed through a busy MULTISCAN, a selection, a daemon restart and a resize.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exchange, haveProgram, REPO_ROOT, startClamAV, startClamTS, Workspace, type RunningDaemon } from '../clamd/harness.js';
import { HAVE_TMUX, Terminal } from './tmux.js';

const skip = !HAVE_TMUX ? 'tmux is not installed' : !haveProgram('clamd') || !haveProgram('clamdtop') ? 'ClamAV is not installed' : false;
const CLAMDTOP = `${process.execPath} ${join(REPO_ROOT, 'bin/clamdtop')}`;

/** A daemon row with what legitimately differs between two watchers blanked: CONNTIME, LIV, IDL. */
const comparableRow = (line: string) => line.replace(/^( \d) \d\d:\d\d:\d\d +\d+ +\d+ /, '$1 <time> <live> <idle> ');

describe('clamdtop in a terminal', { skip }, () => {
  const workspace = new Workspace();
  let real: RunningDaemon;
  let clamts: RunningDaemon | undefined;
  const terminals: Terminal[] = [];
  const open = (name: string, command: string, columns?: number, rows?: number) => {
    const terminal = Terminal.open(name, command, columns, rows);
    terminals.push(terminal);
    return terminal;
  };

  before(async () => {
    // Four threads (one stays free to answer STATS) and 40 files of 3 MB keep a MULTISCAN busy
    // for a few seconds.
    real = await startClamAV(workspace, { name: 'real', config: ['MaxThreads 4'] });
    clamts = await startClamTS(workspace, { name: 'clamts' }).catch(() => undefined);
    const files = workspace.path('busy');
    mkdirSync(files);
    for (let i = 0; i < 40; i++) writeFileSync(join(files, `f${i}.bin`), randomBytes(3 * 1024 * 1024));
  });

  after(async () => {
    for (const terminal of terminals) terminal.close();
    await real?.stop();
    await clamts?.stop();
    workspace.remove();
  });

  it('lays its rows out as real clamdtop does, for the same daemon', async () => {
    const ours = open('clamts-top-ours', `${CLAMDTOP} ${real.socket}`);
    const theirs = open('clamts-top-real', `clamdtop ${real.socket}`);
    const ready = (lines: string[]) => /^ 1 \d\d:\d\d:\d\d +\d/.test(lines[2] ?? '') && lines.some((line) => line.startsWith(' COMMAND'));
    const [mine, original] = [await ours.waitFor(ready, 'our screen'), await theirs.waitFor(ready, 'real clamdtop\'s screen')];
    assert.equal(mine[1], original[1], 'column header');
    assert.equal(comparableRow(mine[2]!), comparableRow(original[2]!));
    assert.match(mine[0]!, /^ {2}ClamdTOP version 0\.1\.0 {3}\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
    for (const line of ['Primary threads: live', 'Queue:', ' COMMAND       QUEUEDSINCE    FILE']) {
      assert.equal(
        mine.findIndex((text) => text.startsWith(line)),
        original.findIndex((text) => text.startsWith(line)),
        `"${line}" on the same line`,
      );
    }
    ours.press('q');
    await ours.waitFor((lines) => lines.includes('EXIT=0'), 'exit status 0 after q');
    theirs.press('q');
  });

  it('follows several daemons: a busy one, a selection, a restart and a resize', async () => {
    const addresses = [real.socket, `127.0.0.1:${real.port}`, ...(clamts ? [clamts.socket] : [])];
    const top = open('clamts-top-many', `${CLAMDTOP} ${addresses.join(' ')}`);
    const rowsUp = await top.waitFor((lines) => lines.filter((line) => /^ \d \d\d:\d\d:\d\d +\d/.test(line)).length === addresses.length, 'every daemon');
    assert.match(rowsUp[2]!, / 1\.4\.6 +\?{4} N\/A +local$/);
    assert.match(rowsUp[3]!, new RegExp(` 127\\.0\\.0\\.1:${real.port}$`));
    if (clamts) assert.match(rowsUp[4]!, / 0\.1\.0 +\?{4} N\/A +local$/, 'ClamTS clamd\'s STATS and VERSION');
    // Ink leaves the terminal's last line free, so the keys are on the one before.
    assert.equal(rowsUp[28], 'H - help Q - quit R - reset maximums ↑ - previous clamd ↓ - next clamd');

    // Busy: the daemon's threads scan the files of a MULTISCAN, numbered with their daemon.
    const scan = exchange(real.socket, `zMULTISCAN ${workspace.path('busy')}\0`, { timeout: 60_000 });
    const busy = await top.waitFor((lines) => lines.some((line) => /^ [12] MULTISCANFIL +\d+\.\d{3}s +\/.*\/busy\/f\d+\.bin$/.test(line)), 'a file being scanned');
    assert.ok(busy.some((line) => /^ [12] \d\d:\d\d:\d\d +[2-9] +0 /.test(line)), 'both threads busy');
    await scan;

    // Selecting the first daemon shows its details.
    top.press('Down');
    const details = await top.waitFor((lines) => lines.some((line) => line.startsWith('Details for Clamd version: ClamAV 1.4.6')), 'details');
    const detailsAt = details.findIndex((line) => line.startsWith('Details'));
    assert.equal(detailsAt, 2 + addresses.length);
    assert.match(details[detailsAt + 1]!, /^Primary threads: live +\d+ idle +\d+ max  4 +┌─+┐$/);
    assert.match(details[detailsAt + 3]!, /^Queue: +\d+ items +\d+ max +│Libc: used   N\/A free   N\/A total   N\/A│$/);

    // A restarted daemon is shown lost, then watched again (on its socket: the harness gives the
    // new daemon another TCP port, so the second row stays lost).
    await real.stop();
    await top.waitFor((lines) => lines[2]!.includes('(connection lost, reconnecting)'), 'the lost daemon');
    real = await startClamAV(workspace, { name: 'real', config: ['MaxThreads 4'] });
    await top.waitFor((lines) => /^ 1 00:00:0\d +\d+ +\d+ /.test(lines[2]!), 'the daemon back, with a new connection time');

    // A narrower terminal: rows are cut with "...", the memory box keeps to the right edge.
    top.resize(70, 24);
    const narrow = await top.waitFor((lines) => lines[2]!.endsWith('...'), 'rows cut at 70 columns');
    assert.ok(narrow.every((line) => line.length <= 70));
    assert.ok(narrow.some((line) => line.endsWith('┐') && line.length === 70));

    top.press('q');
    await top.waitFor((lines) => lines.includes('EXIT=0'), 'exit status 0 after q');
  });
});
