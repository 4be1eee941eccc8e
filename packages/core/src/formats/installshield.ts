/**
 * InstallShield setup executables, as ClamAV's cli_scanishield (libclamav/ishield.c) reads the
 * overlay of a PE file (cli_scanpe calls it when the PE has an overlay): a list of files, each
 * four NUL-terminated strings — name, path, version, decimal size — followed by the file's bytes.
 *
 * Every listed file's metadata is offered to container signatures (cli_matchmeta: the name, the
 * size as both sizes, its 0-based position; the container is the PE file). Files are then
 * scanned as they come, except data1.hdr and dataN.cab: those make up an "InstallShield CAB"
 * whose files are inflated once the list is read (installshield-cab.ts), and they are scanned
 * themselves only when that did not work out.
 *
 * What cli_scanishield returns ends cli_scanpe when it is not CL_SUCCESS: a virus (in a
 * member or its metadata), CL_EMAXFILES / CL_ETIMEOUT from the limits, or an error. The caller
 * sees a virus and the scan's file limit itself; `installShieldOverlayFiles` returns false where
 * ClamAV's own counter of CAB files, or its allocation limit, ends it.
 */
import type { ExtractedObject, ExtractionContext } from './handler.js';
import { type CabinetEntry, DEFAULT_MAX_FILES, installShieldCabFiles, type InstallShieldLimits } from './installshield-cab.js';
import { latin1 } from '../util/latin1.js';

export type { InstallShieldLimits } from './installshield-cab.js';
export { installShieldMsiFiles } from './installshield-msi.js';

/** fmap_need_offstr's length hint for the list's strings. */
const STRING_HINT = 2048;
/** cli_max_realloc_or_free refuses arrays beyond CLI_MAX_ALLOCATION (1 GiB) … */
const MAX_ALLOCATION = 1024 * 1024 * 1024;
/** … and struct CABARRAY takes 24 bytes on 64-bit systems. */
const CABARRAY_SIZE = 24;
const EMPTY = new Uint8Array(0);

/**
 * The files cli_scanishield extracts from the overlay that starts at `offset` and is `size`
 * bytes long (cli_exe_info's overlay_start and overlay_size, the 32-bit value ClamAV computes),
 * lazily and in ClamAV's order: listed files, then the files inflated from the InstallShield CAB,
 * then (when ClamAV does) data1.hdr and the cabinets. Metadata-only objects (empty data) stand
 * for listed files ClamAV matches but does not scan there: empty ones, and the header and
 * cabinets, which are matched when listed and scanned (if at all) at the end. Returns whether
 * cli_scanpe goes on afterwards.
 */
export function* installShieldOverlayFiles(
  data: Uint8Array,
  offset: number,
  size: number,
  ctx: ExtractionContext,
  limits: InstallShieldLimits = {},
): Generator<ExtractedObject, boolean, undefined> {
  let hdr = -1;
  let hdrSize = 0;
  const cabinets: CabinetEntry[] = [];
  /** Some cabinet's number equals its index in the array: ClamAV refuses every later one. */
  let selfIndexed = false;
  let remaining = size;
  let position = 0;

  for (let at = offset; ; ) {
    const strings: string[] = [];
    const start = at;
    while (strings.length < 4) {
      // fmap_need_offstr: the NUL must lie within 2048 bytes and the file.
      const end = at < data.length ? data.subarray(at, at + STRING_HINT).indexOf(0) : -1;
      if (end === -1) break;
      strings.push(latin1(data, at, at + end));
      at += end + 1;
    }
    if (strings.length < 4) break;
    const [name, path, version, sizeText] = strings as [string, string, string, string];
    const headerLength = at - start;
    const fileSize = listedSize(sizeText, remaining);
    if (fileSize === undefined || headerLength >= remaining - fileSize) break;

    ctx.debug(`ishield: @${at.toString(16)} found file ${name} (${path}) - version ${version} - size ${fileSize}`);
    const metadata = { name, compressedSize: fileSize, declaredSize: fileSize, position: position++ };
    remaining -= headerLength + fileSize;

    const kept = keptForCab(name, hdr === -1, selfIndexed, ctx);
    if (kept === undefined) {
      yield dumped(data, at, fileSize, ctx, metadata);
    } else {
      yield { data: EMPTY, ...metadata };
      if (kept === 'header') {
        ctx.debug('ishield: added data1.hdr to array');
        hdr = at;
        hdrSize = fileSize;
      } else {
        // cli_max_realloc_or_free fails: CL_EMEM ends cli_scanishield.
        const arraySize = (cabinets.length + 1) * CABARRAY_SIZE;
        if (arraySize > MAX_ALLOCATION) {
          ctx.warning(
            `cli_max_realloc_or_free(): File or section is too large to scan (${arraySize} bytes). ` +
              `For your safety, ClamAV limits how much memory an operation can allocate to ${MAX_ALLOCATION} bytes`,
          );
          return false;
        }
        ctx.debug(`ishield: added data${kept}.cab to array`);
        selfIndexed ||= kept === cabinets.length;
        cabinets.push({ number: kept, offset: at, size: fileSize });
      }
    }
    at += fileSize;
  }

  if (!cabinets.length && hdr === -1) return true;
  const outcome = yield* installShieldCabFiles(data, hdr, hdrSize, cabinets, ctx, limits.maxFiles ?? DEFAULT_MAX_FILES);
  if (outcome !== 'success') return outcome === 'break';
  if (hdr !== -1) yield* scannedLate('data1.hdr', data, hdr, hdrSize, ctx);
  for (const cabinet of cabinets) yield* scannedLate(`data${cabinet.number}.cab`, data, cabinet.offset, cabinet.size, ctx);
  return true;
}

/** data1.hdr or a cabinet scanned after the CAB step; its metadata was matched when it was listed. */
function* scannedLate(name: string, data: Uint8Array, at: number, fileSize: number, ctx: ExtractionContext): Generator<ExtractedObject> {
  ctx.debug(`ishield: scanning ${name}`);
  const object = dumped(data, at, fileSize, ctx);
  if (object.data.length) yield { ...object, noMetadata: true };
}

/**
 * The size string of a list entry as cli_scanishield accepts it: strtol in base 10 of the whole
 * string (leading white space and a sign allowed), not negative, not LONG_MAX, and less than the
 * overlay bytes left. Undefined ends the list.
 */
function listedSize(text: string, remaining: number): number | undefined {
  const parsed = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(text);
  if (!parsed) return undefined;
  const digits = parsed[2]!.replace(/^0+(?=.)/, '');
  if (parsed[1] === '-' && digits !== '0') return undefined;
  // More digits than this is more than any overlay (and past 2^53); LONG_MAX is as well.
  if (digits.length > 15) return undefined;
  const value = Number(digits);
  return value < remaining ? value : undefined;
}

/**
 * Whether a listed file is kept for the CAB step instead of being scanned now: the first
 * data1.hdr ('header'), or a dataN.cab (1 ≤ N < 65536, N as strtol reads it) ClamAV adds to its
 * array (the number N). ClamAV looks for an earlier cabinet with the loop `i != cabs[i].cabno`,
 * comparing the index instead of N: a cabinet is refused as a duplicate exactly when some cabinet
 * before it has a number equal to its own index (`selfIndexed`).
 */
function keptForCab(name: string, firstHeader: boolean, selfIndexed: boolean, ctx: ExtractionContext): 'header' | number | undefined {
  if (name.slice(0, 4).toLowerCase() !== 'data') return undefined;
  const rest = name.slice(4);
  if (rest.toLowerCase() === '1.hdr') {
    if (firstHeader) return 'header';
    ctx.warning('ishield: got multiple header files');
  }
  const parsed = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)(.*)$/s.exec(rest);
  if (!parsed || parsed[3]!.toLowerCase() !== '.cab') return undefined;
  const digits = parsed[2]!.replace(/^0+(?=.)/, '');
  const number = digits.length > 5 ? Infinity : Number(digits) * (parsed[1] === '-' ? -1 : 1);
  if (!(number > 0 && number < 65536)) return undefined;
  if (selfIndexed) {
    ctx.warning(`ishield: got multiple data${number}.cab files`);
    return undefined;
  }
  return number;
}

/** is_dump_and_scan: the file's bytes as they are (an empty file is not scanned). */
function dumped(data: Uint8Array, at: number, fileSize: number, ctx: ExtractionContext, metadata?: Partial<ExtractedObject>): ExtractedObject {
  if (!fileSize) {
    ctx.debug('ishield: skipping empty file');
    return { data: EMPTY, ...metadata };
  }
  ctx.debug(`ishield: extracted ${fileSize} bytes`);
  return { data: data.subarray(at, at + fileSize), ...metadata };
}
