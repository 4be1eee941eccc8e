/**
 * bzip2: the first stream, decoded like ClamAV's cli_scanbzip (libbzip2 behind 8 KiB writes).
 * Streams come from bzip2(1); damaged ones are compared with real clamscan through body
 * signatures placed in different blocks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bzip2Handler } from '../src/formats/bzip2.js';
import {
  CLAM_EXE, clamscan, extractAll, fuzz, markerSignature, needsClamscan, needsTestfiles, needsTool, noise, prose,
  recordingContext, run, testfile,
} from './support/archive-samples.js';

const MARKERS = ['CLAMTS-BZ-MARKER-ONE', 'CLAMTS-BZ-MARKER-TWO', 'CLAMTS-BZ-MARKER-THREE'];
const signatures = MARKERS.map((marker, i) => markerSignature(`Marker.${i}`, marker));

/** 250 KB of text with a marker in each 100 KB bzip2 block (level 1). */
function threeBlocks(): Buffer {
  const text = prose(250_000);
  MARKERS.forEach((marker, i) => text.write(marker, [1000, 150_000, 240_000][i]!));
  return text;
}

function ourMarkers(file: Uint8Array): string[] {
  const found = new Set<string>();
  for (const object of extractAll(bzip2Handler, file)) {
    const text = Buffer.from(object.data).toString('latin1');
    MARKERS.forEach((marker, i) => text.includes(marker) && found.add(`Marker.${i}`));
  }
  return [...found].sort();
}

describe('bzip2 handler', () => {
  it('decodes clam.exe.bz2 to clam.exe', needsTestfiles, () => {
    const objects = extractAll(bzip2Handler, testfile('clam.exe.bz2'));
    assert.equal(objects.length, 1);
    assert.deepEqual(Buffer.from(objects[0]!.data), Buffer.from(CLAM_EXE));
  });

  it('decodes what bzip2(1) writes, single and multi-block, runs included', needsTool('bzip2'), () => {
    const payload = Buffer.concat([threeBlocks(), Buffer.alloc(300_000, 0x42), Buffer.from(noise(50_000))]);
    for (const level of ['-1', '-9']) {
      const [object] = extractAll(bzip2Handler, run('bzip2', ['-c', level], payload));
      assert.deepEqual(Buffer.from(object!.data), payload);
    }
  });

  it('keeps whole 8 KiB buffers before damage and only the first stream, as clamscan does', { ...needsClamscan, ...needsTool('bzip2') }, () => {
    const stream = run('bzip2', ['-c', '-1'], threeBlocks());
    const second = run('bzip2', ['-c'], Buffer.from(`${MARKERS[2]} in a second stream`));
    const corruptThird = Buffer.from(stream);
    corruptThird[stream.length - 200]! ^= 0x10;
    const cases: Array<[string, Uint8Array]> = [
      ['cut in the third block', stream.subarray(0, stream.length - 500)],
      ['cut in the first block', stream.subarray(0, 2000)],
      ['corrupt third block', corruptThird],
      ['a second stream after the first', Buffer.concat([run('bzip2', ['-c'], Buffer.from(`${MARKERS[0]} ${prose(9000)}`)), second])],
      ['stream CRC wrong', (() => {
        const bad = Buffer.from(stream);
        bad[bad.length - 2]! ^= 0x01;
        return bad;
      })()],
    ];
    for (const [label, file] of cases) assert.deepEqual(ourMarkers(file), clamscan(file, { ndb: signatures }), label);
  });

  it('stops a run-length bomb just past the budget', needsTool('bzip2'), () => {
    const bomb = run('bzip2', ['-c', '-9'], Buffer.alloc(20 * 1024 * 1024));
    const started = performance.now();
    const [object] = extractAll(bzip2Handler, bomb, recordingContext(1024 * 1024));
    assert.equal(object!.data.length, 1024 * 1024 + 1);
    assert.ok(performance.now() - started < 3000);
  });

  it('survives seeded mutations of valid streams', needsTool('bzip2'), () => {
    const samples = [run('bzip2', ['-c'], Buffer.from(CLAM_EXE.length ? CLAM_EXE : noise(600))), run('bzip2', ['-c', '-1'], prose(30_000))];
    fuzz(bzip2Handler, samples, { seed: 0xb22 });
  });
});
