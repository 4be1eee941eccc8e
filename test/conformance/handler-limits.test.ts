/**
 * The limits the document handlers apply inside documents come from the command line, as in
 * ClamAV: --max-htmlnormalize and --max-htmlnotags decide which HTML views are scanned, and
 * --max-recursion and --max-files bound how deep and how far a mail is unpacked. Each case runs
 * through real clamscan and ClamTS; the reports must be identical.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { comparable, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const skip = !haveTool('clamscan') && 'real clamscan is not installed';

const hex = (text: string) => Buffer.from(text).toString('hex');

/** A message whose attachment (base64, so the raw text does not show it) is `depth` multiparts deep. */
function nestedMail(depth: number, attachment: string): string {
  let body =
    'Content-Type: application/octet-stream\nContent-Disposition: attachment; filename="m.bin"\n' +
    `Content-Transfer-Encoding: base64\n\n${Buffer.from(attachment).toString('base64')}\n`;
  for (let level = 1; level <= depth; level++) {
    body = `Content-Type: multipart/mixed; boundary="B${level}"\n\n--B${level}\n${body}\n--B${level}--\n`;
  }
  return `From: a@example.com\nTo: b@example.com\nSubject: nested\nMIME-Version: 1.0\n${body}`;
}

let dir = '';

describe('document handlers apply the limits given on the command line', { skip }, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-handler-limits-'));
    writeFileSync(join(dir, 'page.html'), '<html><body><p>clamts<b>notags</b>marker</p></body></html>\n');
    writeFileSync(join(dir, 'nested.eml'), nestedMail(4, 'clamts nested mail marker\n'));
    writeFileSync(
      join(dir, 'test.ndb'),
      // Matches only the tag-stripped view of page.html ("<b>" becomes a space).
      `ClamTS.Test.NoTags:3:*:${hex('clamts notags marker')}\n` + `ClamTS.Test.Nested:0:*:${hex('clamts nested mail marker')}\n`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, string[]]> = [
    ['page.html', []],
    ['page.html', ['--max-htmlnotags=10']],
    ['page.html', ['--max-htmlnormalize=10']],
    ['nested.eml', []],
    ['nested.eml', ['--max-recursion=2']],
    ['nested.eml', ['--max-recursion=3']],
    ['nested.eml', ['--max-files=1']],
    ['nested.eml', ['--max-files=2']],
  ];
  for (const [file, options] of cases) {
    it(`${file} ${options.join(' ') || '(defaults)'}`, () => {
      const args = ['--no-summary', ...options, '-d', join(dir, 'test.ndb'), join(dir, file)];
      const real = runClamAV('clamscan', args);
      const ours = runClamTS('clamscan', args);
      assert.deepEqual(comparable(ours.stdout), comparable(real.stdout));
      assert.equal(ours.status, real.status);
    });
  }
});
