/**
 * The loading inlining budget: set when a load (or a synchronous build) starts, restored when the
 * last overlapping one ends (also when it fails), and never set when Node's command line chose a
 * budget.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withLoadingInliningBudget, withLoadingInliningBudgetSync } from '../src/engine/inlining-budget.js';

const SMALL = '--max-inlined-bytecode-size-cumulative=115';
const DEFAULT = '--max-inlined-bytecode-size-cumulative=920';

describe('loading inlining budget', () => {
  it('is set for a load and restored after it, returning its result', async () => {
    const flags: string[] = [];
    const result = await withLoadingInliningBudget(async () => {
      assert.deepEqual(flags, [SMALL]);
      return 42;
    }, (f) => flags.push(f));
    assert.equal(result, 42);
    assert.deepEqual(flags, [SMALL, DEFAULT]);
  });

  it('stays small until the last of overlapping loads ends', async () => {
    const flags: string[] = [];
    const setFlags = (f: string) => flags.push(f);
    let finishFirst!: () => void;
    const first = withLoadingInliningBudget(() => new Promise<void>((resolve) => (finishFirst = resolve)), setFlags);
    const second = withLoadingInliningBudget(async () => {
      finishFirst();
      await first;
      assert.deepEqual(flags, [SMALL]);
    }, setFlags);
    await second;
    assert.deepEqual(flags, [SMALL, DEFAULT]);
  });

  it('is restored when the load fails', async () => {
    const flags: string[] = [];
    await assert.rejects(
      withLoadingInliningBudget(async () => {
        throw new Error('unreadable database');
      }, (f) => flags.push(f)),
      /unreadable database/,
    );
    assert.deepEqual(flags, [SMALL, DEFAULT]);
  });

  it('is set for a synchronous build and restored after it, also when it throws', () => {
    const flags: string[] = [];
    const setFlags = (f: string) => flags.push(f);
    assert.equal(
      withLoadingInliningBudgetSync(() => {
        assert.deepEqual(flags, [SMALL]);
        return 'matcher';
      }, setFlags),
      'matcher',
    );
    assert.throws(
      () =>
        withLoadingInliningBudgetSync(() => {
          throw new Error('bad pattern');
        }, setFlags),
      /bad pattern/,
    );
    assert.deepEqual(flags, [SMALL, DEFAULT, SMALL, DEFAULT]);
  });

  it('stays small after a build made during a load, until the load ends', async () => {
    const flags: string[] = [];
    const setFlags = (f: string) => flags.push(f);
    await withLoadingInliningBudget(async () => {
      withLoadingInliningBudgetSync(() => undefined, setFlags);
      assert.deepEqual(flags, [SMALL]);
    }, setFlags);
    assert.deepEqual(flags, [SMALL, DEFAULT]);
  });

  it('leaves a budget given on the command line alone', () => {
    const module = fileURLToPath(new URL('../src/engine/inlining-budget.ts', import.meta.url));
    const script = `
      const { withLoadingInliningBudget, withLoadingInliningBudgetSync } = await import(${JSON.stringify(module)});
      const flags = [];
      await withLoadingInliningBudget(async () => {}, (f) => flags.push(f));
      withLoadingInliningBudgetSync(() => {}, (f) => flags.push(f));
      console.log(JSON.stringify(flags));
    `;
    const run = spawnSync(
      process.execPath,
      [...process.execArgv, '--max-inlined-bytecode-size-cumulative=500', '--input-type=module', '--eval', script],
      { encoding: 'utf8' },
    );
    assert.equal(run.stderr, '');
    assert.equal(run.stdout.trim(), '[]');
  });
});
