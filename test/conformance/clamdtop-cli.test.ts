/**
 * bin/clamdtop next to real ClamAV 1.4.6 clamdtop where neither opens its screen: command-line
 * and clamd.conf errors, and daemons that cannot be reached. ClamAV names the C function and line
 * it stopped in ("… in setup_connections at line 1465"); ClamTS ends the message before that.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { haveTool, runClamAV, runClamTS, type ToolRun } from '../support/run-tool.js';

const root = mkdtempSync(join(tmpdir(), 'clamts-clamdtop-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
};

const withoutCLocation = (run: ToolRun): ToolRun => ({ ...run, stderr: run.stderr.replace(/ in \w+ at line \d+$/gm, '') });
const both = (args: string[]) => [withoutCLocation(runClamAV('clamdtop', args, { cwd: root })), runClamTS('clamdtop', args, { cwd: root })];

describe('clamdtop without a screen, against ClamAV 1.4.6', { skip: !haveTool('clamdtop') && 'ClamAV clamdtop is not installed' }, () => {
  it('rejects unknown options and missing arguments alike', () => {
    for (const args of [['--foo'], ['-x'], ['-c']]) {
      const [real, ours] = both(args);
      assert.deepEqual(ours, real, args.join(' '));
    }
  });

  it('stops alike on a clamd.conf that is missing, broken, or names no socket', () => {
    const configs = [
      join(root, 'missing.conf'),
      file('broken.conf', 'Foo bar\n'),
      file('example.conf', 'Example\n'),
      file('nowhere.conf', 'LogTime yes\n'),
    ];
    for (const config of configs) {
      const [real, ours] = both(['-c', config]);
      assert.deepEqual(ours, real, config);
    }
  });

  it('warns alike while reading clamd.conf, then reports the daemon it cannot reach', () => {
    const config = file('warn.conf', `LocalSocket ${join(root, 'none.sock')}\nScanOnAccess yes\nMaxScanSize 9000000000000000000000\n`);
    const [real, ours] = both(['-c', config]);
    assert.equal(real.status, 2);
    assert.deepEqual(ours, real);
  });

  it('reports unreachable sockets and ports with the same lines and exit status', () => {
    for (const args of [[join(root, 'none.sock')], ['127.0.0.1:1'], [join(root, 'none.sock'), '127.0.0.1:1']]) {
      const [real, ours] = both(args);
      assert.equal(ours.status, real.status, args.join(' '));
      // ClamAV gives up at the first daemon it cannot reach; ClamTS tries them all before
      // giving up (it goes on to its screen when any answers).
      assert.ok(ours.stdout.startsWith(real.stdout), ours.stdout);
      assert.equal(ours.stderr.split('\n')[0], real.stderr.split('\n')[0]);
      assert.match(ours.stderr, /^Abnormal program termination: Unable to connect to all clamds$/m);
    }
  });
});

describe('clamdtop --help and --version', () => {
  it('prints ClamTS\'s usage and version', () => {
    const help = runClamTS('clamdtop', ['-h']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^ {4}clamdtop \[-hVc\] \[host\[:port\] \/path\/to\/clamd\.sock \.\.\.\]$/m);
    assert.match(help.stdout, /^ {4}--defaultcolors {7}-d /m);
    assert.deepEqual(runClamTS('clamdtop', ['--version']), { status: 0, stdout: 'ClamTS Monitoring Tool 0.1.0\n', stderr: '' });
  });
});
