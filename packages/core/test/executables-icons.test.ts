/**
 * PE icon matching inside the engine: the icon database as engines keep and share it, IconGroup
 * signatures matched by a Scanner (metrics taken from the icon scan itself), the resource walk,
 * and mutated resource sections and icons, which must never throw or hang. The comparison with
 * real clamscan is test/conformance/icons.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValueDecoder, ValueEncoder } from '../src/engine/cache-values.js';
import { scanOptions } from '../src/engine/scan-options.js';
import { Scanner } from '../src/engine/scanner.js';
import { engineFromShared, shareEngine } from '../src/engine/shared-engine.js';
import { IconDatabaseBuilder, parseIconHash } from '../src/executables/icons/icon-database.js';
import { iconsMatch } from '../src/executables/icons/icon-scan.js';
import { parsePeFile } from '../src/executables/pe-file.js';
import { ANY_NAME, findResources } from '../src/executables/pe-resources.js';
import { loadEngine } from '../src/signatures/loader.js';
import { Random } from './fixtures/body/random-signatures.js';
import { dibIcon, peWithResources, resourceSection, RESOURCES_RVA, type ResourceSpec } from './fixtures/executables/pe-resource-builder.js';
import { mutate, prng } from './support/archive-samples.js';
import { CaptureLogger } from './support/capture-logger.js';
import { tempDir } from './support/temp-dir.js';

const spec = (seed: number): ResourceSpec => {
  const random = new Random(seed);
  const icons = [16, 32, 48].map((side, i) => ({ id: i + 1, data: dibIcon({ width: side, height: side, depth: [8, 24, 32][i]! }, random) }));
  return { groups: [{ name: 1, entries: icons.map(({ id }) => ({ id })) }], icons };
};
const samplePe = (seed: number) => peWithResources(resourceSection(spec(seed), RESOURCES_RVA), new Random(seed));

/** The IDB SIGNATURE hashes the icon scan of `data` prints. */
function measuredHashes(data: Uint8Array): string[] {
  const icons = new IconDatabaseBuilder();
  icons.add(parseIconHash(`10${'0000000'.repeat(6)}${'000000'.repeat(12)}00000000`) as Uint16Array, 'A', 'B');
  const logger = new CaptureLogger(true);
  iconsMatch(data, icons.build(), undefined, undefined, { maxIcons: 100, logger });
  return logger.debugs.filter((line) => line.startsWith('IDB SIGNATURE')).map((line) => line.slice(line.lastIndexOf(':') + 1));
}

describe('PE icon matching', () => {
  it('walks the resource directory by type and name, as findres does', () => {
    const pe = samplePe(1);
    const headers = parsePeFile(pe)!;
    const found: string[] = [];
    findResources(pe, headers, 3, ANY_NAME, ({ type, name, language }) => (found.push(`${type}/${name}/${language.toString(16)}`), false));
    assert.deepEqual(found, ['3/1/409', '3/2/409', '3/3/409'], 'every icon');
    found.length = 0;
    findResources(pe, headers, 3, 2, ({ name }) => (found.push(String(name)), false));
    assert.deepEqual(found, ['2'], 'icon 2 only');
    found.length = 0;
    findResources(pe, headers, 3, ANY_NAME, ({ name }) => (found.push(String(name)), true));
    assert.deepEqual(found, ['1'], 'the visitor ends the walk');
  });

  it('detects an icon through an .idb made from its metrics, in the engine and in a shared copy', async () => {
    const pe = samplePe(2);
    const hashes = measuredHashes(pe);
    assert.equal(hashes.length, 3, 'three icons measured');
    const dir = tempDir('clamts-icons-');
    dir.write('icons.idb', `Test.Icon:G1:G2:${hashes[1]}\nOther.Icon:H1:H2:${hashes[1]}\n`);
    dir.write('icons.ldb', ['A;Engine:51-255,Target:1,IconGroup1:G1;0;4d5a', 'B;Engine:51-255,Target:1,IconGroup2:H2;0;4d5a', 'C;Engine:51-255,Target:1,IconGroup1:G1,IconGroup2:H2;0;4d5a', 'D;Engine:51-255,Target:1,IconGroup1:X;0;4d5a'].join('\n'));
    const engine = await loadEngine([dir.root]);
    assert.equal(engine.icons?.count, 2, 'two icons loaded');
    const options = scanOptions({ allMatch: true });
    const expected = ['A.UNOFFICIAL', 'B.UNOFFICIAL'];
    assert.deepEqual(new Scanner(engine, options).scanBuffer(pe).viruses, expected, 'groups of one icon each, not mixed');
    const shared = engineFromShared(shareEngine(engine));
    assert.deepEqual(new Scanner(shared, options).scanBuffer(pe).viruses, expected, 'the shared engine matches alike');
    const encoder = new ValueEncoder();
    const stored = JSON.parse(JSON.stringify(encoder.encode(shareEngine(engine), 'engine')));
    const cached = engineFromShared(new ValueDecoder(encoder.buffers).decode(stored) as ReturnType<typeof shareEngine>);
    assert.deepEqual(new Scanner(cached, options).scanBuffer(pe).viruses, expected, 'an engine read back from the cache matches alike');
    assert.deepEqual(new Scanner(engine, scanOptions({ allMatch: true, limits: { maxIconsPe: 1 } })).scanBuffer(pe).viruses, [], 'MaxIconsPE stops before the second icon');
    assert.deepEqual(new Scanner(engine, options).scanBuffer(samplePe(3)).viruses, [], 'other icons do not match');
  });

  it('keeps the icons of the last .idb loaded, as ClamAV does', async () => {
    const pe = samplePe(4);
    const [hash] = measuredHashes(pe);
    const dir = tempDir('clamts-icons-');
    dir.write('a.idb', `Test.Icon:G1:G2:${hash}\n`);
    dir.write('b.idb', '# no icons\n');
    dir.write('icons.ldb', 'A;Engine:51-255,Target:1,IconGroup1:G1;0;4d5a\n');
    const engine = await loadEngine([dir.root]);
    assert.equal(engine.icons?.count, 0, 'b.idb replaced a.idb');
    assert.deepEqual(new Scanner(engine, scanOptions()).scanBuffer(pe).viruses, [], 'no icons, no match');
  });

  it('never throws or hangs on mutated resource sections and icons', () => {
    const icons = new IconDatabaseBuilder();
    for (const hash of measuredHashes(samplePe(5))) icons.add(parseIconHash(hash) as Uint16Array, 'A', 'B');
    const database = icons.build();
    const random = prng(11);
    const iterations = Number(process.env.CLAMTS_FUZZ_ITERATIONS) || 300;
    for (let i = 0; i < iterations; i++) {
      const seed = 10 + (i % 7);
      const section = resourceSection(spec(seed), RESOURCES_RVA);
      const mutated = i % 2 === 0 ? mutate(section, random) : section;
      let file = peWithResources(mutated, new Random(seed));
      if (i % 2 === 1) file = mutate(file, random);
      const logger = new CaptureLogger(true);
      const started = performance.now();
      try {
        iconsMatch(file, database, undefined, undefined, { maxIcons: 100, logger });
      } catch (error) {
        assert.fail(`iteration ${i} threw ${String(error)}\n${Buffer.from(file).toString('base64')}`);
      }
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 2000, `iteration ${i} took ${elapsed.toFixed(0)} ms`);
    }
  });
});
