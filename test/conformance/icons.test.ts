/**
 * PE icon matching (`.idb` icon signatures and `IconGroup1`/`IconGroup2` logical signatures)
 * against real clamscan, on PE files built with icon resources of every kind: BMP icons of
 * 1 to 32 bits in many sizes (kept, halved or resampled), with palettes and AND masks, icons
 * ClamAV refuses (PNG, too small, too large, not square, broken headers and offsets, cut
 * short), several groups and languages, bad group entries and more entries than --max-iconspe.
 *
 * First the debug lines of the icon scan (each icon's metrics on the IDB SIGNATURE line, the
 * scaling, the refusals and counts) must be the same; then signatures made from those metrics,
 * exact and perturbed around the match thresholds, must detect the same files; and with the real
 * main.ldb and daily.idb, ClamAV's test files must be reported alike.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseIconHash } from '../../packages/core/src/executables/icons/icon-database.js';
import { Random } from '../../packages/core/test/fixtures/body/random-signatures.js';
import {
  dibIcon,
  peWithResources,
  resourceSection,
  RESOURCES_RVA,
  type DibSpec,
  type PeWithResourcesOptions,
  type ResourceSpec,
} from '../../packages/core/test/fixtures/executables/pe-resource-builder.js';
import { assertSameReports, comparable, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';
import { needsSharedSigs, sharedSigs } from '../support/shared-sigs.js';

const TESTFILES = '/usr/share/clamav-testfiles';
const skip = haveTool('clamscan') ? false : 'real clamscan is not installed';

/** A daily.idb icon: loaded so that the icon scan runs (it matches none of the samples). */
const PROBE_ICON = 'Probe.Icon:GA:GB:18bee030cbde0e0696d090f08b000019f10113de0006fe0000fb0600f60006cb0807d00211d5100c78100e710a116808090800001600091a06003f00252f';
const PROBE_LSIG = 'Probe.Lsig;Engine:51-255,Target:1,IconGroup1:GA,IconGroup2:GB;0;4d5a';

/** The icon scan's lines: its debug lines and its warning. */
const ICON_LINE = /^LibClamAV (debug: (groupicon_cb|cli_scanicon|cli_icongroupset_add|parseicon|confidence|IDB SIGNATURE|(edge|noedge|color|gray|bright|dark|edge\(2nd\)|noedge\(2nd\)) areas|color spread)|Warning: cli_scanicon)/;
const iconLines = (stderr: string) => stderr.split('\n').filter((line) => ICON_LINE.test(line));

/** One sample: a PE file with these resources. */
function sample(spec: ResourceSpec, seed: number, options: PeWithResourcesOptions = {}): Uint8Array {
  return peWithResources(resourceSection(spec, RESOURCES_RVA), new Random(seed), options);
}
const oneIcon = (icon: Uint8Array, extra: Partial<ResourceSpec['icons'][number]> = {}): ResourceSpec => ({
  groups: [{ name: 1, entries: [{ id: 1 }] }],
  icons: [{ id: 1, data: icon, ...extra }],
});
const dib = (spec: DibSpec, seed: number) => dibIcon(spec, new Random(seed));

function samples(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  let seed = 100;
  const pictures = ['shapes', 'noise', 'gray', 'flat'] as const;
  for (const depth of [1, 4, 8, 16, 24, 32]) {
    for (const side of [16, 24, 32, 48, 64, 20, 40, 96]) {
      const picture = pictures[seed % pictures.length]!;
      files[`bmp-${depth}bit-${side}-${picture}`] = sample(oneIcon(dib({ width: side, height: side, depth, picture }, seed)), seed++);
    }
  }
  for (const picture of pictures) files[`bmp-8bit-32-${picture}`] = sample(oneIcon(dib({ width: 32, height: 32, depth: 8, picture }, seed)), seed++);
  const one = (name: string, spec: DibSpec, options?: PeWithResourcesOptions) => {
    files[name] = sample(oneIcon(dib(spec, seed)), seed++, options);
  };
  one('wide-24x20', { width: 24, height: 20, depth: 24 });
  one('tall-18x22', { width: 18, height: 22, depth: 8 });
  one('not-square-32x20', { width: 32, height: 20, depth: 24 });
  one('too-small-8', { width: 8, height: 8, depth: 24 });
  one('too-small-16x12', { width: 16, height: 12, depth: 24 });
  one('too-large-300', { width: 300, height: 300, depth: 4 });
  one('largest-256', { width: 256, height: 256, depth: 32 });
  one('halved-72', { width: 72, height: 72, depth: 24 });
  one('halved-240', { width: 240, height: 240, depth: 8 });
  one('resampled-100', { width: 100, height: 100, depth: 24 });
  one('resampled-17x21', { width: 17, height: 21, depth: 1 });
  one('depth-2', { width: 32, height: 32, depth: 2 });
  one('depth-0', { width: 32, height: 32, depth: 0 });
  one('header-12', { width: 32, height: 32, depth: 24, headerSize: 12 });
  one('header-108', { width: 32, height: 32, depth: 8, headerSize: 108 });
  one('negative-height', { width: 32, height: 32, depth: 8, declaredHeight: 0xffff_ffc0 });
  one('odd-height', { width: 32, height: 32, depth: 24, declaredHeight: 65 });
  one('32bit-no-alpha', { width: 32, height: 32, depth: 32, noAlpha: true });
  one('32bit-no-alpha-no-mask', { width: 32, height: 32, depth: 32, noAlpha: true, noMask: true });
  const lastIcon = dib({ width: 32, height: 32, depth: 32, noAlpha: true, noMask: true }, seed);
  const lastSpec = oneIcon(lastIcon);
  const contentLength = resourceSection(lastSpec, RESOURCES_RVA).length;
  files['32bit-no-alpha-mask-out-of-file'] = sample(lastSpec, seed++, { keep: contentLength });
  const cut = dib({ width: 32, height: 32, depth: 8 }, seed);
  const cutSpec = oneIcon(cut);
  const cutLength = resourceSection(cutSpec, RESOURCES_RVA).length;
  files['pixels-cut'] = sample(cutSpec, seed++, { keep: cutLength - 200 });
  files['palette-cut'] = sample(cutSpec, seed++, { keep: cutLength - cut.length + 60 });
  files['header-cut'] = sample(cutSpec, seed++, { keep: cutLength - cut.length + 20 });
  files['png'] = sample(oneIcon(Buffer.from('89504e470d0a1a0a0000000d49484452000000200000002008060000007a7af4', 'hex')), seed++);
  files['header-out-of-file'] = sample(oneIcon(cut, { dataRva: 0x7000 }), seed++);
  files['data-entry-out-of-file'] = sample(oneIcon(cut, { entryOffset: 0x6000 }), seed++);
  files['data-entry-subdirectory'] = sample(oneIcon(cut, { entryOffset: 0x8000_0010 }), seed++);

  const icons = [16, 24, 32, 48].map((side, i) => ({ id: i + 1, data: dib({ width: side, height: side, depth: 8 << (i % 3), picture: 'shapes' }, seed + i) }));
  seed += 4;
  const entries = icons.map(({ id }) => ({ id }));
  files['group-of-four'] = sample({ groups: [{ name: 1, entries }], icons }, seed++);
  files['two-groups'] = sample({ groups: [{ name: 1, entries: entries.slice(0, 2) }, { name: 2, entries: entries.slice(2) }], icons }, seed++);
  files['group-in-two-languages'] = sample({ groups: [{ name: 7, entries: entries.slice(1, 3), languages: 2 }], icons }, seed++);
  files['icon-in-two-languages'] = sample({ groups: [{ name: 1, entries: entries.slice(0, 1) }], icons: [{ ...icons[0]!, languages: 2 }] }, seed++);
  files['missing-icon'] = sample({ groups: [{ name: 1, entries: [{ id: 9 }, { id: 1 }] }], icons }, seed++);
  files['count-too-high'] = sample({ groups: [{ name: 1, entries: entries.slice(0, 2), count: 5 }], icons }, seed++);
  files['extra-bytes'] = sample({ groups: [{ name: 1, entries: entries.slice(0, 2), extra: 9 }], icons }, seed++);
  files['count-zero'] = sample({ groups: [{ name: 1, entries, count: 0 }], icons }, seed++);
  files['many-entries'] = sample({ groups: [{ name: 1, entries: Array.from({ length: 120 }, (_, i) => ({ id: 1 + (i % 5) })) }], icons }, seed++);
  files['dll'] = sample(oneIcon(cut), seed++, { dll: true });
  files['no-resource-size'] = sample(oneIcon(cut), seed++, { directorySize: 0 });
  files['two-directories'] = sample(oneIcon(cut), seed++, { directories: 2 });
  return files;
}

describe('PE icons against real clamscan', { skip }, () => {
  let dir = '';
  let paths: string[] = [];
  let probe: string[] = [];
  /** The IDB SIGNATURE hashes clamscan printed, in order. */
  let hashes: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-icons-'));
    mkdirSync(join(dir, 'samples'));
    paths = Object.entries(samples()).map(([name, data]) => {
      const path = join(dir, 'samples', `${name}.exe`);
      writeFileSync(path, data);
      return path;
    });
    writeFileSync(join(dir, 'probe.idb'), `${PROBE_ICON}\n`);
    writeFileSync(join(dir, 'probe.ldb'), `${PROBE_LSIG}\n`);
    probe = ['-d', join(dir, 'probe.idb'), '-d', join(dir, 'probe.ldb')];
  });
  after(() => (process.env.KEEP_ICONS ? undefined : rmSync(dir, { recursive: true, force: true })));

  for (const limit of [[], ['--max-iconspe=2'], ['--max-iconspe=0']]) {
    it(`prints the same icon debug lines and metrics for every sample${limit.length ? ` with ${limit[0]}` : ''}`, () => {
      const args = ['--debug', ...limit, ...probe, ...paths];
      const real = iconLines(runClamAV('clamscan', args).stderr);
      const ours = iconLines(runClamTS('clamscan', args).stderr);
      assert.ok(real.some((line) => line.includes('IDB SIGNATURE')), 'clamscan measured icons');
      assert.deepEqual(ours, real, 'the same icon lines');
      if (limit.length === 0) hashes = real.filter((line) => line.includes('IDB SIGNATURE')).map((line) => line.slice(line.lastIndexOf(':') + 1));
    });
  }

  it('detects the same files with signatures made from the metrics, exact and perturbed', () => {
    const loadable = [...new Set(hashes)].filter((hash) => typeof parseIconHash(hash) !== 'string');
    assert.ok(loadable.length >= 20, `enough icons measured (${loadable.length})`);
    const random = new Random(7);
    const bases = Array.from({ length: 12 }, (_, i) => loadable[Math.floor((i * loadable.length) / 12)]!);
    const icons: string[] = [];
    const lsigs: string[] = [];
    bases.forEach((hash, b) => {
      for (let variant = 0; variant < 14; variant++) {
        const group = `P${b}_${variant}`;
        const second = `H${variant % 3}`;
        icons.push(`Icon.${group}:${group}:${second}:${variant === 0 ? hash : perturbed(hash, random)}`);
        lsigs.push(`Icon.Match.${group};Engine:51-255,Target:1,IconGroup1:${group};0;4d5a`);
      }
    });
    lsigs.push('Icon.Second.H1;Engine:51-255,Target:1,IconGroup2:H1;0;4d5a');
    lsigs.push('Icon.Both.P0_0.H0;Engine:51-255,Target:1,IconGroup1:P0_0,IconGroup2:H0;0;4d5a');
    lsigs.push('Icon.Both.P0_0.H2;Engine:51-255,Target:1,IconGroup1:P0_0,IconGroup2:H2;0;4d5a');
    lsigs.push('Icon.Unknown;Engine:51-255,Target:1,IconGroup1:NOPE;0;4d5a');
    writeFileSync(join(dir, 'made.idb'), `${icons.join('\n')}\n`);
    writeFileSync(join(dir, 'made.ldb'), `${lsigs.join('\n')}\n`);
    const databases = ['-d', join(dir, 'made.idb'), '-d', join(dir, 'made.ldb')];
    const args = ['--debug', '--allmatch', ...databases, ...paths];
    const big = { maxBuffer: 1 << 30 };
    const [real, ours] = [runClamAV('clamscan', args, big), runClamTS('clamscan', args, big)];
    assert.deepEqual(comparable(ours.stdout).sort(), comparable(real.stdout).sort(), 'the same reports');
    assert.equal(ours.status, real.status, 'the same exit code');
    // The confidence of each match too.
    assert.deepEqual(iconLines(ours.stderr), iconLines(real.stderr), 'the same icon lines');
    const found = (pattern: RegExp) => real.stdout.split('\n').filter((line) => pattern.test(line)).length;
    assert.equal(found(/Icon\.Match\.P\d+_0\.UNOFFICIAL FOUND/), bases.length, 'exact metrics match in clamscan');
    const perturbedMatches = found(/Icon\.Match\.P\d+_([1-9]|1\d)\.UNOFFICIAL FOUND/);
    assert.ok(perturbedMatches > 20 && perturbedMatches < icons.length - bases.length - 20, `perturbed metrics match on both sides (${perturbedMatches})`);
    assertSameReports([...databases, ...paths]);
    assertSameReports(['--allmatch', '--max-iconspe=1', ...databases, ...paths]);
  });

  it('matches nothing without icon signatures, or with an .idb of comments only', () => {
    writeFileSync(join(dir, 'all.ldb'), 'Icon.Any;Engine:51-255,Target:1,IconGroup1:P0_0;0;4d5a\n');
    writeFileSync(join(dir, 'comments.idb'), '# nothing\n');
    assertSameReports(['-d', join(dir, 'all.ldb'), ...paths.slice(0, 5)]);
    assertSameReports(['-d', join(dir, 'comments.idb'), '-d', join(dir, 'all.ldb'), ...paths.slice(0, 5)]);
  });

  it('matches with the icons of the last .idb loaded only', () => {
    for (const [name, order] of [['made-last', ['a.idb', 'b.idb']], ['comments-last', ['b.idb', 'a.idb']]] as const) {
      const databases = join(dir, name);
      mkdirSync(databases);
      copyFileSync(join(dir, 'made.ldb'), join(databases, 'made.ldb'));
      copyFileSync(join(dir, 'comments.idb'), join(databases, order[0]));
      copyFileSync(join(dir, 'made.idb'), join(databases, order[1]));
      assertSameReports(['--allmatch', '-d', databases, ...paths]);
    }
  });

  const launchers = pipLaunchers();
  it('measures and matches the icons of real programs alike (pip\'s Windows launchers)', { skip: launchers.length === 0 ? 'python3 with pip is not installed' : false }, () => {
    const real = iconLines(runClamAV('clamscan', ['--debug', ...probe, ...launchers]).stderr);
    assert.deepEqual(iconLines(runClamTS('clamscan', ['--debug', ...probe, ...launchers]).stderr), real, 'the same icon lines');
    const measured = [...new Set(real.filter((line) => line.includes('IDB SIGNATURE')).map((line) => line.slice(line.lastIndexOf(':') + 1)))];
    assert.ok(measured.length > 0, 'icons measured');
    const idb = measured.map((hash, i) => `Real.${i}:R${i}:S${i % 2}:${hash}`);
    const ldb = measured.map((_, i) => `Real.Lsig.${i};Engine:51-255,Target:1,IconGroup1:R${i};0;4d5a`);
    writeFileSync(join(dir, 'real.idb'), `${idb.join('\n')}\n`);
    writeFileSync(join(dir, 'real.ldb'), `${ldb.join('\n')}\nReal.Second;Engine:51-255,Target:1,IconGroup2:S1;0;4d5a\n`);
    assertSameReports(['--allmatch', '-d', join(dir, 'real.idb'), '-d', join(dir, 'real.ldb'), ...launchers, ...paths]);
  });

  it('reports ClamAV test files alike with the real main.ldb and daily.idb', { skip: needsSharedSigs.skip ?? (existsSync(TESTFILES) ? false : `${TESTFILES} is missing`) }, () => {
    const main = join(dir, 'main.ldb');
    execFileSync('sh', ['-c', `zcat '${sharedSigs('clamav-main/main.ldb.gz')}' > '${main}'`]);
    const testfiles = readdirSync(TESTFILES).map((name) => join(TESTFILES, name));
    assertSameReports(['--allmatch', '-d', main, '-d', sharedSigs('clamav-daily-27371/daily.idb'), ...testfiles, ...paths]);
  });
});

/** The Windows launchers pip ships (real programs with real icons), when python3 has pip. */
function pipLaunchers(): string[] {
  try {
    const script = 'import os, pip._vendor.distlib as d; print(os.path.dirname(d.__file__))';
    const directory = execFileSync('python3', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return readdirSync(directory)
      .filter((name) => name.endsWith('.exe'))
      .map((name) => join(directory, name));
  } catch {
    return [];
  }
}

/** `hash` with some of its numbers moved, still a valid icon hash. */
function perturbed(hash: string, random: Random): string {
  const side = Number.parseInt(hash.slice(0, 2), 16);
  const maxPosition = side - Math.floor(side / 8);
  // Each number of the hash: where it starts, its width and the largest value it may take.
  const fields: Array<[number, number, number]> = [];
  let at = 2;
  for (let area = 0; area < 6; area++) {
    const width = area < 2 ? 3 : 2;
    for (let sample = 0; sample < 3; sample++) {
      fields.push([at, width, area < 2 ? 4072 : 255], [at + width, 2, maxPosition], [at + width + 2, 2, maxPosition]);
      at += width + 4;
    }
  }
  for (let spread = 0; spread < 4; spread++) fields.push([at + spread * 2, 2, spread === 3 ? 100 : 34]);
  let text = hash;
  // From a nudge of one number to a shake of many, so that both sides of the thresholds are met.
  const strength = 1 + random.below(8);
  for (let change = 1 + random.below(strength * 8); change > 0; change--) {
    const [start, width, max] = fields[random.below(fields.length)]!;
    const value = Number.parseInt(text.slice(start, start + width), 16);
    const step = 1 + random.below(Math.ceil((max * strength) / 8));
    const moved = Math.max(0, Math.min(max, value + (random.below(2) === 0 ? step : -step)));
    text = text.slice(0, start) + moved.toString(16).padStart(width, '0') + text.slice(start + width);
  }
  // Red, green and blue shares may not add up to more than 103.
  return typeof parseIconHash(text) === 'string' ? perturbed(hash, random) : text;
}
