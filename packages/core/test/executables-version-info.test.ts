/**
 * PE version information for `VI` signature offsets: the String entries the walk finds (with the
 * bounds ClamAV's walk has), `VI` patterns matched by a Scanner only at those entries, and
 * mutated resources, which must never throw or hang. The comparison with real clamscan is
 * test/conformance/version-info.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scanOptions } from '../src/engine/scan-options.js';
import { Scanner } from '../src/engine/scanner.js';
import { readPeHeaders } from '../src/executables/pe-file.js';
import { versionInfoOffsets } from '../src/executables/version-info.js';
import { loadEngine } from '../src/signatures/loader.js';
import { peWithVersionInfo, versionInfo, type VersionInfoSpec } from './fixtures/executables/version-info-builder.js';
import { mutate, prng } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const COMPANY: VersionInfoSpec = { tables: [{ strings: [['CompanyName', 'Evil Corp'], ['FileDescription', 'Tool']] }] };
const utf16Hex = (text: string) => Buffer.from(text, 'utf16le').toString('hex');

/** The version-information strings of `file` as key text, in the walk's order. */
function keysOf(file: Uint8Array, debug?: (message: string) => void): string[] {
  const pe = readPeHeaders(file);
  assert.ok(typeof pe !== 'string', 'the sample parses');
  return [...versionInfoOffsets(file, pe, debug)].map((at) => {
    const end = Buffer.from(file.buffer, file.byteOffset).indexOf('\0\0\0', at, 'latin1');
    return Buffer.from(file.subarray(at, end + 1)).toString('utf16le');
  });
}

describe('PE version information', () => {
  it('finds every String entry of every table, resource and language', () => {
    const spec: VersionInfoSpec = {
      varFileInfoFirst: true,
      tables: [{ strings: [['CompanyName', 'A'], ['ProductName', 'B']] }, { language: '040704b0', strings: [['Comments', 'C']] }],
    };
    const file = peWithVersionInfo([{ data: versionInfo(spec), languages: 2 }, { data: versionInfo(COMPANY) }], 1);
    const keys = ['CompanyName', 'ProductName', 'Comments'];
    assert.deepEqual(keysOf(file), [...keys, ...keys, 'CompanyName', 'FileDescription'], 'all strings, resources in order');
  });

  it('reads 16 resources at most', () => {
    const resources = Array.from({ length: 18 }, (_, i) => ({ data: versionInfo({ tables: [{ strings: [[`Key${i}`, 'value']] }] }) }));
    const lines: string[] = [];
    const keys = keysOf(peWithVersionInfo(resources, 2), (line) => lines.push(line));
    assert.deepEqual(keys, Array.from({ length: 16 }, (_, i) => `Key${i}`), 'the first 16');
    assert.equal(lines.filter((line) => line.startsWith('versioninfo_cb:')).length, 16, 'the resource walk ends at 16');
  });

  it('stops where ClamAV stops on damaged blocks', () => {
    const unpadded = versionInfo({ tables: [{ strings: [['CompanyName', 'Evil'], ['Odd', 'xy']], unpaddedLast: true }, { strings: [['Never', 'seen']] }] });
    assert.deepEqual(keysOf(peWithVersionInfo([{ data: unpadded }], 3)), ['CompanyName'], 'an unpadded last String ends every table');
    const bad = versionInfo({ ...COMPANY, signature: 0x12345678 });
    assert.deepEqual(keysOf(peWithVersionInfo([{ data: bad }], 4)), [], 'no VS_FIXEDFILEINFO signature, nothing read');
    const cut = versionInfo(COMPANY);
    assert.deepEqual(keysOf(peWithVersionInfo([{ data: cut.subarray(0, cut.length - 8) }], 5)), [], 'a resource shorter than its block');
    const beyond = peWithVersionInfo([{ data: cut, dataRva: 0x9000 }], 6);
    assert.deepEqual(keysOf(beyond), [], 'data outside the sections');
    const file = peWithVersionInfo([{ data: cut }], 7);
    assert.deepEqual(keysOf(file.subarray(0, file.length - 0x100)), [], 'resource data cut off by the end of the file');
  });

  it('matches VI patterns only at a String entry', async () => {
    const dir = tempDir('clamts-vi-');
    const company = utf16Hex('CompanyName\0');
    dir.write(
      'vi.ldb',
      [
        `Test.VI.Key;Engine:51-255,Target:1;0;VI:${company}`,
        `Test.VI.Value;Engine:51-255,Target:1;0;VI:${utf16Hex('Evil Corp')}`,
        `Test.Any.Value;Engine:51-255,Target:1;0;${utf16Hex('Evil Corp')}`,
        `Test.VI.Pcre;Engine:81-255,Target:1;0&1;VI:${company};VI:0/E\\x00v/`,
      ].join('\n'),
    );
    dir.write('vi.ndb', `Test.VI.Body:1:VI:${company}\nTest.VI.Shifted:1:VI:${company.slice(2)}\n`);
    const engine = await loadEngine([dir.root]);
    const file = peWithVersionInfo([{ data: versionInfo(COMPANY) }], 8);
    const found = new Scanner(engine, scanOptions({ allMatch: true })).scanBuffer(file).viruses;
    assert.deepEqual([...found].sort(), ['Test.Any.Value.UNOFFICIAL', 'Test.VI.Body.UNOFFICIAL', 'Test.VI.Key.UNOFFICIAL', 'Test.VI.Pcre.UNOFFICIAL'], 'key matches, value and shifted key do not');
  });

  it('never throws or hangs on mutated version resources', () => {
    const random = prng(17);
    const samples = [versionInfo(COMPANY), versionInfo({ varFileInfoFirst: true, tables: [{ strings: [['A1', 'b'], ['CompanyName', 'c']] }, { strings: [['X', 'yz']] }] })];
    const iterations = Number(process.env.CLAMTS_FUZZ_ITERATIONS) || 500;
    for (let i = 0; i < iterations; i++) {
      const resource = mutate(samples[i % samples.length]!, random);
      let file = peWithVersionInfo([{ data: resource, languages: 1 + (i % 3) }], i);
      if (i % 4 === 3) file = mutate(file, random);
      const started = performance.now();
      const pe = readPeHeaders(file);
      try {
        if (typeof pe !== 'string') versionInfoOffsets(file, pe, () => {});
      } catch (error) {
        assert.fail(`iteration ${i} threw ${String(error)}`);
      }
      assert.ok(performance.now() - started < 1000, `iteration ${i} finished in time`);
    }
  });
});
