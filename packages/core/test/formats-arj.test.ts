import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arjHandler } from '../src/formats/arj.js';
import { CLAM_EXE, CLAM_MD5, exec, fuzz, hashes, md5, run, tempDir, testfile, tool } from './support/more-archives.js';

test('clam.arj (method 1) yields exactly clam.exe', () => {
  const r = run(arjHandler, testfile('clam.arj'));
  assert.deepEqual(hashes(r), [CLAM_MD5]);
  assert.deepEqual({ ...r.objects[0], data: undefined }, { data: undefined, name: 'clam.exe', compressedSize: 269, declaredSize: 544, encrypted: false, position: 1, method: 1 });
});

const arj = tool('arj');
const random = randomBytes(60_000);
const text = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `row ${i % 977}\n`).join(''));
function archive(...switches: string[]): Buffer {
  const dir = tempDir();
  writeFileSync(join(dir, 'clam.exe'), CLAM_EXE);
  writeFileSync(join(dir, 'random.bin'), random);
  writeFileSync(join(dir, 'text.txt'), text);
  exec('arj', ['a', '-y', ...switches, 'out.arj', 'clam.exe', 'random.bin', 'text.txt'], dir);
  return readFileSync(join(dir, 'out.arj'));
}

for (const method of [0, 1, 2, 3, 4]) {
  test(`arj -m${method}: every member, in order`, { skip: !arj && 'arj not installed' }, () => {
    const r = run(arjHandler, archive(`-m${method}`));
    assert.deepEqual(hashes(r), [CLAM_MD5, md5(random), md5(text)]);
    assert.deepEqual(r.objects.map((o) => o.position), [1, 2, 3]);
  });
}

test('garbled (password) members: metadata only, no heuristic (ARJ has none)', { skip: !arj && 'arj not installed' }, () => {
  const r = run(arjHandler, archive('-gsecret'));
  assert.deepEqual(r.objects.map((o) => [o.name, o.encrypted, o.data.length]), [
    ['clam.exe', true, 0],
    ['random.bin', true, 0],
    ['text.txt', true, 0],
  ]);
  assert.deepEqual(r.heuristics, []);
});

test('a member over the limit ends the archive, as in ClamAV', { skip: !arj && 'arj not installed' }, () => {
  const r = run(arjHandler, archive('-m1'), 10_000);
  assert.deepEqual(r.objects.map((o) => o.data.length), [544, 0]);
});

test('truncated member keeps whole 26 KiB windows; no exception', { skip: !arj && 'arj not installed' }, () => {
  const full = archive('-m1');
  const r = run(arjHandler, full.subarray(0, full.length - 2000));
  assert.equal(hashes(r)[0], CLAM_MD5);
  assert.ok(r.objects.slice(1).every((o) => o.data.length % 26624 === 0 || o.data.length === 60_000));
  for (const cut of [1, 10, 50, 200]) assert.doesNotThrow(() => run(arjHandler, full.subarray(0, cut)));
});

test('fuzz: mutated ARJ archives never throw or hang', () => {
  const samples = [testfile('clam.arj')];
  if (arj) {
    const dir = tempDir();
    writeFileSync(join(dir, 'clam.exe'), CLAM_EXE);
    writeFileSync(join(dir, 'text.txt'), text.subarray(0, 4000));
    for (const m of ['-m1', '-m4', '-m0']) {
      exec('arj', ['a', '-y', m, `s${m}.arj`, 'clam.exe', 'text.txt'], dir);
      samples.push(readFileSync(join(dir, `s${m}.arj`)));
    }
  }
  fuzz(arjHandler, samples, 0xa51);
});
