import { createHash } from 'node:crypto';

/** Whether this thread has made its native Buffer. */
let settled = false;

/**
 * Lets Node make its first Buffer from native code now, before the optimizing compiler has
 * compiled anything that would be discarded for it. Called where a thread starts loading or
 * using an engine; costs one empty MD5 digest per thread.
 *
 * Node creates the Buffers its native code returns (a digest, for one) as plain Uint8Arrays and
 * then gives them Buffer's prototype. The first time a thread does that, V8 records a new
 * transition from its Uint8Array object layout, which stops being "stable", and all optimized
 * code that assumed it was stable is discarded: in a scan, the first object's digest (the clean
 * cache asks for its MD5) threw away the pattern decoder and the matcher build steps, which an
 * executable's matcher then had to compile again.
 */
export function settleNativeBufferMap(): void {
  if (settled) return;
  createHash('md5').digest();
  settled = true;
}
