import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { shareEngine } from '../src/engine/shared-engine.js';
import { loadEngine } from '../src/signatures/loader.js';
import { EICAR, EICAR_MD5, EICAR_SHA256, tempDir } from './support/temp-dir.js';

describe('shared engine', () => {
  it('scans in a worker thread through shared memory, with the same results', async () => {
    const dir = tempDir();
    dir.write('a.hdb', `${EICAR_MD5}:68:Md5Sig\n`);
    dir.write('b.hsb', `${EICAR_SHA256}:*:Sha256Sig:73\n`);
    const engine = await loadEngine([dir.root]);
    const descriptor = shareEngine(engine);
    for (const table of [descriptor.names.heap, descriptor.fileHashes.md5!.digests]) {
      assert.ok(table.buffer instanceof SharedArrayBuffer);
    }
    const worker = new Worker(new URL('./support/scan-worker.mjs', import.meta.url), {
      workerData: { descriptor, sample: EICAR },
    });
    const reply = await new Promise<{ viruses: string[]; count: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.deepEqual(reply, { viruses: ['Md5Sig.UNOFFICIAL', 'Sha256Sig.UNOFFICIAL'], count: 2 });
  });
});
