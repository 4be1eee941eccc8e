import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { iso9660Handler } from '../src/formats/iso9660.js';
import { CLAM_EXE, CLAM_MD5, clamscanExtractedMd5s, exec, fuzz, hashes, md5, run, tempDir, tool } from './support/more-archives.js';

const genisoimage = tool('genisoimage');
const random = randomBytes(5000);
function image(...switches: string[]): { iso: Buffer; path: string } {
  const dir = tempDir();
  mkdirSync(join(dir, 'tree', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'tree', 'sub', 'clam.exe'), CLAM_EXE);
  writeFileSync(join(dir, 'tree', 'random.bin'), random);
  exec('genisoimage', ['-quiet', ...switches, '-o', 'out.iso', 'tree'], dir);
  return { iso: readFileSync(join(dir, 'out.iso')), path: join(dir, 'out.iso') };
}

test('plain ISO 9660: every file of the tree, with 8.3 names', { skip: !genisoimage && 'genisoimage not installed' }, () => {
  const r = run(iso9660Handler, image().iso);
  assert.deepEqual(hashes(r).sort(), [CLAM_MD5, md5(random)].sort());
  assert.ok(r.objects.some((o) => o.name === 'CLAM.EXE'));
});

test('Joliet image: the primary tree then the Joliet tree, each file twice as in ClamAV', { skip: !genisoimage && 'genisoimage not installed' }, (t) => {
  const { iso, path } = image('-J');
  const r = run(iso9660Handler, iso);
  assert.deepEqual(hashes(r).filter((h) => h === CLAM_MD5).length, 2);
  assert.ok(r.objects.some((o) => o.name === 'clam.exe'), 'Joliet names keep their case');
  const theirs = clamscanExtractedMd5s(path);
  if (!theirs) return t.skip('clamscan not installed');
  assert.equal(theirs.filter((h) => h === CLAM_MD5).length, 2);
});

test('files over the limit are skipped; a truncated image skips files it cannot hold', { skip: !genisoimage && 'genisoimage not installed' }, () => {
  const { iso } = image();
  assert.deepEqual(hashes(run(iso9660Handler, iso, 1000)), [CLAM_MD5]);
  for (const cut of [100, 32_800, 36_000, iso.length - 3000]) assert.doesNotThrow(() => run(iso9660Handler, iso.subarray(0, cut)));
});

test('directory loops end (each directory block is visited once)', { skip: !genisoimage && 'genisoimage not installed' }, () => {
  const { iso } = image();
  // Point every directory record at the root's extent.
  const rootExtent = iso.readUInt32LE(32768 + 156 + 2);
  const looped = Buffer.from(iso);
  for (let at = rootExtent * 2048; at < rootExtent * 2048 + 2048 && looped[at]; at += looped[at]!) {
    if (looped[at + 25]! & 2) looped.writeUInt32LE(rootExtent, at + 2);
  }
  const started = Date.now();
  assert.doesNotThrow(() => run(iso9660Handler, looped));
  assert.ok(Date.now() - started < 2000);
});

test('fuzz: mutated ISO images never throw or hang', { skip: !genisoimage && 'genisoimage not installed' }, () => {
  fuzz(iso9660Handler, [image().iso, image('-J').iso], 0x150);
});
