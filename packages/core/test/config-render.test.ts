/**
 * clamconf's listing of parsed config files (`Option = "value"` / `Option disabled`), compared with
 * the output of ClamAV 1.4.6's clamconf recorded in the fixtures (clamconf.txt, clamconf-n.txt)
 * and, when clamconf is installed, with a fresh run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isClamError } from '../src/errors.js';
import {
  CONFIG_FILE_NAMES,
  loadConfigFile,
  renderConfigOptions,
  type ConfigTool,
} from '../src/config/index.js';
import {
  clamconfListing,
  diagnostics,
  HAVE_CLAMCONF,
  needs,
  run,
} from './fixtures/config/real-clamav.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'config');

const FILES: readonly (readonly [dir: string, tool: ConfigTool])[] = [
  ['debian', 'clamd'],
  ['debian', 'freshclam'],
  ['assorted', 'clamd'],
  ['assorted', 'freshclam'],
  ['assorted', 'milter'],
];

async function listing(dir: string, tool: ConfigTool, nonDefault: boolean): Promise<string> {
  const path = join(FIXTURES, dir, CONFIG_FILE_NAMES[tool]);
  const config = await loadConfigFile(path, tool, { keepDeprecated: true });
  return renderConfigOptions(config, { nonDefault });
}

function recorded(dir: string, name: string, fileName: string): string {
  return clamconfListing(readFileSync(join(FIXTURES, dir, name), 'latin1'), fileName);
}

describe('renderConfigOptions reproduces the recorded clamconf output', () => {
  for (const [dir, tool] of FILES) {
    const fileName = CONFIG_FILE_NAMES[tool];
    test(`${dir}/${fileName}`, async () => {
      assert.equal(await listing(dir, tool, false), recorded(dir, 'clamconf.txt', fileName));
    });
    test(`${dir}/${fileName} with -n`, async () => {
      assert.equal(await listing(dir, tool, true), recorded(dir, 'clamconf-n.txt', fileName));
    });
  }
});

describe('renderConfigOptions against the installed clamconf', { skip: needs(HAVE_CLAMCONF, 'clamconf') }, () => {
  for (const dir of ['debian', 'assorted']) {
    for (const nonDefault of [false, true]) {
      test(`clamconf ${nonDefault ? '-n ' : ''}-c ${dir}`, async () => {
        const real = run('clamconf', [...(nonDefault ? ['-n'] : []), '-c', join(FIXTURES, dir)]);
        for (const [fixtureDir, tool] of FILES) {
          if (fixtureDir !== dir) continue;
          const fileName = CONFIG_FILE_NAMES[tool];
          assert.equal(await listing(dir, tool, nonDefault), clamconfListing(real.stdout, fileName));
        }
      });
    }
  }

  test('the warnings clamconf prints for the assorted fixture', async () => {
    const real = diagnostics(run('clamconf', ['-c', join(FIXTURES, 'assorted')]).stderr);
    const warnings: string[] = [];
    for (const [dir, tool] of FILES) {
      if (dir !== 'assorted') continue;
      const path = join(FIXTURES, dir, CONFIG_FILE_NAMES[tool]);
      await loadConfigFile(path, tool, { keepDeprecated: true, onWarning: (m) => warnings.push(m) });
    }
    assert.deepEqual(warnings, real.warnings);
    assert.deepEqual(real.errors, []);
  });
});

describe('values of the assorted fixture', () => {
  test('clamd.conf', async () => {
    const config = await loadConfigFile(join(FIXTURES, 'assorted', 'clamd.conf'), 'clamd');
    assert.equal(config.getString('LogFile'), '/tmp/clam ts/clamd.log');
    assert.equal(config.getString('LogFacility'), 'LOG_MAIL # not a comment');
    assert.equal(config.getNumber('MaxThreads'), 1);
    assert.equal(config.getNumber('MaxQueue'), 10);
    assert.equal(config.getNumber('StreamMaxLength'), 25 * 1024 * 1024);
    assert.equal(config.getNumber('MaxFileSize'), 8192);
    assert.deepEqual(config.getStrings('TCPAddr'), ['127.0.0.1', '::1']);
    assert.deepEqual(config.getNumbers('OnAccessExcludeUID'), [1000, 0]);
    assert.equal(config.getBool('LogSyslog'), false);
    assert.equal(config.getBool('Debug'), false);
  });

  test('freshclam.conf: a CRLF line keeps its carriage return', async () => {
    const config = await loadConfigFile(join(FIXTURES, 'assorted', 'freshclam.conf'), 'freshclam');
    assert.deepEqual(config.getStrings('DatabaseMirror'), ['db.XY.clamav.net\r', 'database.clamav.net']);
    assert.equal(config.getString('UpdateLogFile'), '/var/log/freshclam-ts.log');
    assert.equal(config.getBool('Bytecode'), false);
  });
});

describe('loadConfigFile', () => {
  test('a missing file is EOPEN', async () => {
    const path = join(FIXTURES, 'no-such-file.conf');
    await assert.rejects(loadConfigFile(path, 'clamd'), (error: unknown) => {
      assert.ok(isClamError(error));
      assert.equal(error.code, 'EOPEN');
      assert.equal(error.path, path);
      return true;
    });
  });

  // clamd -c /some/directory -V runs with the defaults: fopen() accepts a directory and the first
  // fgets() fails as if the file were empty.
  test('a directory reads as an empty file', async () => {
    const config = await loadConfigFile(FIXTURES, 'clamd');
    assert.equal(config.isSet('LogFile'), false);
    assert.equal(config.getNumber('MaxThreads'), 10);
  });
});
