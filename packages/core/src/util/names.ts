import { latin1 } from './latin1.js';
import { GrowableShared } from './shared-memory.js';

/** A frozen name table as plain data in shared memory (see `NameTable.fromShared`). */
export interface SharedNameTable {
  heap: Uint8Array;
  starts: Uint32Array;
  unofficial: Uint8Array;
}

const UNOFFICIAL_SUFFIX = '.UNOFFICIAL';

/**
 * Signature names stored compactly as bytes (millions of names would cost far more as JS strings).
 * A name is decoded only when it is reported. Names from unofficial databases get ClamAV's
 * `.UNOFFICIAL` suffix at decode time, so it costs one flag byte instead of eleven bytes each.
 * Filled while loading, then `freeze()`d; `get` works on a frozen table only.
 */
export class NameTable {
  private readonly heapBuilder = new GrowableShared(Uint8Array, 1 << 16);
  private readonly startsBuilder = new GrowableShared(Uint32Array, 1 << 12);
  private readonly unofficialBuilder = new GrowableShared(Uint8Array, 1 << 12);
  private heap = new Uint8Array(0);
  private starts = new Uint32Array(0);
  private unofficial = new Uint8Array(0);

  get size(): number {
    return Math.max(this.startsBuilder.length, this.starts.length);
  }

  /** Adds the bytes `source[start, end)` as a name and returns its id. */
  add(source: Uint8Array, start: number, end: number, official: boolean): number {
    const id = this.startsBuilder.length;
    this.startsBuilder.push(this.heapBuilder.length);
    this.heapBuilder.append(source, start, end);
    this.unofficialBuilder.push(official ? 0 : 1);
    return id;
  }

  /**
   * Adds a name exactly as it is reported (its `.UNOFFICIAL` suffix, if any, included) and returns
   * its id. Names are database text decoded as latin1: a wider character is refused, not cut.
   */
  addReported(name: string): number {
    const id = this.startsBuilder.length;
    const at = this.heapBuilder.length;
    const heap = this.heapBuilder.ensure(at + name.length);
    for (let i = 0; i < name.length; i++) {
      const unit = name.charCodeAt(i);
      if (unit > 0xff) throw new RangeError(`NameTable: a name beyond latin1: ${name}`);
      heap[at + i] = unit;
    }
    this.heapBuilder.length += name.length;
    this.startsBuilder.push(at);
    this.unofficialBuilder.push(0);
    return id;
  }

  freeze(): void {
    this.heap = this.heapBuilder.used();
    this.starts = this.startsBuilder.used();
    this.unofficial = this.unofficialBuilder.used();
  }

  toShared(): SharedNameTable {
    return { heap: this.heap, starts: this.starts, unofficial: this.unofficial };
  }

  static fromShared(shared: SharedNameTable): NameTable {
    const table = new NameTable();
    table.heap = shared.heap;
    table.starts = shared.starts;
    table.unofficial = shared.unofficial;
    return table;
  }

  get(id: number): string {
    const start = this.starts[id]!;
    const end = id + 1 < this.starts.length ? this.starts[id + 1]! : this.heap.length;
    const name = latin1(this.heap, start, end);
    return this.unofficial[id] ? name + UNOFFICIAL_SUFFIX : name;
  }
}

/** ClamAV's rule for names from databases that are not official signed containers. */
export function displayName(rawName: string, official: boolean): string {
  return official ? rawName : rawName + UNOFFICIAL_SUFFIX;
}
