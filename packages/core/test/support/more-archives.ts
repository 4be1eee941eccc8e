/**
 * Helpers for the 7z/RAR/ARJ/CAB/CHM/ISO/SIS format tests: running a handler with the recording
 * context of archive-samples.ts, the reference sample, external archivers, and the seeded
 * mutation fuzzer.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { ExtractedObject, FormatHandler } from '../../src/formats/handler.js';
import { recordingContext } from './archive-samples.js';
import { tempDir as removedAfterTests } from './temp-dir.js';

export const TESTFILES = '/usr/share/clamav-testfiles';
export const CLAM_EXE = readFileSync(join(TESTFILES, 'clam.exe'));
export const CLAM_MD5 = md5(CLAM_EXE);

export function md5(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

export function testfile(name: string): Buffer {
  return readFileSync(join(TESTFILES, name));
}

export interface Run {
  objects: ExtractedObject[];
  heuristics: string[];
  debug: string[];
}

/** Extracts everything; heuristics are reduced to their names, all messages kept as `debug`. */
export function run(handler: FormatHandler, data: Uint8Array, maxObjectSize?: number): Run {
  const ctx = recordingContext(maxObjectSize);
  const objects = [...handler.extract(data, ctx)];
  return { objects, heuristics: ctx.heuristics.map((h) => h.name), debug: ctx.debugLines };
}

export function hashes(r: Run): string[] {
  return r.objects.map((o) => md5(o.data));
}

/** A tool's path, or undefined: tests that need it skip with a reason. */
export function tool(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** A fresh directory, removed when the test (or the test file) that made it ends. */
export function tempDir(): string {
  return removedAfterTests('clamts-archives-').root;
}

export function exec(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: 'ignore' });
}

/**
 * MD5s of the files real clamscan writes while scanning `file` (--leave-temps), which are
 * the objects it extracted (plus normalised forms it makes of text). Undefined without clamscan.
 */
export function clamscanExtractedMd5s(file: string): string[] | undefined {
  if (!tool('clamscan')) return undefined;
  const dir = tempDir();
  const db = join(dir, 'one.hdb');
  execFileSync('sh', ['-c', `echo "${CLAM_MD5}:${CLAM_EXE.length}:ClamTS.Test" > ${db}`]);
  const temps = join(dir, 'temps');
  execFileSync('mkdir', [temps]);
  spawnSync('clamscan', ['--allmatch', '--leave-temps', `--tempdir=${temps}`, '-d', db, file], { encoding: 'utf8' });
  const out = execFileSync('sh', ['-c', `find ${temps} -type f -exec md5sum {} + | cut -d' ' -f1`], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mutate(sample: Uint8Array, random: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  const data = Uint8Array.from(sample);
  switch (pick(4)) {
    case 0: // bit flips
      for (let i = 0, n = 1 + pick(8); i < n; i++) data[pick(data.length)]! ^= 1 << pick(8);
      return data;
    case 1: // truncation
      return data.subarray(0, pick(data.length));
    case 2: {
      // byte insertion
      const at = pick(data.length);
      const extra = Uint8Array.from({ length: 1 + pick(16) }, () => pick(256));
      return Uint8Array.from([...data.subarray(0, at), ...extra, ...data.subarray(at)]);
    }
    default: // overwrite a field-sized run with extreme values
      {
        const at = pick(data.length);
        const value = [0x00, 0xff, 0x7f, 0x80][pick(4)]!;
        data.fill(value, at, Math.min(data.length, at + 1 + pick(8)));
      }
      return data;
  }
}

export const FUZZ_ITERATIONS = Number(process.env['CLAMTS_FUZZ_ITERATIONS'] ?? 200);

/** Mutates each sample repeatedly: extraction never throws and each input ends quickly. */
export function fuzz(handler: FormatHandler, samples: Uint8Array[], seed: number, perInputMs = 3000): void {
  const random = prng(seed);
  for (let i = 0; i < FUZZ_ITERATIONS; i++) {
    const input = mutate(samples[i % samples.length]!, random);
    const started = Date.now();
    assert.doesNotThrow(() => run(handler, input, 4 * 1024 * 1024), `iteration ${i} (seed ${seed}) threw`);
    const took = Date.now() - started;
    assert.ok(took < perInputMs, `iteration ${i} (seed ${seed}) took ${took} ms`);
  }
}

export function exists(path: string): boolean {
  return existsSync(path);
}
