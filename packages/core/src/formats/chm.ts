import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { ChunkCursor } from './compression/chunk-cursor.js';
import { corrupt } from './compression/corrupt.js';
import { guarded } from './compression/guard.js';
import { LzxDecoder, LZX_FRAME_SIZE } from './compression/lzx.js';
import { u32le, u64le } from './compression/read.js';

/**
 * Microsoft Compiled HTML Help (ITSF). ClamAV lists the directory with libmspack and extracts
 * every ordinary member (names not starting with "::"), from the uncompressed section 0 or the
 * LZX-compressed section 1, cutting each at the size budget; a member whose data breaks off is
 * scanned as far as it got. The directory checks below are libmspack's.
 */

const CONTENT_NAME = '::DataSpace/Storage/MSCompressed/Content';
const CONTROL_NAME = '::DataSpace/Storage/MSCompressed/ControlData';
const RESET_TABLE_NAME =
  '::DataSpace/Storage/MSCompressed/Transform/{7FC28940-9D31-11D0-9B27-00A0C91E9C7C}/InstanceData/ResetTable';

const ITSF_HEADER_SIZE = 0x38;
const ITSP_HEADER_SIZE = 0x54;
const PMGL_ENTRIES = 20;
const PMGL_SIGNATURE = 0x4c474d50;
const MAX_CHUNKS = 100000;
const MAX_CHUNK_SIZE = 8192;

interface ChmEntry {
  readonly name: string;
  readonly section: number;
  readonly offset: number;
  readonly length: number;
}

interface ChmDirectory {
  readonly contentOffset: number;
  readonly files: ChmEntry[];
  readonly system: Map<string, ChmEntry>;
}

/** CHM's variable-length integer: 7 bits a byte, most significant first, high bit = more. */
function readEncint(data: Uint8Array, at: { pos: number }, end: number): number {
  let value = 0;
  while (at.pos < end) {
    const b = data[at.pos++]!;
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) return value;
  }
  throw corrupt('CHM: bad encint');
}

function readDirectory(data: Uint8Array, debug: (m: string) => void): ChmDirectory | undefined {
  if (data.length < ITSF_HEADER_SIZE + 0x28 || u32le(data, 0) !== 0x46535449) return undefined;
  const version = u32le(data, 4);
  const hs0Offset = u64le(data, ITSF_HEADER_SIZE);
  const hs1Offset = u64le(data, ITSF_HEADER_SIZE + 16);
  let contentOffset = u64le(data, ITSF_HEADER_SIZE + 32);
  const declaredLength = u64le(data, hs0Offset + 8);
  if (hs0Offset + 0x18 > data.length || hs1Offset + ITSP_HEADER_SIZE > data.length) return undefined;
  const chunksStart = hs1Offset + ITSP_HEADER_SIZE;
  const chunkSize = u32le(data, hs1Offset + 16);
  const indexRoot = u32le(data, hs1Offset + 28);
  const firstPmgl = u32le(data, hs1Offset + 32);
  const lastPmgl = u32le(data, hs1Offset + 36);
  const numChunks = u32le(data, hs1Offset + 44);
  if (version < 3) contentOffset = chunksStart + chunkSize * numChunks;
  if (
    contentOffset > declaredLength ||
    chunkSize < PMGL_ENTRIES + 2 ||
    numChunks === 0 ||
    numChunks > MAX_CHUNKS ||
    chunkSize > MAX_CHUNK_SIZE ||
    chunkSize * numChunks > declaredLength ||
    firstPmgl > lastPmgl ||
    (indexRoot !== 0xffffffff && indexRoot >= numChunks)
  ) {
    debug('CHM: bad directory header');
    return undefined;
  }
  const files: ChmEntry[] = [];
  const system = new Map<string, ChmEntry>();
  const decoder = new TextDecoder('utf-8');
  for (let n = firstPmgl; n <= lastPmgl; n++) {
    const chunk = chunksStart + n * chunkSize;
    if (chunk + chunkSize > data.length) {
      debug('CHM: directory chunk past the end of the file');
      break; // libmspack keeps the entries read so far
    }
    if (u32le(data, chunk) !== PMGL_SIGNATURE) continue;
    const end = chunk + chunkSize - 2;
    let entries = data[end]! | (data[end + 1]! << 8);
    const at = { pos: chunk + PMGL_ENTRIES };
    try {
      while (entries-- > 0) {
        const nameLength = readEncint(data, at, end);
        if (nameLength > end - at.pos) throw corrupt('CHM: name overflows its chunk');
        const nameBytes = data.subarray(at.pos, at.pos + nameLength);
        at.pos += nameLength;
        const section = readEncint(data, at, end);
        const offset = readEncint(data, at, end);
        const length = readEncint(data, at, end);
        if (nameLength < 2 || nameBytes[0] === 0 || nameBytes[1] === 0) continue;
        if (offset === 0 && length === 0 && nameBytes[nameLength - 1] === 0x2f) continue; // directory
        if (section > 1) continue;
        const entry = { name: decoder.decode(nameBytes), section, offset, length };
        if (nameBytes[0] === 0x3a && nameBytes[1] === 0x3a) system.set(entry.name, entry);
        else files.push(entry);
      }
    } catch (err) {
      debug(`CHM: ${(err as Error).message}`);
    }
  }
  return { contentOffset, files, system };
}

/** LZX parameters of section 1 from its ControlData and ResetTable system files. */
function sectionOneStream(data: Uint8Array, dir: ChmDirectory): () => Iterator<Uint8Array> {
  return function* frames() {
    const sysFile = (name: string) => {
      const entry = dir.system.get(name);
      if (!entry || entry.section !== 0) throw corrupt(`CHM: missing ${name}`);
      const start = dir.contentOffset + entry.offset;
      return { entry, bytes: data.subarray(Math.min(start, data.length), Math.min(start + entry.length, data.length)) };
    };
    const content = sysFile(CONTENT_NAME);
    const control = sysFile(CONTROL_NAME).bytes;
    if (control.length !== 0x1c || u32le(control, 4) !== 0x43585a4c) throw corrupt('CHM: bad LZX control data');
    let resetInterval = u32le(control, 12);
    let windowSize = u32le(control, 16);
    const controlVersion = u32le(control, 8);
    if (controlVersion === 2) {
      resetInterval *= LZX_FRAME_SIZE;
      windowSize *= LZX_FRAME_SIZE;
    } else if (controlVersion !== 1) {
      throw corrupt('CHM: bad LZX control data version');
    }
    const windowBits = Math.log2(windowSize);
    if (!Number.isInteger(windowBits) || windowBits < 15 || windowBits > 21) throw corrupt('CHM: bad LZX window size');
    if (resetInterval === 0 || resetInterval % LZX_FRAME_SIZE !== 0) throw corrupt('CHM: bad LZX reset interval');
    // The section's uncompressed length comes from the reset table, rounded up to a reset interval.
    const table = sysFile(RESET_TABLE_NAME).bytes;
    if (table.length < 0x28 || u32le(table, 0x20) !== LZX_FRAME_SIZE) throw corrupt('CHM: bad LZX reset table');
    const length = Math.ceil(u64le(table, 0x10) / resetInterval) * resetInterval;
    const decoder = new LzxDecoder(content.bytes, windowBits, resetInterval / LZX_FRAME_SIZE);
    for (let produced = 0; produced < length; ) {
      const size = Math.min(LZX_FRAME_SIZE, length - produced);
      const frame = new Uint8Array(size);
      decoder.decodeFrame(size, frame, 0);
      produced += size;
      yield frame;
    }
  };
}

function* extractChm(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  const dir = readDirectory(data, (m) => ctx.debug(m));
  if (!dir) return;
  const sectionOne = new ChunkCursor(sectionOneStream(data, dir));
  for (const file of dir.files) {
    const want = Math.min(file.length, ctx.maxObjectSize);
    let content: Uint8Array;
    if (file.section === 0) {
      const start = Math.min(dir.contentOffset + file.offset, data.length);
      content = data.subarray(start, Math.min(start + want, data.length));
    } else {
      const read = sectionOne.read(file.offset, want);
      content = read.data;
      if (read.error) ctx.debug(`CHM: ${file.name}: extraction stopped after ${content.length} bytes (${read.error})`);
    }
    // ClamAV passes these exact values to container-metadata matching for CHM members.
    yield { data: content, name: file.name, compressedSize: 0, encrypted: false, position: 0, method: file.section };
  }
}

export const chmHandler: FormatHandler = {
  name: 'chm',
  fileTypes: ['CL_TYPE_MSCHM'],
  scanSwitch: 'archive',
  extract: (data, ctx) => guarded('CHM', extractChm(data, ctx), ctx),
};
