#!/usr/bin/env node
// Micro-benchmark of the body/logical signature matcher (not a test).
//
// Loads the real daily.ndb and main.ldb from ../shared/sigs/clamav-main, then scans a few MB of
// seeded random data and of text, as a generic object and as a PE, and prints load time and MB/s
// (best of three runs, wall clock and CPU time).
// Runs on the compiled package: `pnpm build && node bench/matcher-micro.mjs [megabytes]`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'packages/core/dist');
if (!existsSync(join(dist, 'matching/body-signature-builder.js'))) {
  console.error('packages/core/dist is missing: run `pnpm build` first');
  process.exit(1);
}
const { BodySignatureBuilder } = await import(join(dist, 'matching/body-signature-builder.js'));
const { ObjectHashes } = await import(join(dist, 'engine/scan-object.js'));

const sigs = join(root, '../shared/sigs/clamav-main');
const megabytes = Number(process.argv[2] ?? 8);

const logger = { error: (m) => console.error(m), warning() {}, debug() {}, debugEnabled: false };
const builder = new BodySignatureBuilder();
const started = performance.now();
for (const [file, kind] of [
  ['daily.ndb.gz', 'ndb'],
  ['main.ldb.gz', 'ldb'],
]) {
  const lines = gunzipSync(readFileSync(join(sigs, file))).toString('latin1').split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, index) => {
    const ctx = { path: file, line: index + 1, logger, name: (raw) => raw, ignored: () => false, functionalityLevel: 216 };
    if (kind === 'ndb') builder.addNdb(line, ctx);
    else builder.addLdb(line, ctx);
  });
}
const loaded = performance.now();
const detector = builder.build(logger);
const built = performance.now();
console.log(
  `loaded ${builder.signatureCount} signatures in ${((loaded - started) / 1000).toFixed(2)} s, ` +
    `built ${detector.patternCount} patterns in ${((built - loaded) / 1000).toFixed(2)} s, ` +
    `heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`,
);

const size = megabytes << 20;
const random = new Uint8Array(size);
for (let i = 0, s = 12345; i < size; i++) {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  random[i] = s >>> 24;
}
const gpl = existsSync('/usr/share/common-licenses/GPL-3') ? readFileSync('/usr/share/common-licenses/GPL-3') : Buffer.from('lorem ipsum dolor sit amet '.repeat(4096));
const text = Buffer.alloc(size);
for (let at = 0; at < size; at += gpl.length) gpl.copy(text, at);

for (const [label, data, fileType] of [
  ['random, generic', random, 'CL_TYPE_BINARY_DATA'],
  ['text, generic', text, 'CL_TYPE_BINARY_DATA'],
  ['random, as PE', random, 'CL_TYPE_MSEXE'],
]) {
  // Best of three runs (the first one also pays for JIT warm-up); CPU time as well as wall
  // time, since the wall clock means little on a shared machine.
  let detections = 0;
  let wall = Infinity;
  let cpu = Infinity;
  for (let run = 0; run < 3; run++) {
    detections = 0;
    const t = performance.now();
    const c = process.cpuUsage();
    detector.scan(
      { data, fileType, depth: 0, containers: [], hashes: new ObjectHashes(data) },
      { report: () => (detections++, true) },
    );
    const used = process.cpuUsage(c);
    wall = Math.min(wall, (performance.now() - t) / 1000);
    cpu = Math.min(cpu, (used.user + used.system) / 1e6);
  }
  const rate = (seconds) => (size / 2 ** 20 / seconds).toFixed(1);
  console.log(`${label}: ${rate(wall)} MB/s wall, ${rate(cpu)} MB/s CPU (${detections} detections)`);
}
