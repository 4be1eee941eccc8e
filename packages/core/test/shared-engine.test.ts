import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { scanOptions } from '../src/engine/scan-options.js';
import { Scanner } from '../src/engine/scanner.js';
import { shareEngine, type SharedEngineDescriptor } from '../src/engine/shared-engine.js';
import type { BodyDetector } from '../src/matching/body-detector.js';
import type { ContainerEntry } from '../src/signatures/cdb.js';
import { loadEngine } from '../src/signatures/loader.js';
import { EICAR, EICAR_MD5, EICAR_SHA256, tempDir } from './support/temp-dir.js';
import { needsSharedSigs, sharedSigs } from '../../../test/support/shared-sigs.js';

interface WorkerReply {
  /** The detections of each sample. */
  results: string[][];
  /** The container metadata signatures each container entry matches. */
  containerResults: string[][];
  count: number;
  /** Whether the worker's body detector reads SharedArrayBuffers. */
  bodyShared: boolean;
}

/** Scans the samples and container entries in a worker thread, with the engine rebuilt from `descriptor`. */
async function scanInWorker(
  descriptor: SharedEngineDescriptor,
  samples: readonly (string | Uint8Array)[],
  entries: readonly ContainerEntry[] = [],
): Promise<WorkerReply> {
  const worker = new Worker(new URL('./support/scan-worker.mjs', import.meta.url), { workerData: { descriptor, samples, entries } });
  try {
    return await new Promise<WorkerReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

/** The container metadata signatures that match `entry` (what scan-worker.mjs does too). */
function containerMatches(body: BodyDetector, entry: ContainerEntry): string[] {
  const names: string[] = [];
  body.matchContainerEntry(entry, { report: (name) => names.push(name) > 0 });
  return names;
}

const SIGS = sharedSigs('clamav-main');

/** The lines of a real gzip-compressed database that define the signatures `names`. */
function realLines(file: string, names: readonly string[]): string[] {
  const lines = gunzipSync(readFileSync(`${SIGS}/${file}`)).toString('latin1').split('\n');
  return names.map((name) => {
    const line = lines.find((candidate) => candidate.startsWith(`${name}:`) || candidate.startsWith(`${name};`));
    assert.ok(line, `${name} is in ${file}`);
    return line;
  });
}

/**
 * Bytes a body pattern matches: `??` as a space, `{n-m}` gaps as n spaces, `*` as one space,
 * alternatives by their first choice.
 */
function bytesFor(hex: string): Buffer {
  const plain = hex
    .replace(/\{(\d+)(-\d*)?\}/g, (_, n: string) => '20'.repeat(Number(n)))
    .replace(/\*/g, '20')
    .replace(/\?\?/g, '20')
    .replace(/\(([0-9a-f]+)\|[^)]*\)/gi, '$1');
  return Buffer.from(plain, 'hex');
}

describe('shared engine', () => {
  it('scans in a worker thread through shared memory, with the same results', async () => {
    const dir = tempDir();
    dir.write('a.hdb', `${EICAR_MD5}:68:Md5Sig\n`);
    dir.write('b.hsb', `${EICAR_SHA256}:*:Sha256Sig:73\n`);
    const engine = await loadEngine([dir.root]);
    const descriptor = shareEngine(engine);
    for (const table of [descriptor.names.heap, descriptor.fileHashes.md5!.digests, descriptor.fileHashes.md5!.order]) {
      assert.ok(table.buffer instanceof SharedArrayBuffer);
    }
    const reply = await scanInWorker(descriptor, [EICAR]);
    assert.deepEqual(reply.results, [['Md5Sig.UNOFFICIAL', 'Sha256Sig.UNOFFICIAL']]);
    assert.equal(reply.count, 2);
  });

  it('gives workers the phishing lists: URL hashes and regexes with their suffixes', async () => {
    const dir = tempDir();
    const blocked = createHash('sha256').update('blocked.example.com/').digest('hex');
    dir.write('a.gdb', `S1:F:${blocked}\n`);
    dir.write('b.pdb', 'R:.+\\.evil\\.net([/?].*)?:.+\\.shown\\.com([/?].*)?\nR:.+\\.evil\\.net([/?].*)?:.+\\.sho{2}wn\\.com([/?].*)?\n');
    const mail = (href: string, text: string) => `From: a@b\nContent-Type: text/html\n\n<a href="${href}">${text}</a>\n`;
    const samples = [mail('http://www.blocked.example.com/x', 'x'), mail('http://a.evil.net/', 'http://www.shown.com/'), mail('http://a.evil.net/', 'http://www.shoown.com/')];
    const engine = await loadEngine([dir.root]);
    const reply = await scanInWorker(shareEngine(engine), samples);
    assert.deepEqual(reply.results, [['Heuristics.Phishing.URL.Blocked'], ['Heuristics.Phishing.Email.SpoofedDomain'], []], 'the same alerts as in the main thread');
  });

  it('gives workers the body, logical and container signatures, in shared memory', needsSharedSigs, async () => {
    const ndb = realLines('daily.ndb.gz', [
      'Win.Trojan.Ursnif-7534191-2',
      'Win.Loader.PowerShellDecrypter-10007381-0',
      'Win.Trojan.Havoc-10035024-0',
      'Rtf.Exploit.CVE_2017_11882-6584355-1',
      'Multios.Trojan.APT_Loader_Raw64_REDFLARE_1-9804988-0',
    ]);
    const ldb = realLines('main.ldb.gz', ['Pdf.Exploit.Agent-1388600', 'Win.Trojan.Injector-14976', 'Win.Trojan.CVE_2011_3401-1']);
    const dir = tempDir();
    dir.write('real.ndb', ndb.join('\n') + '\n');
    dir.write('real.ldb', ldb.join('\n') + '\n');
    dir.write('own.ndb', ['Own.Alternatives-1:0:*:68656c6c6f(20|2c)776f726c64', 'Own.EndOfFile-1:0:EOF-10:747261696c6572'].join('\n') + '\n');
    dir.write(
      'own.ldb',
      [
        'Own.Pcre-1;Engine:81-255,Target:0;0&1;76657273696f6e3a;0/version:\\s*v\\d+\\.\\d+/i',
        'Own.Pcre-2;Engine:81-255,Target:0;0&1;4844523a;0:0/HDR:[A-Z]{4}/',
        'Own.ByteCompare-1;Engine:81-255,Target:0;0&1;73697a653d;0(>>5#de3#>200)',
        'Own.Count-1;Engine:81-255,Target:0;0>2;6576696c::i',
      ].join('\n') + '\n',
    );
    dir.write('own.cdb', ['Own.Container-1:CL_TYPE_ZIP:*:(?i)invoice\\.pdf\\.exe$:*:*:*:*:*:*', 'Own.Container-2:CL_TYPE_ZIP:*:*:12:12:0:*:*:*'].join('\n') + '\n');

    // The names are those clamscan 1.4.6 --allmatch reports for each sample written to a file
    // (some more than once), and for a zip of the two entries.
    const cases: { sample: Uint8Array; names: string[] }[] = [
      ...ndb.map((line) => ({ sample: bytesFor(line.split(':')[3]!), names: [line.split(':')[0]!] })),
      ...ldb.map((line) => {
        const [name, , , ...subsignatures] = line.split(';');
        const sample = Buffer.from(subsignatures.map((hex) => bytesFor(hex).toString('latin1')).join(' '), 'latin1');
        return { sample, names: [name!] };
      }),
      { sample: Buffer.from('they say hello,world'), names: ['Own.Alternatives-1'] },
      { sample: Buffer.from('header, then a trailer123'), names: ['Own.EndOfFile-1'] },
      { sample: Buffer.from('HDR:ABCD\nversion:  V2.10\n'), names: ['Own.Pcre-1', 'Own.Pcre-2'] },
      { sample: Buffer.from('size=350;'), names: ['Own.ByteCompare-1'] },
      { sample: Buffer.from('Evil EVIL evil'), names: ['Own.Count-1'] },
      { sample: Buffer.from('xHDR:ABCD version: v'), names: [] },
      { sample: Buffer.from('size=150;'), names: [] },
    ].map(({ sample, names }) => ({ sample, names: names.map((name) => `${name}.UNOFFICIAL`) }));
    const entry = { containerType: 'CL_TYPE_ZIP', containerSize: 300, encrypted: false };
    const entries: ContainerEntry[] = [
      { ...entry, name: 'Invoice.pdf.exe', compressedSize: 2, realSize: 2, position: 1 },
      { ...entry, name: 'notes.txt', compressedSize: 12, realSize: 12, position: 2 },
    ];

    const engine = await loadEngine([dir.root]);
    const scanner = new Scanner(engine, scanOptions({ allMatch: true }));
    const results = cases.map(({ sample }) => scanner.scanBuffer(sample).viruses);
    assert.deepEqual(
      results.map((names) => [...new Set(names)].sort()),
      cases.map(({ names }) => names),
    );
    const containerResults = entries.map((e) => containerMatches(engine.body, e));
    assert.deepEqual(containerResults, [['Own.Container-1.UNOFFICIAL'], ['Own.Container-2.UNOFFICIAL']]);

    const descriptor = shareEngine(engine);
    const generic = descriptor.body.programs[0]!;
    for (const table of [
      generic.patterns.elements,
      generic.patterns.columns.owner,
      generic.matcher!.index.three.lists.values,
      generic.matcher!.lists.nodes.values,
      generic.logical.expressionIds,
      generic.logical.names.heap,
      descriptor.body.reportNames.heap,
    ]) {
      assert.ok(table.buffer instanceof SharedArrayBuffer);
    }
    const reply = await scanInWorker(descriptor, cases.map(({ sample }) => sample), entries);
    assert.deepEqual(reply.results, results);
    assert.deepEqual(reply.containerResults, containerResults);
    assert.equal(reply.count, engine.signatureCount);
    assert.ok(reply.bodyShared);
  });
});
