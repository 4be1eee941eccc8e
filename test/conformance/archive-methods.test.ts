/**
 * Compression methods inside archives, end to end: 7z folders packed with PPMd (several model
 * orders and sizes, behind BCJ and in the BCJ2 layout, with members larger than the model's
 * memory so that it restarts) and .xz streams whose LZMA2 output goes through delta or a branch
 * converter. Real clamscan and ClamTS scan each file, one file per run (ClamAV's cache would
 * otherwise carry results between files), with and without --allmatch, and must report the same.
 * The database holds clam.exe's hash and a body signature for a block of machine code whose
 * branch instructions every converter rewrites, so a wrong byte anywhere loses the detection.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { comparable, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const TESTFILES = '/usr/share/clamav-testfiles';
const skip = !haveTool('clamscan')
  ? 'real clamscan is not installed'
  : !existsSync(TESTFILES)
    ? 'clamav-testfiles is not installed'
    : !haveTool('7z') || !haveTool('xz')
      ? '7z and xz are needed to build the archives'
      : false;

/** Reproducible filler bytes (a linear congruential generator). */
function filler(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/**
 * 64 bytes that each branch converter changes when encoding: an x86 CALL, an ARM BL, a Thumb
 * BL pair, a PowerPC bl, a SPARC call, and an IA-64 bundle (template 0x10, at offset 32) whose
 * third slot is an IP-relative branch. It sits at a 16-byte aligned offset of the payload.
 */
const BRANCHY = Buffer.concat([
  Buffer.from([0xe8, 0x10, 0x20, 0x00, 0x00, 0x90, 0x90, 0x90]),
  Buffer.from([0x01, 0x02, 0x00, 0xeb, 0x00, 0xf0, 0x00, 0xf8]),
  Buffer.from([0x48, 0x00, 0x10, 0x01, 0x40, 0x00, 0x10, 0x00]),
  Buffer.from('CLAMTS-B'),
  Buffer.from([0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x12, 0x34, 0x50]),
  Buffer.from('RANCHY-CLAMTS-BR'),
]);

let dir = '';
let db = '';

/** Runs 7z in `dir` on the given members and returns the archive. */
function sevenZip(name: string, switches: string[], members: string[]): Buffer {
  execFileSync('7z', ['a', '-bd', ...switches, name, ...members], { cwd: dir, stdio: 'ignore' });
  return readFileSync(join(dir, name));
}

function xz(payload: Buffer, options: string[]): Buffer {
  return execFileSync('xz', ['-c', '-T1', ...options], { input: payload, maxBuffer: 64 * 1024 * 1024 });
}

/** The cases: file name → its bytes. */
function buildCases(): Map<string, Buffer> {
  const clamExe = readFileSync(join(TESTFILES, 'clam.exe'));
  const code = Buffer.concat([filler(65536, 5), BRANCHY, filler(40000, 6)]);
  const text = Buffer.from(Array.from({ length: 40000 }, (_, i) => `line ${i} of the filler text\n`).join(''));
  // 7z orders a solid block by extension: the .bin and .txt members come before clam.exe, so
  // clam.exe is decoded by a model that has filled its memory and restarted.
  writeFileSync(join(dir, 'clam.exe'), clamExe);
  writeFileSync(join(dir, 'noise.bin'), filler(300_000, 7));
  writeFileSync(join(dir, 'code.bin'), code);
  writeFileSync(join(dir, 'text.txt'), text);
  const members = ['clam.exe', 'noise.bin', 'code.bin', 'text.txt'];
  const cases = new Map<string, Buffer>();
  for (const [name, switches] of [
    ['ppmd-o2-64k.7z', ['-m0=PPMd:o=2:mem=64k']],
    ['ppmd-o6-1m.7z', ['-m0=PPMd:o=6:mem=1m', '-mhc=off']],
    ['ppmd-o16-4m.7z', ['-m0=PPMd:o=16:mem=4m']],
    ['ppmd-o32-16m.7z', ['-m0=PPMd:o=32:mem=16m', '-ms=off']],
    ['ppmd-bcj.7z', ['-m0=bcj', '-m1=PPMd:o=8:mem=256k']],
    ['ppmd-bcj2.7z', ['-mf=bcj2', '-m0=PPMd:o=4:mem=128k']],
  ] as const) {
    cases.set(name, sevenZip(name, [...switches], members));
  }
  // Damaged PPMd data early in the solid block: every later member fails its CRC.
  const damaged = Buffer.from(cases.get('ppmd-o6-1m.7z')!);
  damaged[32 + 1000]! ^= 0x20;
  cases.set('ppmd-damaged.7z', damaged);

  for (const [label, filters] of [
    ['delta1', ['--delta=dist=1']],
    ['delta4', ['--delta=dist=4']],
    ['x86', ['--x86']],
    ['x86-start', ['--x86=start=4096']],
    ['powerpc', ['--powerpc']],
    ['ia64', ['--ia64']],
    ['arm', ['--arm']],
    ['armthumb', ['--armthumb']],
    ['sparc', ['--sparc']],
    ['chain', ['--x86', '--delta=dist=2', '--sparc']],
  ] as const) {
    cases.set(`clam-${label}.xz`, xz(clamExe, [...filters, '--lzma2']));
    cases.set(`code-${label}.xz`, xz(code, [...filters, '--lzma2', '--block-size=50000']));
  }
  return cases;
}

function writeDatabase(): void {
  const clamExe = readFileSync(join(TESTFILES, 'clam.exe'));
  const md5 = createHash('md5').update(clamExe).digest('hex');
  writeFileSync(join(db, 'test.hdb'), `${md5}:${clamExe.length}:ClamTS.Test.ClamExe\n`);
  writeFileSync(join(db, 'test.ndb'), `ClamTS.Test.Branchy:0:*:${BRANCHY.toString('hex')}\n`);
}

describe('PPMd in 7z and the xz filters decode as in ClamAV', { skip }, () => {
  const names: string[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-methods-'));
    db = join(dir, 'db');
    mkdirSync(db);
    writeDatabase();
    for (const [name, bytes] of buildCases()) {
      writeFileSync(join(dir, name), bytes);
      names.push(name);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const allMatch of [false, true]) {
    it(allMatch ? 'with --allmatch' : 'first match', () => {
      assert.ok(names.length >= 27, 'the cases were built');
      let detections = 0;
      for (const name of names) {
        const args = ['--no-summary', ...(allMatch ? ['--allmatch'] : []), '-d', db, join(dir, name)];
        const real = runClamAV('clamscan', args);
        const ours = runClamTS('clamscan', args);
        assert.deepEqual(comparable(ours.stdout), comparable(real.stdout), name);
        assert.equal(ours.status, real.status, name);
        if (real.stdout.includes('FOUND')) detections++;
      }
      // The comparison means something only if ClamAV itself decodes these methods.
      assert.ok(detections >= names.length - 1, `clamscan detected in ${detections} of ${names.length} files`);
    });
  }
});
