/**
 * A disk cache of built engines. Parsing a real signature set takes seconds; the engine it
 * produces is plain data (`shareEngine`), so the next run with the same databases reads that data
 * back instead of parsing. One cache file per database set (the paths as given and the load
 * options), replaced when any database file changes. Every cache failure falls back to a normal
 * load: the cache changes how long a load takes, never what it produces or prints.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  readvSync,
  renameSync,
  statSync,
  utimesSync,
  writevSync,
  type BigIntStats,
} from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { isClamError, type ClamError } from '../errors.js';
import { databaseAgeCase } from '../signatures/container-loader.js';
import { parseCvdHeader } from '../signatures/cvd.js';
import type { LoadOptions } from '../signatures/database-context.js';
import { containerKindOf } from '../signatures/database-formats.js';
import { DatabaseLoader } from '../signatures/loader.js';
import { readFileHead } from '../util/file-head.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { Engine } from './engine.js';
import { engineFromShared, shareEngine, type SharedEngineDescriptor } from './shared-engine.js';
import { CLAMTS_VERSION } from './version.js';
import { engineCacheDirectory, pruneCacheFiles, removeQuietly } from './cache-directory.js';
import { withLoadingInliningBudget } from './inlining-budget.js';
import { allocateBuffer, storedBuffer, ValueDecoder, ValueEncoder, type Json, type StoredBuffer } from './cache-values.js';

/** Bumped whenever the file layout or the encoding of values changes. */
export const ENGINE_CACHE_FORMAT = 8;

/** Smaller database sets load fast enough without: the test suite's tiny databases write no cache. */
export const MIN_CACHED_DATABASE_BYTES = 1 << 20;

/** Cache files kept in the cache directory: the most recently used ones. */
const KEPT_CACHE_FILES = 8;

/**
 * Database files changed this recently are not cached yet: they may still be being written, and
 * a rewrite within the filesystem's timestamp granularity (up to a second) would keep the stamps
 * the cache was keyed with.
 */
const SETTLE_NS = 1_000_000_000n;

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/** The cache file of a loaded engine, and the load's messages to store with it. */
interface EngineCacheSlot {
  readonly entry: CacheEntry;
  readonly messages: readonly LoggedMessage[];
}

/** A database set that loaded: its engine, built now or read from the cache. */
export class LoadedEngine {
  readonly ok = true;
  private built: Engine | undefined;
  /** The descriptor read from the cache file: it may lack matchers (see saveCache). */
  private readonly read: SharedEngineDescriptor | undefined;
  /** The descriptor for worker threads, with every matcher. */
  private complete: SharedEngineDescriptor | undefined;
  /** How many matchers the cache file holds, as read or last written; -1 when there is none. */
  private matchersInCache: number;

  constructor(
    source: Engine | SharedEngineDescriptor,
    /** Whether it came from the cache (the databases were not parsed). */
    readonly fromCache: boolean,
    private readonly cache?: EngineCacheSlot,
  ) {
    if (source instanceof Engine) this.built = source;
    else this.read = source;
    this.matchersInCache = this.read ? matcherCount(this.read) : -1;
  }

  /** The engine; one read from the cache is rebuilt from its descriptor on first use. */
  get engine(): Engine {
    return (this.built ??= engineFromShared(this.read!));
  }

  /** The engine in shared memory, for worker threads: every target's matcher is built. */
  get descriptor(): SharedEngineDescriptor {
    return (this.complete ??= this.read && !lacksMatchers(this.read) ? this.read : shareEngine(this.engine));
  }

  /**
   * Writes the engine to the cache file when the cache applies and the file would gain: after a
   * load that parsed the databases, or when the engine has built target matchers the file lacks.
   * The file holds the matchers built so far (a target's is built at the first object of its
   * type, see TargetProgram); call this when the engine's work is done (clamscan: after its scan)
   * to store the matchers the work needed, and no others. Silently does nothing when the file
   * cannot be written.
   */
  saveCache(): void {
    // A hit whose engine was never used has built nothing.
    if (this.cache === undefined || this.built === undefined) return;
    const matchers = this.built.body.programs.filter((program) => program?.hasMatcher).length;
    if (matchers <= this.matchersInCache) return;
    const descriptor = this.complete ?? shareEngine(this.built, 'built');
    if (this.cache.entry.write(descriptor, this.cache.messages)) this.matchersInCache = matchers;
  }
}

function matcherCount(descriptor: SharedEngineDescriptor): number {
  return descriptor.body.programs.filter((program) => program?.matcher !== undefined).length;
}

function lacksMatchers(descriptor: SharedEngineDescriptor): boolean {
  return descriptor.body.programs.some((program) => program !== null && program.matcher === undefined);
}

/** A database set that did not load. Failures are never cached. */
export interface LoadFailure {
  readonly ok: false;
  /** 'load': a database could not be read; 'compile': the engine could not be built from them. */
  readonly stage: 'load' | 'compile';
  readonly error: ClamError;
  /** Signatures loaded before the failure (clamscan's "Known viruses" then). */
  readonly signatureCount: number;
}

/**
 * Loads every path (files or directories, in order) into one engine, as `loadEngine`, through the
 * engine cache when it applies: a hit replays the warnings and errors the cold load logged, in
 * order, and skips parsing. The cache file is written by the result's `saveCache`. The cache is
 * not used with `CLAMTS_ENGINE_CACHE=off`, with a logger that shows debug messages (those must
 * come from a real load), for database sets under `MIN_CACHED_DATABASE_BYTES`, or when no cache
 * directory can be found.
 */
export async function loadEngineCached(paths: readonly string[], options: LoadOptions = {}): Promise<LoadedEngine | LoadFailure> {
  const logger = options.logger ?? silentLogger;
  const entry = logger.debugEnabled ? undefined : cacheEntryFor(paths, options);
  if (!entry) return loadAndBuild(paths, options);

  const hit = entry.read();
  if (hit) {
    for (const [level, message] of hit.messages) logger[level](message);
    return new LoadedEngine(hit.descriptor, true, { entry, messages: hit.messages });
  }
  const messages: LoggedMessage[] = [];
  return loadAndBuild(paths, { ...options, logger: recordingLogger(logger, messages) }, { entry, messages });
}

async function loadAndBuild(paths: readonly string[], options: LoadOptions, cache?: EngineCacheSlot): Promise<LoadedEngine | LoadFailure> {
  const result = await withLoadingInliningBudget(() => parseAndBuild(paths, options));
  return result instanceof Engine ? new LoadedEngine(result, false, cache) : result;
}

async function parseAndBuild(paths: readonly string[], options: LoadOptions): Promise<Engine | LoadFailure> {
  const loader = new DatabaseLoader(options);
  const failure = (stage: LoadFailure['stage'], error: unknown): LoadFailure => {
    if (!isClamError(error)) throw error;
    return { ok: false, stage, error, signatureCount: loader.builder.signatureCount };
  };
  try {
    for (const path of paths) await loader.load(path);
  } catch (error) {
    return failure('load', error);
  }
  try {
    return loader.builder.build(options.logger);
  } catch (error) {
    return failure('compile', error);
  }
}

type LoggedMessage = readonly ['error' | 'warning', string];

/** Passes every message on and keeps the warnings and errors, to replay them on a cache hit. */
function recordingLogger(target: Logger, messages: LoggedMessage[]): Logger {
  return {
    error(message) {
      messages.push(['error', message]);
      target.error(message);
    },
    warning(message) {
      messages.push(['warning', message]);
      target.warning(message);
    },
    debug: (message) => target.debug(message),
    debugEnabled: target.debugEnabled,
  };
}

// ---------------------------------------------------------------------------------------------
// Where a database set's cache file is, and what it must match
// ---------------------------------------------------------------------------------------------

/** The cache file of a database set, or undefined when the cache does not apply to it. */
function cacheEntryFor(paths: readonly string[], options: LoadOptions): CacheEntry | undefined {
  if (process.env.CLAMTS_ENGINE_CACHE === 'off') return undefined;
  const directory = engineCacheDirectory();
  if (!directory) return undefined;
  const settings = loadSettings(options);
  let snapshot: DatabaseSnapshot;
  try {
    snapshot = snapshotDatabases(paths);
  } catch {
    return undefined; // a database that cannot be looked at: the load reports it
  }
  if (snapshot.bytes < MIN_CACHED_DATABASE_BYTES) return undefined;
  const name = digest(JSON.stringify({ paths, settings })).subarray(0, 16).toString('hex');
  return new CacheEntry(directory, `${name}.engine`, paths, settings, snapshot);
}

/** The load options that decide what loads: all but the logger, so that no new option is forgotten. */
function loadSettings(options: LoadOptions): Record<string, unknown> {
  const entries = Object.entries(options).filter(([key, value]) => key !== 'logger' && value !== undefined);
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What a load reads, as stamps that change when the files do. */
interface DatabaseSnapshot {
  /** Per path as given: the path, then each directory entry in readdir order, with its stamp. */
  readonly stamps: readonly string[];
  /** Total size of the files: the cache only pays off for large sets. */
  readonly bytes: number;
  /** When it was taken, and the latest status change of any file, in nanoseconds since the epoch. */
  readonly takenNs: bigint;
  readonly lastChangeNs: bigint;
  /** Build times of the signed containers, whose age the loader warns about. */
  readonly containerBuildTimes: readonly number[];
}

/**
 * Stats every database path and, for a directory, every entry in the order the loader reads
 * them (readdir order decides load order). Throws when a path cannot be looked at.
 */
function snapshotDatabases(paths: readonly string[]): DatabaseSnapshot {
  const takenNs = BigInt(Date.now()) * 1_000_000n;
  const stamps: string[] = [];
  const containers: string[] = [];
  let bytes = 0;
  let lastChangeNs = 0n;
  const add = (label: string, path: string, stats: BigIntStats | undefined): void => {
    stamps.push(stats ? `${label} ${stats.dev} ${stats.ino} ${stats.size} ${stats.mtimeNs} ${stats.ctimeNs}` : `${label} absent`);
    if (!stats?.isFile()) return;
    bytes += Number(stats.size);
    if (stats.ctimeNs > lastChangeNs) lastChangeNs = stats.ctimeNs;
    if (containerKindOf(path)) containers.push(path);
  };
  for (const path of paths) {
    const stats = statSync(path, { bigint: true });
    add(path, path, stats);
    if (stats.isDirectory()) {
      for (const name of readdirSync(path)) {
        const entry = join(path, name);
        // A dangling link the loader skips; what it points to appearing changes the stamp.
        add(name, entry, statSync(entry, { bigint: true, throwIfNoEntry: false }));
      }
    } else {
      // The loader compares a .cvd/.cld with its twin beside it and loads only the newer.
      const twin = twinOf(path);
      if (twin) add(twin, twin, statSync(twin, { bigint: true, throwIfNoEntry: false }));
    }
  }
  const containerBuildTimes = containers.map((path) => parseCvdHeader(readFileHead(path, 512), path).buildTimestamp);
  return { stamps, bytes, takenNs, lastChangeNs, containerBuildTimes };
}

function twinOf(path: string): string | undefined {
  const kind = containerKindOf(path);
  if (kind === 'cvd') return `${path.slice(0, -2)}ld`;
  if (kind === 'cld') return `${path.slice(0, -2)}vd`;
  return undefined;
}

/**
 * The engine library's directory, above this module's engine/. A bundled tool still names it
 * (scripts/bundle.mjs keeps such URLs pointing at the same place), so that clamscan's bundle
 * and clamd's unbundled modules stamp alike and share their cache files.
 */
const LIBRARY_DIRECTORY = fileURLToPath(new URL('..', import.meta.url));

/**
 * Stamps of this library's own modules: the engine's data layout changes with the code, and a
 * development build changes the code without changing CLAMTS_VERSION.
 */
let codeStamp: string | undefined;
function libraryCodeStamp(): string {
  if (codeStamp === undefined) {
    const stamps: string[] = [];
    const stamp = (path: string) => {
      const stats = statSync(path, { bigint: true });
      stamps.push(`${path} ${stats.size} ${stats.mtimeNs}`);
    };
    // A walk of our own: readdirSync's `recursive` option is several times slower.
    const walk = (directory: string): void => {
      for (const entry of readdirSync(directory, { withFileTypes: true })) {
        const path = join(directory, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.[cm]?[jt]s$/.test(entry.name) && !/\.d\.[cm]?ts$/.test(entry.name)) stamp(path);
      }
    };
    walk(LIBRARY_DIRECTORY);
    codeStamp = digest(stamps.join('\n')).toString('hex');
  }
  return codeStamp;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

// ---------------------------------------------------------------------------------------------
// The cache file
// ---------------------------------------------------------------------------------------------

/*
 * Layout: a fixed prefix — magic, format version, header length, CRC-32 of header and payload,
 * fingerprint (integers little-endian) — then the header (UTF-8 JSON: messages, buffer table,
 * encoded descriptor), then the payload: every buffer's bytes, one after the other in the order
 * of the buffer table.
 */
const MAGIC = Buffer.from('ClamTSEC', 'latin1');
const VERSION_AT = 8;
const HEADER_LENGTH_AT = 12;
const CRC_AT = 16;
const FINGERPRINT_AT = 20;
const PREFIX_SIZE = FINGERPRINT_AT + 32;

/** Linux's IOV_MAX: readv/writev take at most this many buffers per call. */
const IOV_BATCH = 1024;

interface CachedLoad {
  descriptor: SharedEngineDescriptor;
  messages: readonly LoggedMessage[];
}

interface CacheHeader {
  messages: readonly LoggedMessage[];
  buffers: StoredBuffer[];
  value: Json;
}

class CacheEntry {
  private readonly path: string;
  private readonly fingerprint: Buffer;

  constructor(
    private readonly directory: string,
    private readonly name: string,
    private readonly paths: readonly string[],
    private readonly settings: Record<string, unknown>,
    private readonly snapshot: DatabaseSnapshot,
  ) {
    this.path = join(directory, name);
    this.fingerprint = this.fingerprintOf(snapshot);
  }

  /** Everything a build depends on, hashed: the databases as `snapshot` saw them, the age warnings as of now. */
  private fingerprintOf(snapshot: DatabaseSnapshot): Buffer {
    return digest(
      JSON.stringify({
        format: ENGINE_CACHE_FORMAT,
        clamts: CLAMTS_VERSION,
        code: libraryCodeStamp(),
        endianness: endianness(),
        settings: this.settings,
        databases: snapshot.stamps,
        ages: snapshot.containerBuildTimes.map((time) => databaseAgeCase(time)),
      }),
    );
  }

  /** Whether the databases and the age warnings are still those of the load. */
  private stillCurrent(): boolean {
    try {
      return this.fingerprintOf(snapshotDatabases(this.paths)).equals(this.fingerprint);
    } catch {
      return false; // a database that went away
    }
  }

  /** The cached engine when the file is there, intact and made from these very databases. */
  read(): CachedLoad | undefined {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return undefined;
    }
    try {
      const loaded = this.readOpen(fd);
      if (loaded) touch(this.path); // keeps it among the most recently used
      return loaded;
    } catch {
      return undefined; // truncated, corrupt or unreadable: the load rewrites it
    } finally {
      closeSync(fd);
    }
  }

  private readOpen(fd: number): CachedLoad | undefined {
    const size = fstatSync(fd).size;
    const prefix = Buffer.alloc(PREFIX_SIZE);
    if (size < PREFIX_SIZE || readSync(fd, prefix, 0, PREFIX_SIZE, 0) !== PREFIX_SIZE) return undefined;
    if (!prefix.subarray(0, MAGIC.length).equals(MAGIC) || prefix.readUInt32LE(VERSION_AT) !== ENGINE_CACHE_FORMAT) return undefined;
    if (!prefix.subarray(FINGERPRINT_AT).equals(this.fingerprint)) return undefined;
    const headerLength = prefix.readUInt32LE(HEADER_LENGTH_AT);
    if (PREFIX_SIZE + headerLength > size) return undefined;
    const headerBytes = Buffer.alloc(headerLength);
    if (readSync(fd, headerBytes, 0, headerLength, PREFIX_SIZE) !== headerLength) return undefined;
    const header = JSON.parse(headerBytes.toString('utf8')) as CacheHeader;
    const payloadLength = header.buffers.reduce((total, buffer) => total + buffer.byteLength, 0);
    if (PREFIX_SIZE + headerLength + payloadLength !== size) return undefined;
    const views = header.buffers.map(allocateBuffer);
    transfer(readvSync, fd, views, PREFIX_SIZE + headerLength);
    if (checksum(headerBytes, views) !== prefix.readUInt32LE(CRC_AT)) return undefined;
    const descriptor = new ValueDecoder(views.map((view) => view.buffer)).decode(header.value) as SharedEngineDescriptor;
    return { descriptor, messages: header.messages };
  }

  /** Stores an engine loaded from these databases and the load's messages; false when it cannot. */
  write(descriptor: SharedEngineDescriptor, messages: readonly LoggedMessage[]): boolean {
    // Settled before the snapshot: a later change gets a later stamp even with coarse timestamps.
    if (this.snapshot.lastChangeNs > this.snapshot.takenNs - SETTLE_NS) return false;
    // The databases changed since the load (say, updated during a long scan), or a container
    // crossed an age line, whose warnings the fingerprint covers: this engine is not theirs.
    if (!this.stillCurrent()) return false;
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    let fd: number | undefined;
    try {
      const encoder = new ValueEncoder();
      const header: CacheHeader = { messages, buffers: [], value: encoder.encode(descriptor, 'descriptor') };
      header.buffers = encoder.buffers.map((buffer, id) => storedBuffer(buffer, encoder.extents[id]!));
      const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
      const views = encoder.buffers.map((buffer, id) => new Uint8Array(buffer, 0, encoder.extents[id]));
      const prefix = Buffer.alloc(PREFIX_SIZE);
      MAGIC.copy(prefix, 0);
      prefix.writeUInt32LE(ENGINE_CACHE_FORMAT, VERSION_AT);
      prefix.writeUInt32LE(headerBytes.length, HEADER_LENGTH_AT);
      prefix.writeUInt32LE(checksum(headerBytes, views), CRC_AT);
      this.fingerprint.copy(prefix, FINGERPRINT_AT);

      mkdirSync(this.directory, { recursive: true, mode: 0o700 });
      fd = openSync(temporary, 'wx', 0o600);
      transfer(writevSync, fd, [prefix, headerBytes, ...views], 0);
      closeSync(fd);
      fd = undefined;
      renameSync(temporary, this.path);
      pruneCacheFiles(this.directory, this.name, /^[0-9a-f]{32}\.engine(\.\d+\.[0-9a-f]{8}\.tmp)?$/, KEPT_CACHE_FILES);
      return true;
    } catch {
      if (fd !== undefined) closeSync(fd);
      removeQuietly(temporary);
      return false;
    }
  }
}

/** Reads or writes `views` at `position` through readv/writev; throws on a short transfer. */
function transfer(
  call: (fd: number, views: readonly NodeJS.ArrayBufferView[], position: number) => number,
  fd: number,
  views: readonly Uint8Array[],
  position: number,
): void {
  for (let start = 0; start < views.length; start += IOV_BATCH) {
    const batch = views.slice(start, start + IOV_BATCH);
    const length = batch.reduce((total, view) => total + view.byteLength, 0);
    // Regular files transfer whole batches; a short count (over 2 GiB in one call) is a failure.
    if (call(fd, batch, position) !== length) throw new Error('short transfer');
    position += length;
  }
}

function checksum(header: Uint8Array, views: readonly Uint8Array[]): number {
  let crc = crc32(header);
  // (Node 20's crc32 answers 0 for an empty view of a zero-length SharedArrayBuffer.)
  for (const view of views) if (view.length > 0) crc = crc32(view, crc);
  return crc;
}

function touch(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // Only the pruning order suffers.
  }
}
