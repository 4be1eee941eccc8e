/**
 * NSIS installers end to end, compared with real clamscan: Debian's clam-nsis.exe and installers
 * built here (PE files with an NSIS block in the overlay, found by the raw scan; a bare NSIS
 * block, which ClamAV types and unpacks as a whole file) — non-solid and solid, with each
 * compressor, damaged — with hash signatures on the extracted files and body signatures on the
 * script entry, under the switches and limits that apply. Extraction itself is compared byte for
 * byte in packages/core/test/formats-nsis.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { entry, nsisArchive, nsisExecutable, solidBody } from '../../packages/core/test/fixtures/executables/nsis-builder.js';
import { assertSameReports, comparable, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';
import { needsSharedSigs, sharedSigs } from '../support/shared-sigs.js';

const TESTFILES = '/usr/share/clamav-testfiles';
const CLAM_EXE = join(TESTFILES, 'clam.exe');
const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : !existsSync(CLAM_EXE) ? 'clamav-testfiles is not installed' : !haveTool('xz') || !haveTool('bzip2') ? 'xz and bzip2 are needed' : false;

const text = (words: string, repeat = 60) => Buffer.from(`${words} `.repeat(repeat), 'latin1');
const SCRIPT_MARKER = 'nsis conformance script marker';
const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex');

describe('NSIS installers against real clamscan', { skip }, () => {
  let dir = '';
  const names: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-nsis-'));
    const clam = readFileSync(CLAM_EXE);
    const script = Buffer.concat([text('Section Install'), Buffer.from(SCRIPT_MARKER, 'latin1'), text('SectionEnd')]);
    const large = Buffer.concat([text('payload', 4000), clam]);
    const solidLzma = nsisExecutable(nsisArchive({ body: solidBody('lzma', [script, text('readme'), clam]) }), 3);
    const samples: Record<string, Uint8Array> = {
      'clam-nsis.exe': readFileSync(join(TESTFILES, 'clam-nsis.exe')),
      'deflate.exe': nsisExecutable(nsisArchive({ body: Buffer.concat([entry(script, 'deflate'), entry(text('license')), entry(clam, 'deflate')]) })),
      'bzip2.exe': nsisExecutable(nsisArchive({ body: Buffer.concat([entry(script, 'bzip2'), entry(clam, 'bzip2')]) }), 4),
      'solid-lzma.exe': solidLzma,
      'solid-deflate.exe': nsisExecutable(nsisArchive({ body: solidBody('deflate', [script, large, clam]) }), 6),
      'solid-bzip2.exe': nsisExecutable(nsisArchive({ body: solidBody('bzip2', [script, clam]) }), 7),
      // Cut inside clam.exe: what was decoded of it is scanned (its hash no longer matches).
      'solid-lzma-cut.exe': solidLzma.subarray(0, solidLzma.length - 2000),
      // A bare NSIS block is typed NSIS as a whole and unpacked from its start.
      'bare.nsis': nsisArchive({ body: Buffer.concat([entry(script, 'lzma'), entry(clam, 'lzma')]) }),
    };
    for (const [name, data] of Object.entries(samples)) {
      names.push(name);
      writeFileSync(join(dir, name), data);
    }
    writeFileSync(join(dir, 'test.hdb'), [`${md5(clam)}:${clam.length}:Test.Nsis.Clam`, `${md5(large)}:${large.length}:Test.Nsis.Large`].join('\n') + '\n');
    writeFileSync(join(dir, 'test.ndb'), `Test.Nsis.Script:0:*:${Buffer.from(SCRIPT_MARKER, 'latin1').toString('hex')}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, string[]]> = [
    ['first name found', []],
    ['every name found', ['--allmatch']],
    ['--scan-archive=no leaves the installers alone', ['--allmatch', '--scan-archive=no']],
    ['--max-filesize skips the files past it (and ends a solid archive)', ['--allmatch', '--max-filesize=100000', '--alert-exceeds-max']],
    ['--max-filesize without the alert', ['--allmatch', '--max-filesize=100000']],
    ['--max-files ends the extraction', ['--allmatch', '--max-files=2', '--alert-exceeds-max']],
    ['--max-files=3', ['--allmatch', '--max-files=3']],
    ['--max-recursion refuses the files', ['--allmatch', '--max-recursion=1', '--alert-exceeds-max']],
  ];
  for (const [name, options] of cases) {
    it(name, () => {
      assertSameReports(['--no-summary', ...options, ...['hdb', 'ndb'].flatMap((ext) => ['-d', join(dir, `test.${ext}`)]), ...names.map((sample) => join(dir, sample))]);
    });
  }

  it('with main.hdb clam-nsis.exe is Clamav.Test.File-6', needsSharedSigs, () => {
    const db = join(dir, 'main.hdb');
    execFileSync('sh', ['-c', `zcat '${sharedSigs('clamav-main/main.hdb.gz')}' > '${db}'`]);
    const args = ['--no-summary', '-d', db, join(dir, 'clam-nsis.exe')];
    const ours = runClamTS('clamscan', args);
    assert.deepEqual(comparable(ours.stdout), comparable(runClamAV('clamscan', args).stdout), 'the same report');
    assert.match(ours.stdout, /clam-nsis\.exe: Clamav\.Test\.File-6\.UNOFFICIAL FOUND/, 'detected');
  });

  it('finds what the samples are built to show', () => {
    const ours = runClamTS('clamscan', ['--no-summary', '--allmatch', ...['hdb', 'ndb'].flatMap((ext) => ['-d', join(dir, `test.${ext}`)]), dir]);
    for (const sample of ['deflate.exe', 'bzip2.exe', 'solid-lzma.exe', 'solid-bzip2.exe', 'bare.nsis']) {
      assert.ok(ours.stdout.includes(`${dir}/${sample}: Test.Nsis.Clam.UNOFFICIAL FOUND`), `${sample} carries clam.exe\n${ours.stdout}`);
      assert.ok(ours.stdout.includes(`${dir}/${sample}: Test.Nsis.Script.UNOFFICIAL FOUND`), `${sample}: the script entry is matched\n${ours.stdout}`);
    }
    assert.ok(ours.stdout.includes(`${dir}/solid-deflate.exe: Test.Nsis.Large.UNOFFICIAL FOUND`), ours.stdout);
    // clam.exe repeats the end of the large file: its deflate data is a few bytes the inflater
    // reads while it fills its window ahead of the reader, which then finds no input left and
    // stops before the last file (ClamAV's reader does the same).
    assert.ok(!ours.stdout.includes(`${dir}/solid-deflate.exe: Test.Nsis.Clam`), `the last file is not reached\n${ours.stdout}`);
    assert.ok(!ours.stdout.includes(`${dir}/solid-lzma-cut.exe: Test.Nsis.Clam`), `the cut file is not whole\n${ours.stdout}`);
  });
});
