/**
 * WWPack unpacking against real clamscan: Debian's clam-wwpack.exe, byte for byte, and damaged
 * copies (compressed data, the block table, the stub's section, the entry stub).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parsePeFile } from '../src/executables/pe-file.js';
import { unpackWwpack } from '../src/executables/unpackers/wwpack.js';
import { assertDamagedCopiesAsClamAV, assertUnpacksAsClamAV, haveClamscan, type Damage } from './fixtures/executables/unpack-oracle.js';

const CLAM_WWPACK = '/usr/share/clamav-testfiles/clam-wwpack.exe';
const WWPACK_LINES = /^(cli_scanpe: )?(WWP|in wwunpack|WWpack)/;
const skip = !haveClamscan ? 'clamscan is not installed' : !existsSync(CLAM_WWPACK) ? 'clamav-testfiles is not installed' : false;

describe('WWPack unpacking (cli_scanpe, wwunpack.c)', { skip }, () => {
  const damages = (stubSection: number): Damage[] => [
    // The compressed data (it sits in the first section).
    ['data', (copy) => void (copy[0x480] ^= 0x21)],
    ['data-start', (copy) => void (copy[0x400] ^= 0xff)],
    // The block table: its word count, and its "more blocks" flag.
    ['table-words', (copy) => void (copy[stubSection + 0x2a1 + 8] = 0xff)],
    ['table-more', (copy) => void (copy[stubSection + 0x2a1 + 16] = 1)],
    // The stub's section cut before its table.
    ['cut', (copy) => copy.subarray(0, stubSection + 0x200)],
    // Not WWPack's entry stub.
    ['not-wwpack', (copy) => void (copy[parsePeFile(copy)!.entryPoint + 0x70] ^= 1)],
  ];

  it('clam-wwpack.exe: the image decompressed in place and its headers fixed, byte for byte', () => {
    assert.equal(assertUnpacksAsClamAV(CLAM_WWPACK, unpackWwpack, WWPACK_LINES).kind, 'unpacked');
  });

  it('damaged copies: the same lines and bytes as clamscan', () => {
    const original = readFileSync(CLAM_WWPACK);
    const pe = parsePeFile(original)!;
    assertDamagedCopiesAsClamAV(original, damages(pe.sections[pe.sections.length - 1]!.rawOffset), unpackWwpack, WWPACK_LINES);
  });
});
