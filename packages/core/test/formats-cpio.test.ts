/**
 * cpio: the four real samples, archives written by GNU cpio in each layout, and archives built
 * here to reach ClamAV's walk rules (trailer, non-regular members, bad magic, truncation), with
 * real clamscan as the oracle.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpioCrcHandler, cpioNewcHandler, cpioOdcHandler, cpioOldHandler } from '../src/formats/cpio.js';
import type { FormatHandler } from '../src/formats/handler.js';
import {
  CLAM_EXE, clamscan, extractAll, fuzz, hashSignature, md5, needsClamscan, needsTestfiles, needsTool, noise, prose,
  run, testfile,
} from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const member = (label: string, size = 1500): Buffer => Buffer.concat([Buffer.from(`${label}\n`), prose(size)]);

/** A newc ("070701") entry: 110-byte header, name padded to 4, data padded to 4. */
function newc(name: string, data: Uint8Array, mode = 0o100644, magic = '070701'): Buffer {
  const hex = (value: number) => value.toString(16).padStart(8, '0');
  const nameBytes = Buffer.from(`${name}\0`, 'latin1');
  const head = Buffer.from(magic + [1, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0].map(hex).join(''), 'latin1');
  const pad = (length: number) => Buffer.alloc((4 - (length % 4)) % 4);
  return Buffer.concat([head, nameBytes, pad(head.length + nameBytes.length), data, pad(data.length)]);
}

/** An odc ("070707") entry: 76-byte octal header, unpadded name and data. */
function odc(name: string, data: Uint8Array, mode = 0o100644): Buffer {
  const oct = (value: number, width: number) => value.toString(8).padStart(width, '0');
  const nameBytes = Buffer.from(`${name}\0`, 'latin1');
  const head = `070707${oct(0, 6)}${oct(1, 6)}${oct(mode, 6)}${oct(0, 6)}${oct(0, 6)}${oct(1, 6)}${oct(0, 6)}${oct(0, 11)}${oct(nameBytes.length, 6)}${oct(data.length, 11)}`;
  return Buffer.concat([Buffer.from(head, 'latin1'), nameBytes, data]);
}

/** An old binary entry in either byte order: 26-byte header, name and data padded to 2. */
function binary(name: string, data: Uint8Array, mode = 0o100644, bigEndian = false): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'latin1');
  const fields = [0o070707, 0, 1, mode, 0, 0, 1, 0, 0, 0, nameBytes.length, Math.floor(data.length / 65536), data.length % 65536];
  const head = Buffer.alloc(26);
  fields.forEach((value, i) => (bigEndian ? head.writeUInt16BE(value, i * 2) : head.writeUInt16LE(value, i * 2)));
  const pad = (length: number) => Buffer.alloc(length % 2);
  return Buffer.concat([head, nameBytes, pad(nameBytes.length), data, pad(data.length)]);
}

function verdicts(handler: FormatHandler, file: Uint8Array, payloads: Record<string, Uint8Array>): { ours: string[]; clam: string[] } {
  const hdb = Object.entries(payloads).map(([name, bytes]) => hashSignature(name, bytes));
  const ours = new Set<string>();
  for (const object of extractAll(handler, file)) {
    for (const [name, bytes] of Object.entries(payloads)) if (md5(object.data) === md5(bytes)) ours.add(name);
  }
  return { ours: [...ours].sort(), clam: clamscan(file, { hdb }) };
}

describe('cpio handlers', () => {
  for (const [sample, handler] of [
    ['clam.bin-le.cpio', cpioOldHandler], ['clam.bin-be.cpio', cpioOldHandler], ['clam.odc.cpio', cpioOdcHandler], ['clam.newc.cpio', cpioNewcHandler],
  ] as const) {
    it(`extracts clam.exe from ${sample}`, needsTestfiles, () => {
      const objects = extractAll(handler, testfile(sample));
      assert.equal(objects.length, 1);
      assert.deepEqual(Buffer.from(objects[0]!.data), Buffer.from(CLAM_EXE));
      assert.equal(objects[0]!.name, 'clam.exe');
    });
  }

  it('reads what GNU cpio writes in every layout', needsTool('cpio'), () => {
    const dir = tempDir('clamts-cpio-');
    const files: Record<string, Buffer> = { 'odd.bin': Buffer.from(noise(333)), 'text.txt': member('text', 5000), 'one': Buffer.from('x') };
    for (const [name, data] of Object.entries(files)) dir.write(name, data);
    for (const [format, handler] of [['bin', cpioOldHandler], ['odc', cpioOdcHandler], ['newc', cpioNewcHandler], ['crc', cpioCrcHandler]] as const) {
      const archive = run('cpio', ['-o', '--quiet', '-H', format], Buffer.from(Object.keys(files).join('\n')), dir.root);
      const objects = extractAll(handler, archive);
      assert.deepEqual(objects.map((o) => o.name), Object.keys(files), format);
      assert.deepEqual(objects.map((o) => md5(o.data)), Object.values(files).map(md5), format);
    }
  });

  it('walks unusual archives the way clamscan does', needsClamscan, () => {
    const [a, b] = [member('A'), member('B')];
    const trailer = (build: (name: string, data: Uint8Array) => Buffer) => build('TRAILER!!!', new Uint8Array());
    const cases: Array<[string, FormatHandler, Buffer, Record<string, Uint8Array>]> = [
      ['newc member after the trailer', cpioNewcHandler, Buffer.concat([newc('a', a), trailer(newc), newc('b', b)]), { A: a, B: b }],
      ['newc zeros after the trailer end it', cpioNewcHandler, Buffer.concat([newc('a', a), trailer(newc), Buffer.alloc(512), newc('b', b)]), { A: a, B: b }],
      ['newc bad magic stops', cpioNewcHandler, Buffer.concat([newc('a', a), newc('x', b, 0o100644, '070799'), newc('b', b)]), { A: a, B: b }],
      ['newc symlink data is scanned', cpioNewcHandler, newc('link', a, 0o120777), { A: a }],
      ['odc member cut short', cpioOdcHandler, odc('a', a).subarray(0, 76 + 2 + 700), { A: a, Cut: a.subarray(0, 700) }],
      ['binary symlink is not scanned', cpioOldHandler, Buffer.concat([binary('link', a, 0o120777), binary('b', b)]), { A: a, B: b }],
      ['binary big-endian', cpioOldHandler, Buffer.concat([binary('a', a, 0o100644, true), binary('b', b, 0o100644, true)]), { A: a, B: b }],
    ];
    for (const [label, handler, file, payloads] of cases) {
      const { ours, clam } = verdicts(handler, file, payloads);
      assert.deepEqual(ours, clam, label);
    }
  });

  it('sanitises names and keeps the previous name for an unnamed entry', () => {
    const [first, second] = extractAll(cpioNewcHandler, Buffer.concat([newc('bad%na\\me\t\u00e9', Buffer.from('data1')), newc('', Buffer.from('data2'))]));
    assert.equal(first!.name, 'bad_na_me__');
    // A zero name size: the header carries no name at all, so ClamAV reuses the last one.
    const unnamed = Buffer.from(newc('x', Buffer.from('data3')));
    unnamed.write('00000000', 94, 'latin1');
    const [, last] = extractAll(cpioNewcHandler, Buffer.concat([newc('kept', Buffer.from('data1')), unnamed.subarray(0, 110), Buffer.from('data3\0\0\0')]));
    assert.equal(second!.name, '');
    assert.equal(last!.name, 'kept');
  });

  it('survives seeded mutations of valid archives', () => {
    const files = [Buffer.concat([newc('a', member('a')), newc('b', Buffer.from(noise(77))), newc('TRAILER!!!', new Uint8Array())])];
    fuzz(cpioNewcHandler, files, { seed: 0xc1 });
    fuzz(cpioOdcHandler, [Buffer.concat([odc('a', member('a')), odc('TRAILER!!!', new Uint8Array())])], { seed: 0xc2 });
    fuzz(cpioOldHandler, [Buffer.concat([binary('a', member('a')), binary('b', member('b'), 0o100644, true)])], { seed: 0xc3 });
  });
});
