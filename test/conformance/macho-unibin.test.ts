/**
 * Universal (fat) Mach-O binaries against real clamscan: each architecture's slice is scanned as
 * an object of its own (hash signatures of a slice, body signatures at offsets from its start),
 * with ClamAV's handling of truncated, overlapping and empty entries, `--alert-broken`, DCONF's
 * MACHO word, nesting in a zip, and the same `UNIBIN:`, nested-scan and Mach-O parser debug lines.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertSameReports, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : !haveTool('zip') ? 'zip is not installed' : false;

const CPU_PPC = 18;
const CPU_I386 = 7;

/** A 32-bit big-endian Mach-O executable with one load command of no interest, then `payload`. */
function thinMacho(cpu: number, payload: string): Buffer {
  const header = Buffer.alloc(36);
  [0xfeedface, cpu, 0, 2, 1, 8, 0, 0x99, 8].forEach((value, i) => header.writeUInt32BE(value, i * 4));
  return Buffer.concat([header, Buffer.from(payload)]);
}

/**
 * A 32-bit big-endian PowerPC Mach-O executable: one segment with one section (file offset 0x100,
 * address 0x1000, 0x100 bytes) holding `payload`, and an LC_UNIXTHREAD whose srr0 (ClamAV's
 * entry point for PowerPC) is 0x1010, file offset 0x110.
 */
function ppcMachoWithEntry(payload: string): Buffer {
  const file = Buffer.alloc(0x200, 0x41);
  const u32 = (at: number, ...values: number[]) => values.forEach((value, i) => file.writeUInt32BE(value, at + 4 * i));
  const segmentSize = 56 + 68;
  const threadSize = 16 + 40 * 4;
  u32(0, 0xfeedface, CPU_PPC, 0, 2, 2, segmentSize + threadSize, 0);
  const segment = 28;
  u32(segment, 1, segmentSize);
  file.fill(0, segment + 8, segment + segmentSize).write('__TEXT', segment + 8);
  u32(segment + 24, 0x1000, 0x1000, 0x100, 0x100, 7, 5, 1, 0);
  const section = segment + 56;
  file.write('__text', section);
  file.write('__TEXT', section + 16);
  u32(section + 32, 0x1000, 0x100, 0x100, 0);
  const thread = segment + segmentSize;
  file.fill(0, thread, thread + threadSize);
  u32(thread, 5, threadSize, 1, 40, 0x1010);
  Buffer.from(payload).copy(file, 0x100);
  return file;
}

interface Arch {
  cpu: number;
  offset: number;
  size: number;
}

/** A fat file of `length` bytes: header, `count` entries (default: all of `archs`), the slices placed at their offsets. */
function fat(archs: Arch[], slices: Buffer[], length: number, count = archs.length): Buffer {
  const data = Buffer.alloc(length, 0x2e);
  data.writeUInt32BE(0xcafebabe, 0);
  data.writeUInt32BE(count, 4);
  archs.forEach(({ cpu, offset, size }, i) => {
    const at = 8 + 20 * i;
    if (at + 20 > length) return;
    [cpu, 0, offset, size, 12].forEach((value, k) => data.writeUInt32BE(value >>> 0, at + 4 * k));
  });
  slices.forEach((slice, i) => {
    const { offset } = archs[i]!;
    if (offset < length) slice.copy(data, offset, 0, Math.min(slice.length, length - offset));
  });
  return data;
}

const DEBUG_LINE = /^LibClamAV debug: (UNIBIN|cli_scanmacho|MACHO: |Entry Point|cli_magic_scan_nested_fmap_type|magic_scan_nested_fmap_type|Invalid fat offset|Invalid offset)/;

describe('universal Mach-O binaries against real clamscan', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'clamts-unibin-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, data: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  };

  const one = thinMacho(CPU_PPC, 'SLICE-ONE-PAYLOAD/'.repeat(6));
  const two = thinMacho(CPU_I386, 'SLICE-TWO-PAYLOAD/'.repeat(6));
  const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
  const hex = (text: string) => Buffer.from(text).toString('hex');
  const databases = [
    write('slices.hdb', `${md5(two)}:${two.length}:Slice.Two.Hash\n${md5(one.subarray(0, 100))}:100:Slice.One.Cut\n`),
    // At offset 36 of a slice only: the fat file has the bytes elsewhere.
    write('slices.ndb', `Slice.Two.At36:9:36:${hex('SLICE-TWO')}\nSlice.One.Any:9:*:${hex('SLICE-ONE')}\n`),
  ];
  const db = databases.flatMap((path) => ['-d', path]);

  const cases: Record<string, Buffer> = {
    'two.bin': fat([{ cpu: CPU_PPC, offset: 0x1000, size: one.length }, { cpu: CPU_I386, offset: 0x2000, size: two.length }], [one, two], 0x2000 + two.length),
    'size0.bin': fat([{ cpu: CPU_I386, offset: 0x800, size: 0 }], [two], 0x800 + two.length),
    'cut.bin': fat([{ cpu: CPU_PPC, offset: 0x400, size: one.length }, { cpu: CPU_I386, offset: 0x800, size: two.length }], [one, two], 0x800 + 40),
    'past-end.bin': fat([{ cpu: CPU_PPC, offset: 0x9000, size: 10 }, { cpu: CPU_I386, offset: 0x800, size: two.length }], [one, two], 0x800 + two.length),
    'overlap.bin': fat([{ cpu: CPU_I386, offset: 0x800, size: two.length }, { cpu: CPU_PPC, offset: 16, size: 200 }], [two, one], 0x800 + two.length),
    'short-cut-slice.bin': fat([{ cpu: CPU_PPC, offset: 0x100, size: 100 }, { cpu: CPU_I386, offset: 0x400, size: 5 }], [one, two], 0x600),
    'entries-cut.bin': fat([{ cpu: CPU_I386, offset: 30, size: 8 }], [Buffer.from('SLICE-ON')], 38, 2),
    'entries-garbage.bin': fat([{ cpu: CPU_I386, offset: 0x300, size: two.length }], [two], 0x300 + two.length, 31),
    'none.bin': fat([], [], 0x200, 0),
  };
  const files = Object.entries(cases).map(([name, data]) => write(name, data));

  it('finds what is in each slice, as clamscan does', () => {
    for (const options of [[], ['--allmatch'], ['--alert-broken'], ['--allmatch', '--alert-broken']]) {
      assertSameReports(['--no-summary', ...options, ...db, ...files]);
    }
  });

  it('prints the same debug lines about the fat header and each slice', () => {
    const lines = (stderr: string) => stderr.split('\n').filter((line) => DEBUG_LINE.test(line));
    const seen: string[] = [];
    for (const file of files) {
      const args = ['--debug', '--allmatch', '--alert-broken', ...db, file];
      const real = lines(runClamAV('clamscan', args).stderr);
      assert.deepEqual(lines(runClamTS('clamscan', args).stderr), real, `the same lines for ${file}`);
      seen.push(...real);
    }
    // Not vacuous: every path of the walk was taken.
    for (const path of ['Number of architectures: 2', "Can't read fat_arch", 'Invalid fat offset', 'Invalid offset', 'Data truncated', 'Small data']) {
      assert.ok(seen.some((line) => line.includes(path)), `clamscan printed "${path}"`);
    }
  });

  it('matches target-type 9 signatures at offsets from each slice’s entry point, sections and end', () => {
    const a = ppcMachoWithEntry('SLICE-A-HEAD-16:ENTRY-A-BYTES/');
    const b = ppcMachoWithEntry('SLICE-B-HEAD-16:ENTRY-B-BYTES/');
    const archs = [{ cpu: CPU_PPC, offset: 0x1000, size: a.length }, { cpu: CPU_PPC, offset: 0x2000, size: b.length }];
    const both = fat(archs, [a, b], 0x2000 + b.length);
    const littleEndian = Buffer.from(both);
    for (let at = 0; at < 8 + 20 * archs.length; at += 4) littleEndian.writeUInt32LE(both.readUInt32BE(at), at);
    const signatures = write(
      'offsets.ndb',
      [
        `Entry.A:9:EP+0:${hex('ENTRY-A')}`,
        `Entry.B:9:EP+0:${hex('ENTRY-B')}`,
        `Section.B:9:S0+16:${hex('ENTRY-B')}`,
        `LastSection.A:9:SL+0:${hex('SLICE-A')}`,
        `End.B:9:EOF-256:${hex('SLICE-B')}`,
        `Absolute.A:9:256:${hex('SLICE-A')}`,
        // In the fat file itself: its type is not a Mach-O one.
        `Fat.Raw:0:${0x2000 + 0x100}:${hex('SLICE-B')}`,
      ].join('\n') + '\n',
    );
    const targets = [write('entry-slices.bin', both), write('entry-slices-le.bin', littleEndian), write('entry-thin.bin', b)];
    for (const options of [[], ['--allmatch']]) assertSameReports(['--no-summary', ...options, '-d', signatures, ...targets]);
    const found = runClamAV('clamscan', ['--no-summary', '--allmatch', '-d', signatures, targets[0]!]).stdout;
    for (const name of ['Entry.A', 'Entry.B', 'Section.B', 'End.B', 'Fat.Raw']) assert.ok(found.includes(`${name}.UNOFFICIAL FOUND`), `clamscan finds ${name}:\n${found}`);
  });

  it('tells universal binaries from Java class files and other counts as clamscan does', () => {
    const slice = ppcMachoWithEntry('COUNTED-SLICE-PAYLOAD');
    const signatures = [
      write('counted.hdb', `${md5(slice)}:${slice.length}:Counted.Slice.Hash\n`),
      // Target 12: counts 0x20 to 0x3f make the file a Java class file.
      write('counted.ndb', `Counted.Raw:0:*:${hex('COUNTED-SLICE')}\nCounted.Java:12:*:${hex('COUNTED-SLICE')}\n`),
    ].flatMap((path) => ['-d', path]);
    const counts = [0, 1, 31, 32, 33, 38, 39, 0x34, 0xffff, 0x10001, 0x10027, 0x270001, 0xffff0001, 0x80000001];
    const targets = counts.map((count) => {
      const entries = Math.min(count, 40);
      const archs = Array.from({ length: entries }, () => ({ cpu: CPU_PPC, offset: 0x1000, size: slice.length }));
      return write(`count-${count.toString(16)}.bin`, fat(archs, archs.length > 0 ? [slice] : [], 0x1000 + slice.length, count));
    });
    for (const options of [[], ['--allmatch']]) assertSameReports(['--no-summary', ...options, ...signatures, ...targets]);
    const sliceFound = (count: number) =>
      runClamAV('clamscan', ['--no-summary', '--allmatch', ...signatures, targets[counts.indexOf(count)]!]).stdout.includes('Counted.Slice.Hash');
    assert.ok(sliceFound(1) && sliceFound(31), 'clamscan scans the slices of 1 and 31 architectures');
    // The file type needs fewer than 32; the walk would take 32.
    assert.ok(!sliceFound(32) && !sliceFound(0x34), 'clamscan scans no slice of 32 architectures or of a Java class file (count 0x34)');
    const java = runClamAV('clamscan', ['--no-summary', '--allmatch', ...signatures, targets[counts.indexOf(0x34)]!]).stdout;
    assert.ok(java.includes('Counted.Java.UNOFFICIAL FOUND'), `clamscan types count 0x34 as a Java class file:\n${java}`);
  });

  it('scans a universal binary inside a slice, one level deeper', () => {
    const inner = ppcMachoWithEntry('INNER-SLICE-PAYLOAD');
    const innerFat = fat([{ cpu: CPU_PPC, offset: 0x100, size: inner.length }], [inner], 0x100 + inner.length);
    const outer = fat([{ cpu: CPU_PPC, offset: 0x1000, size: innerFat.length }, { cpu: CPU_I386, offset: 0x2000, size: two.length }], [innerFat, two], 0x2000 + two.length);
    const signatures = [
      write('nested.hdb', `${md5(inner)}:${inner.length}:Nested.Inner.Hash\n${md5(innerFat)}:${innerFat.length}:Nested.Fat.Hash\n`),
      write('nested.ndb', `Nested.Inner.At256:9:256:${hex('INNER-SLICE')}\n`),
    ].flatMap((path) => ['-d', path]);
    const target = write('nested.bin', outer);
    for (const options of [[], ['--allmatch'], ['--allmatch', '--max-recursion=2']]) assertSameReports(['--no-summary', ...options, ...signatures, ...db, target]);
    const found = runClamAV('clamscan', ['--no-summary', '--allmatch', ...signatures, target]).stdout;
    for (const name of ['Nested.Inner.Hash', 'Nested.Fat.Hash', 'Nested.Inner.At256']) assert.ok(found.includes(`${name}.UNOFFICIAL FOUND`), `clamscan finds ${name}:\n${found}`);
  });

  it('scans universal binaries inside a zip, and none with DCONF’s MACHO word at 0', () => {
    const zipped = join(dir, 'fat.zip');
    execFileSync('zip', ['-q', '-j', zipped, files[0]!, files[1]!]);
    const machoOff = write('macho-off.cfg', 'MACHO:0x0\n');
    assertSameReports(['--no-summary', ...db, zipped]);
    assertSameReports(['--no-summary', ...db, '-d', machoOff, ...files.slice(0, 3)]);
  });
});
