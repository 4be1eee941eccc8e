/**
 * NSIS installers (ClamAV's nulsft.c): the layout guess, non-solid and solid archives, the three
 * compressors and stored entries, damaged and truncated streams, and the limits. Compared with
 * real clamscan (--debug --leave-temps) on Debian's clam-nsis.exe and on installers built here:
 * the same files extracted and scanned, byte for byte and in the same order, and the same NSIS
 * debug lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { FILE_LIMIT_CHECK } from '../src/formats/autoit.js';
import { nsisHandler } from '../src/formats/nsis.js';
import {
  compress,
  entry,
  nsisArchive,
  type NsisArchiveSpec,
  type NsisCompressor,
  nsisExecutable,
  nsisLzma,
  rawEntry,
  solidBody,
  solidPlain,
  storedDeflate,
} from './fixtures/executables/nsis-builder.js';
import { FixedDeflate } from './fixtures/executables/installshield-builder.js';
import { clamscan, clamtsScan, fuzz, hashSignature, md5, mutate, needsClamscan, needsTestfiles, noise, prng, prose, recordingContext, testfile } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const CLAMTS_CLAMSCAN = fileURLToPath(new URL('../../../bin/clamscan', import.meta.url));
const SIGNATURE = Buffer.from('efbeadde4e756c6c736f6674496e7374', 'hex');

interface Extraction {
  readonly files: string[];
  readonly lines: string[];
}

/** clamscan's default --max-scansize and --max-filesize. */
const MAX_SCAN_SIZE = 400 * 1024 * 1024;
const MAX_FILE_SIZE = 100 * 1024 * 1024;

/** What ClamTS extracts from an installer (the NSIS block found by its signature), and its NSIS debug lines. */
function clamts(file: Uint8Array, maxFileSize = MAX_FILE_SIZE): Extraction & { raw: boolean[] } {
  const at = Buffer.from(file.buffer, file.byteOffset, file.length).indexOf(SIGNATURE);
  assert.ok(at > 4, 'the sample carries the NSIS signature');
  const recording = recordingContext(maxFileSize);
  // The scanner's cli_checklimits, with nothing scanned yet.
  const checkLimits = (who: string, needed: number): boolean => {
    if (needed > MAX_SCAN_SIZE) recording.debugLines.push(`${who}: scansize exceeded`);
    else if (needed > maxFileSize) recording.debugLines.push(`${who}: filesize exceeded (allowed: ${maxFileSize}, needed: ${needed})`);
    return needed <= maxFileSize;
  };
  const objects = [...nsisHandler.extract(file.subarray(at - 4), { ...recording, checkLimits })].filter((object) => object !== FILE_LIMIT_CHECK);
  return {
    files: objects.map((object) => md5(object.data)),
    raw: objects.map((object) => object.scanAs !== undefined),
    lines: recording.debugLines.filter((line) => line.startsWith('NSIS: ')),
  };
}

/** What real clamscan extracts and scans from the installer, and its NSIS debug lines (without source locations). */
function clamav(file: Uint8Array, options: string[] = []): Extraction {
  const dir = tempDir('clamts-nsis-oracle-');
  const target = dir.write('sample.exe', file);
  const db = dir.write('none.hdb', '00000000000000000000000000000000:1:ClamTS.Oracle.Placeholder\n');
  const temps = join(dir.root, 'temps');
  spawnSync('mkdir', [temps]);
  const run = spawnSync('clamscan', ['--debug', '--leave-temps', `--tempdir=${temps}`, '--no-summary', ...options, '-d', db, target], {
    encoding: 'latin1',
    maxBuffer: 64 * 1024 * 1024,
  });
  const files: string[] = [];
  const lines: string[] = [];
  let extractDir = '';
  for (const raw of run.stderr.split('\n')) {
    if (!raw.startsWith('LibClamAV debug: NSIS: ')) continue;
    const line = raw
      .slice('LibClamAV debug: '.length)
      .replace(/ at \S+:\d+$/, '')
      .replace(/^(NSIS: scansize exceeded) .*$/, '$1');
    const extracting = /^NSIS: Extracting files to (\S+)$/.exec(line);
    if (extracting) {
      extractDir = extracting[1]!;
      continue;
    }
    const extracted = /^NSIS: Successfully extracted file #(\d+)$/.exec(line);
    if (extracted) {
      const number = Number(extracted[1]);
      const name = number === 1 ? 'headers' : `content.${String(number - 1).padStart(3, '0')}`;
      files.push(md5(readFileSync(join(extractDir, name))));
    }
    lines.push(line);
  }
  return { files, lines };
}

/** The NSIS debug lines of ClamTS's clamscan (the whole scanner, limits included). */
function clamtsLines(file: Uint8Array, options: string[] = []): string[] {
  const dir = tempDir('clamts-nsis-');
  const target = dir.write('sample.exe', file);
  const db = dir.write('none.hdb', '00000000000000000000000000000000:1:ClamTS.Oracle.Placeholder\n');
  const run = spawnSync(process.execPath, [CLAMTS_CLAMSCAN, '--debug', '--no-summary', ...options, '-d', db, target], { encoding: 'latin1' });
  return run.stderr
    .split('\n')
    .filter((line) => line.startsWith('LibClamAV debug: NSIS: '))
    .map((line) => line.slice('LibClamAV debug: '.length));
}

function assertSameAsClamAV(file: Uint8Array, label: string, options: string[] = [], maxFileSize?: number): Extraction {
  const ours = clamts(file, maxFileSize);
  const theirs = clamav(file, options);
  assert.deepEqual(ours.lines, theirs.lines, `${label}: the same debug lines`);
  assert.deepEqual(ours.files, theirs.files, `${label}: the same files, in order`);
  return ours;
}

const installer = (spec: NsisArchiveSpec): Buffer => nsisExecutable(nsisArchive(spec));
const script = prose(3000);
const fileA = prose(20000);
const fileB = Buffer.concat([noise(5000, 3), prose(70000)]);
const COMPRESSORS: NsisCompressor[] = ['deflate', 'lzma', 'bzip2'];

describe('NSIS: Debian test file', needsTestfiles, () => {
  it('extracts clam-nsis.exe as clamscan does: the script (raw match only), then clam.exe', needsClamscan, () => {
    const file = testfile('clam-nsis.exe');
    const ours = assertSameAsClamAV(file, 'clam-nsis.exe');
    assert.deepEqual(ours.files, ['fbbef13e31677aecd3dfef7da9a3c43a', 'aa15bcf478d165efd2065190eb473bcb'], 'the known md5s');
    assert.deepEqual(ours.raw, [true, false], 'the header entry is only matched');
  });
});

describe('NSIS: non-solid archives', needsClamscan, () => {
  for (const compressor of COMPRESSORS) {
    it(`${compressor}: every entry compressed`, () => {
      const body = Buffer.concat([entry(script, compressor), entry(fileA, compressor), entry(fileB, compressor)]);
      const ours = assertSameAsClamAV(installer({ body }), compressor);
      assert.equal(ours.files.length, 3, 'three entries');
      assert.deepEqual(ours.files, [md5(script), md5(fileA), md5(fileB)], 'the entries unpacked');
    });
  }

  it('stored entries, empty entries and the majority vote on mixed compressors', () => {
    const body = Buffer.concat([entry(script), entry(Buffer.alloc(0)), entry(fileA, 'lzma'), entry(fileB, 'deflate'), entry(fileA, 'deflate')]);
    assertSameAsClamAV(installer({ body }), 'mixed');
  });

  it("NSIS's stored deflate blocks (no length complement)", () => {
    const body = Buffer.concat([entry(script, 'stored-deflate'), entry(fileB, 'stored-deflate')]);
    assertSameAsClamAV(installer({ body }), 'stored deflate');
  });

  it('back references into the window left by the previous file', () => {
    const first = new FixedDeflate().block(true);
    for (const byte of Buffer.from('window contents from the first file')) first.literal(byte);
    const second = new FixedDeflate().block(true).literal(0x41).match(20, 200).match(30, 32768).end();
    const body = Buffer.concat([rawEntry(compressedField(first.end().bytes().length), first.bytes()), rawEntry(compressedField(second.bytes().length), second.bytes())]);
    assertSameAsClamAV(installer({ body }), 'stale window');
  });

  it('overlays, a size field past the archive, the CRC and a truncated file', () => {
    const body = Buffer.concat([entry(script, 'deflate'), entry(fileA, 'deflate')]);
    assertSameAsClamAV(installer({ body, overlay: Buffer.from('overlay data') }), 'overlay');
    assertSameAsClamAV(installer({ body: Buffer.concat([body, rawEntry(0x7fffff00, Buffer.alloc(16))]) }), 'outside');
    const whole = installer({ body: Buffer.concat([body, entry(fileB, 'deflate')]) });
    for (const cut of [40, 200, 3000]) assertSameAsClamAV(whole.subarray(0, whole.length - cut), `cut ${cut}`);
  });
});

describe('NSIS: solid archives', needsClamscan, () => {
  for (const compressor of COMPRESSORS) {
    it(`${compressor}: one stream of size-prefixed files`, () => {
      const ours = assertSameAsClamAV(installer({ body: solidBody(compressor, [script, fileA, Buffer.alloc(0), fileB]) }), compressor);
      assert.deepEqual(ours.files, [md5(script), md5(fileA), md5(fileB)], 'the files unpacked');
    });
  }

  for (const compressor of COMPRESSORS) {
    it(`${compressor}: truncated and damaged streams`, () => {
      const body = solidBody(compressor, [script, fileA, fileB]);
      const whole = installer({ body });
      const pe = whole.length - body.length - 32;
      for (const keep of [10, 100, Math.floor(body.length / 3), body.length - 30, body.length - 3]) {
        assertSameAsClamAV(whole.subarray(0, pe + 28 + keep), `${compressor} cut at ${keep}`);
      }
      for (const at of [7, 60, Math.floor(body.length / 2), body.length - 12]) {
        const damaged = Buffer.from(whole);
        damaged[pe + 28 + at]! ^= 0x55;
        assertSameAsClamAV(damaged, `${compressor} damaged at ${at}`);
      }
    });
  }
});

describe('NSIS: damaged non-solid entries', needsClamscan, () => {
  for (const compressor of COMPRESSORS) {
    it(`${compressor}: truncated and corrupted entries keep what the decoder handed over`, () => {
      const big = Buffer.concat([prose(50000), noise(30000, 9), prose(40000)]);
      const packed = compress(compressor, big);
      for (const keep of [3, 12, 200, Math.floor(packed.length / 2), packed.length - 5]) {
        const body = Buffer.concat([entry(script, compressor), rawEntry(compressedField(keep), packed.subarray(0, keep)), entry(fileA, compressor)]);
        assertSameAsClamAV(installer({ body }), `${compressor} entry cut at ${keep}`);
      }
      for (const at of [9, 300, Math.floor(packed.length / 2), packed.length - 25]) {
        const damaged = Buffer.from(packed);
        damaged[at]! ^= 0x24;
        const body = Buffer.concat([entry(script, compressor), rawEntry(compressedField(damaged.length), damaged)]);
        assertSameAsClamAV(installer({ body }), `${compressor} entry damaged at ${at}`);
      }
    });
  }
});

describe('NSIS: limits', needsClamscan, () => {
  const big = Buffer.concat([prose(20000), Buffer.alloc(80000, 0x61)]);
  const db = { hdb: [script, big, fileA].map((file, i) => hashSignature(`Nsis.File${i}`, file)) };

  it('--max-filesize: a non-solid file past it is extracted but not scanned', () => {
    const file = installer({ body: Buffer.concat([entry(script, 'lzma'), entry(big, 'lzma'), entry(fileA, 'lzma')]) });
    // The scanner refuses the big file, which ends the extraction: ClamTS's clamscan's lines.
    assert.deepEqual(clamtsLines(file, ['--max-filesize=50000']), clamav(file, ['--max-filesize=50000']).lines, 'the same debug lines');
    assert.deepEqual(clamtsScan(file, db, ['--max-filesize=50000']), clamscan(file, db, ['--max-filesize=50000']), 'the same detections');
    assert.deepEqual(clamscan(file, db), ['Nsis.File0', 'Nsis.File1', 'Nsis.File2'], 'without the limit every file is found (the script by hash too)');
    assert.deepEqual(clamtsScan(file, db), clamscan(file, db), 'the same detections without the limit');
  });

  it('--max-filesize: in a solid archive a file past it ends the extraction', () => {
    const file = installer({ body: solidBody('lzma', [script, big, fileA]) });
    assertSameAsClamAV(file, 'solid', ['--max-filesize=50000'], 50000);
    assert.deepEqual(clamtsScan(file, db, ['--max-filesize=50000']), clamscan(file, db, ['--max-filesize=50000']), 'the same detections');
    assert.deepEqual(clamtsScan(file, db, ['--max-filesize=50000', '--alert-exceeds-max']), clamscan(file, db, ['--max-filesize=50000', '--alert-exceeds-max']), 'the same alerts');
  });

  it('--max-files stops the extraction', () => {
    const file = installer({ body: Buffer.concat([entry(script, 'deflate'), entry(fileA, 'deflate'), entry(fileB, 'deflate'), entry(fileA, 'deflate')]) });
    for (const max of ['1', '2', '3']) {
      for (const alert of [[], ['--alert-exceeds-max']]) {
        const options = [`--max-files=${max}`, ...alert];
        assert.deepEqual(clamtsScan(file, db, options), clamscan(file, db, options), `the same detections with ${options.join(' ')}`);
      }
    }
  });
});

describe('NSIS: random damage against clamscan', needsClamscan, () => {
  it('mutated installers of every layout and compressor: the same files and debug lines', () => {
    const mixed = Buffer.concat([prose(40000), noise(9000, 5), prose(30000)]);
    // A 4 KiB dictionary makes the LZMA decoder's buffer wrap often.
    const smallDictionary = (data: Uint8Array) => nsisLzma(data, ['--lzma1=preset=6,dict=4KiB']);
    const packed = smallDictionary(mixed);
    const samples = [
      ...COMPRESSORS.flatMap((compressor) => [
        nsisArchive({ body: solidBody(compressor, [script, fileA, fileB]) }),
        nsisArchive({ body: Buffer.concat([entry(script, compressor), entry(fileB, compressor), entry(fileA, compressor)]) }),
      ]),
      nsisArchive({ body: smallDictionary(solidPlain([script, mixed, fileA])) }),
      nsisArchive({ body: Buffer.concat([entry(script, 'lzma'), rawEntry(compressedField(packed.length), packed)]) }),
    ];
    const random = prng(1234);
    const iterations = Number(process.env.CLAMTS_NSIS_ORACLE_ITERATIONS) || 48;
    for (let i = 0; i < iterations; i++) {
      const sample = samples[i % samples.length]!;
      // The first header stays intact: it only sizes the archive.
      const file = nsisExecutable(Buffer.concat([sample.subarray(0, 28), mutate(sample.subarray(28), random)]));
      assertSameAsClamAV(file, `mutation ${i} of sample ${i % samples.length}`);
    }
  });
});

describe('NSIS: robustness', () => {
  it('survives mutated installers', () => {
    const samples = [
      nsisArchive({ body: Buffer.concat([entry(script, 'deflate'), entry(fileA, 'lzma'), entry(fileA, 'bzip2'), entry(script)]) }),
      nsisArchive({ body: solidBody('lzma', [script, fileA]) }),
      nsisArchive({ body: solidBody('deflate', [script, fileA]) }),
      nsisArchive({ body: solidBody('bzip2', [script]) }),
      nsisArchive({ body: Buffer.concat([entry(script, 'stored-deflate')]) }),
    ];
    fuzz(nsisHandler, samples, { seed: 41, iterations: 300 });
  });

  it('decodes a solid stream up to four object budgets', () => {
    const files = Array.from({ length: 8 }, (_, i) => prose(15000 + i));
    const ctx = recordingContext(20000);
    const objects = [...nsisHandler.extract(nsisArchive({ body: solidBody('deflate', files) }), ctx)].filter((object) => object !== FILE_LIMIT_CHECK);
    assert.deepEqual(
      objects.map((object) => md5(object.data)),
      files.slice(0, 5).map(md5),
      'the files within 80 000 bytes of stream',
    );
    assert.equal(ctx.debugLines.at(-1), 'NSIS: solid stream past the size budget, stopping', 'the reason is logged');
  });

  it('builds the layouts the tests rely on', () => {
    assert.equal(solidPlain([Buffer.from('ab')]).toString('hex'), '020000006162', 'a solid file: its size, then its data');
    assert.equal(storedDeflate(Buffer.from('x')).toString('hex'), '01010078', 'an NSIS stored block: no length complement');
  });
});

/** A size field with the compressed flag. */
function compressedField(size: number): number {
  return (0x80000000 | size) >>> 0;
}
