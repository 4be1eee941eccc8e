/**
 * tar: archives written by GNU tar in each format, and archives built block by block to reach
 * ClamAV's walk rules (checksum resync, skipped records, truncation), checked with real clamscan.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzip } from '../src/formats/gzip.js';
import { oldTarHandler, tarHandler } from '../src/formats/tar.js';
import {
  CLAM_EXE, clamscan, extractAll, fuzz, hashSignature, md5, needsClamscan, needsTestfiles, needsTool, noise, prose,
  recordingContext, run, testfile,
} from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const BLOCK = 512;

/** A header block with a correct checksum (unless `badChecksum`). */
function header(name: string, size: number, type = '0', options: { ustar?: boolean; badChecksum?: boolean } = {}): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'latin1');
  block.write('0000644\0', 100);
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  block.write(type, 156, 1, 'latin1');
  if (options.ustar !== false) block.write('ustar\u000000', 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  if (options.badChecksum) sum += 1;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

function padded(data: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.ceil(data.length / BLOCK) * BLOCK);
  out.set(data);
  return out;
}

const entry = (name: string, data: Uint8Array, type = '0', options = {}): Buffer =>
  Buffer.concat([header(name, data.length, type, options), padded(data)]);
const END = Buffer.alloc(2 * BLOCK);
const member = (label: string, size = 2000): Buffer => Buffer.concat([Buffer.from(`${label}\n`), prose(size)]);

describe('tar handlers', () => {
  it('finds clam.exe in clam.tar.gz', needsTestfiles, () => {
    const objects = extractAll(tarHandler, gunzip(testfile('clam.tar.gz'), 1e9));
    assert.equal(objects.length, 1);
    assert.deepEqual(Buffer.from(objects[0]!.data), Buffer.from(CLAM_EXE));
    assert.equal(objects[0]!.name, 'clam.exe');
  });

  it('reads GNU, ustar, pax and v7 archives written by GNU tar', needsTool('tar'), () => {
    const dir = tempDir('clamts-tar-');
    const longName = `${'deep/'.repeat(25)}file.txt`;
    const files: Record<string, Buffer> = { 'small.txt': member('small', 100), 'block.bin': Buffer.from(noise(512)), [longName]: member('long', 5000) };
    for (const [name, data] of Object.entries(files)) {
      mkdirSync(join(dir.root, 'tree', name, '..'), { recursive: true });
      writeFileSync(join(dir.root, 'tree', name), data);
    }
    for (const format of ['gnu', 'ustar', 'pax', 'v7']) {
      const archive = join(dir.root, `${format}.tar`);
      const names = format === 'ustar' || format === 'v7' ? ['small.txt', 'block.bin'] : Object.keys(files);
      run('tar', ['--format', format, '-cf', archive, '-C', join(dir.root, 'tree'), ...names]);
      const handler = format === 'v7' ? oldTarHandler : tarHandler;
      const objects = extractAll(handler, readFileSync(archive));
      assert.deepEqual(objects.map((o) => md5(o.data)), names.map((n) => md5(files[n]!)), format);
      // ClamAV names a member by the 100-byte name field alone.
      assert.deepEqual(objects.map((o) => o.name), names.map((n) => n.slice(0, 100)), format);
      assert.deepEqual(objects.map((o) => o.position), names.map((_, i) => i + 1), format);
    }
    assert.equal(extractAll(tarHandler, run('tar', ['--format', 'v7', '-cf', '-', '-C', join(dir.root, 'tree'), 'small.txt'])).length, 0, 'POSIX tar needs the ustar magic');
  });

  it('walks damaged archives the way clamscan does', needsClamscan, () => {
    const [a, b, c] = [member('A'), member('B'), member('C', 3000)];
    const truncated = Buffer.concat([entry('a', a), header('c', c.length), c.subarray(0, 1300)]);
    const truncatedC = extractAll(tarHandler, truncated)[1]!.data;
    const cases: Array<[string, Buffer, Record<string, Uint8Array>]> = [
      ['plain', Buffer.concat([entry('a', a), entry('b', b), END]), { A: a, B: b }],
      ['bad checksum resyncs block by block', Buffer.concat([entry('a', a, '0', { badChecksum: true }), entry('b', b), END]), { A: a, B: b }],
      ['empty pax record skips one more block', Buffer.concat([header('pax', 0, 'x'), entry('a', a), entry('b', b), END]), { A: a, B: b }],
      ['directory and link records have no data', Buffer.concat([header('dir/', 0, '5'), header('link', 0, '2'), entry('b', b), END]), { B: b }],
      ['unknown type flags are files', Buffer.concat([entry('odd', a, 'Z'), END]), { A: a }],
      ['member cut short gets a zero block', truncated, { A: a, C: truncatedC }],
      ['invalid size field skips the entry', Buffer.concat([(() => {
        const bad = entry('a', a);
        bad.write('zzzzzzzzzzz\0', 124);
        bad.fill(0x20, 148, 156);
        let sum = 0;
        for (const byte of bad.subarray(0, BLOCK)) sum += byte;
        bad.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
        return bad;
      })(), entry('b', b), END]), { A: a, B: b }],
    ];
    for (const [label, file, payloads] of cases) {
      const hdb = Object.entries(payloads).map(([name, bytes]) => hashSignature(name, bytes));
      const ours = new Set<string>();
      for (const object of extractAll(tarHandler, file)) {
        for (const [name, bytes] of Object.entries(payloads)) if (md5(object.data) === md5(bytes)) ours.add(name);
      }
      assert.deepEqual([...ours].sort(), clamscan(file, { hdb }), label);
    }
    assert.equal(truncatedC.length, 1300 + 512);
  });

  it('cuts an oversized member at the last whole block within the budget', () => {
    const big = Buffer.concat([entry('big', Buffer.alloc(100_000, 1)), END]);
    const ctx = recordingContext(10_000);
    const [object] = extractAll(tarHandler, big, ctx);
    assert.equal(object!.data.length, 10_000 - (10_000 % BLOCK));
    assert.equal(ctx.heuristics[0]!.kind, 'exceeds-max');
  });

  it('never trusts sizes: a header claiming gigabytes ends the walk quietly', () => {
    const huge = Buffer.concat([header('huge', 0o17777777777), Buffer.alloc(BLOCK, 0x41)]);
    const [object] = extractAll(tarHandler, huge);
    assert.equal(object!.data.length, 2 * BLOCK, 'what is there plus one zero block');
  });

  it('survives seeded mutations of valid archives', () => {
    const samples = [Buffer.concat([entry('a', member('a')), header('d/', 0, '5'), entry('b', Buffer.from(noise(700))), END])];
    fuzz(tarHandler, samples, { seed: 0x7a2 });
    fuzz(oldTarHandler, samples, { seed: 0x7a3, iterations: 100 });
  });
});
