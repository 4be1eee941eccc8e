import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './run-tool.js';

/** A path under `../shared/sigs`: ClamAV's real signature files, next to the repository. */
export function sharedSigs(relative = ''): string {
  return join(REPO_ROOT, '..', 'shared', 'sigs', relative);
}

/** Whether `../shared/sigs` is there: it is in CI and in the README's quick start. */
export const haveSharedSigs = existsSync(sharedSigs());

/** node:test options for tests that read `../shared/sigs`: skipped, saying why, in a clone without it. */
export const needsSharedSigs: { skip?: string } = haveSharedSigs ? {} : { skip: `${sharedSigs()} is missing` };
