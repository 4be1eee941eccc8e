/**
 * Universal ("fat") Mach-O binaries (CL_TYPE_MACHO_UNIBIN), read as ClamAV's
 * cli_scanmacho_unibin reads them. The fat header (magic 0xcafebabe, number of architectures)
 * and each architecture's entry (CPU type and subtype, offset, size, alignment) are 32-bit
 * fields in the magic's byte order. Each architecture's slice is scanned as an object of its own,
 * a view of the file (ClamAV's nested fmap), in entry order:
 *
 * - a count whose low 16 bits are 39 or more is a Java class file (same magic): nothing to do;
 *   more than 32 architectures is not a universal binary;
 * - an entry cut by the end of the file, or a slice that starts inside the header and entries
 *   read so far, ends the walk as a broken executable (Heuristics.Broken.Executable with
 *   --alert-broken);
 * - a slice starting at or past the end of the file is passed over; one of size 0 runs to the
 *   end of the file, a longer one is cut there, and one of 5 bytes or less is not scanned.
 */
import type { ExtractionContext, FormatHandler } from './handler.js';

const FAT_HEADER_SIZE = 8;
const FAT_ARCH_SIZE = 20;
const FAT_MAGIC = 0xcafebabe;
const FAT_MAGIC_SWAPPED = 0xbebafeca;
const MAX_ARCHITECTURES = 32;
/** Java class files start with the same magic, then versions that read as a count of 39 or more. */
const JAVA_MIN_COUNT = 39;
/** ClamAV does not scan nested views of this many bytes or fewer. */
const SMALL_DATA = 5;

export const machoUnibinHandler: FormatHandler = {
  name: 'macho-unibin',
  fileTypes: ['CL_TYPE_MACHO_UNIBIN'],
  *extract(data, ctx) {
    if (data.length < FAT_HEADER_SIZE) {
      ctx.debug("cli_scanmacho_unibin: Can't read fat_header");
      return;
    }
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    const magic = view.getUint32(0, false);
    if (magic !== FAT_MAGIC && magic !== FAT_MAGIC_SWAPPED) {
      ctx.debug('cli_scanmacho_unibin: Incorrect magic');
      return;
    }
    const little = magic === FAT_MAGIC_SWAPPED;
    const count = view.getUint32(4, little);
    if ((count & 0xffff) >= JAVA_MIN_COUNT) return;
    if (count > MAX_ARCHITECTURES) {
      ctx.debug('cli_scanmacho_unibin: Invalid number of architectures');
      return;
    }
    ctx.debug(`UNIBIN: Number of architectures: ${count}`);
    let at = FAT_HEADER_SIZE;
    for (let i = 0; i < count; i++) {
      if (data.length - at < FAT_ARCH_SIZE) {
        ctx.debug("cli_scanmacho_unibin: Can't read fat_arch");
        broken(ctx);
        return;
      }
      const offset = view.getUint32(at + 8, little);
      const size = view.getUint32(at + 12, little);
      at += FAT_ARCH_SIZE;
      ctx.debug(`UNIBIN: Binary ${i + 1} of ${count}`);
      ctx.debug(`UNIBIN: File offset: ${offset}`);
      ctx.debug(`UNIBIN: File size: ${size}`);
      // A slice inside what was read would be scanned again and again.
      if (offset < at) {
        ctx.debug(`Invalid fat offset: ${offset}`);
        broken(ctx);
        return;
      }
      const slice = nestedView(data, offset, size, ctx);
      if (slice) yield { data: slice, sameBuffer: true };
    }
  },
};

function broken(ctx: ExtractionContext): void {
  ctx.heuristic('broken', 'Heuristics.Broken.Executable');
}

/**
 * ClamAV's cli_magic_scan_nested_fmap_type: `length` bytes of `data` from `offset` (the rest of
 * it for length 0, cut at its end), or undefined when there is nothing ClamAV would scan.
 */
function nestedView(data: Uint8Array, offset: number, length: number, ctx: ExtractionContext): Uint8Array | undefined {
  ctx.debug(`cli_magic_scan_nested_fmap_type: [${offset}, +${length})`);
  if (offset >= data.length) {
    ctx.debug(`Invalid offset: ${offset}`);
    return undefined;
  }
  ctx.debug(`magic_scan_nested_fmap_type: [0, +${data.length}), [${offset}, +${length})`);
  let size = length === 0 ? data.length - offset : length;
  if (size > data.length - offset) {
    ctx.debug(`magic_scan_nested_fmap_type: Data truncated: ${size} -> ${data.length - offset}`);
    size = data.length - offset;
  }
  if (size <= SMALL_DATA) {
    ctx.debug(`magic_scan_nested_fmap_type: Small data (${size} bytes)`);
    return undefined;
  }
  return data.subarray(offset, offset + size);
}
