/**
 * The "InstallShield CAB" part of ClamAV's InstallShield support (libclamav/ishield.c,
 * is_parse_hdr and is_extract_cab): data1.hdr lists the files of the set, and each file stored
 * inside a dataN.cab is a run of chunks, each chunk a 16-bit length and a raw deflate stream of
 * its own. ClamAV inflates every such file and has it scanned; data1.hdr and the cabinets are
 * themselves scanned as plain files afterwards only when one of the files could not be reached or
 * inflated (see `HdrOutcome`).
 *
 * Also here: what the overlay list and the MSI variant share — the limits ClamAV reads from its
 * engine, and which bytes of a zlib stream ClamAV writes out when zlib reports an error (it drops
 * the output of the inflate() call that failed).
 */
import type { ExtractedObject, ExtractionContext } from './handler.js';
import { DEFLATE_WINDOW, inflateRawInto } from './archive/inflate.js';
import { OutputBuffer } from './archive/output-buffer.js';
import { latin1 } from '../util/latin1.js';

/**
 * Engine limits the InstallShield extractors apply themselves, beyond the size budget of the
 * `ExtractionContext` (ClamAV reads them from its engine: --max-files, --max-filesize).
 */
export interface InstallShieldLimits {
  /**
   * ctx->engine->maxfiles (0 = none): is_parse_hdr gives up when this many files of the CAB
   * were attempted (failed ones included), ishield-msi after this many were scanned. ClamAV's
   * default is 10000.
   */
  readonly maxFiles?: number;
  /**
   * ctx->engine->maxfilesize (0 = none): ishield-msi skips a stream whose compressed size is
   * larger and cuts the output past it. `ExtractionContext.maxObjectSize` when not given.
   */
  readonly maxFileSize?: number;
}

export const DEFAULT_MAX_FILES = 10000;

/** One dataN.cab found in the overlay list (struct CABARRAY). */
export interface CabinetEntry {
  readonly number: number;
  readonly offset: number;
  readonly size: number;
}

/**
 * How is_parse_hdr ended, which decides what cli_scanishield does next: 'success' (the header
 * was unusable, or a listed file was missing, out of its cabinet or failed to inflate) scans
 * data1.hdr and the cabinets as plain files; 'break' (every listed file was extracted) does not;
 * 'max-files' is CL_EMAXFILES, which ends cli_scanishield and cli_scanpe with it.
 */
export type HdrOutcome = 'success' | 'break' | 'max-files';

/** The magic of data1.hdr, "ISc(". */
const HDR_MAGIC = 0x28635349;
/** struct IS_OBJECTS, the table data_off points to: 74 packed bytes. */
const OBJECTS_SIZE = 74;
/** struct IS_FILEITEM: 87 packed bytes. */
const FILEITEM_SIZE = 87;
const FILE_EXTERNAL = 0;
const FILE_INTERNAL = 4;
/** is_extract_cab's output buffer: one inflate() call writes at most this much. */
const CAB_CALL_OUTPUT = 65536;
const U32 = 2 ** 32;
const U64_MASK = (1n << 64n) - 1n;

/**
 * Where the inflate() call that hit a zlib error started, in output bytes: ClamAV writes the
 * output of every call before it and drops that call's. Calls start where the current input
 * block started (`blockStart` output bytes) and every `callSize` bytes after it. A call that
 * filled its buffer goes on decoding what needs no output, so an error found right at a call
 * boundary belongs to the full call before it — except a back reference that reaches too far,
 * which zlib checks only once it has room to copy.
 */
export function failedCallStart(errorAt: number, blockStart: number, callSize: number, tooFarBack: boolean): number {
  const inBlock = errorAt - blockStart;
  if (inBlock > 0 && inBlock % callSize === 0 && !tooFarBack) return errorAt - callSize;
  return blockStart + Math.floor(inBlock / callSize) * callSize;
}

export const TOO_FAR_BACK = 'invalid distance too far back';

const hex = (value: number | bigint): string => value.toString(16);

/** A little-endian field of the mapped file; bytes past its end read as 0 (as in fmap's last page). */
function u32At(data: Uint8Array, at: number): number {
  let value = 0;
  for (let i = 3; i >= 0; i--) value = value * 256 + (at + i < data.length ? data[at + i]! : 0);
  return value;
}

function u16At(data: Uint8Array, at: number): number {
  return data[at]! | (data[at + 1]! << 8);
}

function u64At(data: Uint8Array, at: number): bigint {
  return (BigInt(u32At(data, at + 4)) << 32n) | BigInt(u32At(data, at));
}

/**
 * is_parse_hdr: reads data1.hdr (at `hdr`, `hdrSize` bytes of `data`) and yields every file the
 * cabinets hold that ClamAV extracts, in the header's order. Returns how it ended.
 */
export function* installShieldCabFiles(
  data: Uint8Array,
  hdr: number,
  hdrSize: number,
  cabinets: readonly CabinetEntry[],
  ctx: ExtractionContext,
  maxFiles: number,
): Generator<ExtractedObject, HdrOutcome, undefined> {
  // No data1.hdr leaves its size 0 (ClamAV also tests its offset for 0, which an overlay never is).
  if (!hdrSize || !cabinets.length) {
    ctx.debug('is_parse_hdr: inconsistent hdr, maybe a false match');
    return 'success';
  }
  const dataOff = u32At(data, hdr + 12);
  const objects = hdr + dataOff;
  if (objects + OBJECTS_SIZE > data.length) {
    ctx.debug('is_parse_hdr: not enough room for OBJECTS');
    return 'success';
  }
  const magic = u32At(data, hdr);
  ctx.debug(
    `is_parse_hdr: magic ${hex(magic)}, unk1 ${hex(u32At(data, hdr + 4))}, unk2 ${hex(u32At(data, hdr + 8))}, ` +
      `data_off ${hex(dataOff)}, data_sz ${hex(u32At(data, hdr + 16))}`,
  );
  if (magic !== HDR_MAGIC) {
    ctx.debug('is_parse_hdr: bad magic. wrong version?');
    return 'success';
  }
  const dirsOff = u32At(data, objects + 12);
  const fileCount = u32At(data, objects + 40);
  // The file items follow the directory table; all these offsets are 32-bit and wrap.
  let off = (dataOff + dirsOff + u32At(data, objects + 44)) >>> 0;
  /** The largest item offset whose 87 bytes are still inside the file (negative: none is). */
  const lastItem = data.length - hdr - FILEITEM_SIZE;
  let outcome: HdrOutcome = 'break';
  let attempted = 0;

  const nuls = new NulIndex(data, hdr);
  /** A name in the header (fmap_need_str with what is left of data1.hdr as the hint). */
  const nameAt = (relative: number): string => {
    const at = hdr + relative;
    if (at >= data.length) return '';
    const hint = relative < hdrSize ? hdrSize - relative : 0;
    const end = nuls.next(at);
    return end === -1 || (hint && end >= at + hint) ? '' : latin1(data, at, end);
  };
  const cabinetOf = new Map<number, CabinetEntry>();
  for (const cabinet of cabinets) if (!cabinetOf.has(cabinet.number)) cabinetOf.set(cabinet.number, cabinet);

  for (let i = 0; i < fileCount; ) {
    if (off > lastItem) {
      // ClamAV reports each of these items; a huge count would take billions of rounds here,
      // so a run of them is passed in one step (the offset wraps at 2^32 and may come back).
      const skipped = Math.min(itemsOutOfBounds(off, lastItem), fileCount - i);
      ctx.debug('is_parse_hdr: FILEITEM out of bounds');
      if (skipped > 1) ctx.debug(`is_parse_hdr: (the line above repeated for ${skipped} items)`);
      outcome = 'success';
      i += skipped;
      off = (off + ((skipped * FILEITEM_SIZE) % U32)) % U32;
      continue;
    }
    const item = hdr + off;
    const dirId = u16At(data, item + 62);
    let dirName = '';
    const dirEntry = (dataOff + dirsOff + 4 * dirId) >>> 0;
    if (hdr + dirEntry + 4 <= data.length) dirName = nameAt((u32At(data, hdr + dirEntry) + dataOff + dirsOff) >>> 0);
    const fileName = nameAt((dirsOff + dataOff + u32At(data, item + 58)) >>> 0);
    const md5 = Buffer.from(data.subarray(item + 26, item + 42)).toString('hex');
    const size = u64At(data, item + 2);
    const csize = u64At(data, item + 10);
    const streamOff = u64At(data, item + 18);
    const cabNumber = u16At(data, item + 85);
    const flags = u16At(data, item);

    if (flags === FILE_EXTERNAL) {
      ctx.debug(`is_parse_hdr: skipped external file:${dirName}\\${fileName} (size: ${size} csize: ${csize} md5:${md5})`);
    } else if (flags === FILE_INTERNAL) {
      ctx.debug(
        `is_parse_hdr: file ${dirName}\\${fileName} (size: ${size} csize: ${csize} md5:${md5} offset:${hex(streamOff)} ` +
          `(data${cabNumber}.cab) 13:${hex(u32At(data, item + 64))} 14:${hex(u32At(data, item + 68))} 15:${hex(u32At(data, item + 72))})`,
      );
      if (data[item + 84]! & 1) {
        ctx.debug('is_parse_hdr: not scanned (dup)');
      } else if (size === 0n) {
        ctx.debug('is_parse_hdr: skipped empty file');
      } else {
        const cabinet = cabinetOf.get(cabNumber);
        if (!cabinet) {
          outcome = 'success';
          ctx.debug(`is_parse_hdr: data${cabNumber}.cab not available`);
        } else {
          const start = (streamOff + BigInt(cabinet.offset)) & U64_MASK;
          if (!streamInCabinet(cabinet, start, csize)) {
            outcome = 'success';
            ctx.debug('is_parse_hdr: stream out of file');
          } else {
            attempted++;
            if (maxFiles && attempted >= maxFiles) {
              ctx.debug(`is_parse_hdr: File limit reached (max: ${maxFiles})`);
              return 'max-files';
            }
            const extracted = extractCabFile(data, Number(start), size, Number(csize), ctx);
            if (extracted) yield { data: extracted, noMetadata: true };
            else outcome = 'success';
          }
        }
      }
    } else {
      ctx.debug(`is_parse_hdr: skipped unknown file entry ${i}`);
    }
    i++;
    off = (off + FILEITEM_SIZE) >>> 0;
  }
  return outcome;
}

/**
 * Where the next NUL is, from any position at or after `from`: the items of a hostile header can
 * all point into one long stretch without a NUL, which searching again for each would make
 * quadratic. Built on first use, one search per 4 KiB block.
 */
class NulIndex {
  private static readonly BLOCK = 4096;
  /** For each block, the first NUL at or after its start (-1: none up to the end). */
  private firstInBlock: Int32Array | undefined;

  constructor(
    private readonly data: Uint8Array,
    private readonly from: number,
  ) {}

  next(at: number): number {
    const { data, from } = this;
    const block = Math.floor((at - from) / NulIndex.BLOCK);
    const blockEnd = Math.min(data.length, from + (block + 1) * NulIndex.BLOCK);
    const near = data.subarray(at, blockEnd).indexOf(0);
    if (near !== -1) return at + near;
    const index = (this.firstInBlock ??= this.build());
    return block + 1 < index.length ? index[block + 1]! : -1;
  }

  private build(): Int32Array {
    const { data, from } = this;
    const index = new Int32Array(Math.ceil((data.length - from) / NulIndex.BLOCK));
    let after = -1;
    for (let block = index.length - 1; block >= 0; block--) {
      const start = from + block * NulIndex.BLOCK;
      const found = data.subarray(start, Math.min(data.length, start + NulIndex.BLOCK)).indexOf(0);
      if (found !== -1) after = start + found;
      index[block] = after;
    }
    return index;
  }
}

/**
 * How many items in a row, from item offset `off` (past `lastItem`), lie outside the file: the
 * offset grows by 87 and wraps at 2^32, and is back in the file once it is at most `lastItem`.
 * Infinity when no offset ever is.
 */
function itemsOutOfBounds(off: number, lastItem: number): number {
  if (lastItem < 0) return Infinity;
  let steps = 0;
  // Each round is one wrap: at most 87 rounds for 2^32 items.
  for (let at = off; at > lastItem; ) {
    const toWrap = Math.ceil((U32 - at) / FILEITEM_SIZE);
    steps += toWrap;
    at = at + toWrap * FILEITEM_SIZE - U32;
    if (steps > U32) return Infinity;
  }
  return steps;
}

/** CLI_ISCONTAINED(cab offset, cab size, stream start, csize) in 64-bit size_t arithmetic. */
function streamInCabinet(cabinet: CabinetEntry, start: bigint, csize: bigint): boolean {
  const base = BigInt(cabinet.offset);
  const size = BigInt(cabinet.size);
  const end = (start + csize) & U64_MASK;
  return size > 0n && csize > 0n && csize <= size && start >= base && end <= base + size && end > base && start < base + size;
}

/**
 * is_extract_cab: inflates the chunks of one file (`csize` bytes at `offset`). Undefined when
 * ClamAV scans nothing: a chunk failed to inflate, a chunk length was missing or too large, or
 * the last chunk had length 0. Output past the size budget is cut there, as ClamAV trims it.
 */
function extractCabFile(data: Uint8Array, offset: number, size: bigint, csize: number, ctx: ExtractionContext): Uint8Array | undefined {
  const limit = ctx.maxObjectSize;
  // Room for the call that crosses the limit and a byte more, to see whether that call fails.
  const out = new OutputBuffer(limit + CAB_CALL_OUTPUT + 1, Math.min(Number(size), limit, 16 * 1024 * 1024), DEFLATE_WINDOW);
  let success = false;
  let trimmed = false;
  for (let left = csize, at = offset; left; ) {
    success = false;
    if (left < 2) {
      ctx.debug('is_extract_cab: no room for chunk size');
      break;
    }
    left -= 2;
    if (at + 2 > data.length) {
      ctx.debug('is_extract_cab: short read for chunk size');
      break;
    }
    const chunkSize = u16At(data, at);
    at += 2;
    if (!chunkSize) {
      ctx.debug('is_extract_cab: zero sized chunk');
      continue;
    }
    if (left < chunkSize) {
      ctx.debug('is_extract_cab: chunk is bigger than csize');
      break;
    }
    left -= chunkSize;
    if (at + chunkSize > data.length) {
      ctx.debug('is_extract_cab: short read for chunk');
      break;
    }
    const chunkStart = out.length;
    const result = inflateRawInto(data.subarray(at, at + chunkSize), out);
    at += chunkSize;
    const produced = out.length - chunkStart;
    const room = limit - chunkStart;
    if (result.end === 'error') {
      const failedAt = failedCallStart(produced, 0, CAB_CALL_OUTPUT, result.error === TOO_FAR_BACK);
      // A call before the failing one that crossed the limit ended the chunk first.
      if (failedAt <= room) {
        // zlib's Z_DATA_ERROR.
        ctx.debug('is_extract_cab: file decompression failed with -3');
        break;
      }
    }
    success = true;
    if (produced > room) {
      // The call that crosses the limit is written up to it; the chunk ends there.
      const callEnd = Math.min((Math.floor(room / CAB_CALL_OUTPUT) + 1) * CAB_CALL_OUTPUT, produced);
      ctx.debug(`ishield_extract_cab: trimming output file due to size limits (${chunkStart + callEnd} vs ${limit})`);
      if (!trimmed) ctx.heuristic('exceeds-max', 'Heuristics.Limits.Exceeded.MaxFileSize');
      trimmed = true;
      out.cut(limit);
    }
  }
  if (!success) return undefined;
  if (BigInt(out.length) !== size) ctx.debug(`is_extract_cab: extracted ${out.length} bytes, expected ${size}, scanning anyway.`);
  else ctx.debug(`is_extract_cab: extracted ${out.length} bytes`);
  return out.result();
}
