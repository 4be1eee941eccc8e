/**
 * The import-table hash text on hostile tables: mutated tables never throw, and a table that
 * would make ClamAV read for hours is given up quickly. (What it hashes is compared with real
 * clamscan in test/conformance/import-hashes.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importTableText } from '../src/executables/import-hash.js';
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
