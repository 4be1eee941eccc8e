/**
 * MSI-based InstallShield setups, as ClamAV's cli_scanishield_msi (libclamav/ishield.c) reads
 * them. scanraw calls it when the file-type signature ISHIELD-MSI ("InstallShield\0" followed, 306
 * bytes on, by a file block) matches inside a PE file: on a view of the file from the match to
 * its end, at offset 14. There a 32-byte header gives the number of files; each file is a
 * 312-byte block (a 260-byte name, the compressed size at 268) and a zlib stream obfuscated with
 * a key made from the name. Each stream is inflated and scanned under that name.
 *
 * ClamAV feeds zlib 8 KiB (BUFSIZ) of input at a time and writes each 8 KiB of output as it
 * comes. When zlib reports an error, the output of the failing inflate() call is dropped, the
 * file is scanned as it is, and the next file block is read right after the input consumed so
 * far — inside the broken stream, not after it.
 */
import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { guarded } from './compression/guard.js';
import { u32le } from './compression/read.js';
import { inflateZlib } from './documents/zlib-stream.js';
import { DEFAULT_MAX_FILES, failedCallStart, type InstallShieldLimits, TOO_FAR_BACK } from './installshield-cab.js';
import { latin1 } from '../util/latin1.js';

/** Where cli_scanishield_msi starts in the view that begins at the match ("InstallShield\0"). */
const HEADER_OFFSET = 14;
const HEADER_SIZE = 0x20;
/** struct IS_FB: fname[0x104], then the fields below; 312 packed bytes. */
const FILE_BLOCK_SIZE = 312;
const NAME_SIZE = 0x104;
const CSIZE_AT = 268;
/** unk1, unk2, then (after csize) unk3 … unk11, in the order ClamAV prints them. */
const UNKNOWN_FIELDS = [260, 264, 276, 280, 284, 288, 292, 296, 300, 304, 308];
/** glibc's BUFSIZ: the input block and the output buffer of each inflate() call. */
const BUFSIZ = 8192;
/** ClamAV's skey, XORed into the name to make the key. */
const KEY_MASK = [0xec, 0xca, 0x79, 0xf8];
/** The first part of a stream decoded; grown when it is not enough. */
const FIRST_WINDOW = 64 * 1024;

/**
 * The ISHIELD-MSI layer the raw scan of a PE file makes where that type signature matches (see
 * recognised-types.ts): the file from the match on.
 */
export function createInstallShieldMsiHandler(limits: InstallShieldLimits): FormatHandler {
  return {
    name: 'ishield-msi',
    fileTypes: ['CL_TYPE_ISHIELD_MSI'],
    scanSwitch: 'archive',
    recognisedOnly: true,
    extract: (data, ctx) => guarded('ishield-msi', installShieldMsiFiles(data, 0, ctx, limits), ctx),
  };
}

/**
 * The files cli_scanishield_msi extracts for a match of ISHIELD-MSI at `offset` in `data`,
 * lazily and in ClamAV's order. A stream whose compressed size is past the file size limit is
 * skipped; output past the size budget is cut at `maxObjectSize + 1` bytes (an object the
 * scanner knows is over budget, as ClamAV's is).
 */
export function* installShieldMsiFiles(
  data: Uint8Array,
  offset: number,
  ctx: ExtractionContext,
  limits: InstallShieldLimits = {},
): Generator<ExtractedObject, void, undefined> {
  const view = data.subarray(offset);
  const maxFiles = limits.maxFiles ?? DEFAULT_MAX_FILES;
  const fileLimit = limits.maxFileSize ?? ctx.maxObjectSize;
  ctx.debug('in ishield-msi');
  if (HEADER_OFFSET + HEADER_SIZE > view.length) {
    ctx.debug('ishield-msi: short read for header');
    return;
  }
  for (let field = 8; field < HEADER_SIZE; field += 4) if (u32le(view, HEADER_OFFSET + field)) return;
  let count = u32le(view, HEADER_OFFSET);
  if (!count) {
    ctx.debug('ishield-msi: no files?');
    return;
  }

  let scanned = 0;
  for (let at = HEADER_OFFSET + HEADER_SIZE; count > 0; count--) {
    if (at + FILE_BLOCK_SIZE > view.length) {
      ctx.debug('ishield-msi: short read for fileblock');
      return;
    }
    const block = view.subarray(at, at + FILE_BLOCK_SIZE);
    at += FILE_BLOCK_SIZE;
    const csize = (BigInt(u32le(block, CSIZE_AT + 4)) << 32n) | BigInt(u32le(block, CSIZE_AT));
    // CLI_ISCONTAINED_0_TO(map length, at, csize)
    if (csize === 0n || csize > BigInt(view.length - at)) {
      ctx.debug('ishield-msi: next stream is out of file, giving up');
      return;
    }
    const streamSize = Number(csize);
    if (fileLimit && streamSize > fileLimit) {
      ctx.debug(`ishield-msi: skipping stream due to size limits (${streamSize} vs ${fileLimit})`);
      at += streamSize;
      continue;
    }
    // The name is cut at its last byte, which ClamAV sets to NUL.
    const nul = block.subarray(0, NAME_SIZE - 1).indexOf(0);
    const keyLength = nul === -1 ? NAME_SIZE - 1 : nul;
    if (!keyLength) return;
    const name = latin1(block, 0, keyLength);
    const unknowns = UNKNOWN_FIELDS.map((field, i) => `unk${i + 1}:${u32le(block, field).toString(16)}`);
    ctx.debug(`ishield-msi: File ${name} (csize: ${csize.toString(16)}, ${unknowns.join(' ')})`);

    const key = block.slice(0, keyLength).map((byte, i) => byte ^ KEY_MASK[i & 3]!);
    const stream = inflateStream(view, at, streamSize, key, ctx, fileLimit);
    at = stream.next;
    ctx.debug(`ishield-msi: extracted ${stream.data.length} bytes`);
    yield { data: stream.data, name, noMetadata: true };
    scanned++;
    if (maxFiles && scanned >= maxFiles) {
      ctx.debug(`ishield-msi: File limit reached (max: ${maxFiles})`);
      return;
    }
  }
}

/**
 * De-obfuscates and inflates the stream of `size` bytes at `start`: what ClamAV writes of it,
 * and where it reads the next file block.
 */
function inflateStream(
  view: Uint8Array,
  start: number,
  size: number,
  key: Uint8Array,
  ctx: ExtractionContext,
  fileLimit: number,
): { data: Uint8Array; next: number } {
  const budget = ctx.maxObjectSize + 1;
  // Room for the call that crosses the budget, to see whether that call fails.
  const cap = budget + BUFSIZ;
  const input = new Deobfuscated(view.subarray(start, start + size), key);
  // Most of a long stream is only needed when its start decodes cleanly; grow the part decoded
  // so a stream that breaks early costs what it costs ClamAV.
  let window = Math.min(size, FIRST_WINDOW);
  let result = inflateZlib(input.upTo(window), cap);
  while (result.end === 'input-end' && window < size) {
    window = Math.min(size, window * 4);
    result = inflateZlib(input.upTo(window), cap);
  }
  const produced = result.data.length;
  const kept = (length: number): Uint8Array => result.data.subarray(0, Math.min(length, budget));

  if (result.end === 'error') {
    // The input block in which zlib found the error, and the output before that block.
    const block = Math.floor(Math.max(0, result.consumed - 1) / BUFSIZ);
    const blockStart = block ? Math.min(inflateZlib(input.upTo(block * BUFSIZ), cap).data.length, produced) : 0;
    const failedAt = failedCallStart(produced, blockStart, BUFSIZ, result.error === TOO_FAR_BACK);
    // Unless a call before the failing one passed the file size limit and ended the stream.
    if (!fileLimit || failedAt <= fileLimit) {
      ctx.debug('ishield-msi: bad stream');
      return { data: kept(failedAt), next: start + Math.min(size, (block + 1) * BUFSIZ) };
    }
  }
  if (fileLimit && produced > fileLimit) {
    ctx.debug(`ishield-msi: trimming output file due to size limits (${produced} vs ${fileLimit})`);
  }
  return { data: kept(produced), next: start + size };
}

/**
 * The stream as zlib sees it: each byte's nibbles swapped, then XORed with the key byte at its
 * position modulo 1024, modulo the key length. Decoded only as far as asked.
 */
class Deobfuscated {
  private bytes = new Uint8Array(0);
  private done = 0;

  constructor(
    private readonly source: Uint8Array,
    private readonly key: Uint8Array,
  ) {}

  upTo(end: number): Uint8Array {
    if (end > this.bytes.length) {
      const grown = new Uint8Array(end);
      grown.set(this.bytes.subarray(0, this.done));
      this.bytes = grown;
    }
    const { bytes, source, key } = this;
    for (let i = this.done; i < end; i++) {
      const byte = source[i]!;
      bytes[i] = (((byte >> 4) | (byte << 4)) & 0xff) ^ key[(i & 0x3ff) % key.length]!;
    }
    this.done = Math.max(this.done, end);
    return bytes.subarray(0, end);
  }
}
