/**
 * ClamAV's arithmetic on PE addresses and sizes: rounding to an alignment (PEALIGN / PESALIGN, in
 * its 32-bit unsigned arithmetic; an alignment of 0 leaves the value as it is) and its range check.
 */

/** PEALIGN: down to a multiple of `alignment`. */
export function alignDown(value: number, alignment: number): number {
  return alignment === 0 ? value : Math.floor(value / alignment) * alignment;
}

/** PESALIGN: up to a multiple of `alignment`, wrapping past 2^32 as ClamAV's does. */
export function alignUp(value: number, alignment: number): number {
  return roundUp(value, alignment) % 2 ** 32;
}

/** Up to a multiple of `alignment`, without wrapping (ClamAV's 64-bit pesalign_u64). */
export function roundUp(value: number, alignment: number): number {
  return alignment === 0 ? value : Math.ceil(value / alignment) * alignment;
}

/** ClamAV's CLI_ISCONTAINED: `[at, at + size)` is a non-empty range inside the non-empty `[base, base + baseSize)`. */
export function contained(base: number, baseSize: number, at: number, size: number): boolean {
  return baseSize > 0 && size > 0 && size <= baseSize && at >= base && at + size <= base + baseSize && at + size > base && at < base + baseSize;
}
