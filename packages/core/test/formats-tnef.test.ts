/**
 * TNEF (winmail.dat): the real clam.tnef and streams built here — several attachments, data
 * before the title, attachments without a message-level attribute between them, corrupt lengths
 * and unknown levels. clamscan is the oracle: the files it writes into its tnef-tmp directory
 * (--leave-temps) must be the files the handler yields.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tnefHandler } from '../src/formats/tnef.js';
import { CLAM_EXE, clamscan, extractAll, fuzz, hashSignature, md5, needsClamscan, needsTestfiles, noise, testfile } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

interface Attribute {
  level: number;
  tag: number;
  type?: number;
  data: Uint8Array;
  length?: number;
}

/** A TNEF stream: signature, key, then attributes (level, id, length, data, checksum). */
function tnef(attributes: Attribute[]): Buffer {
  const parts = [Buffer.from([0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00])];
  for (const a of attributes) {
    const header = Buffer.alloc(9);
    header[0] = a.level;
    header.writeUInt16LE(a.tag, 1);
    header.writeUInt16LE(a.type ?? 0x0006, 3);
    header.writeInt32LE(a.length ?? a.data.length, 5);
    let checksum = 0;
    for (const b of a.data) checksum = (checksum + b) & 0xffff;
    const sum = Buffer.alloc(2);
    sum.writeUInt16LE(checksum);
    parts.push(header, Buffer.from(a.data), sum);
  }
  return Buffer.concat(parts);
}

const message = (text: string): Attribute => ({ level: 1, tag: 0x8004, data: Buffer.from(`${text}\0`) });
const title = (name: string): Attribute => ({ level: 2, tag: 0x8010, data: Buffer.from(`${name}\0`) });
const data = (bytes: Uint8Array): Attribute => ({ level: 2, tag: 0x800f, data: bytes });
const rendering = (): Attribute => ({ level: 2, tag: 0x9002, data: Buffer.alloc(14, 1) });

/**
 * Digests of the files clamscan scans from its tnef-tmp directory: the files it writes there
 * (--leave-temps), kept when a hash signature for them fires (a corrupt stream leaves its files
 * on disk unscanned).
 */
function clamavTnefFiles(stream: Uint8Array): string[] {
  const dir = tempDir('clamts-tnef-');
  const target = dir.write('winmail.dat', stream);
  const temps = join(dir.root, 'temps');
  mkdirSync(temps);
  spawnSync('clamscan', ['--leave-temps', `--tempdir=${temps}`, '-d', dir.write('none.hdb', `${'0'.repeat(32)}:1:None\n`), target]);
  const written: Buffer[] = [];
  const walk = (path: string, inTnef: boolean): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full, entry.name.startsWith('tnef-tmp'));
      else if (inTnef) written.push(readFileSync(full));
    }
  };
  walk(temps, false);
  const signatures = written.filter((file) => file.length).map((file) => hashSignature(`F${md5(file)}`, file));
  if (!signatures.length) return [];
  return clamscan(stream, { hdb: signatures }).map((name) => name.slice(1)).sort();
}

const ours = (stream: Uint8Array) => extractAll(tnefHandler, stream).map((o) => md5(o.data)).sort();

describe('TNEF', () => {
  it('extracts clam.exe from clam.tnef', needsTestfiles, () => {
    const objects = extractAll(tnefHandler, testfile('clam.tnef'));
    assert.deepEqual(objects.map((o) => md5(o.data)), [md5(CLAM_EXE)]);
  });

  const cases: Record<string, Buffer> = {
    'two attachments separated by a message attribute': tnef([
      message('first'), rendering(), title('one.bin'), data(noise(300, 1)),
      message('second'), title('two.exe'), data(noise(500, 2)),
    ]),
    'data before the title, and consecutive attachments merged': tnef([
      message('m'), data(noise(100, 3)), title('late.bin'), rendering(), title('ignored.bin'), data(noise(50, 4)),
    ]),
    'a last attachment without a title': tnef([message('m'), data(noise(200, 5))]),
    'a corrupt length makes the stream rejected': tnef([message('m'), title('a.bin'), data(noise(40, 6)), { level: 2, tag: 0x800f, data: noise(10, 7), length: -5 }]),
    'an unknown level makes the stream rejected': tnef([message('m'), title('a.bin'), data(noise(40, 8)), { level: 7, tag: 1, data: noise(4, 9) }]),
    'a truncated attribute': tnef([message('m'), title('a.bin'), data(noise(400, 10))]).subarray(0, 300),
  };
  for (const [name, stream] of Object.entries(cases)) {
    it(`${name} (as clamscan)`, needsClamscan, () => {
      assert.deepEqual(ours(stream), clamavTnefFiles(stream));
    });
  }

  it('survives seeded mutations (fuzz)', needsTestfiles, () => {
    fuzz(tnefHandler, [testfile('clam.tnef'), cases['two attachments separated by a message attribute']!], { seed: 0x7e5f });
  });
});
