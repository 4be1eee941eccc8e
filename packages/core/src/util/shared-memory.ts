/**
 * Typed arrays in shared memory. An engine's arrays live in SharedArrayBuffers so that posting
 * them to worker threads shares the memory instead of copying it: N workers, one database.
 */
type TypedArrayConstructor<T> = { new (buffer: SharedArrayBuffer, byteOffset?: number, length?: number): T; BYTES_PER_ELEMENT: number };

export function sharedArray<T>(Type: TypedArrayConstructor<T>, length: number): T {
  return new Type(new SharedArrayBuffer(Math.max(1, length) * Type.BYTES_PER_ELEMENT), 0, length);
}

/** A shared copy of `source` (made once, when an engine is built). */
export function toShared<T extends Uint8Array | Uint32Array | Int32Array>(
  Type: TypedArrayConstructor<T>,
  source: ArrayLike<number>,
): T {
  const copy = sharedArray(Type, source.length);
  (copy as unknown as Uint8Array).set(source as unknown as Uint8Array);
  return copy;
}
