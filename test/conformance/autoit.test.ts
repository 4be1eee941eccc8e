/**
 * Compiled AutoIt scripts end to end, compared with real clamscan: Debian's clam.ea05.exe and
 * clam.ea06.exe, and PE files built here carrying EA05 and EA06 payloads (found by the raw scan,
 * in PE files only), with signatures on the extracted files, the decompiled script and scripts
 * that look like HTML (normalised when the HTML is at their head, where type detection sees it;
 * left alone when only the raw scan finds it, bb#11196), under the switches and limits that
 * apply. Extraction itself is compared byte for byte in packages/core/test/formats-autoit.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FUNCTIONS } from '../../packages/core/src/formats/autoit/tokens.js';
import { autoitExecutable, autoitPayload, type AutoitMember, scriptTokens } from '../../packages/core/test/fixtures/executables/autoit-builder.js';
import { assertSameReports, haveTool, runClamTS } from '../support/run-tool.js';

const TESTFILES = '/usr/share/clamav-testfiles';
const CLAM_EXE = join(TESTFILES, 'clam.exe');
const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : !existsSync(CLAM_EXE) ? 'clamav-testfiles is not installed' : false;

const text = (words: string, repeat = 40) => Buffer.from(`${words} `.repeat(repeat), 'latin1');
const MARKER = 'autoit conformance marker';
const file = (data: Uint8Array, extra: Partial<AutoitMember> = {}): AutoitMember => ({ magic: 'C:\\x.exe', path: 'C:\\x.exe', data, ...extra });
/** A decompiled line that only the body signature Test.AutoIt.Decompiled matches. */
const DECOMPILED = 'MSGBOX 0x00000000 , "autoit conformance marker" ';
const FUNCTION_MSGBOX = FUNCTIONS.indexOf('MSGBOX');
/** A string that makes the decompiled script look like HTML, with an entity HTML normalisation would decode. */
const HTML_LOOKALIKE = '<html><body><script>document.write("&#x41;utoit")</script></body></html>';

describe('AutoIt payloads against real clamscan', { skip }, () => {
  let dir = '';
  const names: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-autoit-'));
    const clam = readFileSync(CLAM_EXE);
    const marked = Buffer.concat([text('lead'), Buffer.from(MARKER, 'latin1'), text('tail')]);
    const msgBox = scriptTokens(1, [{ function: FUNCTION_MSGBOX }, { int32: 0 }, { operator: 0x40 }, { text: 0x36, value: MARKER }, 'eol']);
    const samples: Record<string, Uint8Array> = {
      'clam.ea05.exe': readFileSync(join(TESTFILES, 'clam.ea05.exe')),
      'clam.ea06.exe': readFileSync(join(TESTFILES, 'clam.ea06.exe')),
      'ea05-clam.exe': autoitExecutable(autoitPayload('EA05', [file(text('first')), file(clam)])),
      'ea05-marked.exe': autoitExecutable(autoitPayload('EA05', [file(marked, { compressed: false }), file(clam)]), 3),
      'ea06-script.exe': autoitExecutable(autoitPayload('EA06', [{ data: msgBox }, file(clam)]), 5),
      // HTML at the head of the script makes it HTML from the start: ClamAV normalises it.
      'ea06-html.exe': autoitExecutable(autoitPayload('EA06', [{ data: scriptTokens(1, [{ text: 0x36, value: HTML_LOOKALIKE }, 'eol']) }]), 7),
      // HTML further on is found by the raw scan of a text file: bb#11196 leaves it alone there.
      'ea06-html-later.exe': autoitExecutable(autoitPayload('EA06', [{ data: scriptTokens(2, [{ text: 0x36, value: 'x'.repeat(3000) }, 'eol', { text: 0x36, value: HTML_LOOKALIKE }, 'eol']) }]), 9),
      // AUTOIT is acted on in PE files only.
      'ea05-in-data.bin': Buffer.concat([text('not a program'), autoitPayload('EA05', [file(clam)])]),
    };
    for (const [name, data] of Object.entries(samples)) {
      names.push(name);
      writeFileSync(join(dir, name), data);
    }
    const md5 = createHash('md5').update(clam).digest('hex');
    writeFileSync(join(dir, 'test.hdb'), `${md5}:${clam.length}:Test.AutoIt.Clam\n`);
    const hex = (value: string) => Buffer.from(value, 'latin1').toString('hex');
    writeFileSync(
      join(dir, 'test.ndb'),
      [
        `Test.AutoIt.Marker:0:*:${hex(MARKER)}`,
        `Test.AutoIt.Decompiled:0:*:${hex(DECOMPILED)}`,
        // Matches the script as ClamAV scans it: not HTML-normalised (the entity stays).
        `Test.AutoIt.RawHtml:0:*:${hex('&#x41;utoit')}`,
        `Test.AutoIt.NormalisedHtml:3:*:${hex('document.write("autoit")')}`,
      ].join('\n') + '\n',
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, string[]]> = [
    ['first name found', []],
    ['every name found', ['--allmatch']],
    ['--scan-archive=no leaves the payloads alone', ['--allmatch', '--scan-archive=no']],
    ['--max-filesize skips the members past it', ['--allmatch', '--max-filesize=60000', '--alert-exceeds-max']],
    ['--max-files ends the extraction', ['--allmatch', '--max-files=2', '--alert-exceeds-max']],
    ['--max-recursion refuses the members', ['--allmatch', '--max-recursion=1', '--alert-exceeds-max']],
  ];
  for (const [name, options] of cases) {
    it(name, () => {
      assertSameReports(['--no-summary', ...options, ...['hdb', 'ndb'].flatMap((ext) => ['-d', join(dir, `test.${ext}`)]), ...names.map((sample) => join(dir, sample))]);
    });
  }

  it('finds what the samples are built to show', () => {
    const ours = runClamTS('clamscan', ['--no-summary', '--allmatch', ...['hdb', 'ndb'].flatMap((ext) => ['-d', join(dir, `test.${ext}`)]), dir]);
    const expected = [
      'clam.ea05.exe: Test.AutoIt.Clam',
      'clam.ea06.exe: Test.AutoIt.Clam',
      'ea05-clam.exe: Test.AutoIt.Clam',
      'ea05-marked.exe: Test.AutoIt.Marker',
      'ea06-script.exe: Test.AutoIt.Decompiled',
      'ea06-script.exe: Test.AutoIt.Clam',
      'ea06-html.exe: Test.AutoIt.RawHtml',
      'ea06-html.exe: Test.AutoIt.NormalisedHtml',
      'ea06-html-later.exe: Test.AutoIt.RawHtml',
    ];
    for (const line of expected) {
      const [sample, name] = line.split(': ');
      assert.ok(ours.stdout.includes(`${dir}/${sample}: ${name}.UNOFFICIAL FOUND`), `${line}\n${ours.stdout}`);
    }
    assert.ok(!ours.stdout.includes('ea06-html-later.exe: Test.AutoIt.NormalisedHtml'), `the later HTML is not normalised\n${ours.stdout}`);
    assert.ok(ours.stdout.includes(`${dir}/ea05-in-data.bin: OK`), ours.stdout);
  });
});
