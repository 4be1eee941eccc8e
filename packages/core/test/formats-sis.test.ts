import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sisHandler } from '../src/formats/sis.js';
import { CLAM_MD5, fuzz, hashes, run, testfile } from './support/more-archives.js';

test('clam.sis (pre-9.x, compressed) yields exactly clam.exe under its source name', () => {
  const r = run(sisHandler, testfile('clam.sis'));
  assert.deepEqual(hashes(r), [CLAM_MD5]);
  assert.match(r.objects[0]!.name!, /clam\.exe$/);
});

test('member over the limit is skipped', () => {
  assert.deepEqual(run(sisHandler, testfile('clam.sis'), 100).objects, []);
});

test('SIS 9.x packages: nothing extracted, as ClamAV 1.4 does', () => {
  const sis9 = Buffer.alloc(64);
  sis9.writeUInt32LE(0x10201a7a, 0);
  sis9.writeUInt32LE(12, 16); // a Contents field, which ClamAV never reaches
  assert.deepEqual(run(sisHandler, sis9).objects, []);
});

test('truncated and corrupt packages never throw', () => {
  const sis = testfile('clam.sis');
  for (let cut = 0; cut < sis.length; cut += 37) assert.doesNotThrow(() => run(sisHandler, sis.subarray(0, cut)));
  const bad = Buffer.from(sis);
  bad.fill(0x41, 0x170, 0x190); // inside the deflate stream (0x14e..0x254)
  assert.deepEqual(run(sisHandler, bad).objects, []);
});

test('fuzz: mutated SIS packages never throw or hang', () => {
  fuzz(sisHandler, [testfile('clam.sis')], 0x515);
});
