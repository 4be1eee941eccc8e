/**
 * Target description blocks ClamAV passes over (another functionality level, an unknown
 * attribute or file type, a target beyond 14), against real clamscan: the same lines are skipped,
 * with the same `init_tdb` / `lsigattribs` debug lines, in `.ldb` and `.pwdb` databases; and the
 * per-target `Matcher[N]` lines that count what was loaded.
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

  it('counts the patterns of split, Boyer-Moore, offset, PCRE and macro subsignatures as ClamAV does', () => {
    const ndb = join(dir, 'counts.ndb');
    writeFileSync(
      ndb,
      [
        'Split.A:1:EP+0:41424344*45464748',
        'Split.B:0:EOF-10:41424344{10-20}45464748',
        'Abs.C:0:100:4142434445',
        'Float.D:0:10,20:4142434445',
        'Any.E:1:*:4142434445',
        'Rel.F:1:SL+10:4142434445',
        'Macro.G:0:$1$:41424344',
      ].join('\n') + '\n',
    );
    const ldb = join(dir, 'counts.ldb');
    writeFileSync(
      ldb,
      [
        'L.A;Engine:51-255,Target:1;0&1;EP+0:41424344*45464748;VI:41004200',
        'L.B;Engine:81-255,Target:0;0&1;41424344;200:0/abc/',
        'L.C;Engine:81-255,Target:0;0&1;41424344;EOF-100:0/abc/',
        'L.D;Engine:81-255,Target:0;0&1;${1-2}1$;41424344',
        'L.E;Engine:81-255,Target:3;0;3c6120687265663d::i',
      ].join('\n') + '\n',
    );
    const args = ['--debug', '-d', ndb, '-d', ldb, sample];
    const matcherLines = (stderr: string) => stderr.split('\n').filter((line) => line.includes(': Matcher['));
    const real = matcherLines(runClamAV('clamscan', args).stderr);
    assert.equal(real.length, 15, 'clamscan printed a line per target type');
    assert.deepEqual(matcherLines(runClamTS('clamscan', args).stderr), real, 'the same Matcher lines');
  });
});
