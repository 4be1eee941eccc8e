/**
 * The import-table hash text on hostile tables: mutated tables never throw, and a table that
 * would make ClamAV read for hours is given up quickly. In the scan, an any-size match lets the
 * PE scan go on and a sized one ends it; mutated files scanned so never throw. (What it hashes
 * and finds is compared with real clamscan in test/conformance/import-hashes.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { scanOptions } from '../src/engine/scan-options.js';
import { Scanner } from '../src/engine/scanner.js';
import { importTableText } from '../src/executables/import-hash.js';
import { loadEngine } from '../src/signatures/loader.js';
import { tempDir } from './support/temp-dir.js';
import { readPeHeaders, type PeFile } from '../src/executables/pe-file.js';
import { Random } from './fixtures/body/random-signatures.js';
import { withImportTable } from './fixtures/executables/import-table.js';
import { basePeSpec, buildPe } from './fixtures/executables/pe-builder.js';
import { mutate, prng } from './support/archive-samples.js';

const headers = (file: Uint8Array): PeFile | undefined => {
  const pe = readPeHeaders(file, { removeMissingSections: true });
  return typeof pe === 'string' ? undefined : pe;
};

describe('import-table hash text', () => {
  const plain = withImportTable(buildPe(basePeSpec(), new Random(1)), [
    { name: 'KERNEL32.dll', functions: ['LoadLibraryA', 'GetProcAddress'] },
    { name: 'ws2_32.dll', functions: [1, 3] },
  ]);

  it('writes the imphash text of a plain table', () => {
    const result = importTableText(plain, headers(plain)!, () => {});
    assert.equal(result.kind, 'text', 'the table is read');
    const text = result.kind === 'text' ? Buffer.from(result.text).toString('latin1') : '';
    assert.equal(text, 'kernel32.loadlibrarya,kernel32.getprocaddress,ws2_32.accept,ws2_32.closesocket', 'the hash text');
  });

  it('gives up a table whose descriptors all name one long thunk list', () => {
    const spec = basePeSpec();
    spec.size = 0x200000;
    spec.sections = [{ virtualAddress: 0x1000, virtualSize: 0x1ff000, rawOffset: 0x1000, rawSize: 0x1ff000 }];
    const file = buildPe(spec, new Random(2));
    const view = new DataView(file.buffer);
    // 1023 descriptors (the table's end included), each naming the thunks from 0x10000 on: every
    // thunk points at the last bytes of the file, where ClamAV reads no name and goes on.
    view.setUint32(0x100, 0x1000, true);
    view.setUint32(0x104, 1024 * 20, true);
    file.fill(0, 0x1000, 0x1000 + 1024 * 20);
    Buffer.from(file.buffer).write('x.dll\0', 0x8000, 'latin1');
    for (let i = 0; i < 1023; i++) {
      view.setUint32(0x1000 + i * 20, 0x10000, true);
      view.setUint32(0x1000 + i * 20 + 12, 0x8000, true);
    }
    for (let at = 0x10000; at < file.length - 4; at += 4) view.setUint32(at, 0x1fff00, true);
    view.setUint32(file.length - 4, 0, true);
    const lines: string[] = [];
    const started = performance.now();
    const result = importTableText(file, headers(file)!, (line) => lines.push(line));
    assert.equal(result.kind, 'fault', 'the PE scan ends');
    assert.deepEqual(lines, ['scan_pe: import table too long (ClamTS stops reading it)'], 'the debug line');
    assert.ok(performance.now() - started < 2000, 'given up quickly');
  });

  it('never throws on mutated tables', () => {
    const random = prng(7);
    for (let i = 0; i < 500; i++) {
      const input = mutate(plain, random);
      const pe = headers(input);
      if (pe === undefined) continue;
      assert.doesNotThrow(() => importTableText(input, pe, () => {}), `iteration ${i}`);
    }
  });
});

describe('import-table hash signatures in the PE scan', () => {
  const text = 'kernel32.loadlibrarya,kernel32.exitprocess';
  const md5 = createHash('md5').update(text).digest('hex');
  /** A PE importing KERNEL32's functions, with W32.Parite.B's marks after the import table step. */
  const parite = (() => {
    const spec = basePeSpec();
    spec.size = 0x3000;
    spec.sections[2] = { virtualAddress: 0x3000, virtualSize: 0x2000, rawOffset: 0x1000, rawSize: 0x2000 };
    spec.entryRva = 0x3000;
    const file = withImportTable(buildPe(spec, new Random(3)), [{ name: 'KERNEL32.dll', functions: ['LoadLibraryA', 'ExitProcess'] }]);
    const view = new DataView(file.buffer);
    file.set(Buffer.from('GetProcAddress\0', 'latin1'), 0x1300);
    [0x505a4f, 0xffffb, 0xb8].forEach((mask, n) => {
      view.setUint32(0x1300 + 15 + 8 * n, 0x12345678, true);
      view.setUint32(0x1300 + 15 + 8 * n + 4, (0x12345678 ^ mask) >>> 0, true);
    });
    return file;
  })();
  const engineWith = async (imp: string) => {
    const dir = tempDir('clamts-imp-scan-');
    dir.write('test.imp', imp);
    return loadEngine([dir.root]);
  };

  it('goes on after an any-size match, and ends at a sized one', async () => {
    const anySize = await engineWith(`${md5}:*:Test.Imp.Any\n`);
    const sized = await engineWith(`${md5}:${text.length}:Test.Imp.Sized\n`);
    const scan = (engine: Awaited<ReturnType<typeof loadEngine>>, allMatch: boolean) => new Scanner(engine, scanOptions({ allMatch })).scanBuffer(parite).viruses;
    assert.deepEqual(scan(anySize, false), ['Test.Imp.Any.UNOFFICIAL'], 'the strong name only, the heuristic found but not reported');
    assert.deepEqual(scan(anySize, true), ['Test.Imp.Any.UNOFFICIAL', 'Heuristics.W32.Parite.B'], 'the heuristic ran after the any-size match');
    assert.deepEqual(scan(sized, true), ['Test.Imp.Sized.UNOFFICIAL', 'Heuristics.W32.Parite.B'], 'with --allmatch a sized match goes on too');
  });

  it('matches an empty import table with any-size entries only', async () => {
    const empty = createHash('md5').update('').digest('hex');
    const engine = await engineWith(`${empty}:*:Test.Imp.Empty\n`);
    const noImports = buildPe(basePeSpec(), new Random(4));
    const view = new DataView(noImports.buffer);
    // An import directory whose only descriptor is the all-zero one that ends the table.
    view.setUint32(0x80 + 24 + 96 + 8, 0x1000, true);
    view.setUint32(0x80 + 24 + 96 + 12, 20, true);
    noImports.fill(0, 0x400, 0x414);
    assert.deepEqual(new Scanner(engine, scanOptions()).scanBuffer(noImports).viruses, ['Test.Imp.Empty.UNOFFICIAL'], 'the empty table');
  });

  it('never throws on mutated files scanned with any-size and sized entries', async () => {
    const engine = await engineWith(`${md5}:*:Test.Imp.Any\n${md5}:${text.length}:Test.Imp.Sized\n`);
    const random = prng(11);
    for (const allMatch of [false, true]) {
      const scanner = new Scanner(engine, scanOptions({ allMatch }));
      for (let i = 0; i < 150; i++) {
        const input = mutate(parite, random);
        const started = performance.now();
        assert.doesNotThrow(() => scanner.scanBuffer(input), `iteration ${i}`);
        assert.ok(performance.now() - started < 2000, `iteration ${i} is quick`);
      }
    }
  });
});
