// Pieces of the clamd program: option precedence, the directory walk's order and skips,
// VirusEvent's command line, and log rotation.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '@clamts/core';
import { parseCommandLine } from '@clamts/core';
import { DaemonLogger } from '../src/clamd/logger.js';
import { ClamdSettings } from '../src/clamd/settings.js';
import { FILENAME_DISABLED_MESSAGE, virusEventCommand } from '../src/clamd/virus-event.js';
import { walk, type WalkEntry, type WalkOptions } from '../src/clamd/walk.js';

const root = mkdtempSync(join(tmpdir(), 'clamts-clamd-parts-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('clamd settings', () => {
  const config = parseConfig('PidFile /from/config\nTCPAddr 10.0.0.1\nMaxThreads 3\n', 'clamd', 'clamd.conf');

  it('lets the command line win over clamd.conf, as ClamAV does', () => {
    const settings = new ClamdSettings(parseCommandLine('clamd', ['--pid=/from/cmdline', '-F']), config);
    assert.equal(settings.string('PidFile'), '/from/cmdline');
    assert.equal(settings.bool('Foreground'), true);
    assert.equal(settings.number('MaxThreads'), 3);
    assert.equal(settings.string('DatabaseDirectory'), '/var/lib/clamav');
  });

  it('reads the file alone when the command line says nothing', () => {
    const settings = new ClamdSettings(parseCommandLine('clamd', []), config);
    assert.equal(settings.string('PidFile'), '/from/config');
    assert.equal(settings.bool('Foreground'), false);
    assert.deepEqual(settings.strings('TCPAddr'), ['10.0.0.1']);
    assert.equal(settings.isSet('MaxQueue'), false);
  });
});

describe('clamd VirusEvent command', () => {
  it('puts the signature name for %v and a warning for %f', () => {
    assert.equal(virusEventCommand('alert %v in %f (%x)', 'Eicar'), `alert Eicar in ${FILENAME_DISABLED_MESSAGE} (%x)`);
  });
});

describe('clamd directory walk', () => {
  const tree = join(root, 'tree');
  mkdirSync(join(tree, 'b-dir', 'c', 'd'), { recursive: true });
  writeFileSync(join(tree, 'z-file'), 'z');
  writeFileSync(join(tree, 'b-dir', 'inner'), 'i');
  writeFileSync(join(tree, 'b-dir', 'c', 'd', 'deep'), 'd');
  writeFileSync(join(tree, 'a-file'), 'a');
  symlinkSync(join(tree, 'a-file'), join(tree, 'link'));

  const options: WalkOptions = {
    followDirSymlinks: false,
    followFileSymlinks: false,
    needStat: true,
    maxDepth: 2,
    excluded: async () => false,
  };
  async function entries(path: string, overrides: Partial<WalkOptions> = {}) {
    const seen: WalkEntry[] = [];
    const result = await walk(path, { ...options, ...overrides }, async (entry) => {
      seen.push(entry);
      return true;
    });
    return { seen: seen.map((entry) => `${entry.reason} ${entry.path.slice(tree.length)}`), result };
  }

  it('visits files before directories, each in inode order, skipping links it does not follow', async () => {
    const { seen, result } = await entries(`${tree}/`);
    const files = ['a-file', 'z-file'].sort((a, b) => statSync(join(tree, a)).ino - statSync(join(tree, b)).ino);
    assert.deepEqual(seen, [
      'top-directory ',
      ...files.map((name) => `file /${name}`),
      'file /b-dir/inner',
      'skipped-directory /b-dir/c/d',
    ]);
    assert.deepEqual(result, { reported: tree, completed: true });
  });

  it('follows file links when asked, and reports the top-level link itself otherwise', async () => {
    assert.deepEqual((await entries(join(tree, 'link'))).seen, ['skipped-link /link']);
    assert.deepEqual((await entries(join(tree, 'link'), { followFileSymlinks: true })).seen, ['file /link']);
  });

  it('reports paths it cannot examine', async () => {
    const { seen } = await entries(join(tree, 'missing'));
    assert.deepEqual(seen, ['stat-error /missing']);
  });
});

describe('clamd log', () => {
  it('rotates a log that outgrew LogFileMaxSize to name-YYYYMMDD_HHMMSS.log', () => {
    const dir = join(root, 'log');
    mkdirSync(dir);
    const file = join(dir, 'clamd.log');
    const logger = new DaemonLogger({ file, time: false, verbose: false, debug: false, maxSize: 100, rotate: true, console: () => undefined });
    for (let i = 0; i < 10; i++) logger.info(`line ${i} of the log, long enough to fill it`);
    logger.close();
    const names = readdirSync(dir).sort();
    assert.ok(names.some((name) => /^clamd-\d{8}_\d{6}\.log$/.test(name)), names.join(' '));
    assert.ok(readFileSync(file, 'latin1').length <= 200);
  });
});
