/**
 * File-backed memory for large objects: decompressed output past 16 MiB and large files read for
 * scanning live in a mapping of an unlinked temporary file whose pages are given back behind each
 * pass. Giving pages back must never change a byte, a decoder's output or a detection.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { OutputBuffer } from '../src/formats/archive/output-buffer.js';
import { gunzip } from '../src/formats/gzip.js';
import { zipHandler } from '../src/formats/zip.js';
import { Scanner } from '../src/engine/scanner.js';
import { scanOptions } from '../src/engine/scan-options.js';
import { loadEngine } from '../src/signatures/loader.js';
import { FileBackedBuffer, isFileBacked, releasePages, SPILL_THRESHOLD } from '../src/util/file-backed.js';
import { extractAll, noise, recordingContext } from './support/archive-samples.js';
import { tempDir } from './support/temp-dir.js';

const MIB = 1024 * 1024;

/** 40 MiB that compress: noise blocks repeated at varying distances, so back references cross released pages. */
function largeCompressible(): Buffer {
  const block = Buffer.from(noise(MIB, 7));
  const out = Buffer.alloc(40 * MIB);
  for (let offset = 0, turn = 0; offset < out.length; offset += block.length / 4, turn++) {
    block.copy(out, offset, (turn * 4099) % (block.length / 2));
  }
  return out;
}

/** The file pages mapped into this process, in KiB (Linux). */
function residentFileKiB(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('RssFile:'));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

describe('file-backed memory', () => {
  it('keeps every byte readable after its pages are given back, and gives them back', () => {
    const dir = tempDir();
    const file = FileBackedBuffer.create(64 * MIB, dir.root);
    assert.ok(file, 'the @clamts/filemap addon is built and the directory usable');
    const size = 48 * MIB;
    file.reserve(size);
    const pattern = Buffer.from(noise(size, 3));
    file.bytes.set(pattern);
    assert.ok(isFileBacked(file.bytes.subarray(5)), 'views of the mapping are file-backed too');
    const before = residentFileKiB();
    releasePages(file.bytes.subarray(MIB), 0, size - MIB);
    assert.ok(before - residentFileKiB() > 32 * 1024, 'most of the written pages left the process');
    assert.ok(Buffer.from(file.bytes.buffer, 0, size).equals(pattern), 'the contents came back from the file');
    file.seal();
  });

  it('leaves no file in the temporary directory, and stays in memory where no file can be made', () => {
    const dir = tempDir();
    const file = FileBackedBuffer.create(SPILL_THRESHOLD * 2, dir.root);
    assert.ok(file);
    assert.deepEqual(readdirSync(dir.root), [], 'the file is unlinked as soon as it is mapped');
    file.seal();
    assert.equal(FileBackedBuffer.create(MIB, join(dir.root, 'missing')), undefined);
  });

  it('gives back nothing of ordinary memory', () => {
    const bytes = new Uint8Array(4 * MIB).fill(9);
    releasePages(bytes);
    assert.equal(isFileBacked(bytes), false);
    assert.equal(bytes[4 * MIB - 1], 9);
  });
});

describe('decoders spill large output', () => {
  it('moves an output buffer to file-backed memory past the threshold, bytes unchanged', () => {
    const out = new OutputBuffer(100 * MIB);
    const piece = Buffer.from(noise(3 * MIB, 5));
    while (out.length < SPILL_THRESHOLD + 8 * MIB) out.append(piece);
    // A long back reference into pages the writer has already given back.
    const count = out.room(4 * MIB);
    out.repeat(out.length - 1000, count);
    const result = out.result();
    assert.ok(isFileBacked(result));
    const expected = Buffer.concat([...Array(Math.ceil((SPILL_THRESHOLD + 8 * MIB) / piece.length)).fill(piece)]);
    assert.ok(Buffer.from(result.subarray(0, expected.length)).equals(expected));
    assert.ok(Buffer.from(result.subarray(expected.length)).equals(expected.subarray(1000, 1000 + 4 * MIB)));
  });

  it('inflates a large gzip stream into file-backed memory exactly as zlib does', () => {
    const payload = largeCompressible();
    const stream = zlib.gzipSync(payload, { level: 1 });
    const result = gunzip(stream, 1e9);
    assert.ok(isFileBacked(result));
    assert.ok(Buffer.from(result).equals(payload));
    // Cut at a limit inside the spilled range, as before.
    assert.ok(Buffer.from(gunzip(stream, 30 * MIB)).equals(payload.subarray(0, 30 * MIB)));
  });

  it('inflates a zip member declared larger than the threshold through the spilling decoder', () => {
    const payload = largeCompressible();
    const member = oneMemberZip('big.bin', payload);
    const [object] = extractAll(zipHandler, member, recordingContext(100 * MIB)).filter((o) => o.data.length > 0);
    assert.ok(object && isFileBacked(object.data));
    assert.ok(Buffer.from(object.data).equals(payload));
  });
});

describe('scanning file-backed objects', () => {
  const MARK_START = 'CLAMTS-FILE-BACKED-START';
  const MARK_END = 'CLAMTS-FILE-BACKED-END';

  async function markerScanner(options = {}) {
    const dir = tempDir();
    const hex = (text: string) => Buffer.from(text).toString('hex');
    dir.write('m.ndb', `Start.Marker:0:*:${hex(MARK_START)}\nEnd.Marker:0:EOF-${MARK_END.length}:${hex(MARK_END)}\n`);
    return new Scanner(await loadEngine([dir.root]), scanOptions({ allMatch: true, ...options }));
  }

  function largeWithMarkers(): Buffer {
    const body = largeCompressible();
    Buffer.from(MARK_START).copy(body, 3 * MIB + 17);
    Buffer.from(MARK_END).copy(body, body.length - MARK_END.length);
    return body;
  }

  it('finds signatures anywhere in a large file, and leaves nothing in the temporary directory', async () => {
    const dir = tempDir();
    const spill = tempDir();
    const path = join(dir.root, 'large.bin');
    writeFileSync(path, largeWithMarkers());
    const scanner = await markerScanner({ temporaryDirectory: spill.root });
    assert.deepEqual((await scanner.scanFile(path)).viruses, ['Start.Marker.UNOFFICIAL', 'End.Marker.UNOFFICIAL']);
    assert.deepEqual(readdirSync(spill.root), []);
  });

  it('finds them in a large decompressed object, and in memory when the temporary directory is unusable', async () => {
    const dir = tempDir();
    const path = join(dir.root, 'large.gz');
    writeFileSync(path, zlib.gzipSync(largeWithMarkers(), { level: 1 }));
    for (const temporaryDirectory of [undefined, join(dir.root, 'missing')]) {
      const scanner = await markerScanner({ temporaryDirectory });
      // (The start marker may also sit in a stored deflate block of the gzip file itself.)
      const found = new Set((await scanner.scanFile(path)).viruses);
      assert.deepEqual([...found], ['Start.Marker.UNOFFICIAL', 'End.Marker.UNOFFICIAL'], String(temporaryDirectory));
    }
  });
});

/** A zip with one deflated member (local header, data, central directory, end record). */
function oneMemberZip(name: string, payload: Buffer): Buffer {
  const data = zlib.deflateRawSync(payload, { level: 1 });
  const nameBytes = Buffer.from(name);
  // Local and central headers share their fields from "version needed" on; the central header
  // has them 2 bytes further on.
  const header = (signature: number, size: number, shared: number): Buffer => {
    const bytes = Buffer.alloc(size);
    bytes.writeUInt32LE(signature, 0);
    bytes.writeUInt16LE(20, shared);
    bytes.writeUInt16LE(8, shared + 4);
    bytes.writeUInt32LE(zlib.crc32(payload), shared + 10);
    bytes.writeUInt32LE(data.length, shared + 14);
    bytes.writeUInt32LE(payload.length, shared + 18);
    bytes.writeUInt16LE(nameBytes.length, shared + 22);
    return bytes;
  };
  const local = header(0x04034b50, 30, 4);
  const central = header(0x02014b50, 46, 6);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length, 12);
  end.writeUInt32LE(local.length + nameBytes.length + data.length, 16);
  return Buffer.concat([local, nameBytes, data, central, nameBytes, end]);
}
