/**
 * Tar recognition by header checksum (libclamav's is_tar, from file(1)), used for data that no
 * magic recognised: old v7 archives have no magic at all.
 */

const RECORD_SIZE = 512;
const CHECKSUM_OFFSET = 148;
const CHECKSUM_LENGTH = 8;
const MAGIC_OFFSET = 257;
/** GNU tar's magic "ustar  " followed by its NUL; POSIX "ustar\0" does not count here. */
const GNU_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72, 0x20, 0x20, 0x00];

export const enum TarKind {
  None = 0,
  Old = 1,
  Posix = 2,
}

export function tarKind(buf: Uint8Array): TarKind {
  if (buf.length < RECORD_SIZE) return TarKind.None;
  const recorded = parseOctal(buf, CHECKSUM_OFFSET, CHECKSUM_LENGTH);
  let sum = 0;
  for (let i = 0; i < RECORD_SIZE; i++) sum += buf[i];
  // The checksum is computed with its own field taken as spaces.
  for (let i = 0; i < CHECKSUM_LENGTH; i++) sum += 0x20 - buf[CHECKSUM_OFFSET + i];
  if (sum !== recorded) return TarKind.None;
  return hasGnuMagic(buf) ? TarKind.Posix : TarKind.Old;
}

/** Compares like strcmp: stops at the first difference, so only the bytes up to the NUL count. */
function hasGnuMagic(buf: Uint8Array): boolean {
  for (let i = 0; i < GNU_MAGIC.length; i++) {
    if (buf[MAGIC_OFFSET + i] !== GNU_MAGIC[i]) return false;
  }
  return true;
}

const isSpace = (byte: number) => byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);

/** Octal field with leading blanks; -1 when blank or when it ends on something else than a space or NUL. */
function parseOctal(buf: Uint8Array, offset: number, digits: number): number {
  let at = offset;
  while (isSpace(buf[at])) {
    at++;
    if (--digits <= 0) return -1;
  }
  let value = 0;
  while (digits > 0 && buf[at] >= 0x30 && buf[at] <= 0x37) {
    value = value * 8 + (buf[at++] - 0x30);
    digits--;
  }
  if (digits > 0 && buf[at] !== 0 && !isSpace(buf[at])) return -1;
  return value;
}
