/**
 * The engine cache's value format: a shared-engine descriptor as JSON plus the buffers behind
 * its typed arrays, with what a structured clone keeps (undefined, holes, special numbers,
 * shared references, views sharing one buffer).
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A buffer of the payload. */
export interface StoredBuffer {
  shared: boolean;
  byteLength: number;
}

const TYPED_ARRAYS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

/**
 * Tagged values, the JSON objects with a "$" key: u undefined, h an array hole, n a number JSON
 * cannot hold (NaN, ±Infinity, -0), r a second reference to an object already stored (so shared
 * objects stay shared, as in a structured clone), v a typed array over a payload buffer, o a plain
 * object that has a "$" key of its own.
 */
type Tagged =
  | { $: 'u' }
  | { $: 'h' }
  | { $: 'n'; v: string }
  | { $: 'r'; i: number }
  | { $: 'v'; t: TypedArrayName; b: number; o: number; l: number }
  | { $: 'o'; v: { [key: string]: Json } };

const UNDEFINED: Tagged = { $: 'u' };
const HOLE: Tagged = { $: 'h' };

/** A value the cache cannot store: a descriptor that holds one is a bug to fix here. */
export class UnstorableValueError extends Error {
  constructor(where: string, what: string) {
    super(`engine cache: cannot store ${what} at ${where}`);
  }
}

/**
 * Encodes what a structured clone would carry, limited to what descriptors hold: primitives
 * (but bigint and symbol), plain objects, arrays and typed arrays. Anything else throws
 * UnstorableValueError. Objects are numbered in the order they are first met (the decoder counts
 * the same way), and each buffer is stored once however many views share it.
 */
export class ValueEncoder {
  readonly buffers: ArrayBufferLike[] = [];
  /** How much of each buffer the views use: only that much is stored (a growable buffer has more). */
  readonly extents: number[] = [];
  private readonly bufferIds = new Map<ArrayBufferLike, number>();
  private readonly objectIds = new Map<object, number>();
  /** The name of the value being encoded, then the keys down to the current one: where an error is. */
  private readonly path: (string | number)[] = [];

  /** Encodes `value`, named `where` in errors. */
  encode(value: unknown, where: string): Json {
    this.path.length = 0;
    this.path.push(where);
    return this.encodeValue(value);
  }

  private encodeValue(value: unknown): Json {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        return Number.isFinite(value) && !Object.is(value, -0) ? value : ({ $: 'n', v: Object.is(value, -0) ? '-0' : String(value) } as Tagged);
      case 'undefined':
        return UNDEFINED;
      case 'object':
        return value === null ? null : this.encodeObject(value);
      default:
        throw this.unstorable(typeof value);
    }
  }

  /** Encodes `value`, found under `key` of the current value. */
  private encodeItem(value: unknown, key: string | number): Json {
    this.path.push(key);
    const encoded = this.encodeValue(value);
    this.path.pop();
    return encoded;
  }

  private encodeObject(value: object): Json {
    const seen = this.objectIds.get(value);
    if (seen !== undefined) return { $: 'r', i: seen } as Tagged;
    this.objectIds.set(value, this.objectIds.size);
    if (ArrayBuffer.isView(value)) return this.encodeView(value);
    const prototype = Object.getPrototypeOf(value) as object | null;
    if (prototype === Array.prototype) {
      const array = value as unknown[];
      const encoded: Json[] = [];
      for (let i = 0; i < array.length; i++) encoded.push(i in array ? this.encodeItem(array[i], i) : HOLE);
      return encoded;
    }
    if (prototype !== Object.prototype) throw this.unstorable(prototype ? `a ${prototype.constructor.name}` : 'an object without prototype');
    const encoded: { [key: string]: Json } = {};
    for (const key of Object.keys(value)) {
      if (key === '__proto__') throw this.unstorable('a "__proto__" key');
      encoded[key] = this.encodeItem((value as Record<string, unknown>)[key], key);
    }
    return Object.hasOwn(encoded, '$') ? ({ $: 'o', v: encoded } as Tagged) : encoded;
  }

  private encodeView(view: ArrayBufferView): Json {
    const type = (view as { [Symbol.toStringTag]?: string })[Symbol.toStringTag];
    if (type === undefined || !Object.hasOwn(TYPED_ARRAYS, type)) throw this.unstorable(`a ${type ?? 'view'}`);
    let id = this.bufferIds.get(view.buffer);
    if (id === undefined) {
      id = this.buffers.push(view.buffer) - 1;
      this.bufferIds.set(view.buffer, id);
      this.extents.push(0);
    }
    this.extents[id] = Math.max(this.extents[id]!, view.byteOffset + view.byteLength);
    const length = (view as Uint8Array).length;
    return { $: 'v', t: type as TypedArrayName, b: id, o: view.byteOffset, l: length } as Tagged;
  }

  private unstorable(what: string): UnstorableValueError {
    const [name, ...keys] = this.path;
    const where = keys.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('');
    return new UnstorableValueError(`${name}${where}`, what);
  }
}

/** Rebuilds the values ValueEncoder encoded, with the payload buffers already filled. */
export class ValueDecoder {
  private readonly objects: unknown[] = [];

  constructor(private readonly buffers: readonly ArrayBufferLike[]) {}

  decode(json: Json): unknown {
    if (json === null || typeof json !== 'object') return json;
    if (Array.isArray(json)) {
      const array: unknown[] = [];
      this.objects.push(array);
      for (const item of json) {
        if (isTagged(item) && item.$ === 'h') array.length++;
        else array.push(this.decode(item));
      }
      return array;
    }
    if (!isTagged(json)) return this.decodeObject(json);
    switch (json.$) {
      case 'u':
        return undefined;
      case 'n':
        return Number(json.v);
      case 'r':
        if (json.i >= this.objects.length) throw new Error('engine cache: dangling reference');
        return this.objects[json.i];
      case 'v': {
        const view = new TYPED_ARRAYS[json.t](this.buffers[json.b]!, json.o, json.l);
        this.objects.push(view);
        return view;
      }
      case 'o':
        return this.decodeObject(json.v);
      default:
        throw new Error(`engine cache: unknown tag ${json.$}`);
    }
  }

  private decodeObject(json: { [key: string]: Json }): object {
    const object: Record<string, unknown> = {};
    this.objects.push(object);
    for (const key of Object.keys(json)) object[key] = this.decode(json[key]!);
    return object;
  }
}

function isTagged(json: Json): json is Tagged & { [key: string]: Json } {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && Object.hasOwn(json, '$');
}

export function storedBuffer(buffer: ArrayBufferLike, byteLength: number): StoredBuffer {
  return { shared: buffer instanceof SharedArrayBuffer, byteLength };
}

/** A view over a new buffer to read a stored one into: SharedArrayBuffers stay shared. */
export function allocateBuffer({ shared, byteLength }: StoredBuffer): Uint8Array {
  return new Uint8Array(shared ? new SharedArrayBuffer(byteLength) : new ArrayBuffer(byteLength));
}
