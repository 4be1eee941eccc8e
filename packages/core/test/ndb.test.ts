import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ClamError } from '../src/errors.js';
import { BodySignatureBuilder, type SignatureContext } from '../src/matching/body-signature-builder.js';
import { SignatureError } from '../src/matching/signature-error.js';
import { parseNdbLine } from '../src/signatures/ndb.js';
import { binarySample, buildDetector, hasClamscan, runClamscan, scanNames, signatureContext } from './fixtures/body/clamscan-oracle.js';
import { CaptureLogger } from './support/capture-logger.js';
import { needsSharedSigs, sharedSigs } from '../../../test/support/shared-sigs.js';

const SIGS = `${sharedSigs()}/`;

function addOne(line: string, overrides: Partial<SignatureContext> = {}, builder = new BodySignatureBuilder()) {
  const logger = new CaptureLogger(true);
  const ctx = { ...signatureContext('t.ndb', 1, logger), ...overrides };
  return { loaded: builder.addNdb(line, ctx), logger, builder };
}

describe('.ndb lines', () => {
  it('skips comments, signatures above or below the functionality level, and unknown targets', () => {
    assert.equal(addOne('# comment').loaded, false);
    assert.equal(addOne('A:0:*:41424344:300').loaded, false);
    assert.equal(addOne('A:0:*:41424344:20:30').loaded, false);
    assert.equal(addOne('A:0:*:41424344:216:216').loaded, true);
    assert.equal(addOne('A:15:*:41424344').loaded, false);
    assert.equal(addOne('A:*:*:41424344').loaded, true);
    // Empty level fields are numbers for ClamAV: 0, so the maximum 0 skips the signature.
    assert.equal(addOne('A:0:*:41424344::').loaded, false);
  });

  it('splits a line into its fields', () => {
    assert.deepEqual(parseNdbLine('Win.Test-1:1:EP+4:4142??44:51:255', 216, () => false), {
      name: 'Win.Test-1',
      target: 1,
      offset: 'EP+4',
      hex: '4142??44',
    });
    assert.deepEqual(parseNdbLine('A:*:*:4142', 216, () => false), { name: 'A', target: 0, offset: '*', hex: '4142' });
    // Checked with clamscan -d x.ign2 -d x.ndb: an ignored name skips a line whose level field is malformed.
    assert.deepEqual(parseNdbLine('A:0:*:41424344:abc', 216, (name) => name === 'A'), { skipped: true });
    assert.throws(() => parseNdbLine('A:0:*:41424344:abc', 216, () => false), SignatureError);
  });

  it('logs why a signature is skipped by level', () => {
    const { logger } = addOne('A:0:*:41424344:300');
    assert.deepEqual(logger.debugs, ['Signature for A not loaded (required f-level: 300)']);
  });

  it('asks the ignore list with the name and the whole line', () => {
    const seen: [string, string][] = [];
    const { loaded } = addOne('Bad.Sig:0:*:zz', { ignored: (name, line) => (seen.push([name, line]), true) });
    // Ignored signatures are dropped before their pattern is even parsed.
    assert.equal(loaded, false);
    assert.deepEqual(seen, [['Bad.Sig', 'Bad.Sig:0:*:zz']]);
  });

  it('drops phishing signatures when phishing signatures are off', () => {
    const builder = new BodySignatureBuilder({ phishingSignatures: false });
    assert.equal(addOne('HTML.Phishing.Bank-1:3:*:41424344', {}, builder).loaded, false);
    assert.equal(addOne('HTML.Phishing.Bank-1:3:*:41424344').loaded, true);
  });

  it('reports the name without " (Clam)", through the context', () => {
    const { detector } = buildDetector([{ name: 't.ndb', lines: ['Eicar-Test (Clam):0:*:41424344'] }]);
    assert.deepEqual(scanNames(detector, binarySample('xxABCDxx'), { allMatch: false }), ['Eicar-Test.UNOFFICIAL']);
  });

  const malformed = ['A:0:*', 'A:0:*:41:1:2:3', 'A:x:*:41424344', 'A:0:*:41424344:x', 'A:0:*:41424344:1:y', 'A:0:10,x:41424344'];
  for (const line of malformed) {
    it(`refuses ${line}`, () => {
      const logger = new CaptureLogger();
      assert.throws(
        () => new BodySignatureBuilder().addNdb(line, signatureContext('t.ndb', 7, logger)),
        (error: ClamError) => error.code === 'EMALFDB' && error.path === 't.ndb' && error.line === 7,
      );
      assert.equal(logger.errors.at(-1), 'Problem parsing database at line 7');
    });
  }

  it('accepts and refuses exactly what clamscan does, with its messages', { skip: !hasClamscan }, () => {
    const lines = [...malformed, 'A:0:*:41424344:300', 'A:15:*:41424344', 'A:0::41424344', 'A:7:*:41424344', 'A:0:*:414243{-1}44'];
    for (const line of lines) {
      const oracle = runClamscan([{ name: 't.ndb', lines: [line] }], new Map());
      const logger = new CaptureLogger();
      let refused = false;
      try {
        new BodySignatureBuilder().addNdb(line, signatureContext('t.ndb', 1, logger));
      } catch {
        refused = true;
      }
      assert.equal(refused, oracle.status === 2, line);
      const clamErrors = oracle.errors.filter((l) => l.startsWith('LibClamAV Error: ') && !l.includes("Can't load")).map((l) => l.slice(17));
      assert.deepEqual(logger.errors, clamErrors, line);
    }
  });
});

function databaseLines(path: string): string[] {
  let data = readFileSync(path);
  if (path.endsWith('.gz')) data = gunzipSync(data);
  const lines = data.toString('latin1').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => line.replace(/[\r\n]+$/, ''));
}

describe('real .ndb databases', needsSharedSigs, () => {
  // Counts from real clamscan 1.4.6 ("Known viruses"); re-checked below when clamscan is installed.
  const databases: [string, string, number][] = [
    ['clamav-main/daily.ndb.gz', 'daily.ndb', 251],
    ['clamav-daily-27371/daily.ndb', 'daily.ndb', 221],
    ['clamav-daily-27371/daily.ndu', 'daily.ndb', 4160],
  ];
  for (const [file, name, expected] of databases) {
    it(`loads every line of ${file} (${expected} signatures)`, () => {
      const lines = databaseLines(SIGS + file);
      const { detector, signatureCount } = buildDetector([{ name, lines }]);
      assert.equal(signatureCount, expected);
      assert.ok(detector.patternCount >= expected);
    });

    it(`counts ${file} like clamscan`, { skip: !hasClamscan }, () => {
      const lines = databaseLines(SIGS + file);
      const oracle = runClamscan([{ name, lines }], new Map([['empty', new Uint8Array(0)]]));
      assert.equal(oracle.knownViruses, expected);
    });
  }
});

describe('executable offsets', () => {
  // clam.exe from clamav-testfiles: entry point at file offset 0x40, one section with raw data
  // from 0 to 0x200 (as `clamscan --debug` shows).
  const CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe';
  const lines = [
    'EP0:1:EP+0:bb711040',
    'EPF:1:EP+0,4:0033c050',
    'S0:1:S0+64:bb711040',
    'SL:1:SL+64:bb711040',
    'SE:1:SE0:c050508b',
    'EPM:1:EP-64:4d5a5000',
    'EOF:1:EOF-16:00000000',
    'S1:1:S1+0:4d5a5000',
    'BAD:1:EP+1:bb711040',
    'G:0:EOF-544:4d5a5000',
  ];

  it('resolves EP, section and EOF offsets like clamscan', { skip: !hasClamscan }, () => {
    const data = readFileSync(CLAM_EXE);
    const db = [{ name: 'pe.ndb', lines }];
    const { detector } = buildDetector(db);
    for (const allMatch of [true, false]) {
      const oracle = runClamscan(db, new Map([['clam.exe', data]]), { allMatch });
      const mine = scanNames(detector, data, { allMatch, fileType: 'CL_TYPE_MSEXE' });
      assert.deepEqual(mine, oracle.detections.get('clam.exe'));
    }
  });

  it('disables relative offsets when the executable headers did not parse', { skip: !hasClamscan }, () => {
    // clam.exe with its PE signature broken: still typed MS-EXE, but its headers do not parse.
    const data = new Uint8Array(readFileSync(CLAM_EXE));
    const peOffset = new DataView(data.buffer).getUint32(0x3c, true);
    data[peOffset] = 0x58;
    const db = [{ name: 'pe.ndb', lines }];
    const { detector } = buildDetector(db);
    // Every pattern here has a relative offset: none can match, not even the generic EOF-n one.
    assert.deepEqual(scanNames(detector, data, { allMatch: true, fileType: 'CL_TYPE_MSEXE' }), []);
    assert.deepEqual(runClamscan(db, new Map([['broken.exe', data]]), { allMatch: true }).detections.get('broken.exe') ?? [], []);
  });
});
