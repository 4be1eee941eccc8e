import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { FILE_LIMIT_CHECK } from '../src/formats/autoit.js';
import { nsisHandler } from '../src/formats/nsis.js';
import { entry, nsisArchive, nsisExecutable, solidBody } from './fixtures/executables/nsis-builder.js';
import { md5, mutate, noise, prng, prose, recordingContext } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';
const SIGNATURE = Buffer.from('efbeadde4e756c6c736f6674496e7374', 'hex');
function clamts(file: Uint8Array) {
  const at = Buffer.from(file).indexOf(SIGNATURE);
  const rec = recordingContext(100 * 1024 * 1024);
  const checkLimits = (who: string, needed: number) => { if (needed > 400*1024*1024) rec.debugLines.push(`${who}: scansize exceeded`); else if (needed > 100*1024*1024) rec.debugLines.push(`${who}: filesize exceeded (allowed: ${100*1024*1024}, needed: ${needed})`); return needed <= 100*1024*1024; };
  const objs = [...nsisHandler.extract(file.subarray(at - 4), { ...rec, checkLimits })].filter((o) => o !== FILE_LIMIT_CHECK);
  return { files: objs.map((o) => md5(o.data)), lines: rec.debugLines.filter((l) => l.startsWith('NSIS: ')) };
}
function clamav(file: Uint8Array) {
  const dir = tempDir('nd-');
  const target = dir.write('s.exe', file);
  const db = dir.write('n.hdb', '00000000000000000000000000000000:1:X\n');
  const temps = join(dir.root, 't'); spawnSync('mkdir', [temps]);
  const run = spawnSync('clamscan', ['--debug', '--leave-temps', `--tempdir=${temps}`, '--no-summary', '-d', db, target], { encoding: 'latin1', maxBuffer: 1 << 26 });
  const files: string[] = []; const lines: string[] = []; let ed = '';
  for (const raw of run.stderr.split('\n')) {
    if (!raw.startsWith('LibClamAV debug: NSIS: ')) continue;
    const line = raw.slice(17).replace(/ at \S+:\d+$/, '').replace(/^(NSIS: scansize exceeded) .*$/, '$1');
    const ex = /^NSIS: Extracting files to (\S+)$/.exec(line); if (ex) { ed = ex[1]!; continue; }
    const m = /^NSIS: Successfully extracted file #(\d+)$/.exec(line);
    if (m) { const n = Number(m[1]); files.push(md5(readFileSync(join(ed, n === 1 ? 'headers' : `content.${String(n - 1).padStart(3, '0')}`)))); }
    lines.push(line);
  }
  return { files, lines };
}
it('diff', () => {
  const script = prose(3000), a = prose(20000), b = Buffer.concat([noise(5000, 3), prose(70000)]);
  const kinds = ['deflate', 'lzma', 'bzip2'] as const;
  const samples: Buffer[] = [];
  for (const k of kinds) {
    samples.push(nsisArchive({ body: solidBody(k, [script, a, b]) }));
    samples.push(nsisArchive({ body: Buffer.concat([entry(script, k), entry(b, k), entry(a, k)]) }));
  }
  const random = prng(Number(process.env.SEED ?? 7));
  let bad = 0;
  for (let i = 0; i < Number(process.env.N ?? 60); i++) {
    const s = samples[i % samples.length]!;
    let m = mutate(s.subarray(28), random);
    const file = nsisExecutable(Buffer.concat([s.subarray(0, 28), m]));
    const o = clamts(file), t = clamav(file);
    if (JSON.stringify(o) !== JSON.stringify(t)) {
      bad++;
      console.log('CASE', i, i % samples.length, JSON.stringify(o.lines), '\n   VS', JSON.stringify(t.lines), '\n files', o.files.length, t.files.length, JSON.stringify(o.files) === JSON.stringify(t.files));
      writeFileSync(`/tmp/nd-${i}.exe`, file);
    }
  }
  console.log('bad', bad);
});
