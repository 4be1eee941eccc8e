/**
 * tar archives, walked the way ClamAV's cli_untar walks them (libclamav/untar.c). The header
 * primitives (fields, octal numbers, checksums) are shared with the CVD reader in util/tar.ts;
 * the walk differs from that one on purpose, because ClamAV's scanner walks differently:
 *
 * - a header with a bad checksum is skipped alone and the next 512-byte block is tried as a
 *   header (so damaged archives resynchronise);
 * - CL_TYPE_POSIX_TAR stops at the first valid header without the "ustar" magic;
 * - links, directories, devices, FIFOs and volume labels are skipped without skipping any data;
 *   GNU long names, pax and Solaris extended headers are skipped with their data (a zero size
 *   still skips one block); every other type flag is a regular file;
 * - the member name is the 100-byte name field only (no ustar prefix, no GNU long name);
 * - a member cut short by the end of the archive gets one block's worth of zero bytes appended,
 *   as ClamAV writes a zero block when the read comes back empty;
 * - sizes are read like C's sscanf("%o") into an int: values of 2^31 and above are invalid
 *   (GNU base-256 sizes are invalid too), and an invalid size skips the entry.
 *
 * Limits: a member larger than `maxObjectSize` is cut at the last whole block within it, as
 * ClamAV stops writing there (and raises Heuristics.Limits.Exceeded.* when enabled).
 */
import { checksumMatches, cString, parseOctal, TAR_BLOCK_SIZE, TAR_FIELDS } from '../util/tar.js';
import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';

/** Type flags of entries that have no data to scan and whose data (if any) is not skipped. */
const NO_DATA_TYPES = new Set(['1', '2', '3', '4', '5', '6', 'V']);
/** Metadata records skipped together with their data. */
const SKIPPED_TYPES = new Set(['K', 'L', 'N', 'A', 'E', 'I', 'g', 'x', 'X']);

export const tarHandler: FormatHandler = {
  name: 'tar',
  fileTypes: ['CL_TYPE_POSIX_TAR'],
  scanSwitch: 'archive',
  extract: (data, ctx) => untar(data, true, ctx),
};

export const oldTarHandler: FormatHandler = {
  name: 'old-tar',
  fileTypes: ['CL_TYPE_OLD_TAR'],
  scanSwitch: 'archive',
  extract: (data, ctx) => untar(data, false, ctx),
};

/** The size field as ClamAV's octal() returns it: a C int, undefined when sscanf fails or it is negative. */
function headerSize(block: Uint8Array): number | undefined {
  const value = parseOctal(block.subarray(TAR_FIELDS.size.offset, TAR_FIELDS.size.offset + TAR_FIELDS.size.length));
  if (value === undefined) return undefined;
  const asInt = value % 2 ** 32;
  return asInt >= 2 ** 31 ? undefined : asInt;
}

function isUstar(block: Uint8Array): boolean {
  const { offset } = TAR_FIELDS.magic;
  return String.fromCharCode(...block.subarray(offset, offset + 5)) === 'ustar';
}

function* untar(data: Uint8Array, posix: boolean, ctx: ExtractionContext): Generator<ExtractedObject> {
  let pos = 0;
  let files = 0;
  // ClamAV keeps the last size read when a header's size is invalid; skipping then uses it.
  let size = 0;
  while (pos < data.length) {
    const block = data.subarray(pos, pos + TAR_BLOCK_SIZE);
    pos += block.length;
    if (block[0] === 0) return;
    if (block.length < TAR_BLOCK_SIZE) return;
    if (!checksumMatches(block)) {
      ctx.debug('cli_untar: Invalid checksum in tar header. Skip to next...');
      continue;
    }
    if (posix && !isUstar(block)) {
      ctx.debug('cli_untar: Incorrect magic string in tar header');
      return;
    }
    const type = String.fromCharCode(block[TAR_FIELDS.typeFlag]!);
    if (NO_DATA_TYPES.has(type)) continue;
    let skip = SKIPPED_TYPES.has(type);
    if (!skip) files++;
    const declared = headerSize(block);
    if (declared === undefined) skip = true;
    else size = declared;
    if (skip) {
      const blocks = size % TAR_BLOCK_SIZE || size === 0 ? size + TAR_BLOCK_SIZE - (size % TAR_BLOCK_SIZE) : size;
      // ClamAV computes this in an int and gives up when it overflows.
      if (blocks >= 2 ** 31) return;
      pos += blocks;
      continue;
    }

    const name = cString(block.subarray(0, TAR_FIELDS.name.length));
    const member = memberData(data, pos, size);
    pos = Math.min(data.length, pos + size + ((TAR_BLOCK_SIZE - (size % TAR_BLOCK_SIZE)) % TAR_BLOCK_SIZE));
    let bytes = member;
    if (bytes.length > ctx.maxObjectSize) {
      ctx.heuristic('exceeds-max', 'Heuristics.Limits.Exceeded.MaxFileSize');
      bytes = bytes.subarray(0, ctx.maxObjectSize - (ctx.maxObjectSize % TAR_BLOCK_SIZE));
    }
    size = 0;
    // An empty member still shows its metadata to container signatures.
    yield { data: bytes, name, position: files, compressedSize: declared, declaredSize: declared };
  }
}

/**
 * The `size` bytes at `start`; when the archive ends first, what is there plus up to one block
 * of zeros (ClamAV's write of its zero block on an empty read).
 */
function memberData(data: Uint8Array, start: number, size: number): Uint8Array {
  const available = Math.max(0, data.length - start);
  if (available >= size) return data.subarray(start, start + size);
  const padded = new Uint8Array(available + Math.min(TAR_BLOCK_SIZE, size - available));
  padded.set(data.subarray(start));
  return padded;
}
