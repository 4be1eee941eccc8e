/**
 * bin/clamdscan end to end where no daemon is needed: command-line and configuration errors, an
 * unreachable clamd, and --version's fallback. Messages and exit codes are those of real ClamAV
 * 1.4.6 clamdscan in the same situations (test/conformance/clamdscan-modes.test.ts compares the
 * two directly when ClamAV is installed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLAMTS_VERSION } from '@clamts/core';
import { runClamTS } from '../../../test/support/run-tool.js';

const root = mkdtempSync(join(tmpdir(), 'clamts-clamdscan-'));
after(() => rmSync(root, { recursive: true, force: true }));
const config = (name: string, text: string) => {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
};
const noDaemon = config('nodaemon.conf', `LocalSocket ${join(root, 'no-such.sock')}\n`);
const unreachable = `ERROR: Could not connect to clamd on LocalSocket ${join(root, 'no-such.sock')}: No such file or directory\n`;
const clamdscan = (args: string[]) => runClamTS('clamdscan', args, { cwd: root });

describe('bin/clamdscan without a daemon', () => {
  it('refuses unknown options and missing arguments with getopt-style messages', () => {
    assert.deepEqual(clamdscan(['--foo']), {
      status: 2,
      stdout: '',
      stderr: "clamdscan: unrecognized option `--foo'\nERROR: Unknown option passed\nERROR: Can't parse command line options\n",
    });
    assert.equal(clamdscan(['--ping']).stderr, "clamdscan: option `--ping' requires an argument\nERROR: Incomplete option passed (missing argument)\nERROR: Can't parse command line options\n");
  });

  it('stops on a clamd.conf it cannot read or parse', () => {
    assert.deepEqual(clamdscan(['-c', join(root, 'missing.conf'), 'x']), {
      status: 2,
      stdout: '',
      stderr: `ERROR: Can't parse clamd configuration file ${join(root, 'missing.conf')}\n`,
    });
    const bad = config('bad.conf', 'MaxThreads abc\n');
    assert.equal(clamdscan(['-c', bad, 'x']).stderr, `ERROR: Incorrect argument format for option MaxThreads\nERROR: Can't parse clamd configuration file ${bad}\n`);
  });

  it('reports each connection attempt that fails, and the summary counts them as errors', () => {
    writeFileSync(join(root, 'file.txt'), 'x');
    const run = clamdscan(['-c', noDaemon, 'file.txt']);
    assert.equal(run.status, 2);
    assert.equal(run.stderr, unreachable);
    assert.match(run.stdout, /^\n----------- SCAN SUMMARY -----------\nInfected files: 0\nTotal errors: 1\nTime: \d+\.\d{3} sec \(\d+ m \d+ s\)\nStart Date: [\d: ]+\nEnd Date: {3}[\d: ]+\n$/);
  });

  it('--ping: PING timeout (exit 21); a bad count is CL_ERROR (34)', () => {
    assert.deepEqual(clamdscan(['-c', noDaemon, '--ping', '1']), {
      status: 21,
      stdout: 'PING timeout exceeded; No response from clamd\n',
      stderr: unreachable,
    });
    assert.deepEqual(clamdscan(['-c', noDaemon, '-p', 'x']), { status: 34, stdout: '', stderr: 'WARNING: attempt_str would go past end of buffer\n' });
  });

  it('--reload fails quietly but for the connection error', () => {
    assert.deepEqual(clamdscan(['-c', noDaemon, '--reload']), { status: 2, stdout: '', stderr: unreachable });
  });

  it('--version falls back to its own version when clamd cannot be asked', () => {
    assert.deepEqual(clamdscan(['-c', noDaemon, '--version']), { status: 0, stdout: `ClamTS ${CLAMTS_VERSION}\n`, stderr: unreachable });
  });

  it('--log writes the separator and the messages to the log as well', () => {
    const log = join(root, 'scan.log');
    const run = clamdscan(['-c', noDaemon, '-l', log, '--no-summary', 'file.txt']);
    assert.equal(run.stdout, '--------------------------------------\n');
    assert.equal(run.stderr, unreachable);
    assert.equal(readFileSync(log, 'utf8'), `--------------------------------------\n${unreachable}`);
  });
});
