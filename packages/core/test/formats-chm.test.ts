import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chmHandler } from '../src/formats/chm.js';
import { CLAM_MD5, TESTFILES, clamscanExtractedMd5s, fuzz, hashes, run, testfile } from './support/more-archives.js';

test('clam.chm: every member of both sections, LZX-decoded, clam.exe among them', () => {
  const r = run(chmHandler, testfile('clam.chm'));
  assert.equal(r.objects.length, 15);
  const clam = r.objects.find((o) => o.name === '/clam.exe.txt')!;
  assert.equal(hashes({ ...r, objects: [clam] })[0], CLAM_MD5);
  assert.ok(r.objects.some((o) => o.method === 0) && r.objects.some((o) => o.method === 1));
  assert.ok(r.objects.every((o) => !o.name!.startsWith('::')), 'system files are not members');
});

test('clam.chm: same member contents as real clamscan extracts', (t) => {
  const theirs = clamscanExtractedMd5s(join(TESTFILES, 'clam.chm'));
  if (!theirs) return t.skip('clamscan not installed');
  for (const h of hashes(run(chmHandler, testfile('clam.chm')))) assert.ok(theirs.includes(h), `clamscan did not extract ${h}`);
});

test('members are cut at the size budget', () => {
  const r = run(chmHandler, testfile('clam.chm'), 100);
  assert.ok(r.objects.every((o) => o.data.length <= 100));
  assert.equal(r.objects.find((o) => o.name === '/clam.exe.txt')!.data.length, 100);
});

test('truncated CHM: what precedes the damage, no exception', () => {
  const chm = testfile('clam.chm');
  for (const cut of [100, 0x60, 4000, 9000, chm.length - 500]) assert.doesNotThrow(() => run(chmHandler, chm.subarray(0, cut)));
  const corrupt = Buffer.from(chm);
  corrupt.fill(0x55, 9000, 9400); // inside the LZX stream
  assert.doesNotThrow(() => run(chmHandler, corrupt));
});

test('fuzz: mutated CHM files never throw or hang', () => {
  fuzz(chmHandler, [testfile('clam.chm')], 0xc4a);
});
