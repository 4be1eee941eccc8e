/**
 * The type scan of ClamAV's raw scan (embedded SFX archives, executables, disk images…).
 *
 * The expected lists are the `EmbeddedObjects` of `clamscan --gen-json --debug` with dailyDetector().ftm
 * (ClamAV lists the objects found at offsets above 0). The raw scan of plain ASCII text uses
 * CL_TYPE_ANY as the object's type, as ClamAV does. filetypes-oracle.test.ts replays them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FileTypeDetector } from '../src/filetypes/index.js';
import { EMBEDDED_SAMPLES } from './fixtures/filetypes/samples.js';
import { dailyDetector } from './fixtures/filetypes/daily-ftm.js';
import { needsSharedSigs } from '../../../test/support/shared-sigs.js';

type Found = Array<[string, number]>;

/** [sample, RootFileType, EmbeddedObjects as [type, offset]] (CL_TYPE_ left out). */
const EMBEDDED_TYPES: Array<[string, string, Found]> = [
  ['sfx-mix.bin', 'BINARY_DATA', [['ZIPSFX', 10], ['RARSFX', 64], ['ZIPSFX', 127], ['DMG', 731]]],
  ['pe-in-pe.exe', 'MSEXE', [['MSEXE', 202], ['CABSFX', 358]]],
  ['pe-in-binary.bin', 'BINARY_DATA', [['7ZSFX', 176]]],
  [
    'many-rarsfx.bin',
    'BINARY_DATA',
    [...[4, 20, 36, 52, 68, 84, 100, 116, 132, 148].map((offset): [string, number] => ['RARSFX', offset]), ['ZIPSFX', 196], ['ZIPSFX', 206], ['ZIPSFX', 216]],
  ],
  ['mbr-embedded.bin', 'MBR', [['MBR', 510]]],
  ['text-with-sfx.txt', 'TEXT_ASCII', [['ZIPSFX', 2000], ['RARSFX', 2104]]],
];

/** What ClamAV's raw scan of the object would list. */
function embeddedTypes(detector: FileTypeDetector, data: Uint8Array): { root: string; found: Found } {
  const root = detector.detect(data);
  const scan = detector.typeScan(root === 'CL_TYPE_TEXT_ASCII' ? 'CL_TYPE_ANY' : root, { objectSize: data.length });
  scan.feed(data, 0);
  const found = scan.embedded
    .filter(({ offset }) => offset > 0)
    .map(({ type, offset }): [string, number] => [type.slice('CL_TYPE_'.length), offset]);
  return { root: root.slice('CL_TYPE_'.length), found };
}

describe('embedded objects found by the raw scan', needsSharedSigs, () => {
  for (const [name, root, found] of EMBEDDED_TYPES) {
    it(name, () => assert.deepEqual(embeddedTypes(dailyDetector(), EMBEDDED_SAMPLES[name]), { root, found }));
  }
});

describe('scanning in windows', needsSharedSigs, () => {
  const data = EMBEDDED_SAMPLES['sfx-mix.bin'];

  it('reports positions in the whole object and the best type across windows', () => {
    const scan = dailyDetector().typeScan('CL_TYPE_BINARY_DATA', { objectSize: data.length });
    // Windows that overlap by 16 bytes, like ClamAV's, which overlap by the longest pattern.
    assert.equal(scan.feed(data.subarray(0, 100), 0), 'CL_TYPE_RARSFX');
    assert.equal(scan.feed(data.subarray(84, 700), 84), 'CL_TYPE_ZIPSFX');
    assert.equal(scan.feed(data.subarray(684), 684), 'CL_TYPE_DMG');
    assert.equal(scan.type, 'CL_TYPE_DMG');
    assert.deepEqual(
      scan.embedded.map(({ type, offset }) => [type, offset]),
      [['CL_TYPE_ZIPSFX', 10], ['CL_TYPE_RARSFX', 64], ['CL_TYPE_ZIPSFX', 127], ['CL_TYPE_DMG', 731]],
    );
  });

  it('keeps split signatures going from one window to the next', () => {
    const pe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100), Buffer.from('PE\0\0', 'latin1'), Buffer.alloc(20)]);
    const scan = dailyDetector().typeScan('CL_TYPE_MSEXE');
    assert.equal(scan.feed(pe.subarray(0, 50), 0), undefined);
    assert.equal(scan.feed(pe.subarray(50), 50), 'CL_TYPE_MSEXE');
    assert.deepEqual(scan.embedded, [{ type: 'CL_TYPE_MSEXE', offset: 0 }]);
  });

  it('cannot place end-of-object signatures without the object size', () => {
    const scan = dailyDetector().typeScan('CL_TYPE_BINARY_DATA');
    scan.feed(data, 0);
    assert.ok(!scan.embedded.some(({ type }) => type === 'CL_TYPE_DMG'));
  });
});
