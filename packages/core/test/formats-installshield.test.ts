/**
 * InstallShield (ClamAV's ishield.c): the overlay file list and InstallShield CAB of
 * cli_scanishield, and the MSI variant of cli_scanishield_msi. Compared with real clamscan
 * (--debug --leave-temps) on Debian's test files and on files built here: the same files
 * extracted, byte for byte and in the same order, and the same debug lines.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { parsePeFile } from '../src/executables/pe-file.js';
import type { ExtractedObject, FormatHandler } from '../src/formats/handler.js';
import { failedCallStart } from '../src/formats/installshield-cab.js';
import { installShieldMsiFiles, installShieldOverlayFiles, type InstallShieldLimits } from '../src/formats/installshield.js';
import {
  type CabFile,
  chunk,
  chunked,
  FixedDeflate,
  installShieldCab,
  le,
  type ListEntry,
  type MsiFile,
  MSI_MARK,
  msiPayload,
  overlayList,
  peWithOverlay,
  zlibOf,
} from './fixtures/executables/installshield-builder.js';
import { fuzz, md5, noise, prose, recordingContext, type RecordingContext } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const TESTFILES = '/usr/share/clamav-testfiles';
const REAL = ['clam_IScab_ext.exe', 'clam_IScab_int.exe', 'clam_ISmsi_ext.exe', 'clam_ISmsi_int.exe'];
const HAVE_CLAMSCAN = spawnSync('sh', ['-c', 'command -v clamscan']).status === 0;
const HAVE_REAL = REAL.every((name) => existsSync(join(TESTFILES, name)));
const needsClamscan = HAVE_CLAMSCAN ? {} : { skip: 'clamscan (the oracle) is not installed' };
const needsReal = !HAVE_REAL
  ? { skip: 'the clam_IS*.exe files of clamav-testfiles are not installed' }
  : needsClamscan;
/** md5 of Debian's clam.exe, the body of Clamav.Test.File-6 in main.hdb. */
const CLAM_EXE_MD5 = 'aa15bcf478d165efd2065190eb473bcb';

// ---------------------------------------------------------------------------------------------
// The oracle: clamscan --debug --leave-temps on a set of files.

interface ClamAVRun {
  /** Files written by ishield.c's extractors for the file itself (not for files inside it), in order. */
  readonly extracted: Buffer[];
  /** ishield.c's debug lines and warnings, except those naming a temporary file. */
  readonly lines: string[];
  /** Container metadata matched for the file's own members (CDBNAME lines of its type). */
  readonly metadata: string[];
  /** Offsets at which scanraw found ISHIELD-MSI, in the order it handled them. */
  readonly msiMatches: number[];
}

const EXTRACTED = /^LibClamAV debug: (?:ishield|ishield-msi|is_extract_cab): extracted (?:\d+ bytes )?to (\/\S+?),?(?: |$)/;
const OWN_LINE = /^LibClamAV (?:debug|Warning): (?:ishield[:-]|is_parse_hdr:|is_extract_cab:|ishield_extract_cab:|in ishield-msi)/;

/** Runs clamscan once on all `files` (name → bytes) and splits its log by file. */
function clamavRuns(files: Map<string, Uint8Array>, options: string[] = []): Map<string, ClamAVRun> {
  const dir = tempDir('clamts-ishield-');
  const temps = join(dir.root, 'temps');
  spawnSync('mkdir', [temps]);
  const paths = [...files].map(([name, bytes]) => dir.write(name, bytes));
  const db = dir.write('none.hdb', '00000000000000000000000000000000:1:ClamTS.Oracle.Placeholder\n');
  const run = spawnSync('clamscan', ['--debug', '--leave-temps', `--tempdir=${temps}`, '--no-summary', ...options, '-d', db, ...paths], {
    encoding: 'latin1',
    maxBuffer: 1 << 30,
  });
  const runs = new Map<string, ClamAVRun>();
  let current: ClamAVRun | undefined;
  for (const line of run.stderr.split('\n')) {
    const start = /^LibClamAV debug: Checking realpath of (.*)$/.exec(line);
    if (start) {
      current = { extracted: [], lines: [], metadata: [], msiMatches: [] };
      runs.set(basename(start[1]!), current);
      continue;
    }
    if (!current) continue;
    const name = [...runs].find(([, value]) => value === current)![0];
    const extracted = EXTRACTED.exec(line);
    // The file's own temporary directory is <tempdir>/<date>-<name>.<id>/<name>.<id>/.
    if (extracted && new RegExp(`^${temps}/[^/]+-${name}\\.[0-9a-f]+/${name}\\.[0-9a-f]+/[^/]+$`).test(extracted[1]!)) {
      current.extracted.push(readFileSync(extracted[1]!));
    }
    if (OWN_LINE.test(line) && !line.includes(' extracted ')) current.lines.push(line.replace(/^LibClamAV \w+: /, ''));
    if (line.startsWith('LibClamAV debug: CDBNAME:CL_TYPE_MSEXE:')) current.metadata.push(line.slice('LibClamAV debug: '.length));
    const msi = /^LibClamAV debug: CL_TYPE_ISHIELD_MSI signature found at (\d+)$/.exec(line);
    if (msi) current.msiMatches.push(Number(msi[1]));
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------
// ClamTS's side, run the way cli_scanpe and scanraw call ishield.c.

interface OurRun {
  readonly objects: ExtractedObject[];
  readonly ctx: RecordingContext;
}

function ourOverlay(file: Uint8Array, ctx = recordingContext(), limits?: InstallShieldLimits): OurRun {
  const pe = parsePeFile(file);
  assert.ok(pe && pe.overlayStart && pe.overlaySize > 0, 'a PE file with an overlay');
  return { objects: [...installShieldOverlayFiles(file, pe.overlayStart, pe.overlaySize, ctx, limits)], ctx };
}

function ourMsi(file: Uint8Array, offsets: readonly number[], ctx = recordingContext(), limits?: InstallShieldLimits): OurRun {
  return { objects: offsets.flatMap((offset) => [...installShieldMsiFiles(file, offset, ctx, limits)]), ctx };
}

/** Our debug lines and warnings that ClamAV prints in the same words (not those naming temp files). */
function ourLines(ctx: RecordingContext): string[] {
  return ctx.debugLines.filter((line) => !line.includes(' extracted ') && !line.includes('(the line above repeated'));
}

/**
 * The objects ClamAV writes to a file and scans: not the metadata-only ones (listed files it
 * matches but does not write there), but empty extracted files, which it writes and scans.
 */
const scanned = (run: OurRun): Buffer[] =>
  run.objects.filter((object) => object.noMetadata || object.data.length).map((object) => Buffer.from(object.data));

/** CDBNAME lines for our members that carry metadata, as cli_matchmeta prints them for a PE container. */
function ourMetadata(run: OurRun): string[] {
  return run.objects
    .filter((object) => !object.noMetadata)
    .map((object) => `CDBNAME:CL_TYPE_MSEXE:${object.compressedSize}:${object.name}:${object.compressedSize}:${object.declaredSize}:0:${object.position}:0`);
}

function assertSameFiles(ours: Buffer[], theirs: Buffer[], what: string): void {
  assert.deepEqual(
    ours.map((data) => `${data.length}:${md5(data)}`),
    theirs.map((data) => `${data.length}:${md5(data)}`),
    `${what}: the files extracted, in order`,
  );
}

// ---------------------------------------------------------------------------------------------

describe('InstallShield on the test files of clamav-testfiles', () => {
  const files = new Map(REAL.map((name) => [name, HAVE_REAL ? readFileSync(join(TESTFILES, name)) : Buffer.alloc(0)]));
  let runs: Map<string, ClamAVRun> | undefined;
  const clamav = (name: string): ClamAVRun => {
    runs ??= clamavRuns(files, ['--allmatch']);
    return runs.get(name)!;
  };

  for (const name of ['clam_IScab_ext.exe', 'clam_IScab_int.exe']) {
    it(`extracts the overlay files and the InstallShield CAB of ${name} as clamscan does`, needsReal, () => {
      const file = files.get(name)!;
      const theirs = clamav(name);
      const ours = ourOverlay(file);
      assert.ok(theirs.extracted.length >= 10, 'clamscan extracted the files');
      assertSameFiles(scanned(ours), theirs.extracted, name);
      assert.ok(scanned(ours).some((data) => md5(data) === CLAM_EXE_MD5), 'clam.exe (Clamav.Test.File-6) is among them');
      assert.deepEqual(ourLines(ours.ctx), theirs.lines);
      assert.deepEqual(ourMetadata(ours), theirs.metadata);
    });
  }

  for (const name of ['clam_ISmsi_ext.exe', 'clam_ISmsi_int.exe']) {
    it(`extracts the MSI-based files of ${name} as clamscan does`, needsReal, () => {
      const file = files.get(name)!;
      const theirs = clamav(name);
      assert.ok(theirs.msiMatches.length >= 1, 'scanraw found ISHIELD-MSI');
      const ours = ourMsi(file, theirs.msiMatches);
      assertSameFiles(scanned(ours), theirs.extracted, name);
      assert.ok(scanned(ours).some((data) => md5(data) === CLAM_EXE_MD5) === name.includes('_ext'), 'clam.exe is the first file of the _ext one');
      assert.deepEqual(ourLines(ours.ctx), theirs.lines);
      // The overlay holds no file list: cli_scanishield finds nothing there.
      assert.deepEqual(ourOverlay(file).objects, []);
    });
  }

  it('survives truncated and corrupted copies: no exception, no hang, output within the budget', needsReal, () => {
    const handler = (kind: 'overlay' | 'msi'): FormatHandler => ({
      name: `installshield-${kind}`,
      fileTypes: [],
      scanSwitch: 'pe',
      extract: (data, ctx) =>
        kind === 'msi'
          ? [915561, 572044].flatMap((offset) => [...installShieldMsiFiles(data, offset, ctx)])
          : installShieldOverlayFiles(data, 115200, Math.max(0, data.length - 115200), ctx),
    });
    fuzz(handler('overlay'), [files.get('clam_IScab_int.exe')!.subarray(0, 600_000)], { seed: 11, iterations: 40, maxMs: 5000 });
    fuzz(handler('msi'), [files.get('clam_ISmsi_ext.exe')!], { seed: 12, iterations: 40, maxMs: 5000 });
    // Cut in the list, in data1.cab, in data1.hdr, before data2.cab, in engine32.cab.
    const limit = 300_000;
    for (const cut of [115200, 115300, 0x1c46d + 100, 0x6ff92 + 20, 0x72893, 1_000_000]) {
      const copy = files.get('clam_IScab_ext.exe')!.subarray(0, cut);
      const objects = [...installShieldOverlayFiles(copy, 115200, cut - 115200, recordingContext(limit))];
      // Listed files are views of the copy; inflated ones stop at the budget.
      const sizes = objects.map((object) => object.data.length);
      assert.ok(sizes.every((size) => size <= Math.max(cut - 115200, limit)), `cut at ${cut}: ${sizes.join(' ')}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** The synthetic cases compared with clamscan, by file name. */
function syntheticCases(): Map<string, Buffer> {
  const text = prose(70_000);
  const other = prose(5_000);
  const zeros = (n: number) => new Uint8Array(n);
  const cases = new Map<string, Buffer>();
  const withCab = (name: string, files: CabFile[], extra: ListEntry[] = [], options?: Parameters<typeof installShieldCab>[1]) => {
    const { hdr, cabs } = installShieldCab(files, options);
    const list: ListEntry[] = [
      { name: 'readme.txt', bytes: other },
      // Cabinet 9 stands for one the list does not have.
      ...[...cabs].filter(([number]) => number !== 9).map(([number, bytes]) => ({ name: `data${number}.cab`, bytes })),
      { name: 'data1.hdr', bytes: hdr },
      ...extra,
    ];
    cases.set(name, peWithOverlay(overlayList(list)));
  };

  // Every file extracted: data1.hdr and the cabinets are not scanned themselves.
  withCab('cab-plain.exe', [
    { name: 'text.txt', content: text },
    { name: 'empty.txt', content: zeros(0) },
    { name: 'copy.txt', content: other, dup: 1 },
    { name: 'outside.txt', content: other, flags: 0 },
    { name: 'odd.txt', content: other, flags: 8 },
    { name: 'second.txt', content: other, cab: 2, dir: 1 },
  ]);
  // A chunk that does not inflate: that file is lost, and the header and cabinets get scanned.
  withCab('cab-corrupt.exe', [
    { name: 'good.txt', content: other },
    { name: 'bad.txt', content: other, stream: Buffer.concat([chunked(text.subarray(0, 40_000)), chunk(Buffer.from([0xff, 0xff, 0xff, 0xff]))]) },
  ]);
  // A last chunk of length 0 fails the file; a zero-length chunk before others does not.
  withCab('cab-zero-chunk.exe', [
    { name: 'ends-with-zero.txt', content: other, stream: Buffer.concat([chunked(other), le(2, 0)]) },
    { name: 'zero-first.txt', content: other, stream: Buffer.concat([le(2, 0), chunked(other)]) },
  ]);
  // A stream outside its cabinet, a cabinet that is missing, a declared size that is wrong.
  withCab('cab-missing.exe', [
    { name: 'far.txt', content: other, streamOff: 1n << 40n },
    { name: 'wrapped.txt', content: other, streamOff: (1n << 64n) - 0x1000n + 0x200n },
    { name: 'nocab.txt', content: other, cab: 9, stream: Buffer.alloc(0) },
    { name: 'wrong-size.txt', content: other, size: 12345n },
    { name: 'truncated.txt', content: text, stream: chunked(text).subarray(0, 20_000), csize: 20_000n },
  ]);
  // Names running past data1.hdr: found only within it, except one that starts after it.
  withCab(
    'cab-names.exe',
    [
      { name: 'after-header.txt', content: other, nameOff: 'past-end' },
      { name: 'cut.txt', content: other.subarray(0, 99) },
    ],
    [{ name: 'after.txt', bytes: other.subarray(0, 10) }],
    { dropLastNul: true },
  );
  withCab('cab-bad-magic.exe', [{ name: 'text.txt', content: other }], [], { magic: 0x12345678 });
  // Chunks that inflate to exactly 64 KiB and more, then break (with no size limit: lost).
  const exact = new FixedDeflate().block(false).run(0x41, 0x10000).end().block(true, 3).bytes();
  withCab('cab-exact-call.exe', [{ name: 'exact.bin', content: zeros(0x10000), stream: chunk(exact) }]);

  // The list itself: size strings strtol accepts, a second data1.hdr, ClamAV's cabinet index slip.
  cases.set(
    'list-strings.exe',
    peWithOverlay(
      overlayList([
        { name: 'plus.txt', bytes: other.subarray(0, 100), size: '+100' },
        { name: 'blank.txt', bytes: other.subarray(0, 50), size: ' \t050' },
        { name: 'zero.txt', bytes: new Uint8Array(0), size: '-0' },
        { name: 'DATA1.HDR', bytes: other.subarray(0, 10) },
        { name: 'data1.hdr', bytes: other.subarray(10, 30) },
        { name: 'data5.cab', bytes: other.subarray(0, 40) },
        { name: 'Data1.CAB', bytes: other.subarray(40, 80) },
        { name: 'data 3.cab', bytes: other.subarray(80, 120) },
        { name: 'data0.cab', bytes: other.subarray(120, 160) },
        { name: 'data+7.cab', bytes: other.subarray(160, 200) },
        { name: 'data65536.cab', bytes: other.subarray(200, 240) },
        { name: 'tail.txt', bytes: other.subarray(0, 10), size: '10 ' },
      ]),
    ),
  );
  // The last file must leave a byte of the overlay after it.
  cases.set('list-no-tail.exe', peWithOverlay(overlayList([{ name: 'a.txt', bytes: other.subarray(0, 100) }, { name: 'b.txt', bytes: other.subarray(0, 200) }], new Uint8Array(0))));

  // MSI: streams that break at chosen places; ClamAV reads the next block inside the broken one.
  const stored = (lengths: number[], badAt: number): Buffer => {
    // Stored blocks of the given lengths; block `badAt` has a wrong NLEN.
    const parts = lengths.map((length, i) => {
      const head = Buffer.alloc(5);
      head[0] = i === lengths.length - 1 ? 1 : 0;
      head.writeUInt16LE(length, 1);
      head.writeUInt16LE(i === badAt ? length : ~length & 0xffff, 3);
      return Buffer.concat([head, Buffer.from(text.subarray(i * 1000, i * 1000 + length))]);
    });
    return zlibOf(Buffer.concat(parts));
  };
  const good = (name: string, content: Uint8Array): MsiFile => ({ name, stream: deflateSync(content) });
  const msiCases: Record<string, MsiFile[]> = {
    'msi-plain.exe': [good('one.txt', text), good('two.bin', zeros(30_000)), good('three.txt', other)],
    // The break is found in the second 8 KiB block: 8185 bytes came before it.
    'msi-stored-break.exe': [{ name: 'broken.txt', stream: stored([10_000, 5_000, 100], 1), padTo: 16_384, csize: 'rest' }, good('after.txt', other)],
    // A break right after 16 KiB of output from one input block: the call that filled it is lost.
    'msi-exact-call.exe': [
      { name: 'exact.bin', stream: zlibOf(new FixedDeflate().block(false).run(0x42, 0x4000).end().block(true, 3).bytes()), padTo: 8192, csize: 'rest' },
      good('after.txt', other),
    ],
    // A reference too far back right after 16 KiB: zlib returns the full call first.
    'msi-too-far.exe': [
      { name: 'far.bin', stream: zlibOf(new FixedDeflate().block(true).run(0x43, 0x4000).match(10, 20_000).end().bytes()), padTo: 8192, csize: 'rest' },
      good('after.txt', other),
    ],
    // Bad check value: the last call's output is dropped.
    'msi-bad-check.exe': [{ name: 'check.txt', stream: Buffer.concat([deflateSync(other).subarray(0, -4), Buffer.from([1, 2, 3, 4])]) }, good('after.txt', other)],
    // A stream whose declared size is past the end of the file ends the list.
    'msi-out-of-file.exe': [good('first.txt', other), { name: 'huge.txt', stream: deflateSync(other), csize: 1 << 30 }],
  };
  for (const [name, msiFiles] of Object.entries(msiCases)) cases.set(name, peWithOverlay(msiPayload(msiFiles)));
  return cases;
}

describe('InstallShield on built files, compared with clamscan', () => {
  const cases = syntheticCases();
  let runs: Map<string, ClamAVRun> | undefined;
  const clamav = (name: string): ClamAVRun => {
    runs ??= clamavRuns(cases);
    const run = runs.get(name);
    assert.ok(run, `clamscan scanned ${name}`);
    return run;
  };

  for (const name of cases.keys()) {
    it(`${name}: the same files and debug lines`, needsClamscan, () => {
      const file = cases.get(name)!;
      const theirs = clamav(name);
      const ours = name.startsWith('msi-') ? ourMsi(file, theirs.msiMatches) : ourOverlay(file);
      if (name.startsWith('msi-')) assert.equal(theirs.msiMatches.length, 1, 'scanraw found ISHIELD-MSI once');
      assertSameFiles(scanned(ours), theirs.extracted, name);
      assert.deepEqual(ourLines(ours.ctx), theirs.lines);
      if (!name.startsWith('msi-')) assert.deepEqual(ourMetadata(ours), theirs.metadata);
    });
  }

  it('trims CAB output at the size limit as clamscan --max-filesize does', needsClamscan, () => {
    const limit = 30_000;
    const afterCall = new FixedDeflate().block(false).run(0x41, 0x10000).run(0x42, 100).end().block(true, 3).bytes();
    const atCall = new FixedDeflate().block(false).run(0x41, 0x10000).end().block(true, 3).bytes();
    const { hdr, cabs } = installShieldCab([
      { name: 'big.txt', content: prose(200_000) },
      { name: 'break-after-call.bin', content: new Uint8Array(0x10064), stream: chunk(afterCall) },
      { name: 'break-in-call.bin', content: new Uint8Array(0x10000), stream: chunk(atCall) },
    ]);
    const file = peWithOverlay(overlayList([...[...cabs].map(([n, bytes]) => ({ name: `data${n}.cab`, bytes })), { name: 'data1.hdr', bytes: hdr }]));
    assert.ok(file.length < limit, 'the setup itself is within the limit');
    const theirs = clamavRuns(new Map([['trim.exe', file]]), [`--max-filesize=${limit}`, '--alert-exceeds-max']).get('trim.exe')!;
    const ours = ourOverlay(file, recordingContext(limit));
    assertSameFiles(scanned(ours), theirs.extracted, 'trim.exe');
    assert.deepEqual(ourLines(ours.ctx), theirs.lines);
    assert.deepEqual(ours.ctx.heuristics, [
      { kind: 'exceeds-max', name: 'Heuristics.Limits.Exceeded.MaxFileSize' },
      { kind: 'exceeds-max', name: 'Heuristics.Limits.Exceeded.MaxFileSize' },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('InstallShield without the oracle', () => {
  it('drops the output of the inflate() call that failed', () => {
    // In the middle of a call: that call started at the last multiple of the call size.
    assert.equal(failedCallStart(10_000, 8185, 8192, false), 8185);
    assert.equal(failedCallStart(20_000, 0, 8192, false), 16_384);
    // Right at a boundary: the full call before it found the error, unless it was a far reference.
    assert.equal(failedCallStart(16_384, 0, 8192, false), 8192);
    assert.equal(failedCallStart(16_384, 0, 8192, true), 16_384);
    assert.equal(failedCallStart(0, 0, 65536, false), 0);
    assert.equal(failedCallStart(8185, 8185, 8192, false), 8185);
  });

  it('passes a huge run of items outside the file at once', () => {
    const { hdr, cabs } = installShieldCab([{ name: 'text.txt', content: prose(3000) }], { fileCount: 0xffffffff });
    const file = peWithOverlay(overlayList([{ name: 'data1.cab', bytes: cabs.get(1)! }, { name: 'data1.hdr', bytes: hdr }]));
    const started = performance.now();
    const run = ourOverlay(file);
    assert.ok(performance.now() - started < 2000, 'done in time');
    assert.ok(run.ctx.debugLines.length < 20_000, `${run.ctx.debugLines.length} debug lines`);
    assert.ok(run.ctx.debugLines.includes('is_parse_hdr: FILEITEM out of bounds'), 'says the items are out of bounds');
    assert.equal(md5(scanned(run)[0]!), md5(prose(3000)));
  });

  it('gives up on the CAB after --max-files attempts, failed ones included', () => {
    const files: CabFile[] = Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.txt`, content: prose(100 + i) }));
    files[1] = { ...files[1]!, stream: chunk(Buffer.from([0xff])) };
    const { hdr, cabs } = installShieldCab(files);
    const file = peWithOverlay(overlayList([{ name: 'data1.cab', bytes: cabs.get(1)! }, { name: 'data1.hdr', bytes: hdr }]));
    const run = ourOverlay(file, recordingContext(), { maxFiles: 4 });
    // Attempts 1-3 (the second fails), then the limit: no raw scan of the header and cabinet.
    assert.deepEqual(scanned(run).map((data) => data.length), [100, 102]);
    assert.ok(run.ctx.debugLines.includes('is_parse_hdr: File limit reached (max: 4)'), 'says the limit was reached');
  });

  it('cuts MSI output past the budget and skips streams past the file size limit', () => {
    const noisy = deflateSync(noise(40_000));
    const payload = msiPayload([
      { name: 'big.bin', stream: deflateSync(new Uint8Array(500_000)) },
      { name: 'noise.bin', stream: noisy },
      { name: 'small.txt', stream: deflateSync(prose(300)) },
    ]);
    const file = peWithOverlay(payload);
    const offset = file.indexOf(MSI_MARK);
    const run = ourMsi(file, [offset], recordingContext(100_000), { maxFileSize: 30_000 });
    assert.deepEqual(run.objects.map((object) => [object.name, object.data.length]), [['big.bin', 100_001], ['small.txt', 300]]);
    assert.ok(run.ctx.debugLines.includes(`ishield-msi: skipping stream due to size limits (${noisy.length} vs 30000)`), 'says the stream was skipped');
    const limited = ourMsi(file, [offset], recordingContext(), { maxFiles: 1 });
    assert.deepEqual(limited.objects.map((object) => object.name), ['big.bin']);
  });

  it('reads nothing from a short or foreign match', () => {
    for (const bytes of [MSI_MARK, Buffer.concat([MSI_MARK, Buffer.alloc(0x20)]), Buffer.concat([MSI_MARK, le(4, 1), Buffer.alloc(0x20)])]) {
      const run = ourMsi(bytes, [0]);
      assert.deepEqual(run.objects, []);
    }
    const nonZero = Buffer.concat([MSI_MARK, le(4, 1), Buffer.alloc(4), le(4, 1), Buffer.alloc(20 + 400)]);
    assert.deepEqual(ourMsi(nonZero, [0]).ctx.debugLines, ['in ishield-msi']);
  });

  it('survives mutations of built setups', () => {
    const cases = syntheticCases();
    const overlay: FormatHandler = {
      name: 'installshield-overlay',
      fileTypes: [],
      scanSwitch: 'pe',
      extract: (data, ctx) => installShieldOverlayFiles(data, 0x1000, Math.max(0, data.length - 0x1000), ctx),
    };
    const msi: FormatHandler = {
      name: 'installshield-msi',
      fileTypes: [],
      scanSwitch: 'pe',
      extract: (data, ctx) => installShieldMsiFiles(data, 0x1000, ctx),
    };
    fuzz(overlay, [...cases].filter(([name]) => !name.startsWith('msi-')).map(([, bytes]) => bytes), { seed: 21, iterations: 300 });
    fuzz(msi, [...cases].filter(([name]) => name.startsWith('msi-')).map(([, bytes]) => bytes), { seed: 22, iterations: 300 });
  });
});
