import { isAbsolute, join } from 'node:path';

/**
 * Where ClamTS keeps its caches (built engines, and the tools' compiled code): `CLAMTS_CACHE_DIR`,
 * else `$XDG_CACHE_HOME/clamts`, else `$HOME/.cache/clamts`. A module of its own, with no other
 * import, so that the tools' launcher can find the directory before it loads anything else.
 */
export function engineCacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CLAMTS_CACHE_DIR) return env.CLAMTS_CACHE_DIR;
  // The XDG specification says to ignore a relative XDG_CACHE_HOME.
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'clamts');
  return env.HOME ? join(env.HOME, '.cache', 'clamts') : undefined;
}
