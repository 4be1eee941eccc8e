/**
 * PESpin 1.1 unpacking (cli_scanpe's PESpin block, spin.c's unspin) against real clamscan:
 * Debian's clam-pespin.exe byte for byte, and copies of it changed to reach each check of the
 * call site and of unspin. PESpin's stub layers are xor streams, so a value inside them is set by
 * xoring its ciphertext with the change wanted; the section key is a checksum of the file, so a
 * changed copy gets its stored key adjusted to keep the sections' key (`keepSectionKey`) where
 * the test wants the later steps reached.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parsePeFile } from '../src/executables/pe-file.js';
import { unpackPespin } from '../src/executables/unpackers/pespin.js';
import { spinChecksum, xorBackwards, xorShiftRegister } from '../src/executables/unpackers/pespin-decoder.js';
import { mutate, prng } from './support/archive-samples.js';
import { assertSameDecision, assertUnpacksAsClamAV, decisionOf, haveClamscan, runStep, type Damage } from './fixtures/executables/unpack-oracle.js';

const CLAM_PESPIN = '/usr/share/clamav-testfiles/clam-pespin.exe';
const PESPIN_LINES = /^(cli_scanpe: )?PE[sS]pin: |^spin: |^in unspin$/;
const haveFile = existsSync(CLAM_PESPIN);
const skip = !haveClamscan ? 'clamscan is not installed' : !haveFile ? 'clamav-testfiles is not installed' : false;

/** clam-pespin.exe's layout: the stub section's file offset and the entry point's offset in it. */
const STUB_RAW = 0xc00;
const ENTRY = 0x87;
const SECTION_TABLE = 0x1c0;
/** The stub's offsets (from the entry point) of the values the copies change. */
const AT = {
  firstLayerEnd: 0x31e2,
  secondLength: 0x26f0,
  checksumCut: 0x429,
  sectionKey: 0x3217,
  xorBitmap: 0x3207,
  thirdLength: 0x644,
  thirdKey: 0x650,
  polyLength: 0x28dd,
  polyCode: 0x28ec,
  sectionDecryptor: 0x755,
  compressionBitmap: 0x3061,
  resourceSplit: 0x2fee,
} as const;

const u32 = (bytes: Uint8Array, at: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
const setU32 = (bytes: Uint8Array, at: number, value: number) => new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, value >>> 0, true);

/** The stub section as ClamAV sees it after the xor layers (first, second and third). */
function peeled(file: Uint8Array): Uint8Array {
  const section = new Uint8Array(file.subarray(STUB_RAW, STUB_RAW + 0x3400));
  xorBackwards(section, ENTRY + AT.firstLayerEnd, 0x11fe, section[ENTRY + 0xdc]!);
  xorShiftRegister(section, ENTRY + 0x2d5, 0x5a0, u32(section, ENTRY + 0x26eb), 0x8c328834, 1);
  xorShiftRegister(section, ENTRY + 0x28d3, 0x180, u32(section, ENTRY + AT.thirdKey), 0xed43af32, 1);
  return section;
}

/** Changes the bytes at `offset` from the entry point to `bytes`, as the stub's decrypted view shows them. */
function setPlain(file: Uint8Array, offset: number, bytes: readonly number[]): void {
  const plain = peeled(file);
  bytes.forEach((byte, i) => (file[STUB_RAW + ENTRY + offset + i] ^= plain[ENTRY + offset + i]! ^ byte));
}
const setPlain32 = (file: Uint8Array, offset: number, value: number) => setPlain(file, offset, [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24]);

/** Adjusts the stored key so that, whatever else changed, the sections' key stays clam-pespin.exe's. */
function keepSectionKey(file: Uint8Array): void {
  const plain = peeled(file);
  const length = (file.length - u32(plain, ENTRY + AT.checksumCut)) >>> 0;
  // A checksum past the end of the file stops unspin before the key is used.
  if (length >= file.length) return;
  setU32(file, STUB_RAW + ENTRY + AT.sectionKey, 0x3523a0f5 + spinChecksum(file, length));
}

/** A change to a copy, with the section key kept. */
const keeping = (change: (copy: Buffer) => void) => (copy: Buffer) => {
  change(copy);
  keepSectionKey(copy);
};

/** A section header field of clam-pespin.exe (VirtualSize at 8, SizeOfRawData at 16). */
const sectionField = (index: number, field: number) => SECTION_TABLE + index * 0x28 + field;

/**
 * An FSG stream of literals only: the first byte as it is, a tag byte of five literals and the
 * end marker (`0 0 0 0 0 1 1 0`), five more bytes, and the marker's zero distance.
 */
const LITERALS_STREAM = [0x41, 0x06, 0x42, 0x43, 0x44, 0x45, 0x46, 0x00];

const DAMAGES: Damage[] = [
  // The call site: not PESpin's entry code.
  ['other-entry', (copy) => void (copy[STUB_RAW + ENTRY + 4] = 0x90)],
  // The call site: the stub section cut short of the entry point plus 0x321b (ClamAV's bound).
  ['cut-before-bound', (copy) => copy.subarray(0, STUB_RAW + ENTRY + 0x3218)],
  // Cut after the bound: unspin runs on what is left.
  ['cut-after-bound', (copy) => copy.subarray(0, STUB_RAW + ENTRY + 0x3220)],
  // unspin's version checks.
  ['no-mov-ebx', (copy) => void (copy[STUB_RAW + ENTRY + 0xdb] = 0x90)],
  ['no-mov-ecx', (copy) => void (copy[STUB_RAW + ENTRY + 0xe0] = 0x90)],
  ['first-length', (copy) => void (copy[STUB_RAW + ENTRY + 0xe1] = 0xff)],
  ['second-length', (copy) => setPlain32(copy, AT.secondLength, 0x5a1)],
  ['third-length', keeping((copy) => setPlain32(copy, AT.thirdLength, 0x181))],
  ['third-key', keeping((copy) => setPlain32(copy, AT.thirdKey, 0x43a806da))],
  ['poly-length', keeping((copy) => setPlain32(copy, AT.polyLength, 0x1a2))],
  // Warnings that do not stop it.
  ['no-mov-eax', keeping((copy) => void (copy[STUB_RAW + ENTRY + 0x1e0] = 0x90))],
  ['password', keeping((copy) => void (copy[STUB_RAW + ENTRY + 0x1e3] |= 0x20))],
  // The checksum's length: all of the file, none of it, past it.
  ['checksum-none', (copy) => setPlain32(copy, AT.checksumCut, copy.length)],
  ['checksum-all', (copy) => setPlain32(copy, AT.checksumCut, 0)],
  ['checksum-past', (copy) => setPlain32(copy, AT.checksumCut, copy.length + 1)],
  // Another section key: the sections decrypt to something else.
  ['other-key', (copy) => void (copy[STUB_RAW + ENTRY + AT.sectionKey] ^= 1)],
  // The xor pass on more sections, and on a section with no data in the file.
  ['xor-rsrc', keeping((copy) => setPlain32(copy, AT.xorBitmap, 0xf))],
  ['xor-empty-section', keeping((copy) => setU32(copy, sectionField(0, 16), 0))],
  // The decryptors: unknown opcodes, a missing stosb, code changed by the first decryptor.
  ['poly-bogus-opcode', keeping((copy) => setPlain(copy, AT.polyCode, [0xcc]))],
  ['poly-no-stosb', keeping((copy) => setPlain(copy, AT.polyCode + 0x24, [0x90]))],
  ['poly-jump-skip', keeping((copy) => setPlain(copy, AT.polyCode, [0xeb]))],
  ['section-decryptor-0', keeping((copy) => void (copy[STUB_RAW + ENTRY + AT.sectionDecryptor] ^= 0x01))],
  ['section-decryptor-1', keeping((copy) => void (copy[STUB_RAW + ENTRY + AT.sectionDecryptor] ^= 0x55))],
  ['section-decryptor-end', keeping((copy) => void (copy[STUB_RAW + ENTRY + AT.sectionDecryptor + 0x24] ^= 0x01))],
  // Compression: none, a section that is not compressed, bits past the sections.
  ['compression-none', keeping((copy) => setPlain32(copy, AT.compressionBitmap, 0))],
  ['compression-plain-section', keeping((copy) => setPlain32(copy, AT.compressionBitmap, 0x9))],
  ['compression-past-sections', keeping((copy) => setPlain32(copy, AT.compressionBitmap, 0xf0000008))],
  ['compression-huge-section', keeping((copy) => setU32(copy, sectionField(3, 8), 0x50000000))],
  // Resources: compressed from inside .rsrc (a bad stream, a good one), in a grown section, nowhere.
  ['resources-bad-stream', keeping((copy) => setPlain32(copy, AT.resourceSplit, 0x3100))],
  [
    'resources-grown',
    keeping((copy) => {
      setPlain32(copy, AT.resourceSplit, 0x3100);
      copy.set(LITERALS_STREAM, 0x800 + 0x100);
    }),
  ],
  ['resources-at-end-of-data', keeping((copy) => setPlain32(copy, AT.resourceSplit, 0x3200))],
  ['resources-in-grown-section', keeping((copy) => setPlain32(copy, AT.resourceSplit, 0x4100))],
  ['resources-nowhere', keeping((copy) => setPlain32(copy, AT.resourceSplit, 0x9000))],
];

/** Runs clamscan with `args` on `file`: its PESpin debug lines and the files it unpacked. */
function clamscanDecision(file: string, args: readonly string[]): { lines: string[]; outputs: Buffer[] } {
  const work = mkdtempSync(join(tmpdir(), 'clamts-pespin-'));
  try {
    const db = join(work, 'none.hdb');
    writeFileSync(db, '00000000000000000000000000000000:1:ClamTS.Oracle.Placeholder\n');
    const run = spawnSync('clamscan', ['--debug', '--leave-temps', `--tempdir=${work}`, '--no-summary', '-d', db, ...args, file], { encoding: 'latin1' });
    const debug = run.stderr.split('\n').filter((line) => line.startsWith('LibClamAV debug: ')).map((line) => line.slice('LibClamAV debug: '.length));
    const outputs = debug.flatMap((line) => {
      const saved = /saved in (\S+)$/.exec(line);
      return saved ? [readFileSync(saved[1]!)] : [];
    });
    return { lines: debug.filter((line) => PESPIN_LINES.test(line) && !line.includes('saved in')), outputs };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Our debug lines as clamscan prints them: a message with line breaks is cut at the first. */
const firstLine = (line: string) => line.split('\n')[0]!;

describe('PESpin unpacking (cli_scanpe, spin.c)', { skip }, () => {
  it('clam-pespin.exe: decrypted, decompressed and rebuilt byte for byte', () => {
    assert.equal(assertUnpacksAsClamAV(CLAM_PESPIN, unpackPespin, PESPIN_LINES).kind, 'unpacked', 'unpacked');
  });

  it('damaged copies: the same lines and bytes as clamscan', () => {
    const original = readFileSync(CLAM_PESPIN);
    const dir = mkdtempSync(join(tmpdir(), 'clamts-pespin-damaged-'));
    try {
      for (const [name, change] of DAMAGES) {
        const copy = Buffer.from(original);
        const data = change(copy) ?? copy;
        const file = join(dir, name);
        writeFileSync(file, data);
        const ours = decisionOf(runStep(data, unpackPespin));
        assertSameDecision({ ...ours, debug: ours.debug.filter((line) => PESPIN_LINES.test(line)) }, clamscanDecision(file, []), name, firstLine);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--max-filesize: sections growing past it stop unspin ("Size exceeded"), as in clamscan', () => {
    const copy = Buffer.from(readFileSync(CLAM_PESPIN));
    setU32(copy, sectionField(3, 8), 0x5000);
    keepSectionKey(copy);
    const dir = mkdtempSync(join(tmpdir(), 'clamts-pespin-limit-'));
    try {
      const file = join(dir, 'grows-past-limit');
      writeFileSync(file, copy);
      for (const limit of [copy.length, 0x5000 + 0x3000]) {
        const ours = decisionOf(runStep(copy, unpackPespin, { maxFileSize: limit }));
        const filtered = { ...ours, debug: ours.debug.filter((line) => PESPIN_LINES.test(line)) };
        assertSameDecision(filtered, clamscanDecision(file, [`--max-filesize=${limit}`]), `limit ${limit}`, firstLine);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PESpin unpacking on hostile input', { skip: haveFile ? false : 'clamav-testfiles is not installed' }, () => {
  it('never throws on mutated copies of clam-pespin.exe', () => {
    const original = readFileSync(CLAM_PESPIN);
    const random = prng(0x5e5b1);
    for (let i = 0; i < 300; i++) {
      const input = mutate(original, random);
      if (parsePeFile(input) === undefined) continue;
      assert.doesNotThrow(() => runStep(input, unpackPespin), `iteration ${i}`);
    }
  });

  it('never throws when any single stub byte is flipped, with the section key kept', () => {
    const original = readFileSync(CLAM_PESPIN);
    for (let offset = 0; offset < 0x3400; offset += 7) {
      const copy = Buffer.from(original);
      copy[STUB_RAW + offset] ^= 0xa5;
      keepSectionKey(copy);
      assert.doesNotThrow(() => runStep(copy, unpackPespin), `offset ${offset.toString(16)}`);
    }
  });
});
