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

/** Lets `edit` rewrite the first block header in place (same size), then fixes the header CRC. */
function withBlockHeader(stream: Buffer, edit: (header: Buffer) => void): Buffer {
  const copy = Buffer.from(stream);
  const headerSize = (copy[12]! + 1) * 4;
  const header = copy.subarray(12, 12 + headerSize);
  edit(header);
  header.writeUInt32LE(zlib.crc32(header.subarray(0, headerSize - 4)), headerSize - 4);
  return copy;
}

/** Rewrites the first block header's LZMA2 dictionary property. */
function withDictionaryProp(stream: Buffer, prop: number): Buffer {
  return withBlockHeader(stream, (header) => {
    header[header.indexOf(Buffer.from([0x21, 0x01]), 2) + 2] = prop;
  });
}

/**
 * Bytes rich in every architecture's branch patterns (x86 CALLs, ARM BLs, Thumb BL pairs,
 * PowerPC bl, SPARC call, IA-64 bundles), so that each converter has much to undo.
 */
function machineCode(): Buffer {
  const bytes = Buffer.from(noise(400_000, 7));
  for (let i = 0; i + 16 <= bytes.length; i += 64) {
    bytes[i] = 0xe8; // x86 CALL rel32 with a small displacement
    bytes[i + 4] = i & 64 ? 0xff : 0x00;
    bytes[i + 11] = 0xeb; // ARM BL (little-endian word at i + 8)
    bytes[i + 13] = 0xf0 | (i & 7); // Thumb BL pair at i + 12
    bytes[i + 15] = 0xf8 | (i & 7);
  }
  for (let i = 32; i + 8 <= bytes.length; i += 64) {
    bytes[i] = 0x48 | (i & 3); // PowerPC bl (big-endian)
    bytes[i + 3] = (bytes[i + 3]! & 0xfc) | 1;
    bytes[i + 4] = i & 64 ? 0x40 : 0x7f; // SPARC call
    bytes[i + 5] = i & 64 ? bytes[i + 5]! & 0x3f : bytes[i + 5]! | 0xc0;
  }
  return Buffer.concat([bytes, Buffer.from(CLAM_EXE), prose(100_000)]);
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

  it('runs the filters XzDec runs after LZMA2: delta and every branch converter, alone and chained', withXz, () => {
    const payload = machineCode();
    for (const filters of [
      ['--delta=dist=1'], ['--delta=dist=7'], ['--delta=dist=256'],
      ['--x86'], ['--x86=start=12345'], ['--powerpc'], ['--powerpc=start=4096'], ['--ia64'], ['--ia64=start=64'],
      ['--arm'], ['--arm=start=8'], ['--armthumb'], ['--armthumb=start=2'], ['--sparc'], ['--sparc=start=1024'],
      ['--x86', '--delta=dist=2'], ['--delta=dist=4', '--arm', '--sparc'], ['--x86', '--ia64', '--armthumb'],
    ]) {
      for (const blocks of [[], ['--block-size=150000']]) {
        const options = [...filters, '--lzma2=preset=1', ...blocks];
        const stream = xz(payload, ...options);
        const [object] = extractAll(xzHandler, stream);
        assert.ok(object && Buffer.from(object.data).equals(payload), options.join(' '));
      }
    }
  });

  it('refuses the filter setups XzDec refuses, and decodes the odd ones it accepts, as clamscan does', withXzAndClamscan, () => {
    const text = Buffer.from(`${MARKER_A} ${prose(5000)} ${MARKER_B}`);
    const delta = xz(text, '--delta=dist=1', '--lzma2');
    const x86 = xz(text, '--x86=start=4', '--lzma2');
    // The first block header holds: size, flags, then id, props size, props per filter.
    const cases: Array<[string, Uint8Array]> = [
      ['delta then LZMA2', delta],
      ['unknown filter id', withBlockHeader(delta, (h) => (h[2] = 0x0a))],
      ['LZMA2 before LZMA2', withBlockHeader(delta, (h) => (h[2] = 0x21))],
      ['delta as the last filter', withBlockHeader(delta, (h) => ((h[2] = 0x21), (h[5] = 0x03)))],
      ['x86 with a start offset', x86],
      ['ARM with an aligned start offset', withBlockHeader(x86, (h) => (h[2] = 0x07))],
      ['ARM with an unaligned start offset', withBlockHeader(x86, (h) => ((h[2] = 0x07), (h[4] = 0x02)))],
      ['IA-64 with an offset aligned to 4 only', withBlockHeader(x86, (h) => (h[2] = 0x06))],
      ['Thumb with an odd start offset', withBlockHeader(x86, (h) => ((h[2] = 0x08), (h[4] = 0x03)))],
      // LZMA2's dictionary is allocated before the filters' properties are checked, after their ids.
      ['bad filter offset and a huge dictionary', withDictionaryProp(withBlockHeader(x86, (h) => ((h[2] = 0x07), (h[4] = 0x02))), 37)],
      ['unknown filter and a huge dictionary', withDictionaryProp(withBlockHeader(delta, (h) => (h[2] = 0x0a)), 37)],
    ];
    for (const [label, file] of cases) assert.deepEqual(ourVerdict(file), clamscan(file, { ndb: signatures }), label);
    assert.deepEqual(ourVerdict(delta), ['Marker.A', 'Marker.B'], 'the plain case is decoded');
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
    const code = machineCode().subarray(0, 30_000);
    const filtered = [['--x86'], ['--delta=dist=3', '--arm'], ['--ia64', '--sparc', '--powerpc'], ['--armthumb']];
    fuzz(xzHandler, filtered.map((f) => xz(code, ...f, '--lzma2=preset=0', '--block-size=10000')), { seed: 0xf1 });
  });
});
