import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cabHandler } from '../src/formats/cab.js';
import { CLAM_EXE, CLAM_MD5, exec, fuzz, hashes, md5, run, tempDir, testfile, tool } from './support/more-archives.js';

test('clam.cab (stored folder) yields exactly clam.exe', () => {
  const r = run(cabHandler, testfile('clam.cab'));
  assert.deepEqual(hashes(r), [CLAM_MD5]);
  assert.equal(r.objects[0]!.name, 'clam.exe');
  assert.equal(r.objects[0]!.position, 0); // ClamAV passes 0 for every CAB member
});

const gcab = tool('gcab');
function mszipCab(): { cab: Buffer; random: Buffer; text: Buffer } {
  const dir = tempDir();
  const random = randomBytes(150_000);
  const text = Buffer.from('clamts '.repeat(20_000));
  writeFileSync(join(dir, 'clam.exe'), CLAM_EXE);
  writeFileSync(join(dir, 'random.bin'), random);
  writeFileSync(join(dir, 'text.txt'), text);
  exec('gcab', ['-c', '-z', 'out.cab', 'clam.exe', 'random.bin', 'text.txt'], dir);
  return { cab: readFileSync(join(dir, 'out.cab')), random, text };
}

test('MSZIP folder spanning many blocks (gcab -z)', { skip: !gcab && 'gcab not installed' }, () => {
  const { cab, random, text } = mszipCab();
  const r = run(cabHandler, cab);
  assert.deepEqual(hashes(r), [CLAM_MD5, md5(random), md5(text)]);
  assert.deepEqual(r.objects.map((o) => o.method), [1, 1, 1]);
});

test('members are cut at the size budget, as libmspack writes them', { skip: !gcab && 'gcab not installed' }, () => {
  const { cab, random } = mszipCab();
  const r = run(cabHandler, cab, 1000);
  assert.deepEqual(r.objects.map((o) => o.data.length), [544, 1000, 1000]);
  assert.equal(md5(r.objects[1]!.data), md5(random.subarray(0, 1000)));
});

test('truncated and corrupt cabinets: partial members, no exception', { skip: !gcab && 'gcab not installed' }, () => {
  const { cab } = mszipCab();
  const r = run(cabHandler, cab.subarray(0, 60_000));
  assert.equal(hashes(r)[0], CLAM_MD5);
  assert.ok(r.objects[1]!.data.length < 150_000);
  const broken = Buffer.from(cab);
  broken.fill(0xff, 200, 400); // inside the first data block
  assert.doesNotThrow(() => run(cabHandler, broken));
  assert.deepEqual(run(cabHandler, Buffer.from('MSCF')).objects, []);
});

test('fuzz: mutated cabinets never throw or hang', () => {
  const samples = [testfile('clam.cab')];
  if (gcab) samples.push(mszipCab().cab.subarray(0, 20_000));
  fuzz(cabHandler, samples, 0xcab);
});
