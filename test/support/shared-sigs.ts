import { join } from 'node:path';
import { REPO_ROOT } from './run-tool.js';

/** A path under `../shared/sigs`: ClamAV's real signature files, next to the repository. */
export function sharedSigs(relative = ''): string {
  return join(REPO_ROOT, '..', 'shared', 'sigs', relative);
}
