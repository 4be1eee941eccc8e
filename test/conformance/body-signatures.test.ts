/**
 * Real body and logical signatures on generated files: ClamTS's body detector must report, file
 * by file, exactly what real clamscan reports (with --allmatch). Prints the agreement rate and how
 * many generated files really match. Needs real ClamAV, clamav-testfiles and ../shared/sigs.
 *
 * CLAMTS_BODY_CASES sets the number of signatures of each kind (default 150) and
 * CLAMTS_BODY_SEED the seed, to widen or vary a run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileTypeDetector } from '../../packages/core/src/filetypes/detector.js';
import {
  buildDetector,
  hasClamscan,
  runClamscan,
  scanNames,
  type DatabaseFile,
} from '../../packages/core/test/fixtures/body/clamscan-oracle.js';
import { Random } from '../../packages/core/test/fixtures/body/random-signatures.js';
import { needsSharedSigs, sharedSigs } from '../support/shared-sigs.js';
import { generateCases, type GeneratedCase } from './body-generator.js';

const SIGS = sharedSigs();
const CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe';

const skip = !hasClamscan
  ? 'real clamscan is not installed'
  : !existsSync(CLAM_EXE)
    ? 'clamav-testfiles is not installed'
    : (needsSharedSigs.skip ?? false);

const COUNT = Number(process.env.CLAMTS_BODY_CASES ?? 150);
const SEED = Number(process.env.CLAMTS_BODY_SEED ?? 20240611);

const lines = (text: string) => text.split('\n').filter((line) => line.length > 0 && !line.startsWith('#'));
const zcat = (path: string) => execFileSync('zcat', [path], { encoding: 'latin1', maxBuffer: 1 << 28 });

describe('real body and logical signatures on generated files', { skip }, () => {
  it('gives the detections real clamscan gives', (t) => {
    const random = new Random(SEED);
    const executable = readFileSync(CLAM_EXE);
    const ndb = [
      ...lines(zcat(join(SIGS, 'clamav-main', 'daily.ndb.gz'))),
      ...lines(readFileSync(join(SIGS, 'clamav-daily-27371', 'daily.ndb'), 'latin1')),
      ...lines(readFileSync(join(SIGS, 'clamav-daily-27371', 'daily.ndu'), 'latin1')),
    ];
    const ldb = lines(zcat(join(SIGS, 'clamav-main', 'main.ldb.gz')));
    const cases = [
      ...generateCases('ndb', ndb, COUNT, random, executable),
      ...generateCases('ldb', ldb, COUNT, random, executable),
    ];
    const databases: DatabaseFile[] = [
      { name: 'conformance.ndb', lines: cases.filter((c) => c.kind === 'ndb').map((c) => c.line) },
      { name: 'conformance.ldb', lines: cases.filter((c) => c.kind === 'ldb').map((c) => c.line) },
    ];

    // Only files ClamAV types as intended are compared: others would go through container or
    // normalisation passes, which are not the body detector's job.
    const typer = FileTypeDetector.builtin();
    const samples = new Map<string, { data: Uint8Array; generated: GeneratedCase; matching: boolean }>();
    let mistyped = 0;
    cases.forEach((generated, i) => {
      for (const matching of [true, false]) {
        const data = matching ? generated.matching : generated.nonMatching;
        const expected = generated.target === 0 ? 'CL_TYPE_BINARY_DATA' : 'CL_TYPE_MSEXE';
        if (typer.detect(data) !== expected) mistyped++;
        else samples.set(`${generated.kind}-${i}-${matching ? 'match' : 'mutated'}`, { data, generated, matching });
      }
    });

    const oracle = runClamscan(databases, new Map([...samples].map(([name, { data }]) => [name, data])), { allMatch: true });
    assert.deepEqual(oracle.errors, []);
    const { detector } = buildDetector(databases);

    const disagreements: string[] = [];
    let intended = 0;
    let mutatedStillMatching = 0;
    for (const [name, { data, generated, matching }] of samples) {
      const expected = oracle.detections.get(name) ?? [];
      const actual =
        generated.target === 0
          ? scanNames(detector, data, { allMatch: true })
          : scanNames(detector, data, { allMatch: true, fileType: 'CL_TYPE_MSEXE' });
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        disagreements.push(`${name}: clamscan ${JSON.stringify(expected)}, ClamTS ${JSON.stringify(actual)} — ${generated.line.slice(0, 200)}`);
      }
      const own = `${generated.line.split(/[:;]/)[0]}.UNOFFICIAL`;
      if (expected.includes(own)) {
        if (matching) intended++;
        else mutatedStillMatching++;
      }
    }
    const compared = samples.size;
    const agreement = ((100 * (compared - disagreements.length)) / compared).toFixed(2);
    t.diagnostic(
      `${databases[0]!.lines.length} .ndb and ${databases[1]!.lines.length} .ldb signatures, ${compared} files compared (${mistyped} typed otherwise, skipped): ` +
        `agreement ${agreement}%; clamscan found the signature in ${intended} built-to-match files ` +
        `and in ${mutatedStillMatching} mutated ones`,
    );
    for (const line of disagreements.slice(0, 20)) t.diagnostic(line);
    assert.deepEqual(disagreements, []);
    // The generator must produce real matches for the comparison to mean something.
    assert.ok(intended > cases.length / 2, `only ${intended} of ${cases.length} generated files match`);
  });
});
