// A worker thread for tests: rebuilds a shared engine, scans samples with it (all-match mode)
// and checks container entries against its container metadata signatures. Replies with the
// detections, the signature count, and whether the body detector's tables are read from shared
// memory (not copies).
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { engineFromShared, Scanner, scanOptions } = await import('../../src/index.ts');
const engine = engineFromShared(workerData.descriptor);
const scanner = new Scanner(engine, scanOptions({ allMatch: true }));
const results = workerData.samples.map((sample) => scanner.scanBuffer(Buffer.from(sample)).viruses);
const containerResults = workerData.entries.map((entry) => {
  const names = [];
  engine.body.matchContainerEntry(entry, { report: (name) => names.push(name) > 0 });
  return names;
});
const generic = engine.body.programs[0];
const bodyShared = generic === undefined || generic.patterns.elements.buffer instanceof SharedArrayBuffer;
parentPort.postMessage({ results, containerResults, count: engine.signatureCount, bodyShared });
