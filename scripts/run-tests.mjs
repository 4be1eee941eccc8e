#!/usr/bin/env node
// Runs every test file of the repository with Node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [path-filter…]   (filters keep files whose path contains one)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fg from 'fast-glob';

const filters = process.argv.slice(2);
const files = (
  await fg(['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'], { ignore: ['**/node_modules/**'] })
)
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// Engine caches the tools write during the tests go to a directory of this run, not ~/.cache.
const cacheDir = mkdtempSync(join(tmpdir(), 'clamts-test-cache-'));
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...files], {
  stdio: 'inherit',
  env: { ...process.env, CLAMTS_CACHE_DIR: cacheDir },
});
rmSync(cacheDir, { recursive: true, force: true });
process.exit(result.status ?? 1);
