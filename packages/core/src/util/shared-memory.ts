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

/**
 * Address space reserved for a growable shared array by default: only reserved, a page counts
 * once written. An array that outgrows its reservation moves, once, to one eight times larger.
 */
const GROWABLE_RESERVE_BYTES = 256 * 1024 * 1024;
const RESERVE_GROWTH = 8;
/** Appends of up to this many entries copy in a loop rather than through a subarray. */
const SHORT_COPY = 64;

/** The growable SharedArrayBuffer of ES2024, which Node 20 has and this TypeScript's lib lacks. */
interface GrowableSharedArrayBuffer extends SharedArrayBuffer {
  readonly maxByteLength: number;
  grow(byteLength: number): void;
}
const GrowableSharedArrayBuffer = SharedArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => GrowableSharedArrayBuffer;

/**
 * An append-only typed array in shared memory for an engine builder that does not know its
 * final size. Its buffer reserves address space up front, so growing copies nothing, and the
 * used part is handed over as it is: no copy at the end either, and the reserved but unwritten
 * rest costs no memory. (Without this, a builder holds its array, the doubled copy it grows into
 * and the final shared copy, and copies everything twice.)
 */
export class GrowableShared<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array> {
  private buffer: GrowableSharedArrayBuffer;
  /** The grown part: write entries below `array.length` after `ensure`. */
  array: T;
  length = 0;

  constructor(
    private readonly Type: TypedArrayConstructor<T>,
    initialCapacity = 1024,
    reserveBytes = GROWABLE_RESERVE_BYTES,
  ) {
    this.buffer = new GrowableSharedArrayBuffer(initialCapacity * Type.BYTES_PER_ELEMENT, { maxByteLength: Math.max(reserveBytes, initialCapacity * Type.BYTES_PER_ELEMENT) });
    this.array = new Type(this.buffer, 0, initialCapacity);
  }

  /** Makes room for `capacity` entries in all (at least doubling) and returns the array. */
  ensure(capacity: number): T {
    if (capacity > this.array.length) {
      const grown = Math.max(capacity, 2 * this.array.length);
      const bytes = grown * this.Type.BYTES_PER_ELEMENT;
      if (bytes <= this.buffer.maxByteLength) this.buffer.grow(bytes);
      else {
        const moved = new GrowableSharedArrayBuffer(bytes, { maxByteLength: RESERVE_GROWTH * bytes });
        new Uint8Array(moved).set(new Uint8Array(this.buffer));
        this.buffer = moved;
      }
      this.array = new this.Type(this.buffer, 0, grown);
    }
    return this.array;
  }

  push(value: number): void {
    this.ensure(this.length + 1)[this.length++] = value;
  }

  append(source: T, start = 0, end = source.length): void {
    const at = this.length;
    const target = this.ensure(at + end - start);
    // A short run (a signature name) is copied in a loop: a subarray of a Buffer is a new
    // Buffer object, which costs more than the copy.
    if (end - start <= SHORT_COPY) for (let i = start; i < end; i++) target[at + i - start] = source[i]!;
    else target.set(source.subarray(start, end) as never, at);
    this.length += end - start;
  }

  /** The first `length` entries, shared, without a copy (the builder must not write any more). */
  used(length = this.length): T {
    return new this.Type(this.buffer, 0, length);
  }
}
