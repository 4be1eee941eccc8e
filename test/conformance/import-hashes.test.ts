/**
 * Import-table hash signatures (.imp), compared with real clamscan: the text ClamAV hashes for
 * each import table (its `IMP: md5:size` debug line, and the scan_pe debug lines of the tables
 * it cannot read, which end the PE scan), and the detections of .imp signatures of every hash
 * type, sized and any-size, with and without --allmatch. After an any-size match ClamAV's PE
 * scan goes on (heuristics, unpackers) while what it would scan next is not scanned.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Random } from '../../packages/core/test/fixtures/body/random-signatures.js';
import { basePeSpec, buildPe, type PeSpec } from '../../packages/core/test/fixtures/executables/pe-builder.js';
import { rvaOf, withImportTable, type ImportedDll, type ImportTableOptions } from '../../packages/core/test/fixtures/executables/import-table.js';
import { assertSameReports, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';
import { HAVE_REAL_CLAMD, startRealClamd } from '../clamdscan/real-clamd.js';
import { startClamTS, Workspace } from '../clamd/harness.js';

const TESTFILES = '/usr/share/clamav-testfiles';
const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : !existsSync(TESTFILES) ? 'clamav-testfiles is not installed' : false;

let seed = 5;
const pe = (change: (spec: PeSpec) => void = () => {}) => {
  const spec = basePeSpec();
  change(spec);
  return buildPe(spec, new Random(seed++));
};
const imports = (dlls: readonly ImportedDll[], options: ImportTableOptions = {}) => withImportTable(pe(), dlls, options);

const KERNEL32: ImportedDll = { name: 'KERNEL32.dll', functions: ['LoadLibraryA', 'GetProcAddress', 'ExitProcess'] };
const USER32: ImportedDll = { name: 'user32.DLL', functions: ['MessageBoxA'] };

/**
 * A PE file with KERNEL32's functions imported and W32.Parite.B's marks (as pe-heuristics.test.ts
 * builds them): a heuristic that cli_scanpe checks after the import table.
 */
function pariteWithImports(): Uint8Array {
  const file = withImportTable(
    pe((spec) => {
      spec.size = 0x3000;
      spec.sections[2] = { virtualAddress: 0x3000, virtualSize: 0x2000, rawOffset: 0x1000, rawSize: 0x2000 };
      spec.entryRva = 0x3000;
    }),
    [KERNEL32],
  );
  const view = new DataView(file.buffer);
  const at = 0x1300;
  file.set(Buffer.from('GetProcAddress\0', 'latin1'), at);
  [0x505a4f, 0xffffb, 0xb8].forEach((mask, n) => {
    view.setUint32(at + 15 + 8 * n, 0x12345678, true);
    view.setUint32(at + 15 + 8 * n + 4, (0x12345678 ^ mask) >>> 0, true);
  });
  return file;
}

/** Import tables ClamAV hashes as the plain imphash: the detection samples. */
const PLAIN: Record<string, readonly ImportedDll[]> = {
  plain: [KERNEL32, USER32],
  'one-dll': [{ name: 'advapi32.dll', functions: ['RegOpenKeyExA', 'RegCloseKey'] }],
  'other-endings': [
    { name: 'comctl32.ocx', functions: ['InitCommonControls'] },
    { name: 'ntoskrnl.SYS', functions: ['IoCreateDevice'] },
    { name: 'noext', functions: ['Run'] },
  ],
};

/** Everything else hash_imptbl meets: ordinals, odd names, bad addresses, damaged tables. */
const SAMPLES: Record<string, () => Uint8Array> = {
  ordinals: () =>
    imports([
      { name: 'ws2_32.dll', functions: [1, 3, 151, 500, 9999] },
      { name: 'WSOCK32.DLL', functions: [23, 1111] },
      { name: 'OleAut32.dll', functions: [2, 443, 7777] },
      { name: 'ws2_32', functions: [1] },
      { name: 'msvcrt.dll', functions: [5, 0xffff] },
    ]),
  'odd-dll-names': () =>
    imports([
      { name: 'a.dllx', functions: ['One'] },
      { name: 'b.dl', functions: ['Two'] },
      { name: 'c.f.dll', functions: ['Three'] },
      { name: new Uint8Array([0xc4, 0x41, 0x2d, 0x20, 0x2e, 0x64, 0x6c, 0x6c]), functions: ['Four'] },
      { name: '', functions: ['Five'] },
    ]),
  'odd-function-names': () => imports([{ name: 'k.dll', functions: ['with.dot', '', 'UPPER_lower_09'] }]),
  'bad-function-name': () => imports([KERNEL32, { name: 'x.dll', functions: ['Good', 'bad-name', 'Never'] }]),
  'high-byte-function-name': () => imports([{ name: 'x.dll', functions: [new Uint8Array([0x41, 0xe9])] }]),
  'first-thunks-only': () => imports([{ ...KERNEL32, originalFirstThunk: 'absent' }, USER32]),
  'bad-original-thunks': () => imports([{ ...KERNEL32, originalFirstThunk: 0x90000 }]),
  'original-thunks-at-offset-0': () => imports([{ ...KERNEL32, originalFirstThunk: 0 }]),
  'bad-first-thunks': () => imports([{ ...KERNEL32, originalFirstThunk: 'absent', firstThunk: 0x90000 }]),
  'bad-dll-name': () => imports([USER32, { ...KERNEL32, nameRva: 0x90000 }]),
  'dll-name-in-headers': () => imports([{ ...KERNEL32, nameRva: 0x40 }]),
  'name-rva-zero-ends': () => imports([USER32, { ...KERNEL32, nameRva: 0 }, KERNEL32]),
  'exact-size-table': () => imports([KERNEL32, USER32], { unterminated: true }),
  'one-descriptor-exactly': () => imports([KERNEL32], { unterminated: true }),
  'short-directory': () => imports([KERNEL32, USER32], { directorySize: 30 }),
  'no-directory-rva': () => imports([KERNEL32], { directoryRva: 0 }),
  'no-directory-size': () => imports([KERNEL32], { directorySize: 0 }),
  'directory-outside': () => imports([KERNEL32], { directoryRva: 0x90000 }),
  'directory-past-end': () => imports([KERNEL32], { directorySize: 0x2000 }),
  'directory-size-wraps': () => imports([KERNEL32], { directorySize: 0xffffff00 }),
  'function-name-near-end': () => {
    const file = imports([{ name: 'k.dll', functions: ['Early', 'Late'] }]);
    // Point the second function at a name whose hint is 0x100 bytes before the end of the file.
    const late = file.length - 0x100;
    Buffer.from(file.buffer).write('\0\0Late\0', late, 'latin1');
    const thunks = new DataView(file.buffer);
    const original = thunks.getUint32(0x400, true) - 0x1000 + 0x400;
    thunks.setUint32(original + 4, rvaOf(late), true);
    return file;
  },
  'function-name-outside': () => {
    const file = imports([{ name: 'k.dll', functions: ['Early', 'Lost'] }]);
    const view = new DataView(file.buffer);
    const original = view.getUint32(0x400, true) - 0x1000 + 0x400;
    view.setUint32(original + 4, 0x90000, true);
    // ClamAV reads such a name from file offset 0 (past its hint): put a valid one there.
    file.set(Buffer.from('Mz\0', 'latin1'), 2);
    return file;
  },
  'pe32-plus': () =>
    withImportTable(
      pe((spec) => {
        spec.plus = true;
        spec.optionalHeaderSize = 0xf0;
      }),
      [KERNEL32],
    ),
};

/** Files with random import directories and tables: whatever they hold, both tools must agree. */
const RANDOM_SAMPLES = 24;
function randomSample(index: number): Uint8Array {
  const random = new Random(1000 + index);
  const file = pe();
  const view = new DataView(file.buffer);
  view.setUint32(0x100, 0x1000 + random.below(0x40) * 4, true);
  view.setUint32(0x104, random.below(4) === 0 ? random.below(0x1000) : 20 * (1 + random.below(6)), true);
  // Some descriptors point into the section itself, so that thunks and names are read from it.
  for (let i = 0; i < 6; i++) {
    const at = 0x400 + i * 20;
    if (random.below(2) === 0) view.setUint32(at, 0x1000 + random.below(0x800), true);
    if (random.below(2) === 0) view.setUint32(at + 12, 0x1000 + random.below(0x800), true);
    if (random.below(2) === 0) view.setUint32(at + 16, 0x1000 + random.below(0x800), true);
  }
  return file;
}

/** The imphash text of a plain table, written out independently of ClamTS's code. */
function imphashText(dlls: readonly ImportedDll[]): string {
  const stem = (name: string) => {
    const dot = name.indexOf('.');
    return dot >= 0 && ['.dll', '.ocx', '.sys'].includes(name.slice(dot, dot + 4).toLowerCase()) ? name.slice(0, dot) : name;
  };
  return dlls.flatMap((dll) => dll.functions.map((fn) => `${stem(String(dll.name)).toLowerCase()}.${String(fn).toLowerCase()}`)).join(',');
}

const hash = (algorithm: string, text: string) => createHash(algorithm).update(text, 'latin1').digest('hex');
/** The lines of a --debug run that tell what the import-table hash did. */
const importLines = (stderr: string) =>
  stderr.split('\n').filter((line) => /IMP: |scan_pe: |UPX: |FSG: |Petite: /.test(line) && !line.includes(' saved in '));

describe('import-table hash signatures (.imp) against real clamscan', { skip }, () => {
  let dir = '';
  let emptyImp = '';
  let clamHdb = '';
  const files: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-imp-'));
    const write = (name: string, data: Uint8Array) => {
      writeFileSync(join(dir, name), data);
      files.push(join(dir, name));
    };
    for (const [name, dlls] of Object.entries(PLAIN)) write(name, imports(dlls));
    for (const [name, make] of Object.entries(SAMPLES)) write(name, make());
    for (let i = 0; i < RANDOM_SAMPLES; i++) write(`random-${i}`, randomSample(i));
    emptyImp = join(dir, 'comment-only.imp');
    writeFileSync(emptyImp, '# an import-table database without signatures\n');
    clamHdb = join(dir, 'clam.hdb');
    writeFileSync(clamHdb, 'aa15bcf478d165efd2065190eb473bcb:544:Test.Clam.Unpacked\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes the plain tables as the imphash of their functions', () => {
    for (const [name, dlls] of Object.entries(PLAIN)) {
      const text = imphashText(dlls);
      const real = runClamAV('clamscan', ['--debug', '-d', emptyImp, join(dir, name)]);
      assert.ok(importLines(real.stderr).includes(`LibClamAV debug: IMP: ${hash('md5', text)}:${text.length}`), `${name}: ClamAV hashes ${text}`);
    }
  });

  it('reads every crafted, random and test-file import table as ClamAV does', () => {
    const testFiles = readdirSync(TESTFILES)
      .filter((name) => name.endsWith('.exe'))
      .map((name) => join(TESTFILES, name));
    for (const file of [...files, ...testFiles]) {
      const real = importLines(runClamAV('clamscan', ['--debug', '-d', emptyImp, file]).stderr);
      const ours = importLines(runClamTS('clamscan', ['--debug', '-d', emptyImp, file]).stderr);
      assert.deepEqual(ours, real, `the import-table debug lines of ${file}`);
    }
  });

  it('reads no import table without an .imp database', () => {
    const ours = runClamTS('clamscan', ['--debug', '-d', clamHdb, files[0]!]);
    assert.deepEqual(importLines(ours.stderr), [], 'no import-table debug line');
  });

  describe('detections', () => {
    let database = '';
    before(() => {
      const lines: string[] = [];
      const types = ['md5', 'sha1', 'sha256'];
      Object.entries(PLAIN).forEach(([name, dlls], index) => {
        const text = imphashText(dlls);
        const type = types[index % types.length]!;
        lines.push(`${hash(type, text)}:${text.length}:Test.Imp.${name}.${type}`);
        lines.push(`${hash(types[(index + 1) % types.length]!, text)}:*:Test.Imp.${name}.any`);
        lines.push(`${hash('md5', text)}:${text.length + 1}:Test.Imp.${name}.wrong-size`);
      });
      // The empty table of clam-upx.exe: any size only, as a sized entry never matches size 0.
      lines.push(`${hash('md5', '')}:*:Test.Imp.empty`);
      database = join(dir, 'test.imp');
      writeFileSync(database, lines.join('\n') + '\n');
    });

    const targets = () => [...files, join(TESTFILES, 'clam-upx.exe'), join(TESTFILES, 'clam.exe')];
    it('reports every match with --allmatch', () => assertSameReports(['--no-summary', '--allmatch', '-d', database, ...targets()]));
    it('reports the first match', () => assertSameReports(['--no-summary', '-d', database, ...targets()]));
    it('scans what a PE file unpacks to after an any-size match', () => {
      for (const options of [[], ['--allmatch']]) {
        const args = [...options, '-d', database, '-d', clamHdb, join(TESTFILES, 'clam-upx.exe')];
        const real = runClamAV('clamscan', args);
        const ours = runClamTS('clamscan', args);
        const summary = (text: string) => text.split('\n').filter((line) => /FOUND|Data scanned|Infected files/.test(line));
        assert.deepEqual(summary(ours.stdout), summary(real.stdout), `the reports and summary of ${args.join(' ')}`);
      }
    });
    it('finds what the samples are built to show', () => {
      const ours = runClamTS('clamscan', ['--no-summary', '--allmatch', '-d', database, ...targets()]);
      for (const name of ['plain: Test.Imp.plain.md5', 'plain: Test.Imp.plain.any', 'one-dll: Test.Imp.one-dll.sha1', 'other-endings: Test.Imp.other-endings.sha256']) {
        const [file, signature] = name.split(': ');
        assert.ok(ours.stdout.includes(`${join(dir, file!)}: ${signature}.UNOFFICIAL FOUND`), `${name}\n${ours.stdout}`);
      }
      assert.ok(!ours.stdout.includes('wrong-size'), 'no entry of another size matches');
    });
  });

  describe('after an any-size match', () => {
    const kernel32 = imphashText([KERNEL32]);
    const databases: Record<string, string> = {
      'any-size': `${hash('md5', kernel32)}:*:Test.Imp.Any\n${hash('md5', '')}:*:Test.Imp.Empty\n`,
      'then-sized': `${hash('md5', kernel32)}:*:Test.Imp.Any\n${hash('sha1', kernel32)}:${kernel32.length}:Test.Imp.Sha1\n`,
      'sized-unwanted': `${hash('md5', kernel32)}:${kernel32.length}:PUA.Test.Imp.Sized\n${hash('md5', '')}:*:PUA.Test.Imp.Empty\n`,
    };
    let targets: string[] = [];
    const paths: Record<string, string> = {};
    // Where only potentially unwanted names are found, clamscan without --allmatch prints one of
    // them picked from an unordered store (runs differ): the sized PUA entry is tried on files
    // with a strong detection as well.
    const targetsOf = (database: string) => (database === 'sized-unwanted' ? targets.slice(1) : targets);
    before(() => {
      for (const [name, text] of Object.entries(databases)) {
        paths[name] = join(dir, `${name}.imp`);
        writeFileSync(paths[name]!, text);
      }
      const parite = join(dir, 'parite-imports.exe');
      writeFileSync(parite, pariteWithImports());
      const other = join(dir, 'other.txt');
      writeFileSync(other, 'a member after the PE file, found by its hash\n'.repeat(4));
      writeFileSync(join(dir, 'other.hdb'), `${hash('md5', 'a member after the PE file, found by its hash\n'.repeat(4))}:184:Test.Other\n`);
      targets = [parite, join(TESTFILES, 'clam-upx.exe')];
      if (haveTool('zip')) {
        const zipped = join(dir, 'parite-first.zip');
        execFileSync('zip', ['-q', '-j', zipped, parite, other]);
        targets.push(zipped);
      }
    });

    /** The lines that tell what each tool found and did: reports, summary counts, the PE scan's steps. */
    const outcome = (run: { stdout: string; stderr: string; status: number }) => ({
      // With --allmatch, clamscan prints the potentially unwanted names in an unordered store's order.
      stdout: run.stdout
        .split('\n')
        .filter((line) => /FOUND|Infected files|Data scanned/.test(line))
        .sort(),
      steps: importLines(run.stderr),
      status: run.status,
    });

    for (const options of [[], ['--allmatch']]) {
      it(`goes on with the PE scan as clamscan does (${options.join(' ') || 'first match'})`, () => {
        for (const database of Object.keys(databases)) {
          for (const target of targetsOf(database)) {
            const args = ['--debug', ...options, '-d', paths[database]!, '-d', clamHdb, '-d', join(dir, 'other.hdb'), target];
            const real = outcome(runClamAV('clamscan', args));
            assert.deepEqual(outcome(runClamTS('clamscan', args)), real, `${database}: ${args.slice(1).join(' ')}`);
          }
        }
      });
    }

    it('runs the later steps (not vacuous)', () => {
      const real = runClamAV('clamscan', ['--debug', '-d', paths['any-size']!, '-d', clamHdb, join(TESTFILES, 'clam-upx.exe')]);
      assert.ok(real.stderr.includes('UPX: Successfully decompressed'), 'clamscan unpacks after the any-size match');
      const parite = runClamAV('clamscan', ['--allmatch', '-d', paths['any-size']!, targets[0]!]).stdout;
      assert.ok(parite.includes('Heuristics.W32.Parite.B FOUND') && parite.includes('Test.Imp.Any.UNOFFICIAL FOUND'), `both found:\n${parite}`);
    });
  });

  // Real clamd names either match without --allmatch (it takes the "last" from an unordered
  // store: runs of one file differ), and both with it.
  it('clamd replies once without --allmatch and with both names with it, as real clamd does', { skip: HAVE_REAL_CLAMD ? false : 'real clamd is not installed' }, async () => {
    const dlls = PLAIN['other-endings']!;
    const text = imphashText(dlls);
    const database = `${hash('md5', text)}:*:Test.Imp.any\n${hash('sha256', text)}:${text.length}:Test.Imp.sized\n`;
    const real = await startRealClamd({ database: { 'test.imp': database } });
    const workspace = new Workspace();
    writeFileSync(join(workspace.db, 'test.imp'), database);
    const ours = await startClamTS(workspace);
    try {
      const sample = join(real.dir, 'sample.exe');
      writeFileSync(sample, imports(dlls));
      chmodSync(sample, 0o644);
      const reply = (config: string, options: string[]) =>
        spawnSync('clamdscan', ['-c', config, '--no-summary', ...options, sample], { encoding: 'utf8' }).stdout;
      const either = new RegExp(`^${sample}: Test\\.Imp\\.(any|sized)\\.UNOFFICIAL FOUND\\n$`);
      for (const options of [[], ['--stream']]) {
        assert.match(reply(real.config, options), either, `real clamdscan ${options.join(' ')}`);
        assert.match(reply(join(ours.dir, 'clamd.conf'), options), either, `clamdscan ${options.join(' ')}`);
      }
      const both = reply(real.config, ['--allmatch']);
      assert.equal(both.split('\n').length, 3, 'real clamd names both with --allmatch');
      assert.equal(reply(join(ours.dir, 'clamd.conf'), ['--allmatch']), both, 'clamdscan --allmatch');
    } finally {
      await ours.stop();
      await real.stop();
      workspace.remove();
    }
  });
});
