import { readFileSync } from 'node:fs';
import { OutputBuffer } from './src/formats/archive/output-buffer.js';
import { nsisInflateInto, NsisInflateWindow } from './src/formats/compression/nsis-inflate.js';
const f = readFileSync('/tmp/nd-114.exe');
const off = f.indexOf(Buffer.from('efbeadde4e756c6c736f6674496e7374', 'hex')) - 4;
const data = f.subarray(off + 28);
const out = new OutputBuffer(1e9);
const calls: Array<[number, number]> = [];
let sizeAt = -1, fileEnd = 0;
const r = nsisInflateInto(data, 0, out, new NsisInflateWindow(), (d, o) => {
  let s: number;
  if (d === sizeAt + 4) { fileEnd = d + o.readUInt32LE?.(sizeAt) ; }
  const v = new DataView(o.buffer, o.byteOffset, o.length);
  if (d === sizeAt + 4) { fileEnd = d + v.getUint32(sizeAt, true); if (fileEnd === d) { sizeAt = d; s = 4; calls.push([d, s]); return s; } }
  if (d >= fileEnd) { sizeAt = d; s = 4; } else s = Math.min(fileEnd - d, 8192);
  calls.push([d, s]); return s;
});
console.log(r, out.length, data.length, calls.slice(-8));
