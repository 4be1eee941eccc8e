/**
 * Runs a tool's bundle (see scripts/bundle.mjs) with a V8 code cache.
 *
 * A short run spends much of its time compiling: first the bundle's megabyte of JavaScript, then
 * each function as it is first called. V8 can hand out the bytecode it made (after the run, so
 * that the functions the run called are in it) and take it back the next time, which then skips
 * that work. The cache files are in the cache directory, named after the tool, the bundle (path,
 * size, modification time), Node's version and platform and its command-line flags (V8 refuses
 * data made with other flags); a tool keeps its KEPT_CODE_CACHES most recently written. V8 also
 * checks the data itself, and a file it refuses is written again. Every failure falls back to
 * compiling as usual: the cache changes how long a start takes, never what a tool does.
 * `CLAMTS_CODE_CACHE=off` turns it off.
 *
 * The bundle is CommonJS because only classic scripts take V8 code caches in Node 20. A script run
 * this way cannot import() (Node 20 wants an experimental flag for that): the packages left out
 * of the bundles, the native addons, are CommonJS and required (scripts/bundle.mjs checks).
 * This launcher is bundled into a classic script as well (bundle-launcher.cjs), which the CommonJS
 * scripts in bin/ require: a tool then starts without Node's ES module loader, 10-15 ms sooner.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { engineCacheDirectory, pruneCacheFiles, removeQuietly } from '@clamts/core/cache-directory';

export type BundledTool = 'clamscan' | 'clamconf' | 'clamdscan';

/** Code caches kept per tool: one per way of running it (Node version, flags) in recent use. */
const KEPT_CODE_CACHES = 3;

type ToolMain = (argv: readonly string[]) => Promise<number>;

/** Runs `tool`'s main function with `argv` and returns its exit code. */
export async function runBundle(tool: BundledTool, argv: readonly string[]): Promise<number> {
  const bundle = fileURLToPath(new URL(`./bundles/${tool}.cjs`, import.meta.url));
  const source = readFileSync(bundle, 'utf8');
  const cacheFile = codeCacheFile(tool, bundle);
  const cachedData = cacheFile === undefined ? undefined : readQuietly(cacheFile);
  const script = new Script(Module.wrap(source), { filename: bundle, cachedData });
  const module = { exports: {} as Record<string, unknown> };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  const status = await (module.exports[`${tool}Main`] as ToolMain)(argv);
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected)) writeCodeCache(tool, cacheFile, script);
  return status;
}

/** The cache file for this bundle, or undefined when there is no cache. */
function codeCacheFile(tool: BundledTool, bundle: string): string | undefined {
  if (process.env.CLAMTS_CODE_CACHE === 'off') return undefined;
  const directory = engineCacheDirectory();
  if (directory === undefined) return undefined;
  try {
    const { size, mtimeMs } = statSync(bundle);
    const key = createHash('sha256')
      .update([bundle, size, mtimeMs, process.version, process.platform, process.arch, ...process.execArgv].join('\0'))
      .digest('hex')
      .slice(0, 16);
    return join(directory, `${tool}.${key}.code`);
  } catch {
    return undefined;
  }
}

function readQuietly(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Writes the script's code cache (through a temporary file and a rename), then prunes the tool's caches. */
function writeCodeCache(tool: BundledTool, path: string, script: Script): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
    renameSync(temporary, path);
    pruneCacheFiles(dirname(path), basename(path), new RegExp(`^${tool}\\.[0-9a-f]{16}\\.code(\\.\\d+\\.tmp)?$`), KEPT_CODE_CACHES);
  } catch {
    removeQuietly(temporary);
  }
}
