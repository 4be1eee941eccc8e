/**
 * Issue 3's load criterion: every shared real database (the main set and the daily 27371 set)
 * loads, and `Known viruses` equals real clamscan's for the same files, with and without
 * --detect-pua; each target's matcher holds as many patterns of each kind as ClamAV's.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { haveTool, runClamAV, runClamTS, type ToolRun } from '../support/run-tool.js';
import { needsSharedSigs, sharedSigs } from '../support/shared-sigs.js';

const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : (needsSharedSigs.skip ?? false);

describe('the shared real databases, counted as clamscan counts them', { skip }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-real-db-'));
    const main = join(dir, 'main');
    mkdirSync(main);
    for (const name of readdirSync(sharedSigs('clamav-main')).filter((file) => file.endsWith('.gz'))) {
      execFileSync('sh', ['-c', `zcat '${sharedSigs(`clamav-main/${name}`)}' > '${join(main, name.slice(0, -3))}'`]);
    }
    writeFileSync(join(dir, 'clean.txt'), 'nothing here\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const known = (run: ToolRun) => ({ status: run.status, known: /^Known viruses: (\d+)$/m.exec(run.stdout)?.[1], stderr: run.stderr });
  for (const options of [[], ['--detect-pua']]) {
    it(`main set and daily 27371${options.length ? ' with --detect-pua' : ''}`, () => {
      const args = [...options, '-d', join(dir, 'main'), '-d', sharedSigs('clamav-daily-27371'), join(dir, 'clean.txt')];
      const real = known(runClamAV('clamscan', args));
      assert.equal(real.status, 0, real.stderr);
      assert.deepEqual(known(runClamTS('clamscan', args)), real);
    });
  }

  it('builds matchers with clamscan’s pattern counts (its Matcher[N] debug lines)', () => {
    const matcherLines = (run: ToolRun) => run.stderr.split('\n').filter((line) => line.includes(': Matcher['));
    for (const options of [[], ['--detect-pua']]) {
      const args = ['--debug', ...options, '-d', join(dir, 'main'), '-d', sharedSigs('clamav-daily-27371'), join(dir, 'clean.txt')];
      const real = matcherLines(runClamAV('clamscan', args, { maxBuffer: 64 * 1024 * 1024 }));
      assert.equal(real.length, 15, 'clamscan printed a line per target type');
      assert.deepEqual(matcherLines(runClamTS('clamscan', args, { maxBuffer: 64 * 1024 * 1024 })), real, `the same lines${options.length ? ' with --detect-pua' : ''}`);
    }
  });
});
