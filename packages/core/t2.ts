import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { nsisHandler } from './src/formats/nsis.js';
const f = readFileSync(process.argv[2]!);
const off = f.indexOf(Buffer.from('efbeadde4e756c6c736f6674496e7374', 'hex')) - 4;
const ctx = { maxObjectSize: 1e8, maxFileSize: 1e8, heuristic: () => {}, error: console.log, warning: console.log, debug: (m: string) => {} };
for (const o of nsisHandler.extract(new Uint8Array(f.subarray(off)), ctx as any)) {
  if (o.data.length === 0 && o.noMetadata) continue;
  console.log(createHash('md5').update(o.data).digest('hex'), o.data.length);
}
