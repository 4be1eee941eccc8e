/**
 * xz: streams from xz(1), and damaged ones whose fate (scanned or not) real clamscan decides,
 * including ClamAV's quirks around errors after the last block and concatenated streams.
 */
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { xzHandler } from '../src/formats/xz.js';
import { XZ_INPUT_PIECE } from '../src/formats/archive/xz-decoder.js';
import {
  CLAM_EXE, clamscan, extractAll, fuzz, markerSignature, needsClamscan, needsTool, noise, prose, recordingContext, run,
} from './support/archive-samples.js';

const MARKER_A = 'CLAMTS-XZ-MARKER-AAAA';
const MARKER_B = 'CLAMTS-XZ-MARKER-BBBB';
const signatures = [markerSignature('Marker.A', MARKER_A), markerSignature('Marker.B', MARKER_B)];
const withXz = { ...needsTool('xz') };
const withXzAndClamscan = { ...needsTool('xz'), ...needsClamscan };

function ourVerdict(file: Uint8Array): string[] {
  const ctx = recordingContext();
  const found = new Set<string>(ctx.heuristics.map((h) => h.name));
  for (const object of extractAll(xzHandler, file, ctx)) {
    const text = Buffer.from(object.data).toString('latin1');
    if (text.includes(MARKER_A)) found.add('Marker.A');
    if (text.includes(MARKER_B)) found.add('Marker.B');
  }
  for (const h of ctx.heuristics) found.add(h.name);
  return [...found].sort();
}

function xz(payload: Uint8Array, ...options: string[]): Buffer {
  return run('xz', ['-c', ...options], payload);
}

/** Rewrites the first block header's LZMA2 dictionary property and fixes the header CRC. */
function withDictionaryProp(stream: Buffer, prop: number): Buffer {
  const copy = Buffer.from(stream);
  const headerSize = (copy[12]! + 1) * 4;
  const header = copy.subarray(12, 12 + headerSize);
  const lzma2 = header.indexOf(Buffer.from([0x21, 0x01]), 2);
  header[lzma2 + 2] = prop;
  header.writeUInt32LE(zlib.crc32(header.subarray(0, headerSize - 4)), headerSize - 4);
  return copy;
}

describe('xz handler', () => {
  it('decodes every check type, several blocks and concatenated streams', withXz, () => {
    const payload = Buffer.concat([prose(400_000), Buffer.from(noise(100_000)), Buffer.from(CLAM_EXE)]);
    for (const options of [['-C', 'none'], ['-C', 'crc32'], ['-C', 'crc64'], ['-C', 'sha256'], ['--block-size=100000'], ['-9e']]) {
      const [object] = extractAll(xzHandler, xz(payload, ...options));
      assert.deepEqual(Buffer.from(object!.data), payload, options.join(' '));
    }
    const two = Buffer.concat([xz(Buffer.from('first ')), xz(Buffer.from('second'))]);
    assert.equal(Buffer.from(extractAll(xzHandler, two)[0]!.data).toString(), 'first second');
  });

  it('scans or drops damaged streams exactly as clamscan does', withXzAndClamscan, () => {
    const small = xz(Buffer.from(`${MARKER_A} ${prose(2000)} ${MARKER_B}`));
    const flip = (at: number): Buffer => {
      const bad = Buffer.from(small);
      bad[at]! ^= 0x40;
      return bad;
    };
    const cases: Array<[string, Uint8Array]> = [
      ['truncated in the data', small.subarray(0, small.length - 60)],
      ['index and footer missing', small.subarray(0, small.length - 24)],
      ['corrupt LZMA2 data', flip(40)],
      ['wrong CRC64 check', flip(small.length - 30)],
      ['wrong index CRC', flip(small.length - 14)],
      ['wrong footer', flip(small.length - 3)],
      ['second stream with a broken header', Buffer.concat([small, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04, 0, 0, 0, 0, 0])])],
      ['padding not a multiple of four', Buffer.concat([small, Buffer.from([0, 0]), small])],
      ['huge dictionary', withDictionaryProp(small, 37)],
      ['largest dictionary ClamAV allocates', withDictionaryProp(small, 36)],
    ];
    for (const [label, file] of cases) assert.deepEqual(ourVerdict(file), clamscan(file, { ndb: signatures }), label);
  });

  it('decodes a second stream only when ClamAV would hand it over in the same piece', withXzAndClamscan, () => {
    const first = xz(Buffer.concat([prose(3000), Buffer.from(MARKER_A), prose(3000), Buffer.from(noise(200_000))]), '-0');
    const second = xz(Buffer.concat([prose(3000), Buffer.from(MARKER_B), prose(1000)]));
    // The markers must not be readable in the compressed file itself, or clamscan's raw scan sees them.
    for (const marker of [MARKER_A, MARKER_B]) assert.ok(!Buffer.concat([first, second]).includes(marker));
    const sameCall = Buffer.concat([first, second]);
    const padding = Buffer.alloc(XZ_INPUT_PIECE - first.length);
    const nextPiece = Buffer.concat([first, padding, second]);
    assert.equal(padding.length % 4, 0);
    for (const [label, file] of [['adjacent', sameCall], ['padded to the next piece', nextPiece]] as const) {
      assert.deepEqual(ourVerdict(file), clamscan(file, { ndb: signatures }), label);
    }
  });

  it('stops a decompression bomb just past the budget', withXz, () => {
    const bomb = xz(Buffer.alloc(30 * 1024 * 1024));
    const started = performance.now();
    const [object] = extractAll(xzHandler, bomb, recordingContext(2 * 1024 * 1024));
    assert.equal(object!.data.length, 2 * 1024 * 1024 + 1);
    assert.ok(performance.now() - started < 3000);
  });

  it('survives seeded mutations of valid streams', withXz, () => {
    fuzz(xzHandler, [xz(Buffer.from(CLAM_EXE.length ? CLAM_EXE : noise(600))), xz(prose(20_000), '--block-size=5000')], { seed: 0x7a });
  });
});
