/**
 * Nullsoft installers (NSIS), as ClamAV's cli_scannulsft (libclamav/nsis/nulsft.c) unpacks them.
 * scanraw calls it when the file-type signature NSIS (0xDEADBEEF "NullsoftInst") matches inside a
 * PE file, on a view of the file from 4 bytes before the match: the first header (flags, the
 * signature, the header size at 0x14, the archive size at 0x18), then the archive.
 *
 * Non-solid archives are a sequence of entries, each a 4-byte size (the top bit set when the
 * entry is compressed) and the data; solid ones are one compressed stream of such entries. ClamAV
 * tells the two apart by walking the entries as if non-solid: one that reaches past the archive
 * makes it solid (unless the file is cut short and two entries fitted). The compressor is guessed
 * from the first bytes of the data: '1' is NSIS's bzip2, 0x5D (the usual LZMA properties) LZMA,
 * anything else NSIS's deflate; for a non-solid archive the majority over its compressed entries
 * decides.
 *
 * The first entry (the installer's script and strings) is only matched, as raw data; every other
 * is scanned as a new file. A damaged stream yields what ClamAV's decoders handed over before
 * the damage (see compression/nsis-stream.ts), and a file with nothing decoded is not scanned.
 *
 * Limits: a non-solid entry whose stored size is past the size budget is skipped; in a solid
 * archive a file past the budget ends the extraction (as ClamAV's reader stops there).
 */
import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { OutputBuffer } from './archive/output-buffer.js';
import { FILE_LIMIT_CHECK } from './autoit.js';
import { guarded } from './compression/guard.js';
import { lzmaStreamInto } from './compression/lzma.js';
import { nsisBunzip2Into, nsisBzip2Workspace } from './compression/nsis-bzip2.js';
import { nsisInflateInto, NsisInflateWindow } from './compression/nsis-inflate.js';
import { type CallSize, fullBuffers, NSIS_BUFFER, type NsisStreamResult } from './compression/nsis-stream.js';
import { u32le } from './compression/read.js';

/** The first header: flags, 0xDEADBEEF, "NullsoftInst", header size, archive size. */
const FIRST_HEADER_SIZE = 0x1c;
const HEADER_SIZE_OFFSET = 0x14;
const ARCHIVE_SIZE_OFFSET = 0x18;
const COMPRESSED = 0x80000000;
/** The header entry is matched as raw data only (cli_scan_desc with CL_TYPE_ANY). */
const RAW_MATCH = ['CL_TYPE_ANY'] as const;
/** How much of a solid stream is decoded at most, in object budgets (see the docs). */
const SOLID_BUDGETS = 4;
/** The output buffer first holds about 4 times the input, up to this (it grows as needed). */
const FIRST_OUTPUT_SIZE = 16 * 1024 * 1024;

type Compressor = 'bzip2' | 'lzma' | 'deflate';

export const nsisHandler: FormatHandler = {
  name: 'nsis',
  fileTypes: ['CL_TYPE_NULSFT'],
  scanSwitch: 'archive',
  // The reader stops at a file the scanner refuses (too big): cli_magic_scan_desc fails it.
  endsAtRefusedMember: true,
  extract: (data, ctx) => guarded('NSIS', nsisEntries(data, ctx), ctx),
};

/** What ClamAV's guess from the first header and the entry sizes found. */
interface Layout {
  /** The archive's size after the first header, cut to the file. */
  readonly archiveSize: number;
  readonly solid: boolean;
  readonly compressor: Compressor;
}

function* nsisEntries(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  ctx.debug('in scannulsft()');
  const layout = readLayout(data, ctx);
  if (!layout) return;
  const entries = layout.solid ? solidEntries(data, layout, ctx) : nonSolidEntries(data, layout, ctx);
  // Each call of ClamAV's reader starts with the limit check; it numbers files by call.
  let count = 0;
  for (const entry of entries) {
    if (entry === FILE_LIMIT_CHECK) {
      count++;
      yield entry;
      continue;
    }
    ctx.debug(`NSIS: Successfully extracted file #${count}`);
    yield count === 1 ? { data: entry.data, scanAs: RAW_MATCH } : entry;
  }
}

/** nsis_headers: the first header, then the walk that tells solid from non-solid archives. */
function readLayout(data: Uint8Array, ctx: ExtractionContext): Layout | undefined {
  if (data.length < FIRST_HEADER_SIZE) return undefined;
  const headerSize = u32le(data, HEADER_SIZE_OFFSET);
  let archiveSize = u32le(data, ARCHIVE_SIZE_OFFSET);
  ctx.debug(`NSIS: Header info - Flags=${hex(u32le(data, 0))}, Header size=${hex(headerSize)}, Archive size=${hex(archiveSize)}`);
  let truncated = false;
  if (data.length < archiveSize) {
    ctx.debug('NSIS: Possibly truncated file');
    archiveSize = data.length;
    truncated = true;
  } else if (data.length !== archiveSize) {
    ctx.debug('NSIS: Overlays found');
  }
  archiveSize = (archiveSize - FIRST_HEADER_SIZE) >>> 0;

  const walk = walkEntries(data, archiveSize);
  if (!walk) return undefined;
  const solid = walk.reachesPast && !(truncated && walk.entries >= 2);
  ctx.debug(`NSIS: solid compression${solid ? '' : ' not'} detected`);
  if (solid) return { archiveSize, solid, compressor: walk.firstGuess };
  const [bzip2, lzma, deflate] = walk.votes;
  ctx.debug(`NSIS: bzip2 ${bzip2} - lzma ${lzma} - zlib ${deflate}`);
  const compressor = bzip2! < lzma! ? (lzma! < deflate! ? 'deflate' : 'lzma') : bzip2! < deflate! ? 'deflate' : 'bzip2';
  return { archiveSize, solid, compressor };
}

interface Walk {
  readonly entries: number;
  readonly reachesPast: boolean;
  readonly firstGuess: Compressor;
  /** Compressed entries per guessed compressor (bzip2, LZMA, deflate), in 8-bit counters as ClamAV's. */
  readonly votes: readonly number[];
}

/**
 * Walks the entries as if the archive were not solid (undefined when a size field lies past the
 * end of the file: ClamAV then gives up). Sizes are 32-bit and may run backwards, as in C.
 */
function walkEntries(data: Uint8Array, archiveSize: number): Walk | undefined {
  const votes = [0, 0, 0];
  let firstGuess: Compressor = 'deflate';
  let cursor = FIRST_HEADER_SIZE;
  let pos = 0;
  let entries = 0;
  const end = (archiveSize - 4) >>> 0;
  for (; pos < end; entries++) {
    if (cursor < 0 || cursor + 4 > data.length) return undefined;
    let size = u32le(data, cursor) | 0;
    if (entries === 0) firstGuess = guessCompressor(data, cursor);
    cursor += 4;
    if (size & COMPRESSED) {
      if (cursor + 4 > data.length) return undefined;
      const vote = ['bzip2', 'lzma', 'deflate'].indexOf(guessCompressor(data, cursor));
      votes[vote] = (votes[vote]! + 1) & 0xff;
      size = (size & ~COMPRESSED) - 4;
      pos = (pos + 4) >>> 0;
      cursor += 4;
    }
    pos = (pos + 4 + (size >>> 0)) >>> 0;
    if (pos > archiveSize) return { entries, reachesPast: true, firstGuess, votes };
    cursor += size;
  }
  return { entries, reachesPast: false, firstGuess, votes };
}

function guessCompressor(data: Uint8Array, at: number): Compressor {
  if (data[at] === 0x31) return 'bzip2';
  if ((u32le(data, at) & ~COMPRESSED) === 0x5d) return 'lzma';
  return 'deflate';
}

/** The entries of a non-solid archive, each stored or compressed on its own. */
function* nonSolidEntries(data: Uint8Array, layout: Layout, ctx: ExtractionContext): Generator<ExtractedObject> {
  const state = new DecoderState();
  let left = layout.archiveSize;
  let cursor = FIRST_HEADER_SIZE;
  for (;;) {
    yield FILE_LIMIT_CHECK;
    if (cursor + 4 > data.length) return ctx.debug('NSIS: reached EOF - extraction complete');
    const field = u32le(data, cursor);
    cursor += 4;
    if (left === 4) return ctx.debug('NSIS: reached CRC - extraction complete');
    const size = (field & ~COMPRESSED) >>> 0;
    if (size === 0) {
      ctx.debug('NSIS: empty file found');
      continue;
    }
    if (left < 4 || size > left - 4) return ctx.debug('NSIS: next file is outside the archive');
    left -= size + 4;
    const start = cursor;
    cursor += size;
    if (!withinBudget(size, ctx)) continue;
    if (start + size > data.length) return ctx.debug(`NSIS: cannot read ${size} bytes`);
    const input = data.subarray(start, start + size);
    if (field === size) {
      yield { data: input };
      continue;
    }
    const out = new OutputBuffer(ctx.maxObjectSize + 1, Math.min(size * 4, FIRST_OUTPUT_SIZE));
    const result = decode(layout.compressor, input, out, state, fullBuffers);
    const decoded = out.result();
    if (result.end === 'error' || result.end === 'input-end') {
      badStream(result, ctx);
      if (decoded.length === 0) continue;
    }
    // The reader checks the limits after each buffer it writes: the first one is the largest.
    if (!withinBudget(Math.min(decoded.length, NSIS_BUFFER), ctx)) continue;
    yield { data: decoded };
  }
}

/** The solid stream: the header entry and each file, a 4-byte size then the data. */
function* solidEntries(data: Uint8Array, layout: Layout, ctx: ExtractionContext): Generator<ExtractedObject> {
  yield FILE_LIMIT_CHECK;
  const inputEnd = FIRST_HEADER_SIZE + layout.archiveSize;
  if (inputEnd > data.length) return ctx.debug(`NSIS: cannot read ${layout.archiveSize} bytes`);
  if (layout.archiveSize <= 4) return ctx.debug('NSIS: extraction complete');
  const out = new OutputBuffer(Math.min(ctx.maxObjectSize * SOLID_BUDGETS + 1, Number.MAX_SAFE_INTEGER), Math.min(layout.archiveSize * 4, FIRST_OUTPUT_SIZE));
  const result = decode(layout.compressor, data.subarray(FIRST_HEADER_SIZE, inputEnd), out, new DecoderState(), solidCalls());
  const stream = out.result();
  // The call that hands over the last bytes fails on an error, and ends the stream there unless
  // it is LZMA's (whose end marker is decoded by the next call).
  const lastCallEnds = result.end === 'error' || (result.end === 'end' && layout.compressor !== 'lzma');
  for (let at = 0; ; ) {
    if (at > 0) {
      yield FILE_LIMIT_CHECK;
      // With no more than 4 input bytes left (NSIS's CRC) the reader stops before a size field.
      if (at > result.inputUsedUpAfter) return ctx.debug('NSIS: extraction complete');
    }
    if (at + 4 > stream.length && result.end === 'limit') return ctx.debug('NSIS: solid stream past the size budget, stopping');
    if (at + 4 > stream.length || (at + 4 === stream.length && lastCallEnds)) return badStream(result, ctx);
    const size = u32le(stream, at);
    at += 4;
    if (!withinBudget(size, ctx)) return;
    if (size === 0) {
      ctx.debug('NSIS: Empty file found.');
      continue;
    }
    const end = at + size;
    if (end > stream.length && result.end === 'limit') return ctx.debug('NSIS: solid stream past the size budget, stopping');
    const file = stream.subarray(at, Math.min(end, stream.length));
    const stopsHere = end > stream.length || (end === stream.length && lastCallEnds);
    if (stopsHere && result.end !== 'end') {
      badStream(result, ctx);
      if (file.length === 0) return;
    }
    yield { data: file };
    if (stopsHere) return ctx.debug('NSIS: extraction complete');
    at = end;
  }
}

/** The reader gives up on a stream: after 20 calls without output when the input ran out. */
function badStream(result: NsisStreamResult, ctx: ExtractionContext): void {
  if (result.end === 'input-end') ctx.debug('NSIS: xs looping, breaking out');
  ctx.debug('NSIS: bad stream');
}

/**
 * The buffers ClamAV's reader of a solid archive passes: 4 bytes for each size field, then the
 * file in buffers of at most BUFSIZ.
 */
function solidCalls(): CallSize {
  let sizeFieldAt = -1;
  let fileEnd = 0;
  return (delivered, output) => {
    if (delivered === sizeFieldAt + 4) {
      fileEnd = delivered + u32le(output, sizeFieldAt);
      if (fileEnd === delivered) {
        sizeFieldAt = delivered;
        return 4;
      }
    }
    if (delivered >= fileEnd) {
      sizeFieldAt = delivered;
      return 4;
    }
    return Math.min(fileEnd - delivered, NSIS_BUFFER);
  };
}

/** What the decoders keep between the files of one archive: deflate's window, bzip2's block buffer. */
class DecoderState {
  readonly window = new NsisInflateWindow();
  private blocks: Uint32Array | undefined;

  get bzip2Blocks(): Uint32Array {
    this.blocks ??= nsisBzip2Workspace();
    return this.blocks;
  }
}

function decode(compressor: Compressor, input: Uint8Array, out: OutputBuffer, state: DecoderState, callSize: CallSize): NsisStreamResult {
  switch (compressor) {
    case 'bzip2':
      return nsisBunzip2Into(input, 0, out, callSize, state.bzip2Blocks);
    case 'lzma':
      return lzmaStreamInto(input, out, callSize);
    case 'deflate':
      return nsisInflateInto(input, 0, out, state.window, callSize);
  }
}

/** cli_checklimits for `size` bytes (without the scanner's, only the size budget is checked). */
function withinBudget(size: number, ctx: ExtractionContext): boolean {
  return ctx.checkLimits ? ctx.checkLimits('NSIS', size) : size <= ctx.maxObjectSize;
}

function hex(value: number): string {
  return value.toString(16);
}
