/**
 * cpio archives in the four layouts ClamAV scans (libclamav/cpio.c): old binary in either byte
 * order (CL_TYPE_CPIO_OLD), portable ASCII "odc" (CL_TYPE_CPIO_ODC) and "newc" without or with
 * checksums (CL_TYPE_CPIO_NEWC, CL_TYPE_CPIO_CRC). Members are views into the archive.
 *
 * As in ClamAV: the walk stops at a bad magic, at a number that does not parse, or at an
 * all-zero header after the TRAILER!!! entry (entries after the trailer are still read); names
 * keep at most 512 bytes, with non-ASCII bytes and % \ tab CR LF replaced by '_'; a header without
 * a name keeps the previous name; empty members are skipped; only regular files are scanned in
 * the old binary layout, every non-empty member in the ASCII ones; a member running past the
 * end of the archive is cut there. Sizes are never trusted beyond the bytes present.
 */
import type { ExtractedObject, ExtractionContext, FormatHandler } from './handler.js';
import { scanUnsignedField } from './archive/c-scan.js';

const NAME_BUFFER = 513;
const TRAILER = 'TRAILER!!!';
const OLD_HEADER = 26;
const ODC_HEADER = 76;
const NEWC_HEADER = 110;
const OLD_MAGIC = 0o070707;
const OLD_MAGIC_SWAPPED = 0o143561;
const MODE_TYPE_MASK = 0o170000;
const MODE_REGULAR = 0o100000;
const U32 = 2 ** 32;

export const cpioOldHandler: FormatHandler = {
  name: 'cpio-old',
  fileTypes: ['CL_TYPE_CPIO_OLD'],
  scanSwitch: 'archive',
  extract: (data, ctx) => walkOld(data, ctx),
};

export const cpioOdcHandler: FormatHandler = {
  name: 'cpio-odc',
  fileTypes: ['CL_TYPE_CPIO_ODC'],
  scanSwitch: 'archive',
  extract: (data, ctx) => walkOdc(data, ctx),
};

export const cpioNewcHandler: FormatHandler = {
  name: 'cpio-newc',
  fileTypes: ['CL_TYPE_CPIO_NEWC'],
  scanSwitch: 'archive',
  extract: (data, ctx) => walkNewc(data, '070701', ctx),
};

export const cpioCrcHandler: FormatHandler = {
  name: 'cpio-crc',
  fileTypes: ['CL_TYPE_CPIO_CRC'],
  scanSwitch: 'archive',
  extract: (data, ctx) => walkNewc(data, '070702', ctx),
};

/** ClamAV's sanitname over the name as read (it ends at the first NUL). */
function memberName(bytes: Uint8Array): string {
  let name = '';
  for (const byte of bytes) {
    if (byte === 0) break;
    name += byte > 0x7f || byte === 0x25 || byte === 0x5c || byte === 0x09 || byte === 0x0a || byte === 0x0d ? '_' : String.fromCharCode(byte);
  }
  return name;
}

/** State shared by the three walks: position, member count, current name, trailer seen. */
class Walk {
  pos = 0;
  file = 0;
  name = '';
  trailer = false;

  constructor(readonly data: Uint8Array) {}

  /** Reads a name of `declared` bytes (NUL included); false when the archive ends first. */
  readName(declared: number): boolean {
    const kept = Math.min(NAME_BUFFER, declared);
    if (this.data.length - this.pos < kept) return false;
    this.name = memberName(this.data.subarray(this.pos, this.pos + kept - 1));
    if (this.name === TRAILER) this.trailer = true;
    this.pos += kept;
    return true;
  }

  /** The member of `size` bytes at the current position, cut at the end of the archive. */
  member(size: number, ctx: ExtractionContext): ExtractedObject | undefined {
    if (this.pos >= this.data.length) {
      ctx.debug(`CPIO: member offset ${this.pos} is past the end`);
      return undefined;
    }
    const bytes = this.data.subarray(this.pos, Math.min(this.data.length, this.pos + size));
    // ClamAV scans cpio members in place, as views of the archive.
    return { data: bytes, name: this.name, position: this.file, compressedSize: size, sameBuffer: true };
  }
}

function* walkOld(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  const walk = new Walk(data);
  while (data.length - walk.pos >= OLD_HEADER) {
    const header = data.subarray(walk.pos, walk.pos + OLD_HEADER);
    walk.pos += OLD_HEADER;
    const magic = header[0]! | (header[1]! << 8);
    if (magic === 0 && walk.trailer) return;
    let swapped: boolean;
    if (magic === OLD_MAGIC) swapped = false;
    else if (magic === OLD_MAGIC_SWAPPED) swapped = true;
    else {
      ctx.debug('cli_scancpio_old: Invalid magic number');
      return;
    }
    const field = (index: number): number =>
      swapped ? (header[index * 2]! << 8) | header[index * 2 + 1]! : header[index * 2]! | (header[index * 2 + 1]! << 8);
    walk.file++;
    const declaredName = field(10);
    if (declaredName) {
      if (!walk.readName(declaredName)) return;
      // Names are padded to an even length.
      const kept = Math.min(NAME_BUFFER, declaredName);
      if (kept < declaredName) walk.pos += declaredName + (declaredName % 2) - kept;
      else if (declaredName % 2) walk.pos++;
    }
    const size = field(11) * 65536 + field(12);
    if (!size) continue;
    if ((field(3) & MODE_TYPE_MASK) === MODE_REGULAR) {
      const object = walk.member(size, ctx);
      if (object) yield object;
    } else {
      ctx.debug('CPIO: Not a regular file, skipping');
    }
    walk.pos += size + (size % 2);
  }
}

function* walkOdc(data: Uint8Array, ctx: ExtractionContext): Generator<ExtractedObject> {
  const walk = new Walk(data);
  while (data.length - walk.pos >= ODC_HEADER) {
    const header = data.subarray(walk.pos, walk.pos + ODC_HEADER);
    walk.pos += ODC_HEADER;
    if (header[0] === 0 && walk.trailer) return;
    if (Buffer.from(header.subarray(0, 6)).toString('latin1') !== '070707') {
      ctx.debug('cli_scancpio_odc: Invalid magic string');
      return;
    }
    walk.file++;
    const declaredName = scanUnsignedField(header.subarray(59, 65), 8);
    if (declaredName === undefined) return;
    if (declaredName) {
      if (!walk.readName(declaredName)) return;
      walk.pos += declaredName - Math.min(NAME_BUFFER, declaredName);
    }
    const size = scanUnsignedField(header.subarray(65, 76), 8);
    if (size === undefined) return;
    if (!size) continue;
    const object = walk.member(size, ctx);
    if (object) yield object;
    walk.pos += size;
  }
}

function* walkNewc(data: Uint8Array, magic: string, ctx: ExtractionContext): Generator<ExtractedObject> {
  const walk = new Walk(data);
  while (data.length - walk.pos >= NEWC_HEADER) {
    const header = data.subarray(walk.pos, walk.pos + NEWC_HEADER);
    walk.pos += NEWC_HEADER;
    if (header[0] === 0 && walk.trailer) return;
    if (Buffer.from(header.subarray(0, 6)).toString('latin1') !== magic) {
      ctx.debug('cli_scancpio_newc: Invalid magic string');
      return;
    }
    walk.file++;
    const declaredName = scanUnsignedField(header.subarray(94, 102), 16);
    if (declaredName === undefined) return;
    if (declaredName) {
      if (!walk.readName(declaredName)) return;
      // Header and name together are padded to a multiple of four (in 32-bit arithmetic).
      const pad = (4 - ((NEWC_HEADER + declaredName) % 4)) % 4;
      const kept = Math.min(NAME_BUFFER, declaredName);
      if (kept < declaredName) walk.pos += ((declaredName + pad) % U32) - kept;
      else walk.pos += pad;
    }
    const size = scanUnsignedField(header.subarray(54, 62), 16);
    if (size === undefined) return;
    if (!size) continue;
    const object = walk.member(size, ctx);
    if (object) yield object;
    walk.pos += (size + ((4 - (size % 4)) % 4)) % U32;
  }
}
