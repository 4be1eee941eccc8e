/**
 * Shared helpers of the compression and archive format tests: a recording extraction context,
 * the clam.exe reference sample, external tools (skipped when missing), real clamscan as the
 * oracle, and the seeded mutation fuzzer.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExtractedObject, ExtractionContext, FormatHandler, HeuristicKind } from '../../src/formats/handler.js';
import { tempDir } from './temp-dir.js';

export const TESTFILES = '/usr/share/clamav-testfiles';
export const CLAM_EXE_PATH = join(TESTFILES, 'clam.exe');
export const HAVE_TESTFILES = existsSync(CLAM_EXE_PATH);
export const needsTestfiles = HAVE_TESTFILES ? {} : { skip: 'clamav-testfiles is not installed' };
export const CLAM_EXE: Uint8Array = HAVE_TESTFILES ? readFileSync(CLAM_EXE_PATH) : new Uint8Array();

export function testfile(name: string): Uint8Array {
  return readFileSync(join(TESTFILES, name));
}

export function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

export interface RecordingContext extends ExtractionContext {
  heuristics: Array<{ kind: HeuristicKind; name: string }>;
  debugLines: string[];
}

export function recordingContext(maxObjectSize = 64 * 1024 * 1024): RecordingContext {
  const heuristics: Array<{ kind: HeuristicKind; name: string }> = [];
  const debugLines: string[] = [];
  return {
    maxObjectSize,
    maxFileSize: maxObjectSize,
    heuristics,
    debugLines,
    heuristic: (kind, name) => heuristics.push({ kind, name }),
    debug: (message) => debugLines.push(message),
    warning: (message) => debugLines.push(message),
    error: (message) => debugLines.push(message),
  };
}

export function extractAll(handler: FormatHandler, data: Uint8Array, ctx: ExtractionContext = recordingContext()): ExtractedObject[] {
  return [...handler.extract(data, ctx)];
}

export function haveTool(name: string, versionArg = '--version'): boolean {
  const result = spawnSync(name, [versionArg], { stdio: 'ignore' });
  return result.error === undefined;
}

export function needsTool(name: string, versionArg?: string): { skip?: string } {
  return haveTool(name, versionArg) ? {} : { skip: `${name} is not installed` };
}

/** Runs a command with `input` on stdin and returns its stdout. */
export function run(command: string, args: string[], input?: Uint8Array, cwd?: string): Buffer {
  const result = spawnSync(command, args, { input, cwd, maxBuffer: 256 * 1024 * 1024 });
  assert.equal(result.status, 0, `${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** Deterministic pseudo-random bytes (so compressors cannot shrink them). */
export function noise(length: number, seed = 1): Uint8Array {
  const random = prng(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = random() * 256;
  return bytes;
}

/** Compressible text that is not a trivial run (so compressed streams carry no raw markers). */
export function prose(length: number): Buffer {
  const words = ['scan', 'archive', 'member', 'signature', 'stream', 'block', 'window', 'header', 'limit'];
  const random = prng(length);
  let text = '';
  while (text.length < length) text += `${words[Math.floor(random() * words.length)]} `;
  return Buffer.from(text.slice(0, length));
}

/** mulberry32: a small seeded generator, good enough to pick mutations reproducibly. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export const HAVE_CLAMSCAN = haveTool('clamscan');
export const needsClamscan = HAVE_CLAMSCAN ? {} : { skip: 'clamscan (the oracle) is not installed' };

/** A database entry that matches exactly these bytes as a whole file. */
export function hashSignature(name: string, bytes: Uint8Array): string {
  return `${md5(bytes)}:${bytes.length}:${name}`;
}

/** A body signature matching `marker` anywhere in any file. */
export function markerSignature(name: string, marker: string): string {
  return `${name}:0:*:${Buffer.from(marker).toString('hex')}`;
}

/**
 * What real clamscan reports for `file` with the given hash and body signatures, all matches
 * (--allmatch), without the ".UNOFFICIAL" suffix; `options` are extra clamscan options.
 */
export function clamscan(file: Uint8Array, db: { hdb?: string[]; ndb?: string[] }, options: string[] = []): string[] {
  return detections(['clamscan'], file, db, options);
}

const CLAMTS_CLAMSCAN = fileURLToPath(new URL('../../../../bin/clamscan', import.meta.url));

/** The same with ClamTS's bin/clamscan (which must be built). */
export function clamtsScan(file: Uint8Array, db: { hdb?: string[]; ndb?: string[] }, options: string[] = []): string[] {
  return detections([process.execPath, CLAMTS_CLAMSCAN], file, db, options);
}

function detections(command: string[], file: Uint8Array, db: { hdb?: string[]; ndb?: string[] }, options: string[]): string[] {
  const dir = tempDir('clamts-oracle-');
  const target = dir.write('sample', file);
  const databases: string[] = [];
  if (db.hdb?.length) databases.push('-d', dir.write('sigs.hdb', `${db.hdb.join('\n')}\n`));
  if (db.ndb?.length) databases.push('-d', dir.write('sigs.ndb', `${db.ndb.join('\n')}\n`));
  const [program, ...programArgs] = command;
  const result = spawnSync(program!, [...programArgs, '--no-summary', '--allmatch', ...options, ...databases, target], { encoding: 'utf8' });
  const found: string[] = [];
  for (const line of result.stdout.split('\n')) {
    const match = / (\S+) FOUND$/.exec(line);
    if (match) found.push(match[1]!.replace(/\.UNOFFICIAL$/, ''));
  }
  return [...new Set(found)].sort();
}

export function writeTemp(name: string, bytes: Uint8Array): string {
  const dir = tempDir('clamts-format-');
  const path = join(dir.root, name);
  writeFileSync(path, bytes);
  return path;
}

/** One seeded mutation of `sample`: bit flips, a cut, inserted bytes, or overwritten runs. */
export function mutate(sample: Uint8Array, random: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(random() * n);
  const bytes = Uint8Array.from(sample);
  switch (pick(4)) {
    case 0: {
      for (let flips = 1 + pick(8); flips > 0 && bytes.length; flips--) bytes[pick(bytes.length)]! ^= 1 << pick(8);
      return bytes;
    }
    case 1:
      return bytes.subarray(0, pick(bytes.length + 1));
    case 2: {
      const at = pick(bytes.length + 1);
      const inserted = Uint8Array.from({ length: 1 + pick(16) }, () => pick(256));
      return Buffer.concat([bytes.subarray(0, at), inserted, bytes.subarray(at)]);
    }
    default: {
      const values = [0x00, 0xff, 0x7f, 0x80];
      for (let runs = 1 + pick(3); runs > 0 && bytes.length; runs--) {
        const at = pick(bytes.length);
        bytes.fill(values[pick(values.length)]!, at, Math.min(bytes.length, at + 1 + pick(8)));
      }
      return bytes;
    }
  }
}

/**
 * Feeds seeded mutations of the samples to a handler: every input must be handled without an
 * exception, within `maxMs`, and without objects beyond the budget. The iteration count is
 * CLAMTS_FUZZ_ITERATIONS when set, else `iterations`.
 */
export function fuzz(handler: FormatHandler, samples: Uint8Array[], options: { seed: number; iterations?: number; maxMs?: number }): void {
  const iterations = Number(process.env.CLAMTS_FUZZ_ITERATIONS) || (options.iterations ?? 200);
  const maxMs = options.maxMs ?? 2000;
  const budget = 4 * 1024 * 1024;
  const random = prng(options.seed);
  for (let i = 0; i < iterations; i++) {
    const input = mutate(samples[i % samples.length]!, random);
    const started = performance.now();
    let objects: ExtractedObject[];
    try {
      objects = extractAll(handler, input, recordingContext(budget));
    } catch (error) {
      assert.fail(`${handler.name}: iteration ${i} (seed ${options.seed}) threw ${String(error)}\n${Buffer.from(input).toString('base64')}`);
    }
    const elapsed = performance.now() - started;
    assert.ok(elapsed < maxMs, `${handler.name}: iteration ${i} took ${elapsed.toFixed(0)} ms`);
    for (const object of objects) assert.ok(object.data.length <= budget + 64 * 1024, 'object beyond the budget');
  }
}
