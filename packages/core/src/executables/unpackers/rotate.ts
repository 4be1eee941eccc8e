/**
 * Bit rotations as ClamAV's CLI_ROL / CLI_ROR compute them: the count is taken modulo the
 * operand's width, so a count of 0 (or a multiple of the width) leaves the value as it is.
 */

/** An 8-bit rotate left (x86 `rol al, n`). */
export function rotateLeft8(value: number, count: number): number {
  return ((value << (count & 7)) | (value >> ((8 - count) & 7))) & 0xff;
}

/** An 8-bit rotate right (x86 `ror al, n`). */
export function rotateRight8(value: number, count: number): number {
  return ((value >> (count & 7)) | (value << ((8 - count) & 7))) & 0xff;
}

/** A 32-bit rotate right, unsigned. */
export function rotateRight32(value: number, count: number): number {
  const shift = count & 31;
  return ((value >>> shift) | (value << ((32 - shift) & 31))) >>> 0;
}
