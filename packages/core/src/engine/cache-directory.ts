import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/*
 * Where ClamTS keeps its caches (built engines, and the tools' compiled code), and how their files
 * are kept few. A module of its own, with no other import, so that the tools' launcher can use it
 * before it loads anything else.
 */

/** A temporary file this old was left by a writer that died. */
const STALE_TEMPORARY_MS = 3600_000;

/** `CLAMTS_CACHE_DIR`, else `$XDG_CACHE_HOME/clamts`, else `$HOME/.cache/clamts`. */
export function engineCacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CLAMTS_CACHE_DIR) return env.CLAMTS_CACHE_DIR;
  // The XDG specification says to ignore a relative XDG_CACHE_HOME.
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'clamts');
  return env.HOME ? join(env.HOME, '.cache', 'clamts') : undefined;
}

/**
 * Keeps `kept` cache files of one kind in `directory`: `current` and the most recently modified
 * others. `files` matches the kind's cache files and their temporary files (`….tmp`); temporary
 * files left by writers that died are removed too.
 */
export function pruneCacheFiles(directory: string, current: string, files: RegExp, kept: number): void {
  const found = readdirSync(directory)
    .filter((name) => files.test(name) && name !== current)
    .map((name) => ({ name, stats: statSync(join(directory, name), { throwIfNoEntry: false }) }));
  const caches = found.filter(({ name, stats }) => stats && !name.endsWith('.tmp'));
  caches.sort((a, b) => b.stats!.mtimeMs - a.stats!.mtimeMs);
  for (const { name } of caches.slice(kept - 1)) removeQuietly(join(directory, name));
  const staleBefore = Date.now() - STALE_TEMPORARY_MS;
  for (const { name, stats } of found) {
    if (stats && name.endsWith('.tmp') && stats.mtimeMs < staleBefore) removeQuietly(join(directory, name));
  }
}

/** Removes a file, if it is there and may be removed. */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or not ours to remove.
  }
}
