// A worker thread for tests: rebuilds a shared engine and scans one sample.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { engineFromShared, Scanner, scanOptions } = await import('../../src/index.ts');
const engine = engineFromShared(workerData.descriptor);
const result = new Scanner(engine, scanOptions({ allMatch: true })).scanBuffer(Buffer.from(workerData.sample));
parentPort.postMessage({ viruses: result.viruses, count: engine.signatureCount });
