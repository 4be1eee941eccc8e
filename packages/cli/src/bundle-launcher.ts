/**
 * Runs a tool's bundle (see scripts/bundle.mjs) with a V8 code cache.
 *
 * A short run spends much of its time compiling: first the bundle's megabyte of JavaScript, then
 * each function as it is first called. V8 can hand out the bytecode it made (after the run, so
 * that the functions the run called are in it) and take it back the next time, which then skips
 * that work. The cache files are in the cache directory, named after the tool, the bundle (path,
 * size, modification time), Node's version and platform and its command-line flags (V8 refuses
 * data made with other flags); a tool keeps its KEPT_CODE_CACHES most recently written. V8 also
 * checks the data itself, and a file it refuses is written again.
 *
 * A cache holds only the functions that the run which wrote it called: one written by
 * `clamscan --version` lacks the database loader. Each file therefore records how long its
 * writer ran, and a run much longer than that offers the cache it can make, which replaces the
 * file when it holds clearly more (making it costs a few ms, so short runs never do). Such runs
 * keep all their bytecode (`--no-flush-bytecode`): V8 otherwise drops the bytecode of functions
 * not called for a while, the bundle's outermost function among them, and every start with a
 * cache written after a long scan compiled that function, the whole bundle, again (20 ms).
 *
 * V8 takes a code cache only under the flags it was made with (it keeps a hash of most flags that
 * differ from its defaults). That holds for Node's own modules too, whose code cache is made with
 * V8's defaults: under other flags, each `node:` module a start loads is compiled from source
 * (about 10 ms of a start of clamscan). A tool's V8 flags (RunFlag) are therefore set only once the
 * bundle's modules, and the Node modules they import, are loaded, and given back their defaults
 * before the bundle's cache is made, so that the next start, which reads it before any flag is
 * set, finds the same hash.
 *
 * Every failure falls back to compiling as usual: the cache changes how long a start takes, never
 * what a tool does. `CLAMTS_CODE_CACHE=off` turns it off.
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
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import { engineCacheDirectory, pruneCacheFiles, removeQuietly } from '@clamts/core/cache-directory';

export type BundledTool = 'clamscan' | 'clamconf' | 'clamdscan';

/** Code caches kept per tool: one per way of running it (Node version, flags) in recent use. */
const KEPT_CODE_CACHES = 3;
/** A run this many times as long as the cache's writer may have called functions the cache lacks. */
const RICHER_RUN_FACTOR = 2;
/** Runs shorter than this never offer a richer cache. */
const MIN_RICHER_RUN_MS = 200;
/** An offered cache replaces the file when it is this many times as large as the cache read. */
const MIN_GROWTH = 1.05;
/** A cache file: the writer's run time in ms (float64, little-endian), then V8's data. */
const HEADER_BYTES = 8;

/** A code cache read back: V8's data and how long the run that wrote it took. */
interface CodeCache {
  data: Buffer;
  writerRunMs: number;
}

type ToolMain = (argv: readonly string[]) => Promise<number>;

/** A V8 flag a tool runs with (`on`), and the flag that gives the setting back V8's default (`off`). */
export interface RunFlag {
  readonly on: string;
  readonly off: string;
}

const KEEP_BYTECODE: RunFlag = { on: '--no-flush-bytecode', off: '--flush-bytecode' };

/** Runs `tool`'s main function with `argv`, under `runFlags`, and returns its exit code. */
export async function runBundle(tool: BundledTool, argv: readonly string[], runFlags: readonly RunFlag[] = []): Promise<number> {
  const started = Date.now();
  const bundle = fileURLToPath(new URL(`./bundles/${tool}.cjs`, import.meta.url));
  const source = readFileSync(bundle, 'utf8');
  const cacheFile = codeCacheFile(tool, bundle);
  const cache = cacheFile === undefined ? undefined : readCodeCache(cacheFile);
  const script = new Script(Module.wrap(source), { filename: bundle, cachedData: cache?.data });
  const module = { exports: {} as Record<string, unknown> };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  const flags = cacheFile === undefined ? runFlags : [...runFlags, KEEP_BYTECODE];
  for (const flag of flags) setFlagsFromString(flag.on);
  const status = await (module.exports[`${tool}Main`] as ToolMain)(argv);
  for (const flag of flags) setFlagsFromString(flag.off);
  if (cacheFile !== undefined) updateCodeCache(tool, cacheFile, script, cache, Date.now() - started);
  return status;
}

/** Writes the script's cache when there was none, V8 refused it, or this run made a clearly richer one. */
function updateCodeCache(tool: BundledTool, file: string, script: Script, read: CodeCache | undefined, runMs: number): void {
  if (read === undefined || script.cachedDataRejected) {
    writeCodeCache(tool, file, script.createCachedData(), runMs);
    return;
  }
  if (runMs < Math.max(MIN_RICHER_RUN_MS, RICHER_RUN_FACTOR * read.writerRunMs)) return;
  const data = script.createCachedData();
  if (data.length >= MIN_GROWTH * read.data.length) writeCodeCache(tool, file, data, runMs);
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

function readCodeCache(path: string): CodeCache | undefined {
  try {
    const file = readFileSync(path);
    if (file.length <= HEADER_BYTES) return undefined;
    return { data: file.subarray(HEADER_BYTES), writerRunMs: file.readDoubleLE(0) };
  } catch {
    return undefined;
  }
}

/** Writes a code cache (through a temporary file and a rename), then prunes the tool's caches. */
function writeCodeCache(tool: BundledTool, path: string, data: Buffer, runMs: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeDoubleLE(runMs);
    writeFileSync(temporary, Buffer.concat([header, data]), { mode: 0o600 });
    renameSync(temporary, path);
    pruneCacheFiles(dirname(path), basename(path), new RegExp(`^${tool}\\.[0-9a-f]{16}\\.code(\\.\\d+\\.tmp)?$`), KEPT_CODE_CACHES);
  } catch {
    removeQuietly(temporary);
  }
}
