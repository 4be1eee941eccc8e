/**
 * The Trojan.Swizzor heuristic against real clamscan. ClamAV 1.4 runs it only when DCONF turns
 * it on: scans agree that nothing is reported by default. With a .cfg that turns it on, both
 * clamscans' verdicts and `cli_parseres_special`, `cli_detect_swizz*` and `swizz_j48` debug
 * lines are compared, on made-up and ordinary text, menus and other types, other languages,
 * damaged data entries and mutated files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Random } from '../../packages/core/test/fixtures/body/random-signatures.js';
import { madeUpWords, ordinaryWords, peWithTexts } from '../../packages/core/test/fixtures/executables/swizzor-builder.js';
import { mutate, prng } from '../../packages/core/test/support/archive-samples.js';
import { assertSameReports, haveTool, runClamAV, runClamTS } from '../support/run-tool.js';

const skip = !haveTool('clamscan') ? 'real clamscan is not installed' : false;
const NAME = 'Heuristics.Trojan.Swizzor.Gen';

const madeUp = (random: Random, count: number, words: number) => Array.from({ length: count }, () => madeUpWords(words, random));
const SAMPLES: Record<string, () => Uint8Array> = {
  'made-up': () => peWithTexts(madeUp(new Random(1), 30, 300), 1),
  ordinary: () => peWithTexts(Array.from({ length: 30 }, () => ordinaryWords(600)), 2),
  mixed: () => peWithTexts(Array.from({ length: 30 }, (_, i) => (i % 5 === 0 ? madeUpWords(200, new Random(i)) : ordinaryWords(400))), 3),
  'mostly-ordinary': () => peWithTexts(Array.from({ length: 30 }, (_, i) => (i % 12 === 0 ? madeUpWords(150, new Random(i)) : ordinaryWords(500))), 4),
  'short-texts': () => peWithTexts(madeUp(new Random(5), 400, 12), 5),
  'digits-and-punctuation': () => peWithTexts(Array.from({ length: 30 }, (_, i) => `${'Ab1c-de, FGh '.repeat(40)}${madeUpWords(200, new Random(i))}`), 6),
  menus: () => peWithTexts(madeUp(new Random(7), 30, 300), 7, { type: 4 }),
  icons: () => peWithTexts(madeUp(new Random(8), 30, 300), 8, { type: 3 }),
  'three-languages': () => peWithTexts(madeUp(new Random(9), 12, 300), 9, { languages: 3 }),
  'damaged-entries': () => {
    const file = peWithTexts(madeUp(new Random(10), 30, 300), 10);
    // Point some data entries outside the file (their OffsetToData), as a broken resource table.
    const text = Buffer.from(file.buffer, file.byteOffset, file.length);
    let entries = 0;
    for (let at = 0x600; at < 0x1000 && entries < 6; at += 4) {
      if (text.readUInt32LE(at) >= 0x2000 && text.readUInt32LE(at) < 0x40000 && text.readUInt32LE(at + 4) > 100 && text.readUInt32LE(at + 4) < 0x2000 && text.readUInt32LE(at + 8) === 0) {
        text.writeUInt32LE(0x90000 + entries, at);
        entries++;
      }
    }
    return file;
  },
};

const RANDOM_SAMPLES = 16;
function randomSample(index: number): Uint8Array {
  const random = prng(500 + index);
  const base = peWithTexts(madeUp(new Random(index), 20, 250), 600 + index);
  let file = base;
  // Mutations near the resource directory, where they change what the walk reads.
  for (let k = 0; k < 4; k++) {
    const head = mutate(file.subarray(0x600, 0xa00), random);
    file = new Uint8Array(Buffer.concat([file.subarray(0, 0x600), head.subarray(0, 0x400), file.subarray(0xa00)]));
  }
  return file;
}

const SWIZZOR_LINE = /cli_parseres_special|cli_detect_swizz|swizz_j48/;

/** A scan with the heuristic turned on by the .cfg: its Swizzor debug lines and whether it reported the name. */
function judged(run: { stdout: string; stderr: string }): { lines: string[]; found: boolean } {
  return { lines: run.stderr.split('\n').filter((line) => SWIZZOR_LINE.test(line)), found: run.stdout.includes(`${NAME} FOUND`) };
}

describe('Trojan.Swizzor heuristic against real clamscan', { skip }, () => {
  let dir = '';
  let config = '';
  let database = '';
  const files: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clamts-swizzor-'));
    config = join(dir, 'swizzor.cfg');
    writeFileSync(config, 'PE:0xfffff\n');
    database = join(dir, 'none.ndb');
    writeFileSync(database, 'Test.Never:0:*:00112233445566778899\n');
    const write = (name: string, data: Uint8Array) => {
      writeFileSync(join(dir, name), data);
      files.push(join(dir, name));
    };
    for (const [name, make] of Object.entries(SAMPLES)) write(name, make());
    for (let i = 0; i < RANDOM_SAMPLES; i++) write(`random-${i}`, randomSample(i));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is off by default, as in ClamAV', () => {
    assertSameReports(['--no-summary', '-d', database, ...files]);
  });

  it('judges the files as ClamAV does with the heuristic on (debug lines and verdicts)', () => {
    let detected = 0;
    for (const file of files) {
      const args = ['--debug', '--allmatch', '-d', config, '-d', database, file];
      const real = judged(runClamAV('clamscan', args));
      const ours = judged(runClamTS('clamscan', args));
      assert.deepEqual(ours.lines, real.lines, `the Swizzor debug lines of ${file}`);
      assert.equal(ours.found, real.found, `the verdict on ${file}`);
      if (real.found) detected++;
    }
    assert.ok(detected >= 3 && detected < files.length, `some files detected, not all (${detected})`);
  });
});
