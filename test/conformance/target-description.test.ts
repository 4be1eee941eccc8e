/**
 * Target description blocks ClamAV passes over (another functionality level, an unknown
 * attribute or file type, a target beyond 14), against real clamscan: the same lines are skipped,
 * with the same `init_tdb` / `lsigattribs` debug lines, in `.ldb` and `.pwdb` databases.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : false;

const DESCRIPTIONS = [
  'Engine:300-400,Target:0',
  'Engine:51-100,Target:0',
  'Engine:51-255,Target:0,Foo:1',
  'Engine:51-255,Target:0,Container:CL_TYPE_NOPE',
  'Engine:51-255,Target:15',
  'Engine:51-255,Target:0,Intermediates:CL_TYPE_ZIP>CL_TYPE_NOPE',
  'Engine:51-255,Target:0,HandlerType:CL_TYPE_NOPE',
  'Engine:51-255,Target:0,Intermediates:',
  'Engine:51-255,Target:0',
];

const TDB_LINE = /init_tdb|lsigattribs|Known viruses|FOUND/;

describe('skipped target description blocks, against real clamscan', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'clamts-tdb-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const sample = join(dir, 'sample.txt');
  writeFileSync(sample, 'ABC\n');

  for (const [format, line] of [
    ['ldb', (name: string, tdb: string) => `${name};${tdb};0;414243`],
    ['pwdb', (name: string, tdb: string) => `${name};${tdb};0;secret`],
  ] as const) {
    it(`skips the same .${format} lines with the same debug lines`, () => {
      const database = join(dir, `skips.${format}`);
      writeFileSync(database, DESCRIPTIONS.map((tdb, i) => line(`Sig${i}`, tdb)).join('\n') + '\n');
      const args = ['--debug', '-d', database, sample];
      const pick = (text: string) => text.split('\n').filter((l) => TDB_LINE.test(l));
      const real = runClamAV('clamscan', args);
      const ours = runClamTS('clamscan', args);
      assert.ok(pick(real.stderr).length >= 8, 'clamscan printed its skip lines');
      assert.deepEqual(pick(ours.stderr), pick(real.stderr), 'the same debug lines');
      assert.deepEqual(pick(ours.stdout), pick(real.stdout), 'the same report and count');
      assert.equal(ours.status, real.status, 'the same exit code');
    });
  }
});
