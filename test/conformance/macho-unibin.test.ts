/**
 * Universal (fat) Mach-O binaries against real clamscan: each architecture's slice is scanned as
 * an object of its own (hash signatures of a slice, body signatures at offsets from its start),
 * with ClamAV's handling of truncated, overlapping and empty entries, `--alert-broken`, DCONF's
 * MACHO word, nesting in a zip, and the same `UNIBIN:` and nested-scan debug lines.
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

const DEBUG_LINE = /^LibClamAV debug: (UNIBIN|cli_scanmacho_unibin|cli_magic_scan_nested_fmap_type|magic_scan_nested_fmap_type|Invalid fat offset|Invalid offset)/;

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

  it('scans universal binaries inside a zip, and none with DCONF’s MACHO word at 0', () => {
    const zipped = join(dir, 'fat.zip');
    execFileSync('zip', ['-q', '-j', zipped, files[0]!, files[1]!]);
    const machoOff = write('macho-off.cfg', 'MACHO:0x0\n');
    assertSameReports(['--no-summary', ...db, zipped]);
    assertSameReports(['--no-summary', ...db, '-d', machoOff, ...files.slice(0, 3)]);
  });
});
