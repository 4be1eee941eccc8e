/**
 * InstallShield setups end to end, compared with real clamscan: the files listed in a PE file's
 * overlay and those inside its InstallShield CAB (cli_scanpe's cli_scanishield), the MSI form
 * found by the raw scan (ISHIELD-MSI, PE files only), container metadata signatures on the listed
 * files, and the limits and switches that apply. Extraction itself is compared byte for byte in
 * packages/core/test/formats-installshield.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { installShieldCab, msiPayload, overlayList, peWithOverlay, type ListEntry } from '../../packages/core/test/fixtures/executables/installshield-builder.js';
import { assertSameReports, haveTool, runClamTS } from '../support/run-tool.js';

const CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe';
const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : !existsSync(CLAM_EXE) ? 'clamav-testfiles is not installed' : false;

const text = (words: string, repeat = 40) => Buffer.from(`${words} `.repeat(repeat), 'latin1');
const MARKER = Buffer.from('installshield conformance marker', 'latin1');
/** A member that only the body signature Test.IS.Marker finds (once). */
const MARKED = Buffer.concat([text('lead'), MARKER, text('tail')]);

/** An overlay list of `entries` and, when given, the InstallShield CAB of `cab` after them. */
function setup(entries: ListEntry[], cab?: Parameters<typeof installShieldCab>[0], seed = 5): Buffer {
  const list = [...entries];
  if (cab) {
    const { hdr, cabs } = installShieldCab(cab);
    list.push({ name: 'data1.hdr', bytes: hdr }, ...[...cabs].map(([number, bytes]) => ({ name: `data${number}.cab`, bytes })));
  }
  return peWithOverlay(overlayList(list), seed);
}

describe('InstallShield setups against real clamscan', { skip }, () => {
  let dir = '';
  const names: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-ishield-'));
    const clam = readFileSync(CLAM_EXE);
    const samples: Record<string, Uint8Array> = {
      'listed-clam.exe': setup([
        { name: 'readme.txt', bytes: text('read me') },
        { name: 'clam.exe', bytes: clam },
      ]),
      'listed-secret.exe': setup([{ name: 'secret.dll', bytes: text('nothing to see') }]),
      'listed-many.exe': setup([
        { name: 'a.txt', bytes: text('first') },
        { name: 'b.txt', bytes: text('second') },
        { name: 'c.txt', bytes: MARKED },
        { name: 'd.exe', bytes: clam },
      ]),
      'cab-clam.exe': setup([{ name: 'setup.ini', bytes: text('[Startup]') }], [
        { name: 'notes.txt', content: text('notes') },
        { name: 'clam.exe', dir: 1, content: clam },
      ]),
      'cab-marked.exe': setup([], [{ name: 'marked.txt', content: MARKED }, { name: 'clam.exe', content: clam }]),
      // A file of the header lives in a cabinet the list lacks: data1.hdr and the cabinets are
      // then scanned as they are, which the marker in the plain cabinet shows.
      'cab-missing.exe': setup([{ name: 'plain.txt', bytes: MARKED }], [
        { name: 'here.txt', content: text('here') },
        { name: 'away.txt', cab: 2, content: text('away') },
      ]),
      'msi-clam.exe': peWithOverlay(
        msiPayload([
          { name: 'readme.txt', stream: deflateSync(text('msi readme')) },
          { name: 'clam.exe', stream: deflateSync(clam) },
        ]),
        9,
      ),
      'msi-marked.exe': peWithOverlay(msiPayload([{ name: 'marked.txt', stream: deflateSync(MARKED) }]), 13),
      // ISHIELD-MSI is acted on in PE files only.
      'msi-in-data.bin': Buffer.concat([text('not a program'), msiPayload([{ name: 'clam.exe', stream: deflateSync(clam) }])]),
    };
    for (const [name, data] of Object.entries(samples)) {
      names.push(name);
      writeFileSync(join(dir, name), data);
    }
    const md5 = createHash('md5').update(clam).digest('hex');
    writeFileSync(join(dir, 'test.hdb'), `${md5}:${clam.length}:Test.IS.Clam\n`);
    writeFileSync(join(dir, 'test.ndb'), `Test.IS.Marker:0:*:${MARKER.toString('hex')}\n`);
    writeFileSync(join(dir, 'test.cdb'), 'Test.IS.SecretName:CL_TYPE_MSEXE:*:secret\\.dll:*:*:*:*:*:*\nTest.IS.ThirdFile:CL_TYPE_MSEXE:*:.*:*:*:*:2:*:*\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, string[]]> = [
    ['first name found', []],
    ['every name found', ['--allmatch']],
    ['--max-files ends the extraction', ['--allmatch', '--max-files=3', '--alert-exceeds-max']],
    ['--max-recursion refuses members after their metadata', ['--allmatch', '--max-recursion=1', '--alert-exceeds-max']],
    ['--max-recursion one level deeper', ['--allmatch', '--max-recursion=2', '--alert-exceeds-max']],
    ['--scan-archive=no leaves the MSI form alone, not the overlay', ['--allmatch', '--scan-archive=no']],
    ['--scan-pe=no leaves the overlay alone', ['--allmatch', '--scan-pe=no']],
  ];
  for (const [name, options] of cases) {
    it(name, () => {
      assertSameReports(['--no-summary', ...options, ...['hdb', 'ndb', 'cdb'].flatMap((ext) => ['-d', join(dir, `test.${ext}`)]), ...names.map((file) => join(dir, file))]);
    });
  }

  it('finds what the samples are built to show', () => {
    const ours = runClamTS('clamscan', ['--no-summary', '--allmatch', ...['hdb', 'ndb', 'cdb'].flatMap((ext) => ['-d', join(dir, `test.${ext}`)]), dir]);
    const expected = [
      'listed-clam.exe: Test.IS.Clam',
      'listed-secret.exe: Test.IS.SecretName',
      'listed-many.exe: Test.IS.ThirdFile',
      'cab-clam.exe: Test.IS.Clam',
      'cab-marked.exe: Test.IS.Marker',
      'cab-missing.exe: Test.IS.Marker',
      'msi-clam.exe: Test.IS.Clam',
      'msi-marked.exe: Test.IS.Marker',
    ];
    for (const line of expected) {
      const [file, name] = line.split(': ');
      assert.ok(ours.stdout.includes(`${dir}/${file}: ${name}.UNOFFICIAL FOUND`), `${line}\n${ours.stdout}`);
    }
    assert.ok(ours.stdout.includes(`${dir}/msi-in-data.bin: OK`), ours.stdout);
  });
});
