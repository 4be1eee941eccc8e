/**
 * First position `i` with start <= i and i + needle.length <= end where `needle` occurs in
 * `haystack`, or -1. An empty needle is found at `start` when start <= end. Searches with
 * Buffer#indexOf, which is native.
 */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, start = 0, end = haystack.length): number {
  const bound = Math.min(end, haystack.length);
  if (needle.length === 0) return start <= bound ? start : -1;
  if (start >= bound) return -1;
  return Buffer.from(haystack.buffer, haystack.byteOffset, bound).indexOf(needle, start);
}
