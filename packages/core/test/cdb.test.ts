import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ClamError } from '../src/errors.js';
import { BodySignatureBuilder } from '../src/matching/body-signature-builder.js';
import { containerEntryMatches, parseCdbLine, type ContainerEntry, type ContainerSignature } from '../src/signatures/cdb.js';
import { hasClamscan, signatureContext } from './fixtures/body/clamscan-oracle.js';
import { CaptureLogger } from './support/capture-logger.js';
import { tempDir } from './support/temp-dir.js';
import { needsSharedSigs, sharedSigs } from '../../../test/support/shared-sigs.js';

const SIGS = `${sharedSigs()}/`;

function parse(line: string): ContainerSignature {
  const result = parseCdbLine(line, 216, (raw) => `${raw}.UNOFFICIAL`, () => false);
  assert.notEqual(result, 'skipped');
  return result as ContainerSignature;
}

const entry = (overrides: Partial<ContainerEntry>): ContainerEntry => ({
  containerType: 'CL_TYPE_ZIP',
  containerSize: 1000,
  name: 'file.exe',
  compressedSize: 10,
  realSize: 20,
  encrypted: false,
  position: 1,
  ...overrides,
});

describe('.cdb lines', () => {
  it('reads ranges, open range ends, wildcards and the encryption flag', () => {
    const sig = parse('A:CL_TYPE_ZIP:100-2000:\\.exe$:0-15:20:1:3:*:*');
    assert.equal(sig.name, 'A.UNOFFICIAL');
    assert.ok(containerEntryMatches(sig, entry({ encrypted: true, position: 3 })));
    assert.ok(!containerEntryMatches(sig, entry({ encrypted: false, position: 3 })));
    assert.ok(!containerEntryMatches(sig, entry({ encrypted: true, position: 3, realSize: 21 })));
    // In a range, 0 leaves that end open; 0-15 means "at most 15".
    assert.ok(containerEntryMatches(sig, entry({ encrypted: true, position: 3, compressedSize: 0 })));
    assert.ok(!containerEntryMatches(sig, entry({ encrypted: true, position: 3, compressedSize: 16 })));
    assert.ok(!containerEntryMatches(sig, entry({ encrypted: true, position: 3, containerType: 'CL_TYPE_RAR' })));
  });

  it('matches any container type and any name with *', () => {
    const sig = parse('A:*:*:*:*:*:*:*:*:*');
    assert.ok(containerEntryMatches(sig, entry({ containerType: 'CL_TYPE_7Z', name: null })));
  });

  it('needs a name when there is a regex', () => {
    assert.ok(!containerEntryMatches(parse('A:*:*:.*:*:*:*:*:*:*'), entry({ name: null })));
  });

  it('skips lines outside the functionality level', () => {
    assert.equal(parseCdbLine('A:*:*:*:*:*:*:*:*:*:300', 216, (r) => r, () => false), 'skipped');
    assert.equal(parseCdbLine('A:*:*:*:*:*:*:*:*:*:1:100', 216, (r) => r, () => false), 'skipped');
  });

  it('refuses malformed lines with ClamAV messages', () => {
    const refused = (line: string) => {
      const logger = new CaptureLogger();
      assert.throws(() => new BodySignatureBuilder().addCdb(line, signatureContext('t.cdb', 2, logger)), ClamError);
      return logger.errors;
    };
    assert.deepEqual(refused('A:CL_TYPE_NOPE:*:*:*:*:*:*:*:*'), [
      'cli_loadcdb: Unknown container type CL_TYPE_NOPE in signature for A, skipping',
      'Problem parsing database at line 2',
    ]);
    assert.deepEqual(refused('A:*:x:*:*:*:*:*:*:*'), ['cli_loadcdb: Invalid value x in signature for A', 'Problem parsing database at line 2']);
    assert.deepEqual(refused('A:*:*:*:*:*:2:*:*:*'), ['cli_loadcdb: Invalid encryption flag value in signature for A', 'Problem parsing database at line 2']);
    assert.deepEqual(refused('A:*:*:a**:*:*:*:*:*:*'), [
      "cli_loadcdb: Can't compile regular expression a** in signature for A",
      'Problem parsing database at line 2',
    ]);
    assert.deepEqual(refused('A:*:*:*'), ['Problem parsing database at line 2']);
  });

  it('loads the real daily.cdb and main.cdb', needsSharedSigs, () => {
    const builder = new BodySignatureBuilder();
    const logger = new CaptureLogger();
    for (const file of ['daily.cdb', 'main.cdb']) {
      readFileSync(`${SIGS}clamav-daily-27371/${file}`, 'latin1')
        .split('\n')
        .filter((line) => line.length > 0)
        .forEach((line, i) => builder.addCdb(line, signatureContext(file, i + 1, logger)));
    }
    // clamscan 1.4.6 counts 5 signatures for daily.cdb and none for main.cdb (a comment).
    assert.equal(builder.signatureCount, 5);
  });
});

describe('container metadata against clamscan', { skip: !hasClamscan || spawnSync('python3', ['--version']).status !== 0 }, () => {
  it('matches the same zip entries as clamscan', () => {
    const dir = tempDir();
    const entries = [
      { name: 'first.txt', data: 'hello there world' },
      { name: 'dir/Second.EXE', data: 'x'.repeat(40) },
      { name: 'invoice.pdf.js', data: 'y'.repeat(7) },
    ];
    const script = `import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_STORED) as z:\n${entries.map((e) => `    z.writestr(${JSON.stringify(e.name)}, ${JSON.stringify(e.data)})`).join('\n')}\n`;
    const zipPath = `${dir.root}/sample.zip`;
    assert.equal(spawnSync('python3', ['-c', script, zipPath]).status, 0);
    const zipSize = readFileSync(zipPath).length;
    const lines = [
      'P1:CL_TYPE_ZIP:*:*:*:*:*:1:*:*',
      'P3:CL_TYPE_ZIP:*:*:*:*:*:3:*:*',
      'Name:CL_TYPE_ZIP:*:(?i)second\\.exe$:*:*:*:*:*:*',
      'Sizes:CL_TYPE_ZIP:*:*:40:40:0:*:*:*',
      'Range:CL_TYPE_ZIP:*:^first:17-20:*:*:*:*:*',
      'Encrypted:*:*:.*:*:*:1:*:*:*',
      `Container:CL_TYPE_ZIP:${zipSize}:*:*:*:*:*:*:*`,
      'WrongSize:CL_TYPE_ZIP:10-20:*:*:*:*:*:*:*',
      'DualExt:CL_TYPE_ZIP:*:^[^/\\\\]+\\.(doc|xls|pdf)\\.js$:*:*:*:*:*:*',
    ];
    const cdbPath = dir.write('t.cdb', lines.join('\n') + '\n');
    const run = spawnSync('clamscan', ['--allmatch', '--no-summary', '-d', cdbPath, zipPath], { encoding: 'utf8' });
    const expected = new Set([...run.stdout.matchAll(/: (\S+)\.UNOFFICIAL FOUND/g)].map((m) => m[1]!));

    const signatures = lines.map(parse);
    const found = new Set<string>();
    entries.forEach((e, i) => {
      for (const signature of signatures) {
        const facts = entry({ containerSize: zipSize, name: e.name, compressedSize: e.data.length, realSize: e.data.length, position: i + 1 });
        if (containerEntryMatches(signature, facts)) found.add(signature.name.replace('.UNOFFICIAL', ''));
      }
    });
    assert.deepEqual([...found].sort(), [...expected].sort());
    assert.ok(expected.size >= 5);
  });
});
