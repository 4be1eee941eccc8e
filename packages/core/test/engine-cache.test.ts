/**
 * The engine cache: an engine read back from it scans as the freshly built one; any change to the
 * databases is a miss; a damaged cache file is a miss that gets replaced; the load's messages are
 * replayed in order, with the database age warning as a load now would print it; and clamscan
 * prints exactly the same with and without it. The expected detections and messages are those of
 * clamscan 1.4.6 on the same databases and files.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { engineCacheDirectory } from '../src/engine/cache-directory.js';
import {
  ENGINE_CACHE_FORMAT,
  loadEngineCached,
  MIN_CACHED_DATABASE_BYTES,
  type LoadedEngine,
} from '../src/engine/engine-cache.js';
import { UnstorableValueError, ValueDecoder, ValueEncoder } from '../src/engine/cache-values.js';
import type { Engine } from '../src/engine/engine.js';
import { scanOptions } from '../src/engine/scan-options.js';
import { Scanner } from '../src/engine/scanner.js';
import { NodeLists } from '../src/matching/node-lists.js';
import { parseCvdHeader } from '../src/signatures/cvd.js';
import type { LoadOptions } from '../src/signatures/database-context.js';
import type { Logger } from '../src/util/logger.js';
import { EICAR, EICAR_MD5, tempDir } from './support/temp-dir.js';
import { needsSharedSigs, sharedSigs } from '../../../test/support/shared-sigs.js';
import { TOOL_DEFAULT_LOAD_OPTIONS } from '../../../test/support/tool-load-options.js';

const MAIN = sharedSigs('clamav-main');
const DAILY = sharedSigs('clamav-daily-27371');
const CVD = sharedSigs('clamav-cvd');
const CLAMSCAN = fileURLToPath(new URL('../../../bin/clamscan', import.meta.url));
const CLI_BUILT = existsSync(fileURLToPath(new URL('../../cli/dist/clamscan/main.js', import.meta.url)));

/** Files to scan and what clamscan 1.4.6 reports for each with the slice database. */
const SAMPLES: readonly (readonly [name: string, content: string, detection: string | undefined])[] = [
  ['eicar.com', EICAR, 'Eicar-Test-Signature.UNOFFICIAL'],
  ['ps.txt', 'x function Execute-EncryptedScript( y', 'Win.Loader.PowerShellDecrypter-10007381-0.UNOFFICIAL'],
  ['andromeda.txt', 'Here put your direct download url ... Here put your encryption key', 'Win.Trojan.Andromeda-108.UNOFFICIAL'],
  ['pdfdate.txt', `/ModificationDate (D:${'7'.repeat(40)})`, 'Img.Exploit.CVE_2018_12838-6780360-0.UNOFFICIAL'],
  ['clean.txt', 'hello clean\n', undefined],
];

/** What clamscan 1.4.6 prints loading a daily.cvd built in 2021. */
const AGE_WARNING = [
  'Warning: **************************************************',
  'Warning: ***  The virus database is older than 7 days!  ***',
  'Warning: ***   Please update it as soon as possible.    ***',
  'Warning: **************************************************',
];

/** The warnings and errors of a load, in order, as clamscan prints them. */
class OrderedLogger implements Logger {
  readonly lines: string[] = [];
  constructor(readonly debugEnabled = false) {}
  error(message: string): void {
    this.lines.push(`Error: ${message}`);
  }
  warning(message: string): void {
    this.lines.push(`Warning: ${message}`);
  }
  debug(message: string): void {
    if (this.debugEnabled) this.lines.push(`debug: ${message}`);
  }
}

/** Loads through the cache, then saves the engine to it (as a tool does when its work is done). */
async function load(paths: readonly string[], options: LoadOptions = {}): Promise<{ result: LoadedEngine; messages: string[] }> {
  const logger = new OrderedLogger();
  const result = await loadEngineCached(paths, { ...options, logger });
  assert.ok(result.ok, `the databases load (${logger.lines.join('; ')})`);
  result.saveCache();
  return { result, messages: logger.lines };
}

async function loadWithoutCache(paths: readonly string[]) {
  process.env.CLAMTS_ENGINE_CACHE = 'off';
  try {
    return await load(paths);
  } finally {
    delete process.env.CLAMTS_ENGINE_CACHE;
  }
}

function scanSamples(engine: Engine): string[][] {
  const scanner = new Scanner(engine, scanOptions());
  return SAMPLES.map(([, content]) => scanner.scanBuffer(Buffer.from(content, 'latin1')).viruses);
}

/** Each typed array's kind of buffer, in walk order, and how many distinct buffers there are. */
function bufferLayout(value: unknown, kinds: string[] = [], buffers = new Set<ArrayBufferLike>()) {
  if (ArrayBuffer.isView(value)) {
    kinds.push(value.buffer.constructor.name);
    buffers.add(value.buffer);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) bufferLayout(item, kinds, buffers);
  }
  return { kinds, distinct: buffers.size };
}

/** Past the cache's settling time: files written before are old enough to be cached. */
const settle = () => sleep(1100);

/** The real lines of a gzip-compressed database that start with `prefix`. */
function realLine(file: string, prefix: string): string {
  const line = gunzipSync(readFileSync(join(MAIN, file)))
    .toString('latin1')
    .split('\n')
    .find((candidate) => candidate.startsWith(prefix));
  assert.ok(line, `${prefix} is in ${file}`);
  return `${line}\n`;
}

describe('engine cache', needsSharedSigs, () => {
  const root = tempDir('clamts-engine-cache-');
  /** Real signatures over the size threshold: a 1.1 MB slice of main.hdb, and the samples' signatures. */
  const db = join(root.root, 'db');
  /** The same, for the tests that change it. */
  const changing = join(root.root, 'changing');
  /** The same with a daily.cvd from 2021, whose age the loader warns about. */
  const withCvd = join(root.root, 'with-cvd');
  /** A daily.cvd given as a file, whose .cld twin appears in a test. */
  const lone = join(root.root, 'lone');
  /** A file with an unknown ending, for the loader's "unknown extension" warning. */
  const unknown = join(root.root, 'extra.xyz');
  const files = join(root.root, 'files');
  let cacheDir = '';
  let caches = 0;
  /** A new, not yet existing cache directory for each test. */
  const useNewCacheDir = () => {
    cacheDir = join(root.root, `cache-${++caches}`);
    process.env.CLAMTS_CACHE_DIR = cacheDir;
  };
  /** A new directory holding the files of `db`, for a test that changes them. */
  const copyOfDb = () => {
    const copy = tempDir('clamts-engine-cache-copy-');
    for (const name of readdirSync(db)) copyFileSync(join(db, name), join(copy.root, name));
    return copy;
  };
  const cacheFiles = () => (existsSync(cacheDir) ? readdirSync(cacheDir).filter((name) => name.endsWith('.engine')) : []);

  before(async () => {
    delete process.env.CLAMTS_ENGINE_CACHE;
    const hdb = gunzipSync(readFileSync(join(MAIN, 'main.hdb.gz'))).toString('latin1');
    const sliceEnd = hdb.indexOf('\n', MIN_CACHED_DATABASE_BYTES + 100_000) + 1;
    for (const dir of [db, changing, withCvd]) {
      mkdirSync(dir);
      writeFileSync(join(dir, 'main.hdb'), hdb.slice(0, sliceEnd), 'latin1');
      writeFileSync(join(dir, 'real.ndb'), realLine('daily.ndb.gz', 'Win.Loader.PowerShellDecrypter-10007381-0:'));
      writeFileSync(join(dir, 'real.ldb'), realLine('main.ldb.gz', 'Win.Trojan.Andromeda-108;') + realLine('main.ldb.gz', 'Img.Exploit.CVE_2018_12838-6780360-0;'));
      writeFileSync(join(dir, 'eicar.hdb'), `${EICAR_MD5}:68:Eicar-Test-Signature\n`);
      // A mail-target pattern with a 4-byte window only: that target's 3-byte window table is empty.
      writeFileSync(join(dir, 'mail.ndb'), 'ClamTS.Mail.Test-1:4:*:436c616d54534d61696c\n');
      copyFileSync(join(DAILY, 'daily.ftm'), join(dir, 'daily.ftm'));
    }
    copyFileSync(join(CVD, 'test-1.cvd'), join(withCvd, 'daily.cvd'));
    mkdirSync(lone);
    copyFileSync(join(CVD, 'test-1.cvd'), join(lone, 'daily.cvd'));
    writeFileSync(unknown, 'not a database\n');
    mkdirSync(files);
    for (const [name, content] of SAMPLES) writeFileSync(join(files, name), content, 'latin1');
    await settle();
  });

  it('stores every value a descriptor holds, and names anything it cannot store', () => {
    const shared = new SharedArrayBuffer(16);
    new Uint8Array(shared).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const object = { a: 1 };
    const value = {
      numbers: [NaN, -0, Infinity, -Infinity, 1.5, 0],
      missing: undefined,
      holes: [1, , 3],
      $: 'a key of its own',
      nested: { $: { $: 1 }, list: [null, true, 'é\u{1F600}\uD800'] },
      same: [object, object],
      views: [new Uint8Array(shared, 4, 8), new Uint32Array(shared, 8, 2), Uint16Array.of(1, 2)],
    };
    const encoder = new ValueEncoder();
    const json = JSON.parse(JSON.stringify(encoder.encode(value, 'value')));
    const buffers = encoder.buffers.map((buffer) => {
      const copy = buffer instanceof SharedArrayBuffer ? new SharedArrayBuffer(buffer.byteLength) : new ArrayBuffer(buffer.byteLength);
      new Uint8Array(copy).set(new Uint8Array(buffer));
      return copy;
    });
    const decoded = new ValueDecoder(buffers).decode(json) as typeof value;
    assert.deepStrictEqual(decoded, value);
    assert.ok(Object.is(decoded.numbers[1], -0));
    assert.ok('missing' in decoded);
    assert.equal(1 in decoded.holes, false);
    assert.equal(decoded.same[0], decoded.same[1]);
    const [bytes, words, own] = decoded.views;
    assert.equal(bytes!.buffer, words!.buffer);
    assert.ok(bytes!.buffer instanceof SharedArrayBuffer);
    assert.deepEqual([bytes!.byteOffset, bytes!.length, words!.byteOffset, words!.length], [4, 8, 8, 2]);
    assert.ok(own!.buffer instanceof ArrayBuffer);

    class Custom {}
    const unstorable: [string, unknown][] = [
      ['a Map', new Map()],
      ['a Set', new Set()],
      ['a Date', new Date()],
      ['a RegExp', /x/],
      ['a DataView', new DataView(new ArrayBuffer(1))],
      ['a Custom', new Custom()],
      ['an object without prototype', Object.create(null)],
      ['function', () => 1],
      ['bigint', 1n],
      ['symbol', Symbol('s')],
    ];
    for (const [what, item] of unstorable) {
      assert.throws(
        () => new ValueEncoder().encode({ inner: [item] }, 'value'),
        (error: unknown) => error instanceof UnstorableValueError && error.message === `engine cache: cannot store ${what} at value.inner[0]`,
      );
    }
  });

  it('gives an engine that scans as the freshly built one, over the same shared memory layout', async () => {
    useNewCacheDir();
    const fresh = await loadWithoutCache([db]);
    assert.deepEqual(cacheFiles(), [], 'CLAMTS_ENGINE_CACHE=off writes nothing');
    // A descriptor holding something the cache cannot store fails here, by name.
    new ValueEncoder().encode(fresh.result.descriptor, 'descriptor');

    const cold = await load([db]);
    assert.equal(cold.result.fromCache, false);
    assert.equal(cacheFiles().length, 1);
    const warm = await load([db]);
    assert.equal(warm.result.fromCache, true);

    // What a worker thread receives of the descriptor (Buffers become Uint8Arrays there too).
    assert.deepStrictEqual(warm.result.descriptor, structuredClone(fresh.result.descriptor));
    assert.deepEqual(bufferLayout(warm.result.descriptor), bufferLayout(fresh.result.descriptor));
    const detections = scanSamples(fresh.result.engine);
    assert.deepEqual(
      detections,
      SAMPLES.map(([, , detection]) => (detection ? [detection] : [])),
    );
    assert.deepEqual(scanSamples(warm.result.engine), detections);
    assert.equal(warm.result.engine.signatureCount, fresh.result.engine.signatureCount);
  });

  it('misses when a database file is touched, rewritten with the same size, or added', async () => {
    useNewCacheDir();
    const hitThenMissAfter = async (change: () => void) => {
      await load([changing]);
      assert.equal((await load([changing])).result.fromCache, true);
      change();
      assert.equal((await load([changing])).result.fromCache, false);
      // Files changed less than a second ago may still be being written: not cached yet.
      assert.equal((await load([changing])).result.fromCache, false);
    };
    const eicar = join(changing, 'eicar.hdb');
    // A whole-second mtime, which utimes can put back exactly.
    const wholeSecond = new Date('2024-05-01T12:00:00Z');
    await hitThenMissAfter(() => {
      const later = new Date(Date.now() + 5000);
      utimesSync(join(changing, 'real.ndb'), later, later);
      utimesSync(eicar, wholeSecond, wholeSecond);
    });
    await settle();
    await hitThenMissAfter(() => {
      // Same size and, put back, the same mtime: only the status change time tells.
      const size = statSync(eicar).size;
      writeFileSync(eicar, readFileSync(eicar, 'latin1').replace('Signature', 'Signatura'));
      utimesSync(eicar, wholeSecond, wholeSecond);
      assert.equal(statSync(eicar).size, size);
      assert.equal(statSync(eicar, { bigint: true }).mtimeNs, BigInt(wholeSecond.getTime()) * 1_000_000n);
    });
    await settle();
    await hitThenMissAfter(() => writeFileSync(join(changing, 'more.ndb'), 'More.Sig-1:0:*:6d6f7265206d6f7265\n'));
  });

  it('misses when the twin of a container given as a file appears beside it', async () => {
    useNewCacheDir();
    const cvd = join(lone, 'daily.cvd');
    const cld = join(lone, 'daily.cld');
    await load([db, cvd]);
    const warm = await load([db, cvd]);
    assert.equal(warm.result.fromCache, true);
    assert.deepEqual(warm.messages, AGE_WARNING);
    // A newer version as daily.cld: the loader now skips daily.cvd, with clamscan's warning.
    copyFileSync(join(CVD, 'test-2.cvd'), cld);
    const twinned = await load([db, cvd]);
    assert.equal(twinned.result.fromCache, false);
    assert.deepEqual(twinned.messages, [
      `Warning: Detected duplicate databases ${cvd} and ${cld}. The ${cvd} database is older and will not be loaded, ` +
        'you should manually remove it from the database directory.',
    ]);
  });

  it('stores the matchers built so far, and those built later when the engine is saved again', async () => {
    useNewCacheDir();
    const fresh = copyOfDb();
    // A PE-target pattern: a third target, whose matcher only worker threads need here.
    fresh.write('pe.ndb', 'ClamTS.PE.Test-1:1:*:436c616d54535045\n');
    const mail = Buffer.from('From: a@example.com\nTo: b@example.com\nSubject: hi\n\nClamTSMail\n');
    const loadFresh = async () => {
      const result = await loadEngineCached([fresh.root]);
      assert.ok(result.ok);
      return result;
    };
    const builtTargets = (result: LoadedEngine) => result.engine.body.programs.flatMap((program, target) => (program?.hasMatcher ? [target] : []));
    let builds = 0;
    const build = NodeLists.build;
    NodeLists.build = (table) => {
      builds++;
      return build.call(NodeLists, table);
    };
    try {
      // Written less than a second ago: no cache file, and only the generic target's matcher, built with the engine.
      const unsettled = await load([fresh.root]);
      assert.deepEqual(cacheFiles(), []);
      assert.equal(builds, 1);
      const targets = unsettled.result.engine.body.programs.flatMap((program, target) => (program ? [target] : []));
      assert.deepEqual(targets, [0, 1, 4]);

      await settle();
      builds = 0;
      const cold = await loadFresh();
      cold.saveCache();
      assert.equal(builds, 1, 'saving built no matcher');
      const [name] = cacheFiles();
      assert.ok(name);
      const path = join(cacheDir, name);
      const written = statSync(path).ino;

      // A warm load that builds nothing leaves the file alone when saved.
      const text = await loadFresh();
      assert.equal(text.fromCache, true);
      assert.deepEqual(new Scanner(text.engine, scanOptions()).scanBuffer(Buffer.from('hello\n')).viruses, []);
      text.saveCache();
      assert.equal(builds, 1);
      assert.equal(statSync(path).ino, written, 'not rewritten');

      // One that scans mail builds the mail target's matcher, which saving adds to the file.
      const warm = await loadFresh();
      assert.deepEqual(builtTargets(warm), [0]);
      assert.deepEqual(new Scanner(warm.engine, scanOptions()).scanBuffer(mail).viruses, ['ClamTS.Mail.Test-1.UNOFFICIAL']);
      assert.equal(builds, 2);
      warm.saveCache();
      assert.notEqual(statSync(path).ino, written, 'rewritten');
      const upgraded = await loadFresh();
      assert.equal(upgraded.fromCache, true);
      assert.deepEqual(builtTargets(upgraded), [0, 4]);
      assert.deepEqual(new Scanner(upgraded.engine, scanOptions()).scanBuffer(mail).viruses, ['ClamTS.Mail.Test-1.UNOFFICIAL']);
      assert.equal(builds, 2, 'the mail matcher came from the file');

      // Worker threads get every matcher: the descriptor builds the one missing, and saving stores it.
      upgraded.descriptor;
      assert.equal(builds, 3);
      upgraded.saveCache();
      assert.deepEqual(builtTargets(await loadFresh()), targets);
    } finally {
      NodeLists.build = build;
    }
  });

  it('writes nothing when a database changed between the load and the save', async () => {
    useNewCacheDir();
    const updated = copyOfDb();
    await settle();
    const loaded = await loadEngineCached([updated.root]);
    assert.ok(loaded.ok && !loaded.fromCache);
    // Updated while the engine scanned: the engine is not that of the databases any more.
    const later = new Date(Date.now() + 5000);
    utimesSync(join(updated.root, 'real.ndb'), later, later);
    loaded.saveCache();
    assert.deepEqual(cacheFiles(), []);
    await settle();
    await load([updated.root]);
    assert.equal(cacheFiles().length, 1, 'a load of the databases as they are now is cached');
  });

  it('treats a truncated, emptied, garbage or altered cache file as a miss and replaces it', async () => {
    useNewCacheDir();
    await load([db]);
    const [name] = cacheFiles();
    assert.ok(name);
    const path = join(cacheDir, name);
    const size = statSync(path).size;
    const damages: [string, () => void][] = [
      ['truncated', () => truncateSync(path, Math.floor(size / 2))],
      ['emptied', () => truncateSync(path, 0)],
      ['garbage', () => writeFileSync(path, randomBytes(size))],
      [
        'of another format version',
        () => {
          const bytes = readFileSync(path);
          bytes.writeUInt32LE(ENGINE_CACHE_FORMAT + 1, 8);
          writeFileSync(path, bytes);
        },
      ],
      [
        'one payload bit flipped',
        () => {
          const bytes = readFileSync(path);
          bytes[size - 10] ^= 1;
          writeFileSync(path, bytes);
        },
      ],
    ];
    for (const [damage, apply] of damages) {
      assert.equal((await load([db])).result.fromCache, true, `a hit before the file is ${damage}`);
      apply();
      const missed = await load([db]);
      assert.equal(missed.result.fromCache, false, `${damage}: a miss`);
      assert.deepEqual(scanSamples(missed.result.engine), scanSamples((await loadWithoutCache([db])).result.engine));
      assert.equal(statSync(path).size, size, `${damage}: replaced`);
    }
    assert.equal((await load([db])).result.fromCache, true);
  });

  it('replays the warnings of the load in order, with the age warning a load now would print', async (t) => {
    useNewCacheDir();
    const paths = [withCvd, unknown];
    const expected = [...AGE_WARNING, `Warning: cli_load: unknown extension - skipping ${unknown}`];
    assert.deepEqual((await loadWithoutCache(paths)).messages, expected);
    assert.deepEqual((await load(paths)).messages, expected);
    const warm = await load(paths);
    assert.equal(warm.result.fromCache, true);
    assert.deepEqual(warm.messages, expected);

    // The same loads two days after the container was built, and an hour before: no warning, and
    // the one about a timestamp in the future. The cached engine must not replay the old warning.
    const built = parseCvdHeader(readFileSync(join(withCvd, 'daily.cvd')), 'daily.cvd').buildTimestamp;
    for (const now of [built + 2 * 86400, built - 7200]) {
      t.mock.method(Date, 'now', () => now * 1000);
      const cached = await load(paths);
      assert.equal(cached.result.fromCache, false);
      assert.deepEqual(cached.messages, (await loadWithoutCache(paths)).messages);
      assert.notDeepEqual(cached.messages, expected);
      t.mock.restoreAll();
    }
    assert.deepEqual((await load(paths)).messages, expected);
  });

  it('lives in CLAMTS_CACHE_DIR, else under an absolute XDG_CACHE_HOME, else under HOME', () => {
    assert.equal(engineCacheDirectory({ CLAMTS_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' }), '/c');
    assert.equal(engineCacheDirectory({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/clamts');
    assert.equal(engineCacheDirectory({ XDG_CACHE_HOME: 'relative', HOME: '/h' }), '/h/.cache/clamts');
    assert.equal(engineCacheDirectory({}), undefined);
  });

  it('loads normally when the cache directory cannot be made or there is none', async () => {
    const expected = scanSamples((await loadWithoutCache([db])).result.engine);
    const notADirectory = join(root.root, 'plain-file');
    writeFileSync(notADirectory, '');
    const saved = { ...process.env };
    const noDirectory = () => {
      delete process.env.CLAMTS_CACHE_DIR;
      delete process.env.XDG_CACHE_HOME;
      delete process.env.HOME;
    };
    try {
      for (const setUp of [() => (process.env.CLAMTS_CACHE_DIR = join(notADirectory, 'cache')), noDirectory]) {
        setUp();
        for (let run = 0; run < 2; run++) {
          const loaded = await load([db]);
          assert.equal(loaded.result.fromCache, false);
          assert.deepEqual(scanSamples(loaded.result.engine), expected);
        }
      }
    } finally {
      Object.assign(process.env, saved);
    }
  });

  it('is bypassed with a logger that shows debug messages, with CLAMTS_ENGINE_CACHE=off, and for small databases', async () => {
    useNewCacheDir();
    await load([db]);
    assert.equal((await load([db])).result.fromCache, true);

    const debug = new OrderedLogger(true);
    const debugged = await loadEngineCached([db], { logger: debug });
    assert.ok(debugged.ok && !debugged.fromCache);
    assert.ok(debug.lines.includes(`debug: Loading databases from ${db}`));
    assert.equal((await loadWithoutCache([db])).result.fromCache, false);

    const small = tempDir();
    small.write('eicar.hdb', `${EICAR_MD5}:68:Eicar-Test-Signature\n`);
    await settle();
    await load([small.root]);
    assert.equal((await load([small.root])).result.fromCache, false);
    assert.equal(cacheFiles().length, 1, 'only the large database is cached');
  });

  it('caches no failed load: each fails the same way', async () => {
    useNewCacheDir();
    const broken = join(root.root, 'broken');
    const badRegex = join(root.root, 'bad-regex');
    for (const dir of [broken, badRegex]) {
      mkdirSync(dir);
      copyFileSync(join(db, 'main.hdb'), join(dir, 'main.hdb'));
    }
    writeFileSync(join(broken, 'bad.hdb'), `${EICAR_MD5}:68:A\nzz:1\n`);
    writeFileSync(join(badRegex, 'bad.ldb'), 'Test.Bad;Engine:81-255,Target:0;0&1;414243;0/abc(/i\n');
    await settle();
    for (const [dir, stage] of [
      [broken, 'load'],
      [badRegex, 'compile'],
    ] as const) {
      const outcomes = [];
      for (let run = 0; run < 2; run++) {
        const logger = new OrderedLogger();
        const result = await loadEngineCached([dir], { logger });
        assert.ok(!result.ok);
        outcomes.push({ stage: result.stage, message: result.error.message, count: result.signatureCount, lines: logger.lines });
      }
      assert.equal(outcomes[0]!.stage, stage);
      assert.deepEqual(outcomes[1], outcomes[0]);
    }
    assert.deepEqual(cacheFiles(), []);
  });

  it('keeps the eight most recently used cache files, readable by the user only, and clears dead writers’ files', async () => {
    useNewCacheDir();
    // One database set per way of writing its path: each has a cache file of its own.
    const variants = Array.from({ length: 10 }, (_, slashes) => db + '/'.repeat(slashes));
    for (const path of variants.slice(0, 8)) await load([path]);
    assert.equal(cacheFiles().length, 8);
    assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
    for (const name of cacheFiles()) assert.equal(statSync(join(cacheDir, name)).mode & 0o777, 0o600);

    const deadWriter = join(cacheDir, `${'0'.repeat(32)}.engine.123.abcdef01.tmp`);
    writeFileSync(deadWriter, 'partial');
    const longAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(deadWriter, longAgo, longAgo);
    writeFileSync(join(cacheDir, 'notes.txt'), 'not the cache’s');

    assert.equal((await load([variants[0]!])).result.fromCache, true, 'the oldest, used again');
    await load([variants[8]!]);
    assert.equal(cacheFiles().length, 8);
    assert.equal((await load([variants[0]!])).result.fromCache, true, 'recently used: kept');
    assert.equal((await load([variants[1]!])).result.fromCache, false, 'least recently used: removed');
    assert.equal(existsSync(deadWriter), false);
    assert.ok(existsSync(join(cacheDir, 'notes.txt')));
  });

  it('makes bin/clamscan print the same the second time, from the cache', { skip: !CLI_BUILT && 'packages/cli is not built' }, () => {
    useNewCacheDir();
    const clamscan = () => {
      const run = spawnSync(process.execPath, [CLAMSCAN, '-d', withCvd, '-d', unknown, ...SAMPLES.map(([name]) => join(files, name))], {
        encoding: 'utf8',
        env: { ...process.env, CLAMTS_CACHE_DIR: cacheDir },
      });
      // Only the timings of the summary differ from run to run.
      const stdout = run.stdout.replace(/^(Time|Start Date|End Date):.*$/gm, '$1: <varies>');
      return { status: run.status, stdout, stderr: run.stderr };
    };
    const first = clamscan();
    assert.equal(first.status, 1);
    for (const [name, , detection] of SAMPLES) {
      assert.ok(first.stdout.includes(`${join(files, name)}: ${detection ? `${detection} FOUND` : 'OK'}\n`), name);
    }
    assert.equal(first.stderr, [...AGE_WARNING, `Warning: cli_load: unknown extension - skipping ${unknown}`].map((line) => `LibClamAV ${line}\n`).join(''));
    const [name] = cacheFiles();
    assert.ok(name, 'the first run wrote the cache');
    const path = join(cacheDir, name);
    const written = statSync(path);
    const longAgo = new Date(Date.now() - 3600_000);
    utimesSync(path, longAgo, longAgo);

    assert.deepEqual(clamscan(), first);
    const used = statSync(path);
    assert.equal(used.ino, written.ino, 'the second run did not rewrite the cache');
    assert.ok(used.mtimeMs > longAgo.getTime() + 60_000, 'the second run read it (a hit marks it used)');
  });

  it('is shared between the bundled clamscan and the library as clamd runs it', { skip: !CLI_BUILT && 'packages/cli is not built' }, () => {
    useNewCacheDir();
    const env = { ...process.env, CLAMTS_CACHE_DIR: cacheDir };
    const scan = spawnSync(process.execPath, [CLAMSCAN, '--no-summary', '-d', db, join(files, 'clean.txt')], { encoding: 'utf8', env });
    assert.equal(scan.status, 0, scan.stderr);
    assert.equal(cacheFiles().length, 1, 'clamscan wrote the cache');
    // clamd's load worker imports the built modules of @clamts/core one by one, unbundled, and
    // loads with the options of its default settings, which are clamscan's too.
    const library = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `const { loadEngineCached } = await import(${JSON.stringify(library)});
      const result = await loadEngineCached([${JSON.stringify(db)}], ${JSON.stringify(TOOL_DEFAULT_LOAD_OPTIONS)});
      console.log(result.ok && result.fromCache);`;
    const load = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
    assert.equal(load.stdout, 'true\n', load.stderr);
    assert.equal(cacheFiles().length, 1);
  });
});
