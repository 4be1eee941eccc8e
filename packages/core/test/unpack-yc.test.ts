/**
 * yC unpacking against real clamscan: Debian's clam-yc.exe, byte for byte, and damaged copies
 * (broken decryptors, a jump back, data cut short, a changed stub). ClamAV's bounds alert
 * (Heuristics.BoundsCheck) cannot be reached through its own preconditions on the decryptors'
 * places, so no test shows it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parsePeFile } from '../src/executables/pe-file.js';
import { unpackYc } from '../src/executables/unpackers/yc.js';
import { assertDamagedCopiesAsClamAV, assertUnpacksAsClamAV, haveClamscan, type Damage } from './fixtures/executables/unpack-oracle.js';

const CLAM_YC = '/usr/share/clamav-testfiles/clam-yc.exe';
const YC_LINES = /^(cli_scanpe: )?yC: |^-?\d+,-?\d+,-?\d+,-?\d+$/;
const skip = !haveClamscan ? 'clamscan is not installed' : !existsSync(CLAM_YC) ? 'clamav-testfiles is not installed' : false;

describe('yC unpacking (cli_scanpe, yc.c)', { skip }, () => {
  const damages = (ycSection: number): Damage[] => [
    // An opcode the emulator does not know in the first decryptor.
    ['unknown-opcode', (copy) => void (copy[ycSection + 0x93 + 2] = 0xcc)],
    // Another decryption of the first layer: other section decryptor bytes follow.
    ['other-key', (copy) => void (copy[ycSection + 0xc6 + 0x400] ^= 0x11)],
    // A jump back before the decryptor's start.
    ['jump-back', (copy) => void copy.set([0xeb, 0x80], ycSection + 0x93)],
    // The data to decrypt cut short of the declared length.
    ['cut', (copy) => copy.subarray(0, ycSection + 0xc6 + 0xb6b + 2)],
    // A different entry stub: not yC.
    ['not-yc', (copy) => void (copy[parsePeFile(copy)!.entryPoint + 0x13] = 0x90)],
  ];

  it('clam-yc.exe: decrypted, the yC section dropped, byte for byte', () => {
    assert.equal(assertUnpacksAsClamAV(CLAM_YC, unpackYc, YC_LINES).kind, 'unpacked');
  });

  it('damaged decryptors and data: the same lines and bytes as clamscan', () => {
    const original = readFileSync(CLAM_YC);
    const pe = parsePeFile(original)!;
    assertDamagedCopiesAsClamAV(original, damages(pe.sections[pe.sections.length - 1]!.rawOffset), unpackYc, YC_LINES);
  });
});
