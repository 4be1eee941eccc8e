#!/usr/bin/env node
// Soak test for ClamTS's clamd: runs bin/clamd on a private socket and port, keeps it busy with a
// mix of requests from many clients (PING, SCAN, INSTREAM, IDSESSION, clients that vanish), reloads
// the database midway, and reports requests served, errors, peak memory and leaked descriptors.
//
//   node test/soak/clamd-soak.mjs [--seconds 60] [--clients 50]
//
// Exits 1 when a reply was wrong or lost, or descriptors were leaked. Traffic stays on this machine
// (a Unix socket and 127.0.0.1), and the run stops by itself.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(args[index + 1]);
};
const seconds = option('seconds', 60);
const clients = option('clients', 50);

const root = mkdtempSync(join(tmpdir(), 'clamts-soak-'));
const sample = Buffer.from('ClamTS soak sample\n');
mkdirSync(join(root, 'db'));
mkdirSync(join(root, 'files'));
writeFileSync(join(root, 'db', 'soak.hdb'), `${createHash('md5').update(sample).digest('hex')}:${sample.length}:Soak.Sample\n`);
writeFileSync(join(root, 'files', 'sample.bin'), sample);
for (let i = 0; i < 20; i++) writeFileSync(join(root, 'files', `clean-${i}.txt`), `clean file ${i}\n`.repeat(i * 100));

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = server.address();
    server.close(() => resolve(free));
  });
});
const socketPath = join(root, 'clamd.sock');
writeFileSync(
  join(root, 'clamd.conf'),
  [
    `LocalSocket ${socketPath}`,
    `TCPSocket ${port}`,
    'TCPAddr 127.0.0.1',
    'Foreground yes',
    `DatabaseDirectory ${join(root, 'db')}`,
    'SelfCheck 0',
    'MaxThreads 8',
    'CommandReadTimeout 5',
    '',
  ].join('\n'),
);

const bin = fileURLToPath(new URL('../../bin/clamd', import.meta.url));
const daemon = spawn(process.execPath, [bin, '-c', join(root, 'clamd.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
const exited = new Promise((resolve) => daemon.once('exit', (code) => resolve(code)));

function request(payload, { tcp = false, vanish = false } = {}) {
  return new Promise((resolve) => {
    const socket = tcp ? connect(port, '127.0.0.1') : connect(socketPath);
    const chunks = [];
    socket.on('data', (data) => chunks.push(data));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('connect', () => {
      socket.write(payload);
      if (vanish) socket.destroy();
    });
  });
}

const instream = (data) => {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(data.length);
  return Buffer.concat([Buffer.from('zINSTREAM\0'), header, data, Buffer.alloc(4)]);
};
const samplePath = join(root, 'files', 'sample.bin');
const kinds = [
  { payload: 'zPING\0', expect: 'PONG\0' },
  { payload: `zSCAN ${samplePath}\0`, expect: `${samplePath}: Soak.Sample.UNOFFICIAL FOUND\0` },
  { payload: `zCONTSCAN ${join(root, 'files')}\0`, expect: `${samplePath}: Soak.Sample.UNOFFICIAL FOUND\0` },
  { payload: instream(sample), expect: 'stream: Soak.Sample.UNOFFICIAL FOUND\0', tcp: true },
  { payload: instream(Buffer.alloc(100000, 0x41)), expect: 'stream: OK\0' },
  { payload: 'zIDSESSION\0zPING\0zVERSION\0zEND\0', expect: /^1: PONG\x002: ClamTS [^\0]+\0$/ },
  { payload: `zSCAN ${join(root, 'files')}\0`, vanish: true },
];

function descriptors() {
  const dir = `/proc/${daemon.pid}/fd`;
  return readdirSync(dir).filter((fd) => {
    try {
      return !/^(anon_inode|pipe):/.test(readlinkSync(`${dir}/${fd}`));
    } catch {
      return false;
    }
  }).length;
}

function residentKiB() {
  const status = readFileSync(`/proc/${daemon.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

for (let waited = 0; !existsSync(socketPath); waited += 50) {
  if (waited > 30000) throw new Error('clamd did not start');
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await request('zPING\0');
const startDescriptors = descriptors();
let served = 0;
let errors = 0;
let peakKiB = residentKiB();
const deadline = Date.now() + seconds * 1000;
const sampler = setInterval(() => (peakKiB = Math.max(peakKiB, residentKiB())), 250);
const reloader = setTimeout(() => request('zRELOAD\0'), (seconds * 1000) / 2);

async function client(id) {
  for (let n = id; Date.now() < deadline; n++) {
    const kind = kinds[n % kinds.length];
    const reply = await request(kind.payload, kind);
    if (kind.vanish) continue;
    served++;
    const ok = kind.expect instanceof RegExp ? kind.expect.test(reply) : reply === kind.expect;
    if (!ok) {
      errors++;
      if (errors <= 5) console.error(`unexpected reply to ${JSON.stringify(String(kind.payload).slice(0, 40))}: ${JSON.stringify(reply)}`);
    }
  }
}
await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
clearInterval(sampler);
clearTimeout(reloader);
await new Promise((resolve) => setTimeout(resolve, 1000));
const leaked = descriptors() - startDescriptors;
daemon.kill('SIGTERM');
const code = await exited;
rmSync(root, { recursive: true, force: true });

console.log(`requests served: ${served} in ${seconds} s (${Math.round(served / seconds)}/s) by ${clients} clients`);
console.log(`errors: ${errors}`);
console.log(`peak memory (RSS): ${(peakKiB / 1024).toFixed(1)} MiB`);
console.log(`descriptors leaked: ${Math.max(0, leaked)}`);
console.log(`clamd exit status: ${code}`);
process.exit(errors === 0 && leaked <= 0 && code === 0 ? 0 : 1);
