/**
 * RTF embedded objects (\objdata): the real clam.exe.rtf and documents generated with OLE 1.0
 * packages and OLE2 payloads in every nesting ClamAV's state machine meets (objdata groups,
 * bare \objdata, hex split by spaces, newlines and stray braces, wrong sizes, truncation).
 * clamscan is the oracle: its debug log names every object it scans (the raw object, or the
 * file decoded from an OLE 1.0 package), which must be exactly the objects the handler yields.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rtfHandler } from '../src/formats/rtf.js';
import { CLAM_EXE, extractAll, fuzz, md5, needsClamscan, needsTestfiles, prng, testfile } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const SAMPLES = Number(process.env.CLAMTS_ORACLE_SAMPLES) || 40;

/** Digests of the objects clamscan scans, from its debug log and the files it leaves. */
function clamavRtfObjects(rtf: Uint8Array): string[] {
  const dir = tempDir('clamts-rtf-');
  const target = dir.write('sample.rtf', rtf);
  const temps = join(dir.root, 'temps');
  mkdirSync(temps);
  const result = spawnSync(
    'clamscan',
    ['--debug', '--leave-temps', `--tempdir=${temps}`, '-d', dir.write('none.hdb', `${'0'.repeat(32)}:1:None\n`), target],
    { encoding: 'latin1', maxBuffer: 1 << 28 },
  );
  const scanned: string[] = [];
  let pending: string | undefined;
  let ole = false;
  for (const line of result.stderr.split('\n')) {
    const embedded = /RTF:Scanning embedded object: (.*)$/.exec(line);
    if (embedded) {
      if (pending) scanned.push(pending);
      pending = embedded[1];
      ole = false;
    } else if (line.includes('Decoding ole object')) ole = true;
    else if (ole && pending) {
      const decoded = /cli_decode_ole_object: decoding to (.*)$/.exec(line);
      if (decoded) {
        scanned.push(decoded[1]!);
        pending = undefined;
        ole = false;
      }
    }
  }
  if (pending && !ole) scanned.push(pending);
  return scanned
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path))
    .filter((bytes) => bytes.length)
    .map(md5)
    .sort();
}

const ours = (rtf: Uint8Array) => extractAll(rtfHandler, rtf).map((o) => md5(o.data)).sort();

/** A random RTF document with embedded objects. */
function generatedRtf(seed: number): Buffer {
  const random = prng(seed);
  const n = (k: number) => Math.floor(random() * k);
  const pick = <T>(list: readonly T[]): T => list[n(list.length)]!;
  const bytes = (k: number) => Buffer.from(Array.from({ length: k }, () => n(256)));
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return b;
  };
  const ole10 = (payload: Buffer) => {
    const name = Buffer.from(`${pick(['x.exe', 'a', ''])}\0`);
    const body = Buffer.concat([Buffer.from([2, 0]), name, Buffer.from('C:\\x\\y\0'), bytes(8), Buffer.from('C:\\tmp\\z\0'), u32(payload.length + pick([0, 0, 0, 5, -3])), payload]);
    return Buffer.concat([u32(n(8) ? body.length : body.length + 10), body]);
  };
  const objdata = () => {
    const payload = n(4) ? ole10(bytes(1 + n(600))) : Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0]), bytes(n(300))]);
    const description = Buffer.from(`${pick(['Package', 'Word.Document.8', 'x'.repeat(70), ''])}\0`);
    let data = Buffer.concat([Buffer.from([1, 5, 0, 0, 2, 0, 0, 0]), u32(description.length), description, bytes(8), u32(payload.length + pick([0, 0, 0, 7, -5])), payload]);
    if (n(6) === 0) data = data.subarray(0, n(data.length));
    let hex = data.toString('hex');
    if (n(3) === 0) hex = hex.replace(/(.{64})/g, '$1\n');
    if (n(5) === 0) hex = hex.replace(/(.{10})/g, '$1 ');
    if (n(6) === 0) hex = hex.replace(/(.{100})/g, '$1}{');
    return hex;
  };
  const parts = ['{\\rtf1\\ansi\\deff0'];
  for (let i = 1 + n(5); i > 0; i--) {
    parts.push(
      pick([
        () => `{\\object\\objemb{\\*\\objclass Package}{\\*\\objdata ${objdata()}}}`,
        () => `{\\object\\objemb\\objw100{\\*\\objdata ${objdata()}}{\\result text}}`,
        () => `{\\*\\objdata ${objdata()}}`,
        () => `{\\object\\objdata ${objdata()}\\par more}`,
        () => "\\par Hello {\\b bold} text\\'e9 \\u1234? {\\field x}",
        () => `{\\object\\objdata ${objdata()}{\\*\\objdata ${objdata()}}}`,
      ])(),
    );
  }
  parts.push('}');
  let text = parts.join(pick(['\n', '', ' ']));
  if (n(4) === 0) text = text.repeat(1 + n(20));
  return Buffer.from(text, 'latin1');
}

describe('RTF', () => {
  it('extracts clam.exe from clam.exe.rtf', needsTestfiles, () => {
    assert.ok(extractAll(rtfHandler, testfile('clam.exe.rtf')).some((o) => md5(o.data) === md5(CLAM_EXE)));
  });

  it('scans the same objects as clamscan for clam.exe.rtf', { ...needsTestfiles, ...needsClamscan }, () => {
    assert.deepEqual(ours(testfile('clam.exe.rtf')), clamavRtfObjects(testfile('clam.exe.rtf')));
  });

  it(`scans the same objects as clamscan for ${SAMPLES} generated documents`, needsClamscan, () => {
    for (let seed = 1; seed <= SAMPLES; seed++) {
      const rtf = generatedRtf(seed);
      assert.deepEqual(ours(rtf), clamavRtfObjects(rtf), `seed ${seed}`);
    }
  });

  it('handles unterminated groups and huge hex runs in bounded time', () => {
    for (const rtf of ['{\\rtf1'.padEnd(200000, '{'), `{\\rtf1{\\object\\objdata ${'0'.repeat(3_000_000)}}}`, `{\\rtf1${'\\objdata '.repeat(50000)}}`]) {
      const started = performance.now();
      extractAll(rtfHandler, Buffer.from(rtf));
      assert.ok(performance.now() - started < 5000);
    }
  });

  it('survives seeded mutations (fuzz)', needsTestfiles, () => {
    fuzz(rtfHandler, [testfile('clam.exe.rtf'), generatedRtf(3)], { seed: 0x27f });
  });
});
