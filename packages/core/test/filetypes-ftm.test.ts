/**
 * `.ftm` loading compared with ClamAV 1.4.6: the cases of fixtures/filetypes/ftm-cases.ts (recorded
 * from clamscan, replayed against it by filetypes-oracle.test.ts) and whole databases, whose
 * counts and results were recorded from `clamscan --debug` runs named in each test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ClamError } from '../src/errors.js';
import { EngineBuilder } from '../src/engine/engine-builder.js';
import { FileTypeDatabaseBuilder, FileTypeDetector, ftmMagicType, parseFtmLine } from '../src/filetypes/index.js';
import { CaptureLogger } from './support/capture-logger.js';
import type { Logger } from '../src/util/logger.js';
import { caseFile, FTM_CASES } from './fixtures/filetypes/ftm-cases.js';
import { DAILY_FTM } from './fixtures/filetypes/daily-ftm.js';
import { needsSharedSigs } from '../../../test/support/shared-sigs.js';


/** Errors and warnings in the order they were reported, in the "E:"/"W:" notation of the cases. */
class OrderedLogger implements Logger {
  readonly lines: string[] = [];
  readonly debugEnabled = false;
  error(message: string): void {
    this.lines.push(`E: ${message}`);
  }
  warning(message: string): void {
    this.lines.push(`W: ${message}`);
  }
  debug(): void {}
}

describe('.ftm lines as ClamAV loads or refuses them', () => {
  for (const { name, line, output } of FTM_CASES) {
    it(`${name}: ${output.length ? 'refused' : 'loads'}`, () => {
      const logger = new OrderedLogger();
      const builder = new FileTypeDatabaseBuilder({ logger });
      if (output.length === 0) {
        assert.ok(builder.addFtm(caseFile(line), { path: `${name}.ftm` }) >= 1);
        assert.deepEqual(logger.lines, []);
        return;
      }
      assert.throws(
        () => builder.addFtm(caseFile(line), { path: `${name}.ftm` }),
        (error: unknown) => error instanceof ClamError && error.code === 'EMALFDB' && error.line === 2 && error.path === `${name}.ftm`,
      );
      assert.deepEqual(logger.lines, output);
    });
  }
});

describe('whole databases', () => {
  it('daily.ftm loads 159 of its 171 lines (the others are for older engines)', needsSharedSigs, () => {
    const logger = new CaptureLogger(true);
    const builder = new FileTypeDatabaseBuilder({ logger });
    assert.equal(builder.addFtm(readFileSync(DAILY_FTM), { path: DAILY_FTM }), 159);
    assert.deepEqual(logger.debugs, ['Loaded 159 filetype definitions']);
    assert.deepEqual(logger.errors, []);
  });

  it('the built-in magic loads 255 definitions, only when no database brought fixed-offset magic', () => {
    const logger = new CaptureLogger(true);
    FileTypeDetector.builtin({ logger });
    assert.deepEqual(logger.debugs, ['Loaded 255 filetype definitions']);

    const withPatternsOnly = new CaptureLogger(true);
    const builder = new FileTypeDatabaseBuilder({ logger: withPatternsOnly });
    builder.addFtm('1:*:58595a:XYZ:CL_TYPE_ANY:CL_TYPE_HTML\n');
    const detector = builder.build();
    assert.deepEqual(withPatternsOnly.debugs, ['Loaded 1 filetype definitions', 'Loaded 255 filetype definitions']);
    // Recorded with clamscan -d only1.ftm: the built-in gzip magic and the loaded pattern both apply.
    assert.equal(detector.detect(Buffer.from('hello XYZ there\n')), 'CL_TYPE_HTML');
    assert.equal(detector.detect(Buffer.from('\x1f\x8b\x08\x00rest of gzip', 'latin1')), 'CL_TYPE_GZ');
  });

  it('tries the fixed-offset magic of the last loaded file first', () => {
    // Recorded with clamscan -d a.ftm -d b.ftm, then -d b.ftm -d a.ftm, on "ABCDEF text here".
    const load = (...files: string[]) => {
      const builder = new FileTypeDatabaseBuilder();
      for (const file of files) builder.addFtm(file);
      return builder.build().detect(Buffer.from('ABCDEF text here\n'));
    };
    const a = '0:0:4142:AB:CL_TYPE_ANY:CL_TYPE_GZ\n';
    const b = '0:0:41:A:CL_TYPE_ANY:CL_TYPE_BZ\n';
    assert.equal(load(a, b), 'CL_TYPE_BZ');
    assert.equal(load(b, a), 'CL_TYPE_GZ');
  });

  it('reads CRLF lines', () => {
    const detector = FileTypeDetector.fromFtm('0:0:4142:AB:CL_TYPE_ANY:CL_TYPE_GZ\r\n1:*:58595a:XYZ:CL_TYPE_ANY:CL_TYPE_HTML\r\n');
    assert.equal(detector.detect(Buffer.from('ABCDEF text here\n')), 'CL_TYPE_GZ');
    assert.equal(detector.detect(Buffer.from('hello XYZ there\n')), 'CL_TYPE_HTML');
  });

  for (const [what, text] of [
    ['only comments', '# only a comment\n'],
    ['only skipped lines', '7:0:1f8b:GZip:CL_TYPE_ANY:CL_TYPE_GZ\n0:0:1f8b:GZip:CL_TYPE_ANY:CL_TYPE_GZ:300\n'],
  ]) {
    it(`refuses a file with ${what} as empty`, () => {
      const logger = new CaptureLogger();
      assert.throws(
        () => new FileTypeDatabaseBuilder({ logger }).addFtm(text, { path: 'x.ftm' }),
        (error: unknown) => error instanceof ClamError && error.code === 'EMALFDB' && error.line === undefined,
      );
      assert.deepEqual(logger.errors, ['Empty external filetype database']);
    });
  }
});

describe('parseFtmLine', () => {
  const options = { functionalityLevel: 216, official: false };

  it('decodes fixed-offset magic', () => {
    const entry = parseFtmLine('0:257:7573746172:TAR-POSIX:CL_TYPE_ANY:CL_TYPE_POSIX_TAR', options);
    assert.equal(entry.kind, 'magic');
    assert.ok(entry.kind === 'magic');
    assert.equal(entry.offset, 257);
    assert.deepEqual([...entry.magic], [...Buffer.from('ustar')]);
    assert.equal(entry.name, 'TAR-POSIX');
    assert.equal(entry.partition, false);
  });

  it('marks magic type 4 as partition magic', () => {
    const entry = parseFtmLine('4:1024:482B0004:HFS+ partition:CL_TYPE_PART_ANY:CL_TYPE_PART_HFSPLUS:75', options);
    assert.ok(entry.kind === 'magic' && entry.partition);
  });

  it('names patterns like ClamAV does in debug output', () => {
    const line = '1:*:504b0304:ZIP-SFX:CL_TYPE_ANY:CL_TYPE_ZIPSFX';
    const unofficial = parseFtmLine(line, options);
    const official = parseFtmLine(line, { ...options, official: true });
    assert.ok(unofficial.kind === 'pattern' && official.kind === 'pattern');
    assert.equal(unofficial.signature.name, 'ZIP-SFX.UNOFFICIAL');
    assert.equal(official.signature.name, 'ZIP-SFX');
  });

  it('skips lines outside the functionality level, reporting the minimum only', () => {
    const tooNew = parseFtmLine('0:0:4142:New:CL_TYPE_ANY:CL_TYPE_GZ:300', options);
    assert.deepEqual(tooNew, { kind: 'skipped', reason: 'cli_loadftm: File type signature for New not loaded (required f-level: 300)' });
    assert.deepEqual(parseFtmLine('0:0:4142:Old:CL_TYPE_ANY:CL_TYPE_GZ:1:100', options), { kind: 'skipped' });
    assert.equal(parseFtmLine('0:0:4142:Old:CL_TYPE_ANY:CL_TYPE_GZ:1:100', { ...options, functionalityLevel: 100 }).kind, 'magic');
  });

  it('refuses constructs ClamAV accepts but no type signature uses (documented limitation)', () => {
    for (const pattern of ['4142(4344|45)46', '414243(B)', '4142[1-2]43', '4142((43|44)|45)46']) {
      assert.throws(() => parseFtmLine(`1:*:${pattern}:X:CL_TYPE_ANY:CL_TYPE_HTML`, options), ClamError);
    }
  });
});

describe('the body patterns of .ftm lines', () => {
  const lines = [
    '0:0:4d5a:EXE:CL_TYPE_ANY:CL_TYPE_MSEXE',
    '1:*:504b0304:ZIP-SFX:CL_TYPE_ANY:CL_TYPE_ZIPSFX',
    '1:*:526172211a0700:RAR-SFX:CL_TYPE_ANY:CL_TYPE_RARSFX:300',
    '1:*:377abcaf271c:7Z-SFX:CL_TYPE_ANY:CL_TYPE_7ZSFX:1:100',
    '1:*:4d534346:CAB-SFX:CL_TYPE_MSEXE:CL_TYPE_CABSFX:1:300',
    '4:1024:482B0004:HFS+ partition:CL_TYPE_PART_ANY:CL_TYPE_PART_HFSPLUS',
  ];

  it('gives the magic type of the lines the functionality level loads', () => {
    assert.deepEqual(
      lines.map((line) => ftmMagicType(line, 216)),
      [0, 1, undefined, undefined, 1, 4],
    );
    assert.throws(() => ftmMagicType('1:*:4142:X:CL_TYPE_ANY', 216), ClamError);
    assert.throws(() => ftmMagicType('1:*:4142:X:CL_TYPE_ANY:CL_TYPE_HTML:x', 216), ClamError);
  });

  it('join the generic target when their magic type is 1 and their level loads them', () => {
    const builder = new EngineBuilder();
    builder.addFileTypes({ data: Buffer.from(`${lines.join('\n')}\n`, 'latin1'), path: 'test.ftm', official: false }, new CaptureLogger());
    assert.deepEqual(builder.build().body.programs[0]?.fileTypes, [
      { type: 'CL_TYPE_ZIPSFX', requiredType: 'CL_TYPE_ANY' },
      { type: 'CL_TYPE_CABSFX', requiredType: 'CL_TYPE_MSEXE' },
    ]);
  });
});
