import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { guarded } from './compression/guard.js';
import { latin1, u32le } from './compression/read.js';

/**
 * ISO 9660 CD images, walked the way ClamAV's iso9660.c does: the primary volume's directory
 * tree, then the Joliet tree again if there is one (so members are scanned twice, as in
 * ClamAV). Raw-sector images (2352-byte sectors) work because the sector size is measured
 * from the distance between volume descriptors. Interleaved files are skipped, a file that
 * runs past the end of the image is not scanned at all, files over the size limit are skipped,
 * and a tree of more than 1024 directory blocks is abandoned. Directory loops end because
 * each block is visited once.
 */

const DESCRIPTOR_OFFSET = 32768;
const MAX_DIR_BLOCKS = 1024;
const PVD_ROOT_RECORD = 156;

interface Volume {
  readonly data: Uint8Array;
  readonly base: number;
  readonly sectorSize: number;
  readonly blockSize: number;
}

/** Byte offset of logical block `block`, or -1 when the block lies outside the image. */
function blockOffset(v: Volume, block: number): number {
  const perSector = 2048 / v.blockSize;
  if (block > Math.floor((v.data.length - v.base) / v.sectorSize) * perSector) return -1;
  return v.base + Math.floor(block / perSector) * v.sectorSize + (block % perSector) * v.blockSize;
}

/** Reads a file's blocks; undefined if any block is missing (truncated image). */
function readFile(v: Volume, block: number, length: number): Uint8Array | undefined {
  const out = new Uint8Array(length);
  for (let done = 0; done < length; block++) {
    const at = blockOffset(v, block);
    const take = Math.min(length - done, v.blockSize);
    if (at < 0 || at + take > v.data.length) return undefined;
    out.set(v.data.subarray(at, at + take), done);
    done += take;
  }
  return out;
}

function findPrimaryDescriptor(data: Uint8Array): number {
  // CL_TYPE_ISO9660 is "\x01CD001" followed by another "CD001" 2043..2443 bytes later.
  for (let at = DESCRIPTOR_OFFSET; at + 6 <= data.length; at++) {
    if (data[at] === 1 && latin1(data.subarray(at + 1, at + 6)) === 'CD001') return at;
  }
  return -1;
}

function* walkDirectory(
  v: Volume,
  joliet: boolean,
  block: number,
  length: number,
  visited: Set<number>,
  ctx: ExtractionContext,
): Generator<ExtractedObject> {
  if (length < 34) return;
  for (; length > 0; block++, length -= Math.min(length, v.blockSize)) {
    if (visited.size > MAX_DIR_BLOCKS) throw new Error('ISO9660: too many directory records');
    if (visited.has(block)) continue;
    visited.add(block);
    const start = blockOffset(v, block);
    if (start < 0 || start + v.blockSize > v.data.length) return;
    let pos = start;
    let left = Math.min(v.blockSize, length);
    while (left > 0) {
      const recordSize = v.data[pos]!;
      if (recordSize === 0) break; // rest of this block is padding
      if (recordSize > left) return; // a record across a block boundary ends the directory
      if (recordSize >= 34) {
        let nameLength = v.data[pos + 32]!;
        const isDotEntry = nameLength === 1 && (v.data[pos + 33] === 0 || v.data[pos + 33] === 1);
        if (!isDotEntry) {
          if (nameLength + 33 > left) nameLength = left - 33;
          const name = recordName(v.data.subarray(pos + 33, pos + 33 + nameLength), joliet);
          const extent = u32le(v.data, pos + 2) + v.data[pos + 1]!;
          const size = u32le(v.data, pos + 10);
          const flags = v.data[pos + 25]!;
          if (v.data[pos + 26] || v.data[pos + 27]) {
            ctx.debug(`iso_parse_dir: Skipping interleaved file ${name}`);
          } else if (flags & 2) {
            yield* walkDirectory(v, joliet, extent, size, visited, ctx);
          } else if (size > ctx.maxObjectSize) {
            ctx.debug(`iso_parse_dir: Skipping overlimit file ${name}`);
          } else {
            const content = readFile(v, extent, size);
            if (content) yield { data: content, name, compressedSize: size };
            else ctx.debug(`iso_scan_file: ${name} runs past the end of the image, ISO may be truncated`);
          }
        }
      }
      pos += recordSize;
      left -= recordSize;
    }
  }
}

/** Record name without the ";1" version suffix; Joliet names are UTF-16BE. */
function recordName(raw: Uint8Array, joliet: boolean): string {
  let name = joliet ? utf16be(raw) : latin1(raw);
  const semicolon = name.indexOf(';');
  if (semicolon >= 0) name = name.slice(0, semicolon);
  return name;
}

function utf16be(raw: Uint8Array): string {
  let text = '';
  for (let i = 0; i + 1 < raw.length; i += 2) text += String.fromCharCode((raw[i]! << 8) | raw[i + 1]!);
  return text;
}

/** The Joliet supplementary descriptor among descriptors 16..31, if any. */
function findJoliet(v: Volume): number {
  for (let i = 16; i < 32; i++) {
    const at = v.base + i * v.sectorSize;
    if (at + 2048 > v.data.length) break;
    const d = v.data;
    if (d[at] === 0xff || latin1(d.subarray(at + 1, at + 6)) !== 'CD001') break;
    if (d[at] !== 2 || d[at + 88] !== 0x25 || d[at + 89] !== 0x2f) continue;
    if (d[at + PVD_ROOT_RECORD + 26] || d[at + PVD_ROOT_RECORD + 27]) continue;
    if (d[at + 90] === 0x40 || d[at + 90] === 0x43 || d[at + 90] === 0x45) return at;
  }
  return -1;
}

function* extractIso(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  const primary = findPrimaryDescriptor(data);
  if (primary < 0 || primary + 2454 > data.length) return;
  const next = latin1(data.subarray(primary + 2049, primary + 2454)).indexOf('CD001');
  if (next < 0) return;
  const sectorSize = next + 2049 - 1;
  if (sectorSize * 16 > primary) return;
  const blockSize = data[primary + 128]! | (data[primary + 129]! << 8);
  if (blockSize !== 512 && blockSize !== 1024 && blockSize !== 2048) return; // not a CD image
  const volume: Volume = { data, base: primary - sectorSize * 16, sectorSize, blockSize };
  const joliet = findJoliet(volume);
  const trees: Array<[number, boolean]> = [[primary, false]];
  if (joliet >= 0) trees.push([joliet, true]);
  for (const [descriptor, isJoliet] of trees) {
    const root = descriptor + PVD_ROOT_RECORD;
    if (data[root + 26] || data[root + 27]) return; // interleaved root: ClamAV stops here
    const extent = u32le(data, root + 2) + data[root + 1]!;
    yield* walkDirectory(volume, isJoliet, extent, u32le(data, root + 10), new Set(), ctx);
  }
}

export const iso9660Handler: FormatHandler = {
  name: 'iso9660',
  fileTypes: ['CL_TYPE_ISO9660'],
  scanSwitch: 'archive',
  extract: (data, ctx) => guarded('cli_scaniso', extractIso(data, ctx), ctx),
};
