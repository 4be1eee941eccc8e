/**
 * gzip: members decoded like ClamAV's cli_scangzip. Real samples and streams written by gzip(1)
 * give the expected bytes; damaged streams are checked against real clamscan, which is the
 * oracle for what survives an error.
 */
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { gunzip, gzipHandler } from '../src/formats/gzip.js';
import {
  CLAM_EXE, clamscan, extractAll, fuzz, markerSignature, needsClamscan, needsTestfiles, needsTool, noise,
  prose, recordingContext, run, testfile,
} from './support/archive-samples.js';

const MARKER_A = 'CLAMTS-GZIP-MARKER-AAAA';
const MARKER_B = 'CLAMTS-GZIP-MARKER-BBBB';
const markers = [markerSignature('Marker.A', MARKER_A), markerSignature('Marker.B', MARKER_B)];

/** Which markers appear in what our handler yields. */
function ourMarkers(data: Uint8Array): string[] {
  const found = new Set<string>();
  for (const object of extractAll(gzipHandler, data)) {
    const text = Buffer.from(object.data).toString('latin1');
    if (text.includes(MARKER_A)) found.add('Marker.A');
    if (text.includes(MARKER_B)) found.add('Marker.B');
  }
  return [...found].sort();
}

describe('gzip handler', () => {
  it('inflates clam.tar.gz to the tar archive holding clam.exe', needsTestfiles, () => {
    const [object, ...rest] = extractAll(gzipHandler, testfile('clam.tar.gz'));
    assert.equal(rest.length, 0);
    const tar = Buffer.from(object!.data);
    assert.equal(tar.length % 512, 0);
    assert.ok(tar.includes(Buffer.from(CLAM_EXE)), 'clam.exe is inside the tar stream');
  });

  it('decodes what gzip(1) writes at every level, and all members of a concatenation', needsTool('gzip'), () => {
    const payload = Buffer.concat([noise(70_000, 3), Buffer.alloc(50_000, 0x41)]);
    for (const level of ['-1', '-6', '-9']) {
      const [object] = extractAll(gzipHandler, run('gzip', ['-c', '-n', level], payload));
      assert.deepEqual(Buffer.from(object!.data), payload);
    }
    const two = Buffer.concat([run('gzip', ['-c'], payload.subarray(0, 1000)), run('gzip', ['-c'], payload.subarray(1000))]);
    assert.deepEqual(Buffer.from(extractAll(gzipHandler, two)[0]!.data), payload);
  });

  it('keeps what precedes corruption, as clamscan does', needsClamscan, () => {
    const first = zlib.gzipSync(Buffer.from(`${MARKER_A} first member`));
    const second = Buffer.from(zlib.gzipSync(Buffer.concat([prose(5000), Buffer.from(MARKER_B), prose(3000)])));
    const cases: Array<[string, Uint8Array]> = [
      ['second member corrupt', Buffer.concat([first, second.subarray(0, 40), Buffer.alloc(64, 0xff), second.subarray(104)])],
      ['trailing garbage', Buffer.concat([first, Buffer.from('not a gzip member at all')])],
      ['second member truncated', Buffer.concat([first, second.subarray(0, second.length - 20)])],
      ['wrong CRC in the first trailer', (() => {
        const bad = Buffer.from(first);
        bad[bad.length - 8]! ^= 0xff;
        return Buffer.concat([bad, second]);
      })()],
      ['header CRC flag with a wrong header CRC', (() => {
        const bad = Buffer.from(first);
        bad[3] = 0x02;
        return Buffer.concat([bad.subarray(0, 10), Buffer.from([0x12, 0x34]), bad.subarray(10)]);
      })()],
    ];
    for (const [label, file] of cases) {
      assert.deepEqual(ourMarkers(file), clamscan(file, { ndb: markers }), label);
    }
  });

  it('stops a decompression bomb just past the budget', () => {
    const bomb = zlib.gzipSync(Buffer.alloc(10 * 1024 * 1024), { level: 9 });
    const started = performance.now();
    const [object] = extractAll(gzipHandler, bomb, recordingContext(1024 * 1024));
    assert.equal(object!.data.length, 1024 * 1024 + 1, 'one byte over budget: the scanner skips it like ClamAV');
    assert.ok(performance.now() - started < 2000);
  });

  it('returns the same bytes through the fast and the recovery paths', () => {
    const payload = Buffer.from(noise(100_000, 5));
    const stream = zlib.gzipSync(payload);
    assert.deepEqual(Buffer.from(gunzip(stream, 1e9)), payload);
    // A one-byte budget forces the recovery decoder, which must stop at exactly the limit.
    assert.deepEqual(Buffer.from(gunzip(stream, 1000)), payload.subarray(0, 1000));
  });

  it('is not misled by the size in the last trailer', () => {
    // The output buffer is sized from the last member's trailer: the whole output must come out
    // when that member is small, and a lying trailer must not change the bytes.
    const big = Buffer.from(noise(300_000, 9));
    const small = Buffer.from('tail');
    const stream = Buffer.concat([zlib.gzipSync(big), zlib.gzipSync(small)]);
    assert.deepEqual(Buffer.from(gunzip(stream, 1e9)), Buffer.concat([big, small]));
    const lying = Buffer.from(zlib.gzipSync(big));
    lying.writeUInt32LE(0xfffffff0, lying.length - 4);
    assert.deepEqual(Buffer.from(gunzip(lying, 1e9)), big, 'a wrong length check keeps the output, as ClamAV does');
    lying.writeUInt32LE(10, lying.length - 4);
    assert.deepEqual(Buffer.from(gunzip(lying, 1e9)), big);
  });

  it('survives seeded mutations of valid streams', () => {
    const samples = [zlib.gzipSync(CLAM_EXE.length ? CLAM_EXE : noise(600)), zlib.gzipSync(Buffer.alloc(20_000, 7)), Buffer.concat([zlib.gzipSync(Buffer.from('a')), zlib.gzipSync(noise(3000))])];
    fuzz(gzipHandler, samples, { seed: 0x6a1 });
  });
});
