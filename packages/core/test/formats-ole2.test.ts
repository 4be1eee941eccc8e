/**
 * OLE2: the real samples (clam.ole.doc with an embedded OLE 1.0 package, clam.ppt with an
 * embedded compound document), and compound files built here byte by byte: VBA projects (dir
 * stream and MS-OVBA compressed modules), old-style _VBA_PROJECT projects, Word 6 macros,
 * compressed MSO streams, nested storages and broken directories. Real clamscan is the oracle:
 * the VBA project text is compared byte for byte with the file ClamAV leaves behind with
 * --leave-temps, and macro sources are checked through target-type-2 body signatures.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import type { DocumentObject } from '../src/formats/documents/objects.js';
import { inflateVba, normaliseVba, readVbaProject, vbaUnicodeName } from '../src/formats/documents/vba.js';
import { readVbaDirProject } from '../src/formats/documents/vba-dir.js';
import { readWordMacros } from '../src/formats/documents/word-macros.js';
import { createOle2Handler, ole2Handler } from '../src/formats/ole2.js';
import {
  CLAM_EXE, clamscan, clamtsScan, fuzz, hashSignature, md5, needsClamscan, needsTestfiles, recordingContext, testfile,
  type RecordingContext,
} from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

// ---------------------------------------------------------------------------------------------
// Builders: compound files, MS-OVBA compression, VBA `dir` streams, Word 6 macro tables.

interface Node {
  name: string;
  type: 'storage' | 'stream';
  data?: Uint8Array;
  children?: Node[];
  /** Overrides for hostile directories. */
  next?: number;
  child?: number;
}

const END_OF_CHAIN = 0xfffffffe;
const FREE_SECT = 0xffffffff;
const FAT_SECT = 0xfffffffd;
const NO_STREAM = 0xffffffff;

/**
 * A version 3 compound file (512-byte sectors, 64-byte mini sectors below 4096 bytes). Siblings
 * are chained through their right pointers, which ClamAV walks in order.
 */
function compoundFile(children: Node[]): Uint8Array {
  interface Entry {
    node: Node;
    index: number;
    child: number;
    next: number;
    start: number;
    size: number;
  }
  const entries: Entry[] = [{ node: { name: 'Root Entry', type: 'storage', children }, index: 0, child: NO_STREAM, next: NO_STREAM, start: 0, size: 0 }];
  const flatten = (list: Node[]): number => {
    const placed = list.map((node) => {
      const entry: Entry = { node, index: entries.length, child: NO_STREAM, next: NO_STREAM, start: 0, size: 0 };
      entries.push(entry);
      return entry;
    });
    placed.forEach((entry, i) => {
      entry.next = entry.node.next ?? placed[i + 1]?.index ?? NO_STREAM;
    });
    for (const entry of placed) {
      if (entry.node.children?.length) entry.child = flatten(entry.node.children);
      if (entry.node.child !== undefined) entry.child = entry.node.child;
    }
    return placed[0]?.index ?? NO_STREAM;
  };
  entries[0]!.child = flatten(children);

  const sectors: Uint8Array[] = [];
  const fat: number[] = [];
  const allocate = (data: Uint8Array): number => {
    const count = Math.max(1, Math.ceil(data.length / 512));
    const start = sectors.length;
    for (let k = 0; k < count; k++) {
      const sector = new Uint8Array(512);
      sector.set(data.subarray(k * 512, k * 512 + 512));
      sectors.push(sector);
      fat.push(k + 1 < count ? start + k + 1 : END_OF_CHAIN);
    }
    return start;
  };
  const directory = new Uint8Array(Math.ceil(entries.length / 4) * 512);
  const directoryStart = allocate(directory);
  const mini: Uint8Array[] = [];
  const miniFat: number[] = [];
  for (const entry of entries) {
    const data = entry.node.type === 'stream' ? (entry.node.data ?? new Uint8Array()) : undefined;
    if (!data) continue;
    entry.size = data.length;
    if (!data.length) entry.start = END_OF_CHAIN;
    else if (data.length < 4096) {
      const count = Math.ceil(data.length / 64);
      entry.start = miniFat.length;
      for (let k = 0; k < count; k++) miniFat.push(k + 1 < count ? miniFat.length + 1 : END_OF_CHAIN);
      const padded = new Uint8Array(count * 64);
      padded.set(data);
      mini.push(padded);
    }
  }
  const miniStream = Buffer.concat(mini);
  let miniFatStart = END_OF_CHAIN;
  if (miniFat.length) {
    const table = Buffer.alloc(miniFat.length * 4);
    miniFat.forEach((value, k) => table.writeUInt32LE(value, k * 4));
    miniFatStart = allocate(table);
  }
  entries[0]!.start = miniStream.length ? allocate(miniStream) : END_OF_CHAIN;
  entries[0]!.size = miniStream.length;
  for (const entry of entries) {
    if (entry.node.type === 'stream' && entry.size >= 4096) entry.start = allocate(entry.node.data!);
  }
  let fatSectors = 1;
  while (sectors.length + fatSectors > fatSectors * 128) fatSectors++;
  const fatStart = sectors.length;
  for (let k = 0; k < fatSectors; k++) {
    sectors.push(new Uint8Array(512));
    fat.push(FAT_SECT);
  }
  while (fat.length < fatSectors * 128) fat.push(FREE_SECT);
  for (let k = 0; k < fatSectors; k++) {
    const view = Buffer.from(sectors[fatStart + k]!.buffer);
    for (let j = 0; j < 128; j++) view.writeUInt32LE(fat[k * 128 + j]!, j * 4);
  }
  const dir = Buffer.from(directory.buffer);
  for (const entry of entries) {
    const at = entry.index * 128;
    const name = Buffer.from(entry.node.name, 'utf16le').subarray(0, 62);
    name.copy(dir, at);
    dir.writeUInt16LE(name.length + 2, at + 64);
    dir[at + 66] = entry.index === 0 ? 5 : entry.node.type === 'storage' ? 1 : 2;
    dir[at + 67] = 1;
    dir.writeUInt32LE(NO_STREAM, at + 68);
    dir.writeUInt32LE(entry.next, at + 72);
    dir.writeUInt32LE(entry.child, at + 76);
    dir.writeUInt32LE(entry.node.type === 'stream' || entry.index === 0 ? entry.start : 0, at + 116);
    dir.writeUInt32LE(entry.size, at + 120);
  }
  for (let k = 0; k < directory.length / 512; k++) sectors[directoryStart + k]!.set(directory.subarray(k * 512, k * 512 + 512));
  const header = Buffer.alloc(512);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(header);
  header.writeUInt16LE(0x3e, 24);
  header.writeUInt16LE(3, 26);
  header.writeUInt16LE(0xfffe, 28);
  header.writeUInt16LE(9, 30);
  header.writeUInt16LE(6, 32);
  header.writeUInt32LE(fatSectors, 44);
  header.writeUInt32LE(directoryStart, 48);
  header.writeUInt32LE(4096, 56);
  header.writeUInt32LE(miniFatStart, 60);
  header.writeUInt32LE(Math.ceil(miniFat.length / 128), 64);
  header.writeUInt32LE(END_OF_CHAIN, 68);
  for (let k = 0; k < 109; k++) header.writeUInt32LE(k < fatSectors ? fatStart + k : FREE_SECT, 76 + k * 4);
  return Buffer.concat([header, ...sectors]);
}

/** MS-OVBA compression (greedy matching), as Office writes module source and `dir` streams. */
function compressOvba(data: Uint8Array): Uint8Array {
  const out: number[] = [1];
  for (let chunkStart = 0; ; chunkStart += 4096) {
    const end = Math.min(chunkStart + 4096, data.length);
    const chunk: number[] = [];
    let p = chunkStart;
    while (p < end) {
      const flagAt = chunk.push(0) - 1;
      let flag = 0;
      for (let bit = 0; bit < 8 && p < end; bit++) {
        let bitCount = 4;
        while (1 << bitCount < p - chunkStart) bitCount++;
        const maxLength = (0xffff >> bitCount) + 3;
        let best = 0;
        let bestOffset = 0;
        for (let c = p - 1; c >= chunkStart; c--) {
          let length = 0;
          while (p + length < end && length < maxLength && data[c + length] === data[p + length]) length++;
          if (length > best) {
            best = length;
            bestOffset = p - c;
          }
        }
        if (best >= 3) {
          const token = ((bestOffset - 1) << (16 - bitCount)) | (best - 3);
          chunk.push(token & 0xff, token >> 8);
          flag |= 1 << bit;
          p += best;
        } else chunk.push(data[p++]!);
      }
      chunk[flagAt] = flag;
    }
    const header = ((chunk.length - 1) & 0xfff) | 0xb000;
    out.push(header & 0xff, header >> 8, ...chunk);
    if (end >= data.length) break;
  }
  return new Uint8Array(out);
}

const u16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const u32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
const record = (id: number, bytes: number[]) => [...u16(id), ...u32(bytes.length), ...bytes];
const latin1 = (s: string) => [...Buffer.from(s, 'latin1')];
const utf16 = (s: string) => [...Buffer.from(s, 'utf16le')];

interface ModuleSpec {
  name: string;
  offset: number;
  kind?: 'procedural' | 'class';
}

/** An uncompressed `dir` stream (MS-OVBA 2.3.4.2) describing the modules. */
function dirStream(modules: ModuleSpec[], codepage = 1252): Uint8Array {
  const bytes = [
    ...record(0x01, u32(1)),
    ...record(0x02, u32(0x409)),
    ...record(0x14, u32(0x409)),
    ...record(0x03, u16(codepage)),
    ...record(0x04, latin1('VBAProject')),
    ...record(0x05, latin1('doc')),
    ...record(0x40, utf16('doc')),
    ...record(0x06, []),
    ...record(0x3d, []),
    ...record(0x07, u32(0)),
    ...record(0x08, u32(0)),
    ...[...u16(0x09), ...u32(4), ...u32(0x5b0f0eab), ...u16(6)],
    ...record(0x0f, u16(modules.length)),
    ...record(0x13, u16(0xffff)),
  ];
  for (const module of modules) {
    bytes.push(...record(0x19, latin1(module.name)), ...record(0x47, utf16(module.name)));
    bytes.push(...record(0x1a, latin1(module.name)), ...record(0x32, utf16(module.name)));
    bytes.push(...record(0x1c, []), ...record(0x48, []), ...record(0x31, u32(module.offset)));
    bytes.push(...record(0x1e, u32(0)), ...record(0x2c, u16(0xffff)));
    bytes.push(...record(module.kind === 'class' ? 0x22 : 0x21, []), ...record(0x2b, []));
  }
  bytes.push(...record(0x10, []));
  return new Uint8Array(bytes);
}

const MODULE_SOURCE =
  'Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\n    MsgBox   "Keep  THIS"   _\r\n      & "Tail"\r\nEnd Sub\r\n';

/** A Word document with a modern VBA project under Macros/VBA. */
function vbaDocument(source = MODULE_SOURCE, options: { cacheBytes?: number; codepage?: number } = {}): Uint8Array {
  const cache = options.cacheBytes ?? 29;
  const module = Buffer.concat([Buffer.alloc(cache, 0x55), compressOvba(Buffer.from(source, 'latin1'))]);
  return compoundFile([
    { name: 'WordDocument', type: 'stream', data: Buffer.alloc(700, 1) },
    {
      name: 'Macros',
      type: 'storage',
      children: [
        {
          name: 'VBA',
          type: 'storage',
          children: [
            { name: 'dir', type: 'stream', data: compressOvba(dirStream([{ name: 'Module1', offset: cache }], options.codepage)) },
            { name: 'Module1', type: 'stream', data: module },
            { name: '_VBA_PROJECT', type: 'stream', data: new Uint8Array([0xcc, 0x61, 0xff, 0xff, 0, 0, 0]) },
          ],
        },
        { name: 'PROJECT', type: 'stream', data: Buffer.from('ID="{00000000-0000-0000-0000-000000000000}"\r\n') },
      ],
    },
  ]);
}

/**
 * A pre-Office 2000 `_VBA_PROJECT` stream listing one module, laid out for ClamAV's reader: the
 * 34-byte header, one little-endian project string (its zero follow-up length ends the strings;
 * 10 bytes are skipped after it), a short length that stops the string walk, the 0xFFFF marker
 * ClamAV skips to, two fields and 100 skipped bytes, then the module record.
 */
function oldVbaProject(moduleName: string, offset: number): Uint8Array {
  const reference = utf16('*\\G{000204EF-0000-0000-C000-000000000046}');
  const name = utf16(moduleName);
  return new Uint8Array([
    0xcc, 0x61, ...new Array(32).fill(0),
    ...u16(reference.length), ...reference, ...u16(0), ...new Array(10).fill(0),
    ...u16(0), 0xff, 0xff, ...u16(0), 0xff, 0xff, ...new Array(100).fill(0),
    ...u16(1),
    ...u16(name.length), ...name, ...u16(0), ...u16(0), ...new Array(10).fill(0), ...u16(0), ...new Array(5).fill(0),
    ...u32(offset), 0, 0,
  ]);
}

/** A Word 6 `WordDocument` stream with one XOR-encrypted macro. */
function word6Document(macro: Uint8Array, key: number): Uint8Array {
  const stream = Buffer.alloc(0x400);
  const tableOffset = 0x200;
  const macroOffset = 0x300;
  const table = [0xff, 0x01, ...u16(1), 0x01, key, ...new Array(10).fill(0), ...u32(macro.length), ...u32(0), ...u32(macroOffset), 0x40];
  stream.writeUInt32LE(tableOffset, 0x118);
  stream.writeUInt32LE(table.length, 0x11c);
  Buffer.from(table).copy(stream, tableOffset);
  Buffer.from(macro.map((b) => b ^ key)).copy(stream, macroOffset);
  return stream;
}

// ---------------------------------------------------------------------------------------------
// Oracle helpers.

function extract(data: Uint8Array, ctx: RecordingContext = recordingContext()): DocumentObject[] {
  return [...(ole2Handler.extract(data, ctx) as Iterable<DocumentObject>)];
}

/** The VBA project texts ClamAV built and kept (clamscan --leave-temps). */
function clamavVbaProjects(file: Uint8Array): Buffer[] {
  const dir = tempDir('clamts-ole2-');
  const target = dir.write('sample.doc', file);
  const temps = join(dir.root, 'temps');
  spawnSync('mkdir', [temps]);
  spawnSync('clamscan', ['--leave-temps', `--tempdir=${temps}`, '--no-summary', '-d', dir.write('none.hdb', `${'0'.repeat(32)}:1:None\n`), target]);
  const found: Buffer[] = [];
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.startsWith('vba_project')) found.push(readFileSync(full));
    }
  };
  walk(temps);
  return found;
}

const scripts = (objects: DocumentObject[]) => objects.filter((o) => o.scanAs?.[0] === 'CL_TYPE_SCRIPT');
const macros = (objects: DocumentObject[]) => objects.filter((o) => o.scanAs?.[0] === 'CL_TYPE_MSOLE2');

// ---------------------------------------------------------------------------------------------

describe('OLE2 samples', () => {
  it('extracts clam.exe from the OLE 1.0 package in clam.ole.doc', needsTestfiles, () => {
    const objects = extract(testfile('clam.ole.doc'));
    const clam = objects.filter((o) => md5(o.data) === md5(CLAM_EXE));
    assert.equal(clam.length, 1);
    // Streams of the nested storages are scanned at every level above them, as ClamAV does.
    assert.equal(objects.filter((o) => o.name === '_1_ole10native').length, 3);
    assert.equal(objects.filter((o) => o.name === 'worddocument').length, 1);
  });

  it('inflates the embedded document of clam.ppt, which holds clam.exe', needsTestfiles, () => {
    const objects = extract(testfile('clam.ppt'));
    // ClamAV's ppt-ole2-tmp/ppt00001152.doc has this digest (clamscan --leave-temps).
    const embedded = objects.find((o) => md5(o.data) === '34bbee039661ffefe723e4c053c4349e');
    assert.ok(embedded, 'the ExOleObjStg object');
    assert.ok(extract(embedded.data).some((o) => md5(o.data) === md5(CLAM_EXE)));
  });

  it('is detected by ClamAV and by us through the same chain', { ...needsTestfiles, ...needsClamscan }, () => {
    for (const name of ['clam.ole.doc', 'clam.ppt']) {
      assert.deepEqual(clamscan(testfile(name), { hdb: [hashSignature('Clam.Exe', CLAM_EXE)] }), ['Clam.Exe']);
    }
  });
});

describe('VBA projects', () => {
  it('builds the project text byte for byte as ClamAV does', needsClamscan, () => {
    const document = vbaDocument();
    const ctx = recordingContext();
    const ours = scripts(extract(document, ctx));
    const theirs = clamavVbaProjects(document);
    assert.ok(theirs.length > 0, 'ClamAV kept a project text');
    for (const text of theirs) assert.equal(md5(text), md5(ours[0]!.data));
    // The project's storage is two levels down: ClamAV builds the text at each of the 3 levels.
    assert.equal(ours.length, theirs.length);
    const text = Buffer.from(ours[0]!.data).toString('latin1');
    assert.match(text, /^REM VBA project extracted from Microsoft Office document\n\nREM PROJECTSYSKIND: Windows 32 bit\n/);
    assert.match(text, /REM MODULENAME: Module1\nREM MODULENAMEUNICODE: Module1\n/);
    assert.match(text, /sub autoopen\(\)\r\n msgbox "Keep  THIS" & "Tail"\r\nend sub/);
    assert.ok(ctx.heuristics.some((h) => h.kind === 'macros' && h.name === 'Heuristics.OLE2.ContainsMacros.VBA'));
  });

  it('matches ClamAV for sources ending on a window boundary and for other code pages', needsClamscan, () => {
    const cases = [
      vbaDocument('A'.repeat(4096)),
      vbaDocument(`Sub X()\r\n${'ab'.repeat(3000)}\r\nEnd Sub\r\n`, { cacheBytes: 0 }),
      vbaDocument('Sub \x93Quoted\x94 \x81bad()\r\n', { codepage: 1252 }),
      vbaDocument('Sub Caf\xe9()\r\n', { codepage: 1251 }),
      vbaDocument('Sub \xc3\xa9t\xc3\r\n', { codepage: 65001 }),
    ];
    for (const document of cases) {
      const ours = scripts(extract(document)).map((o) => md5(o.data));
      const theirs = clamavVbaProjects(document).map(md5);
      assert.deepEqual(ours, theirs);
    }
  });

  it('reports the macro heuristic like clamscan --alert-macros', needsClamscan, () => {
    const document = vbaDocument();
    assert.deepEqual(clamscan(document, { hdb: [hashSignature('None', new Uint8Array([1]))] }, ['--alert-macros=yes']), [
      'Heuristics.OLE2.ContainsMacros.VBA',
    ]);
    const plain = compoundFile([{ name: 'Contents', type: 'stream', data: Buffer.alloc(100, 7) }]);
    const ctx = recordingContext();
    extract(plain, ctx);
    assert.deepEqual(ctx.heuristics, []);
  });

  it('rejects the whole project when a record is malformed, with ClamAV\'s warning', () => {
    const broken = dirStream([{ name: "Module1", offset: 0 }]).slice(0, 46); // PROJECTNAME cut short
    const warnings: string[] = [];
    const result = readVbaDirProject(compressOvba(broken), () => [], 1 << 20, (w) => warnings.push(w));
    assert.equal(result.inflated, true);
    assert.equal(result.text, undefined);
    assert.deepEqual(warnings, ['vba_readdir_new: Record stretches past the end of the file']);
  });

  it('normalises VBA source as vba_normalize does', () => {
    const normalised = normaliseVba(Buffer.from('Dim  X As \t String\r\nY = "A  B" _\r\n  + Z\n'));
    assert.equal(Buffer.from(normalised).toString('latin1'), 'dim x as string\r\ny = "A  B" + z\n');
  });

  it('decompresses MS-OVBA containers and drops nothing before a window boundary', () => {
    const text = Buffer.from('abcabcabcabc-hello-hello-hello '.repeat(300));
    const out = inflateVba(compressOvba(text), 0, 1 << 20);
    // ClamAV's decoder emits the last window only up to pos % 4096.
    const expected = text.length % 4096 === 0 ? text.length - 4096 : text.length;
    assert.equal(Buffer.from(out!).toString(), text.subarray(0, expected).toString());
    assert.equal(inflateVba(new Uint8Array([1, 0xb0, 0x00]), 0, 100), undefined, 'nothing decoded');
    assert.equal(inflateVba(new Uint8Array([1, 0xb0, 0x00, 0x01, 0x41]), 0, 100), undefined, 'copy token cut short');
  });
});

describe('old VBA projects and Word 6 macros', () => {
  it('reads the module list of a _VBA_PROJECT stream', () => {
    const modules = readVbaProject(oldVbaProject('Module1', 0x20), (name) => (name === 'module1' ? 1 : 0));
    assert.deepEqual(modules, [{ name: 'module1', offset: 0x20 }]);
    assert.equal(readVbaProject(oldVbaProject('Missing', 0), () => 0), undefined, 'a module without a stream');
    assert.equal(vbaUnicodeName(Buffer.from('*\\G\u0001', 'utf16le'), false), '*\\g_1_');
  });

  it('scans the old-style module source in memory with the OLE2 target type, as ClamAV does', needsClamscan, () => {
    const marker = 'Sub OldStyleMarker()';
    const source = compressOvba(Buffer.from(`Attribute VB_Name = "Module1"\r\n${marker}\r\nEnd Sub\r\n`));
    const document = compoundFile([
      { name: '_VBA_PROJECT', type: 'stream', data: oldVbaProject('Module1', 0x20) },
      { name: 'Module1', type: 'stream', data: Buffer.concat([Buffer.alloc(0x20), source]) },
    ]);
    const ctx = recordingContext();
    const found = macros(extract(document, ctx));
    assert.equal(found.length, 1);
    assert.ok(Buffer.from(found[0]!.data).includes(marker));
    assert.ok(ctx.heuristics.some((h) => h.name === 'Heuristics.OLE2.ContainsMacros.VBA'));
    // Matched in memory (vba_scandata): body signatures apply, hash signatures do not.
    const db = { ndb: [`Old.Vba:2:*:${Buffer.from(marker).toString('hex')}`], hdb: [hashSignature('Old.Vba.Hash', found[0]!.data)] };
    assert.deepEqual(clamscan(document, db), ['Old.Vba']);
    assert.deepEqual(clamtsScan(document, db), ['Old.Vba']);
  });

  it('decrypts Word 6 macros and scans them with the OLE2 target type', needsClamscan, () => {
    const marker = 'WordBasicMacroMarker';
    const macro = Buffer.from(`xx${marker}yy`);
    const stream = word6Document(macro, 0x5a);
    assert.deepEqual(readWordMacros(stream).map((m) => Buffer.from(m).toString()), [macro.toString()]);
    const document = compoundFile([{ name: 'WordDocument', type: 'stream', data: stream }]);
    assert.ok(macros(extract(document)).some((o) => Buffer.from(o.data).includes(marker)));
    assert.deepEqual(clamscan(document, { ndb: [`Word6.Macro:2:*:${Buffer.from(marker).toString('hex')}`] }), ['Word6.Macro']);
  });
});

describe('streams without macros', () => {
  it('scans every stream, inflating compressed MSO streams', needsClamscan, () => {
    const payload = Buffer.from('inflated mso payload '.repeat(200));
    const mso = Buffer.concat([Buffer.from(u32(payload.length)), zlib.deflateSync(payload)]);
    const other = Buffer.from('plain stream contents '.repeat(20));
    const document = compoundFile([
      { name: 'Mso', type: 'stream', data: mso },
      { name: 'Other', type: 'stream', data: other },
    ]);
    const objects = extract(document);
    assert.deepEqual(objects.map((o) => md5(o.data)), [md5(payload), md5(other)]);
    assert.deepEqual(clamscan(document, { hdb: [hashSignature('Mso.Payload', payload)] }), ['Mso.Payload']);
  });

  it('warns when the inflated size differs from the declared one', () => {
    const payload = Buffer.alloc(3000, 0x41);
    const mso = Buffer.concat([Buffer.from(u32(10)), zlib.deflateSync(payload)]);
    const ctx = recordingContext();
    const objects = extract(compoundFile([{ name: 'Mso', type: 'stream', data: mso }]), ctx);
    assert.equal(objects[0]!.data.length, 3000);
    assert.ok(ctx.debugLines.includes('scan_mso_stream: declared prefix != inflated stream size, 10 != 3000'));
  });
});

describe('hostile compound files', () => {
  it('stops at directory loops and self-referencing storages', () => {
    const looped = compoundFile([
      { name: 'A', type: 'stream', data: Buffer.from('a'), next: 1 },
      { name: 'B', type: 'storage', child: 2 },
    ]);
    const started = performance.now();
    extract(looped);
    assert.ok(performance.now() - started < 1000);
  });

  it('reports deep storage nesting as Heuristics.Limits.Exceeded.MaxRecursion', needsClamscan, () => {
    let nodes: Node[] = [{ name: 'Leaf', type: 'stream', data: Buffer.from('deep') }];
    for (let depth = 0; depth < 20; depth++) nodes = [{ name: `S${depth}`, type: 'storage', children: nodes }];
    const document = compoundFile(nodes);
    const ctx = recordingContext();
    extract(document, ctx);
    assert.ok(ctx.heuristics.some((h) => h.kind === 'exceeds-max' && h.name === 'Heuristics.Limits.Exceeded.MaxRecursion'));
    assert.deepEqual(clamscan(document, { hdb: [hashSignature('None', new Uint8Array([1]))] }, ['--alert-exceeds-max=yes']), [
      'Heuristics.Limits.Exceeded.MaxRecursion',
    ]);
  });

  it('honours the configured file limit', () => {
    const streams: Node[] = Array.from({ length: 30 }, (_, i) => ({ name: `S${i}`, type: 'stream', data: Buffer.from([i + 1]) }));
    const ctx = recordingContext();
    const objects = [...createOle2Handler({ maxRecursion: 17, maxFiles: 10, maxFileSize: 1 << 20 }).extract(compoundFile(streams), ctx)];
    assert.equal(objects.length, 11);
    assert.ok(ctx.heuristics.some((h) => h.name === 'Heuristics.Limits.Exceeded.MaxFiles'));
  });

  it('survives truncated copies of every sample', needsTestfiles, () => {
    for (const sample of [testfile('clam.ole.doc'), testfile('clam.ppt'), vbaDocument()]) {
      for (let cut = 0; cut < sample.length; cut += 97) extract(sample.subarray(0, cut));
    }
  });

  it('survives seeded mutations (fuzz)', needsTestfiles, () => {
    fuzz(ole2Handler, [testfile('clam.ole.doc'), testfile('clam.ppt'), vbaDocument(), compoundFile([{ name: 'WordDocument', type: 'stream', data: word6Document(Buffer.from('macro'), 7) }])], {
      seed: 0x01e2,
      maxMs: 3000,
    });
  });
});
