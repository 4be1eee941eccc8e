import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ClamError } from '../src/errors.js';
import { ObjectHashes, type ScanObject } from '../src/engine/scan-object.js';
import { BodySignatureBuilder } from '../src/matching/body-signature-builder.js';
import { tokenizeOutsideRegex } from '../src/matching/regex-subsig.js';
import { SignatureError } from '../src/matching/signature-error.js';
import { classifySubsignature, parseTargetDescription, splitLogicalLine, targetDescriptionSkipMessages } from '../src/signatures/ldb.js';
import { binarySample, buildDetector, hasClamscan, runClamscan, scanNames, signatureContext } from './fixtures/body/clamscan-oracle.js';
import { CaptureLogger } from './support/capture-logger.js';
import { Random } from './fixtures/body/random-signatures.js';
import { basePeSpec, buildPe } from './fixtures/executables/pe-builder.js';
import { needsSharedSigs, sharedSigs } from '../../../test/support/shared-sigs.js';

const SIGS = `${sharedSigs()}/`;
const CASES = new URL('./fixtures/body/ldb-lines.txt', import.meta.url).pathname;

describe('target description block', () => {
  it('reads every attribute ClamAV knows', () => {
    const tdb = parseTargetDescription(
      'Engine:51-255,Target:1,FileSize:10-20,EntryPoint:0-4096,NumberOfSections:1-8,Container:CL_TYPE_ZIP,IconGroup1:A,IconGroup2:B,HandlerType:CL_TYPE_PDF',
      216,
    );
    assert.deepEqual(tdb, {
      engine: { min: 51, max: 255 },
      target: 1,
      fileSize: { min: 10, max: 20 },
      entryPoint: { min: 0, max: 4096 },
      numberOfSections: { min: 1, max: 8 },
      container: 'CL_TYPE_ZIP',
      iconGroup1: 'A',
      iconGroup2: 'B',
      handlerType: 'CL_TYPE_PDF',
    });
    assert.deepEqual(parseTargetDescription('Engine:81-255,Target:0,Intermediates:CL_TYPE_ZIP>CL_TYPE_ANY', 216), {
      engine: { min: 81, max: 255 },
      target: 0,
      intermediates: ['CL_TYPE_ZIP', 'CL_TYPE_ANY'],
    });
  });

  it('skips unknown attributes, unknown types, other levels and targets beyond 14, with ClamAV’s debug lines', () => {
    const skipped = (text: string) => {
      const result = parseTargetDescription(text, 216);
      assert.ok('skipped' in result, `${text} is skipped`);
      return { reason: result.skipped, messages: targetDescriptionSkipMessages(result, 'Sig') };
    };
    const unsupported = (detail: string) => ({
      reason: 'unsupported',
      messages: [detail, 'init_tdb: Not supported attribute(s) in signature for Sig, skipping'],
    });
    assert.deepEqual(skipped('Engine:51-255,Target:0,Foo:1'), unsupported("lsigattribs: Unknown attribute name 'Foo'"));
    assert.deepEqual(skipped('Engine:51-255,Target:0,Container:CL_TYPE_NOPE'), unsupported("lsigattribs: Unknown file type 'CL_TYPE_NOPE' in Container"));
    assert.deepEqual(skipped('Engine:51-255,Target:0,Intermediates:CL_TYPE_ZIP>CL_TYPE_NO'), unsupported("lsigattribs: Unknown file type 'CL_TYPE_NO' in Intermediates"));
    assert.deepEqual(skipped('Engine:217-255,Target:0'), { reason: 'functionality-level', messages: ['init_tdb: Signature for Sig not loaded (required f-level: 217)'] });
    assert.deepEqual(skipped('Engine:51-200,Target:0'), { reason: 'functionality-level', messages: [] });
    assert.deepEqual(skipped('Engine:51-255,Target:15'), { reason: 'unsupported', messages: ['init_tdb: Not supported target type in signature for Sig, skipping'] });
  });

  it('refuses malformed blocks with ClamAV messages', () => {
    const message = (text: string) => {
      try {
        parseTargetDescription(text, 216);
      } catch (error) {
        return (error as SignatureError).messages.map((m) => m.text);
      }
      return [];
    };
    assert.deepEqual(message('Target:0,Engine:51-255'), [
      'lsigattribs: For backward compatibility the Engine attribute must be on the first position',
    ]);
    assert.deepEqual(message('Target:0,FileSize:10-20'), [
      'lsigattribs: For backward compatibility all signatures using new attributes must have the Engine attribute present and set to min_level of at least 51 (0.96)',
    ]);
    assert.deepEqual(message('Engine:51-255'), ['init_tdb: No target specified in TDB']);
    assert.deepEqual(message('Engine:51-255,Target:0,EntryPoint:1-2'), [
      'init_tdb: EntryPoint/NumberOfSections is only supported in PE/ELF/Mach-O signatures',
    ]);
    assert.deepEqual(message('Target'), ["lsigattribs: Incorrect format of attribute 'Target'"]);
    assert.deepEqual(message('Engine:51,Target:0'), ["lsigattribs: Incorrect parameters in 'Engine'"]);
  });
});

describe('logical signature lines', () => {
  it('splits fields, keeping ; inside regexes', () => {
    assert.deepEqual(splitLogicalLine('A;Target:0;0&1;41424344;0/a;b/i'), ['A', 'Target:0', '0&1', '41424344', '0/a;b/i']);
  });

  it('tokenizes as cli_ldbtokenize does, on any mix of delimiters, slashes and backslashes', () => {
    // cli_ldbtokenize, character by character: the definition the indexOf-based tokenizer keeps.
    const reference = (text: string, delimiter: string, max: number, regexFrom: number): string[] => {
      const fields: string[] = [];
      let inRegex = false;
      let i = 0;
      while (fields.length < max) {
        const start = i;
        const field = fields.length + 1;
        for (; i < text.length; i++) {
          if (!inRegex && text[i] === delimiter) break;
          if (text[i] === '/' && field > regexFrom && i > 0 && text[i - 1] !== '\\') inRegex = !inRegex;
        }
        fields.push(text.slice(start, i));
        if (i >= text.length) break;
        i++;
      }
      return fields;
    };
    let seed = 7;
    const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const alphabet = ['a', 'b', ';', ':', '/', '\\', '/'];
    for (let round = 0; round < 20_000; round++) {
      const text = Array.from({ length: random(24) }, () => alphabet[random(alphabet.length)]).join('');
      const [delimiter, max, regexFrom] = [random(2) ? ';' : ':', 1 + random(8), random(4)];
      assert.deepEqual(tokenizeOutsideRegex(text, delimiter, max, regexFrom), reference(text, delimiter, max, regexFrom), JSON.stringify([text, delimiter, max, regexFrom]));
    }
  });

  it('tells subsignature forms apart', () => {
    assert.equal(classifySubsignature('${6-7}12$', 'A').kind, 'macro');
    assert.equal(classifySubsignature('0&1/abc/i', 'A').kind, 'regex');
    assert.equal(classifySubsignature('0(>>4#ib1#=69)', 'A').kind, 'byte-compare');
    assert.equal(classifySubsignature('fuzzy_img#af2ad01ed42993c7', 'A').kind, 'image-fuzzy-hash');
    assert.deepEqual(classifySubsignature('EP+10:4142::iw', 'A'), {
      kind: 'content',
      offset: 'EP+10',
      hex: '4142',
      modifiers: { nocase: true, fullword: false, wide: true, ascii: false },
    });
    assert.deepEqual(classifySubsignature('4142', 'A'), { kind: 'content', offset: '*', hex: '4142', modifiers: null });
  });

  it('logs the subsignature that failed', () => {
    const logger = new CaptureLogger();
    assert.throws(
      () => new BodySignatureBuilder().addLdb('A;Target:0;0&1;41424344;4142zz', signatureContext('t.ldb', 3, logger)),
      (error: ClamError) => error.code === 'EMALFDB' && error.line === 3,
    );
    assert.deepEqual(logger.errors, [
      'cli_add_content_match_pattern: Problem adding signature (3).',
      'cli_loadldb: failed to parse subsignature 1 in A',
      'Problem parsing database at line 3',
    ]);
  });

  it('reports an empty name as ClamAV does (out of memory)', () => {
    assert.throws(
      () => new BodySignatureBuilder().addLdb(';Target:0;0;41424344', signatureContext('t.ldb', 1, new CaptureLogger())),
      (error: ClamError) => error.code === 'EMEM',
    );
  });

  it('accepts, skips and refuses the sample lines exactly as clamscan does', { skip: !hasClamscan }, () => {
    const lines = readFileSync(CASES, 'utf8').split('\n').filter((line) => line.length > 0);
    for (const line of lines) {
      const oracle = runClamscan([{ name: 't.ldb', lines: [line] }], new Map([['empty', new Uint8Array(0)]]));
      const logger = new CaptureLogger();
      const builder = new BodySignatureBuilder();
      let refused = false;
      try {
        builder.addLdb(line, signatureContext('t.ldb', 1, logger));
        builder.build(logger);
      } catch (error) {
        assert.ok(error instanceof ClamError, String(error));
        refused = true;
      }
      assert.equal(refused, oracle.status === 2, line);
      if (!refused) assert.equal(builder.signatureCount, oracle.knownViruses, line);
      const normalise = (text: string) => text.replaceAll('\n', '\\n');
      const clam = oracle.errors
        .join('\n')
        .replace(/\n(?!LibClamAV)/g, '\\n')
        .split('\n')
        .filter((l) => /^LibClamAV (Error|Warning): /.test(l) && !l.includes("Can't load"))
        .map((l) => (l.startsWith('LibClamAV Warning: ') ? `W:${l.slice(19)}` : l.slice(17)));
      const mine = [...logger.warnings.map((w) => `W:${w}`), ...logger.errors].map(normalise);
      assert.deepEqual(mine, clam, line);
    }
  });
});

describe('the real main.ldb', needsSharedSigs, () => {
  const path = SIGS + 'clamav-main/main.ldb.gz';
  let cached: string[] | undefined;
  const lines = () => {
    if (cached) return cached;
    const text = gunzipSync(readFileSync(path)).toString('latin1').split('\n');
    if (text.at(-1) === '') text.pop();
    return (cached = text);
  };
  let built: ReturnType<typeof buildDetector> | undefined;
  const loaded = () => (built ??= buildDetector([{ name: 'main.ldb', lines: lines() }]));

  it('loads every line (38889 signatures, as clamscan counts)', () => {
    const { signatureCount, detector } = loaded();
    assert.equal(signatureCount, 38889);
    assert.ok(detector.patternCount > 150_000);
  });

  it('counts like clamscan', { skip: !hasClamscan }, () => {
    const oracle = runClamscan([{ name: 'main.ldb', lines: lines() }], new Map([['empty', new Uint8Array(0)]]));
    assert.equal(oracle.knownViruses, 38889);
  });

  it('detects the same as clamscan on files built from its subsignatures', { skip: !hasClamscan }, () => {
    // Each sample concatenates the bytes of all subsignatures of one generic logical signature
    // whose subsignatures are plain hex.
    const all = lines().filter((line) => !line.startsWith('#'));
    const plain = all.filter((line) => {
      const fields = splitLogicalLine(line);
      return /(^|,)Target:0(,|$)/.test(fields[1]!) && fields.slice(3).every((sub) => /^[0-9a-fA-F]+$/.test(sub));
    });
    const samples = new Map<string, Uint8Array>();
    plain.filter((_, i) => i % 5 === 0).forEach((line, i) => {
      const parts = splitLogicalLine(line)
        .slice(3)
        .map((hex) => Buffer.from(hex, 'hex'));
      samples.set(`s${i}`, binarySample(Buffer.concat(parts.flatMap((p) => [p, Buffer.from(' \n')]))));
    });
    const oracle = runClamscan([{ name: 'main.ldb', lines: lines() }], samples, { allMatch: true });
    const { detector } = loaded();
    let detected = 0;
    for (const [name, data] of samples) {
      const expected = oracle.detections.get(name)!;
      if (expected.length > 0) detected++;
      assert.deepEqual(scanNames(detector, data, { allMatch: true }), expected, name);
    }
    assert.ok(detected > 0);
  });
});

describe('target description conditions at scan time', () => {
  const lines = [
    'InZip;Engine:51-255,Target:0,Container:CL_TYPE_ZIP;0;41424344',
    'TopLevel;Engine:51-255,Target:0,Container:CL_TYPE_ANY;0;41424344',
    'ZipInMail;Engine:81-255,Target:0,Intermediates:CL_TYPE_MAIL>CL_TYPE_ZIP;0;41424344',
    'AnyThenZip;Engine:81-255,Target:0,Intermediates:CL_TYPE_ANY>CL_TYPE_ZIP;0;41424344',
    'Small;Engine:51-255,Target:0,FileSize:1-20;0;41424344',
    'Retype;Engine:51-255,Target:0,HandlerType:CL_TYPE_PDF;0;41424344',
    'Icon;Engine:51-255,Target:1,IconGroup1:FAKE;0;41424344',
  ];
  const { detector } = buildDetector([{ name: 'tdb.ldb', lines }]);
  const data = binarySample('xxABCDxx');
  const scan = (object: Partial<ScanObject>, fileType = 'CL_TYPE_BINARY_DATA') =>
    scanNames(detector, data, { allMatch: true, fileType, object }).filter((n, i, all) => all.indexOf(n) === i);

  it('checks the immediate container and the container chain', () => {
    assert.deepEqual(scan({}), ['TopLevel.UNOFFICIAL', 'Small.UNOFFICIAL', 'Retype.UNOFFICIAL']);
    // Intermediates need at least as many levels as types, even CL_TYPE_ANY ones (intermediates_eval).
    assert.deepEqual(scan({ depth: 1, containers: ['CL_TYPE_ZIP'] }), [
      'InZip.UNOFFICIAL',
      'Small.UNOFFICIAL',
      'Retype.UNOFFICIAL',
    ]);
    assert.deepEqual(scan({ depth: 2, containers: ['CL_TYPE_MAIL', 'CL_TYPE_ZIP'] }), [
      'InZip.UNOFFICIAL',
      'ZipInMail.UNOFFICIAL',
      'AnyThenZip.UNOFFICIAL',
      'Small.UNOFFICIAL',
      'Retype.UNOFFICIAL',
    ]);
  });

  it('asks the sink to re-scan as the handler type, and reports when it is the re-scan', () => {
    const asked: string[] = [];
    const names: string[] = [];
    const sink = (answer: boolean | null) => ({
      report: (name: string) => (names.push(name), true),
      rescanAs: (type: string) => (asked.push(type), answer),
    });
    detector.scan({ data, fileType: 'CL_TYPE_BINARY_DATA', depth: 0, containers: [], hashes: new ObjectHashes(data) }, sink(true));
    assert.deepEqual(asked, ['CL_TYPE_PDF']);
    assert.ok(!names.includes('Retype.UNOFFICIAL'));
    detector.scan({ data, fileType: 'CL_TYPE_BINARY_DATA', depth: 0, containers: [], hashes: new ObjectHashes(data) }, sink(null));
    assert.ok(names.includes('Retype.UNOFFICIAL'));
  });

  it('matches icon groups only through the icon matcher, in a PE file', () => {
    const pe = buildPe(basePeSpec(), new Random(3));
    pe.set(data, 0x500);
    const asPe = { allMatch: true, fileType: 'CL_TYPE_MSEXE' };
    assert.deepEqual(scanNames(detector, pe, asPe).filter((n) => n.startsWith('Icon')), []);
    const builder = new BodySignatureBuilder();
    builder.addLdb(lines.at(-1)!, signatureContext('tdb.ldb', 1, new CaptureLogger()));
    const withIcons = { ...asPe, iconsMatch: (_object: unknown, group1: string | undefined) => group1 === 'FAKE' };
    assert.deepEqual(scanNames(builder.build(), pe, withIcons), ['Icon.UNOFFICIAL']);
    // Headers that do not parse: no icon condition holds.
    assert.deepEqual(scanNames(builder.build(), data, withIcons), []);
  });
});
