/**
 * ZIP: the real samples (deflate, implode, deflate64, bzip2), archives written by Info-ZIP zip,
 * and archives built here byte by byte to reach ClamAV's corner cases (no central directory,
 * corrupt and truncated members, "stored" members that are really deflated, overlapping entries,
 * members only the local-header walk finds). Real clamscan is the oracle for every such case.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { zipHandler, zipSfxHandler } from '../src/formats/zip.js';
import {
  CLAM_EXE, clamscan, extractAll, fuzz, hashSignature, md5, needsClamscan, needsTestfiles, needsTool, noise, prose,
  recordingContext, run, testfile,
} from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

interface Entry {
  name: string;
  /** The member's bytes as stored in the archive (already compressed). */
  stored: Uint8Array;
  method: number;
  size: number;
  flags?: number;
}

function localHeader(entry: Entry): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(entry.flags ?? 0, 6);
  header.writeUInt16LE(entry.method, 8);
  header.writeUInt32LE(entry.stored.length, 18);
  header.writeUInt32LE(entry.size, 22);
  header.writeUInt16LE(Buffer.byteLength(entry.name, 'latin1'), 26);
  return Buffer.concat([header, Buffer.from(entry.name, 'latin1'), entry.stored]);
}

function centralHeader(entry: Entry, offset: number): Buffer {
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(20, 6);
  header.writeUInt16LE(entry.flags ?? 0, 8);
  header.writeUInt16LE(entry.method, 10);
  header.writeUInt32LE(entry.stored.length, 20);
  header.writeUInt32LE(entry.size, 24);
  header.writeUInt16LE(Buffer.byteLength(entry.name, 'latin1'), 28);
  header.writeUInt32LE(offset, 42);
  return Buffer.concat([header, Buffer.from(entry.name, 'latin1')]);
}

function endRecord(count: number, size: number, offset: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return end;
}

/**
 * A zip of `entries` (local headers in order); `listed` chooses which entries the central
 * directory lists (all by default), `hidden` blobs are placed between local headers unlisted.
 */
function buildZip(entries: Entry[], listed = entries.map((_, i) => i)): Buffer {
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const entry of entries) {
    offsets.push(offset);
    const local = localHeader(entry);
    parts.push(local);
    offset += local.length;
  }
  const central = Buffer.concat(listed.map((i) => centralHeader(entries[i]!, offsets[i]!)));
  return Buffer.concat([...parts, central, endRecord(listed.length, central.length, offset)]);
}

const stored = (name: string, data: Uint8Array): Entry => ({ name, stored: data, method: 0, size: data.length });
const deflated = (name: string, data: Uint8Array): Entry => ({ name, stored: zlib.deflateRawSync(data), method: 8, size: data.length });

/** The members a zip handler extracts: it yields its headers' metadata separately, before them. */
function members(handler: typeof zipHandler, file: Uint8Array, ctx = recordingContext()) {
  return extractAll(handler, file, ctx).filter((object) => object.noMetadata);
}

/** The metadata the handler yields for container signatures (central, then local header of each entry). */
function headerMetadata(file: Uint8Array) {
  return extractAll(zipHandler, file).filter((object) => !object.noMetadata);
}

/** Member contents distinct enough to be told apart by their hashes. */
const member = (label: string, size = 3000): Buffer => Buffer.concat([Buffer.from(`${label}\n`), prose(size)]);

/** Hash signatures named after each payload, and which of them our extraction reproduces. */
function hashVerdicts(file: Uint8Array, payloads: Record<string, Uint8Array>, ctx = recordingContext()) {
  const hdb = Object.entries(payloads).map(([name, bytes]) => hashSignature(name, bytes));
  const ours = new Set<string>();
  for (const object of members(zipHandler, file, ctx)) {
    for (const [name, bytes] of Object.entries(payloads)) if (md5(object.data) === md5(bytes)) ours.add(name);
  }
  for (const h of ctx.heuristics) ours.add(h.name);
  return { hdb, ours: [...ours].sort() };
}

describe('zip handler', () => {
  for (const [sample, method] of [['clam.zip', 8], ['clam.impl.zip', 6], ['clam.d64.zip', 9], ['clam.bz2.zip', 12]] as const) {
    it(`extracts clam.exe from ${sample} (method ${method})`, needsTestfiles, () => {
      const objects = members(zipHandler, testfile(sample));
      assert.equal(objects.length, 1);
      assert.deepEqual(Buffer.from(objects[0]!.data), Buffer.from(CLAM_EXE));
      assert.equal(objects[0]!.method, method);
      assert.equal(objects[0]!.name!.toLowerCase(), 'clam.exe');
      const metadata = headerMetadata(testfile(sample));
      assert.equal(metadata.length, 2, 'the central and the local header');
      for (const header of metadata) {
        assert.equal(header.data.length, 0);
        assert.equal(header.name!.toLowerCase(), 'clam.exe');
        assert.equal(header.position, 1);
        assert.equal(header.declaredSize, CLAM_EXE.length);
      }
    });
  }

  it('extracts what Info-ZIP zip writes: names, positions, methods, data descriptors', needsTool('zip', '-v'), () => {
    const dir = tempDir('clamts-zip-');
    const files: Record<string, Buffer> = {
      'a/deflated.txt': member('deflated', 20_000),
      'a/tiny.bin': Buffer.from(noise(300)),
      'b/empty': Buffer.alloc(0),
      'c.exe': Buffer.from(CLAM_EXE.length ? CLAM_EXE : noise(544)),
    };
    for (const [name, data] of Object.entries(files)) {
      mkdirSync(join(dir.root, 'tree', name, '..'), { recursive: true });
      writeFileSync(join(dir.root, 'tree', name), data);
    }
    for (const options of [['-9'], ['-0'], ['-Z', 'bzip2']]) {
      const archive = join(dir.root, `out${options.join('')}.zip`);
      run('zip', ['-q', '-r', '-X', ...options, archive, '.'], undefined, join(dir.root, 'tree'));
      const objects = members(zipHandler, run('cat', [archive]));
      const byName = new Map(objects.map((o) => [o.name!.replace(/^\.\//, ''), o]));
      for (const [name, data] of Object.entries(files)) {
        if (data.length === 0) assert.ok(!byName.has(name), 'empty members are skipped');
        else assert.deepEqual(Buffer.from(byName.get(name)!.data), data, `${name} ${options.join(' ')}`);
      }
    }
    // Streamed input makes zip use a data descriptor: sizes then come from the central directory.
    const streamed = run('zip', ['-q', '-', '-'], files['a/deflated.txt']);
    const [object] = members(zipHandler, streamed);
    assert.deepEqual(Buffer.from(object!.data), files['a/deflated.txt']);
  });

  it('reports encrypted members instead of extracting them, like clamscan --alert-encrypted-archive', { ...needsTool('zip', '-v'), ...needsClamscan }, () => {
    const dir = tempDir('clamts-zip-');
    const secret = member('secret');
    dir.write('secret.txt', secret);
    run('zip', ['-q', '-P', 'infected', 'locked.zip', 'secret.txt'], undefined, dir.root);
    const file = run('cat', [join(dir.root, 'locked.zip')]);
    const ctx = recordingContext();
    const { hdb, ours } = hashVerdicts(file, { Secret: secret }, ctx);
    assert.deepEqual(ctx.heuristics, [{ kind: 'encrypted-archive', name: 'Heuristics.Encrypted.Zip' }]);
    assert.deepEqual(ours, clamscan(file, { hdb }, ['--alert-encrypted-archive']));
  });

  it('agrees with clamscan on damaged and unusual archives', needsClamscan, () => {
    const one = member('one');
    const two = member('two');
    const broken = Buffer.from(zlib.deflateRawSync(two));
    broken.fill(0xff, 10, 40);
    const cut = zlib.deflateRawSync(member('cut', 60_000)).subarray(0, 2000);
    const cutOutput = Buffer.from(members(zipHandler, buildZip([{ name: 'cut', stored: cut, method: 8, size: 60_000 }]))[0]!.data);
    const reallyDeflated: Entry = { name: 'fake-stored', stored: zlib.deflateRawSync(two), method: 0, size: two.length };
    const cases: Array<[string, Buffer, Record<string, Uint8Array>]> = [
      ['plain', buildZip([deflated('one', one), stored('two', two)]), { One: one, Two: two }],
      ['no central directory', buildZip([deflated('one', one)]).subarray(0, localHeader(deflated('one', one)).length), { One: one }],
      ['corrupt second member', buildZip([deflated('one', one), { name: 'two', stored: broken, method: 8, size: two.length }]), { One: one, Two: two }],
      ['truncated deflate stream', buildZip([{ name: 'cut', stored: cut, method: 8, size: 60_000 }]), { Cut: cutOutput }],
      ['stored but really deflated', buildZip([reallyDeflated]), { Two: two, Raw: reallyDeflated.stored }],
      ['unsupported method', buildZip([{ ...deflated('one', one), method: 14 }]), { One: one }],
      ['path traversal name', buildZip([deflated('../../etc/passwd', one)]), { One: one }],
    ];
    for (const [label, file, payloads] of cases) {
      const { hdb, ours } = hashVerdicts(file, payloads);
      assert.deepEqual(ours, clamscan(file, { hdb }), label);
    }
  });

  it('gives up on overlapping entries the way clamscan does', needsClamscan, () => {
    /** Entries nested in each other: each stored member's data is all the entries after it. */
    const nested = (count: number): { file: Buffer; inner: Buffer } => {
      const inner = member('innermost');
      let blob = localHeader(stored('e0', inner));
      const entries = [{ offsetFromEnd: blob.length }];
      for (let i = 1; i < count; i++) {
        blob = localHeader(stored(`e${i}`, blob));
        entries.push({ offsetFromEnd: blob.length });
      }
      const central = Buffer.concat(entries.map((e, i) => {
        const offset = blob.length - e.offsetFromEnd;
        const size = e.offsetFromEnd - 30 - `e${i}`.length;
        return centralHeader({ name: `e${i}`, stored: Buffer.alloc(size), method: 0, size }, offset);
      }));
      return { file: Buffer.concat([blob, central, endRecord(count, central.length, blob.length)]), inner };
    };
    for (const count of [6, 7]) {
      const { file, inner } = nested(count);
      const { hdb, ours } = hashVerdicts(file, { Inner: inner });
      assert.deepEqual(ours, clamscan(file, { hdb }), `${count} nested entries`);
    }
  });

  it('walks the local headers when most central entries fail, as clamscan does', needsClamscan, () => {
    const good = member('good');
    const hidden = member('hidden');
    const bad = (name: string): Entry => ({ ...deflated(name, member(name)), method: 99 });
    for (const failing of [1, 3]) {
      const entries = [deflated('good', good), ...Array.from({ length: failing }, (_, i) => bad(`bad${i}`)), deflated('hidden', hidden)];
      const listed = entries.map((_, i) => i).slice(0, -1); // the last member is not in the directory
      const file = buildZip(entries, listed);
      const { hdb, ours } = hashVerdicts(file, { Good: good, Hidden: hidden });
      assert.deepEqual(ours, clamscan(file, { hdb }), `${failing} failing entries`);
    }
  });

  it('cuts a zip bomb member at the budget in 8 KiB steps, quickly', () => {
    const bomb = buildZip([deflated('zeros', Buffer.alloc(10 * 1024 * 1024))]);
    const started = performance.now();
    const [object] = members(zipHandler, bomb, recordingContext(1_000_000));
    assert.equal(object!.data.length, 1_000_000 - (1_000_000 % 8192));
    assert.ok(performance.now() - started < 2000);
  });

  it('extracts the single member of an embedded zip (ZIPSFX)', () => {
    const one = member('sfx member');
    const [object, ...rest] = members(zipSfxHandler, localHeader(deflated('inside.txt', one)));
    assert.equal(rest.length, 0);
    assert.deepEqual(Buffer.from(object!.data), one);
    assert.equal(object!.name, 'inside.txt');
  });

  it('survives seeded mutations of valid archives', () => {
    const samples = [
      buildZip([deflated('a', member('a')), stored('b', member('b', 500)), { ...deflated('c', member('c')), flags: 1 }]),
      ...(CLAM_EXE.length ? ['clam.zip', 'clam.impl.zip', 'clam.d64.zip', 'clam.bz2.zip'].map((name) => Buffer.from(testfile(name))) : []),
    ];
    fuzz(zipHandler, samples, { seed: 0x21b });
    fuzz(zipSfxHandler, samples, { seed: 0x5f, iterations: 50 });
  });
});
