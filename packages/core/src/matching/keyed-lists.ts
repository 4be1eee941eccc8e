import { GrowableShared, sharedArray } from '../util/shared-memory.js';

const SLOT_MULTIPLIER = 0x85ebca6b;

/** A KeyedLists as plain data in shared memory. */
export interface SharedKeyedLists {
  slotKeys: Uint32Array;
  /** Start of the slot's list in `values`, -1 for an empty slot. */
  slotStart: Int32Array;
  slotCount: Uint32Array;
  values: Int32Array;
}

/** Slot-table size (as a power of two) for `keys` distinct keys: at most half full. */
export function slotBitsFor(keys: number): number {
  // Plain arithmetic: a call of Math's functions here, inlined without type feedback (the
  // function runs a few times per build), made V8 deoptimize the whole build each time.
  let bits = 4;
  while (bits < 30 && 2 ** bits < 2 * keys) bits++;
  return bits;
}

/**
 * A read-only map from 32-bit keys to lists of numbers, laid out in shared memory: the lists one
 * after the other in `values`, found through an open-addressing table of slots. Built with
 * KeyedListsBuilder.
 */
export class KeyedLists {
  private readonly slotKeys: Uint32Array;
  readonly slotStart: Int32Array;
  readonly slotCount: Uint32Array;
  readonly values: Int32Array;
  private readonly slotShift: number;
  private readonly slotMask: number;

  constructor(shared: SharedKeyedLists) {
    this.slotKeys = shared.slotKeys;
    this.slotStart = shared.slotStart;
    this.slotCount = shared.slotCount;
    this.values = shared.values;
    const slotBits = 31 - Math.clz32(shared.slotKeys.length);
    this.slotShift = 32 - slotBits;
    this.slotMask = (1 << slotBits) - 1;
  }

  toShared(): SharedKeyedLists {
    return { slotKeys: this.slotKeys, slotStart: this.slotStart, slotCount: this.slotCount, values: this.values };
  }

  /** The slot of `key`'s list (`values[slotStart[slot] .. + slotCount[slot]]`), or -1 when it has none. */
  find(key: number): number {
    let slot = Math.imul(key, SLOT_MULTIPLIER) >>> this.slotShift;
    for (;;) {
      if (this.slotStart[slot] === -1) return -1;
      if (this.slotKeys[slot] === key) return slot;
      slot = (slot + 1) & this.slotMask;
    }
  }

  /** Calls `visit` with every key that has a list. */
  forEachKey(visit: (key: number) => void): void {
    for (let slot = 0; slot < this.slotStart.length; slot++) if (this.slotStart[slot] !== -1) visit(this.slotKeys[slot]!);
  }
}

/**
 * Collects (key, value) pairs in typed arrays and lays them out as a KeyedLists: each key's
 * values in the order they were added (or sorted by `order`), the lists in order of each key's
 * first appearance. No Map and no array per key, so building stays cheap with 10^5-10^6 pairs.
 */
export class KeyedListsBuilder {
  private readonly keys = new GrowableShared(Uint32Array);
  /** The values (non-negative numbers), parallel to `keys`. */
  private readonly values = new GrowableShared(Uint32Array);

  add(key: number, value: number): void {
    this.keys.push(key);
    this.values.push(value);
  }

  build(order?: (a: number, b: number) => number): KeyedLists {
    const keys = this.keys.used();
    const distinct = numberDistinctKeys(keys);
    const values = groupValues(this.values.used(), distinct);
    return new KeyedLists({ ...slotTable(distinct, values, order), values });
  }
}

// The steps of KeyedListsBuilder.build: one loop per function, for V8's on-stack replacement
// (see the build steps in node-lists.ts).

/** The distinct keys in order of first appearance, with the distinct key of each pair. */
interface DistinctKeys {
  readonly count: number;
  /** Per distinct key: the key, how many pairs have it, where its list starts. */
  readonly keys: Uint32Array;
  readonly counts: Uint32Array;
  readonly starts: Int32Array;
  /** Per pair: its distinct key. */
  readonly ofPair: Int32Array;
}

/** Numbers the distinct keys in order of first appearance, through a temporary slot table. */
function numberDistinctKeys(keys: Uint32Array): DistinctKeys {
  const count = keys.length;
  const tempBits = slotBitsFor(count);
  const tempShift = 32 - tempBits;
  const tempMask = (1 << tempBits) - 1;
  const tempKeys = new Uint32Array(1 << tempBits);
  const tempDistinct = new Int32Array(1 << tempBits).fill(-1);
  const ofPair = new Int32Array(count);
  const distinctKeys = new Uint32Array(count);
  const counts = new Uint32Array(count);
  let distinct = 0;
  for (let i = 0; i < count; i++) {
    const key = keys[i]!;
    let slot = Math.imul(key, SLOT_MULTIPLIER) >>> tempShift;
    while (tempDistinct[slot] !== -1 && tempKeys[slot] !== key) slot = (slot + 1) & tempMask;
    if (tempDistinct[slot] === -1) {
      tempKeys[slot] = key;
      tempDistinct[slot] = distinct;
      distinctKeys[distinct++] = key;
    }
    const d = tempDistinct[slot]!;
    ofPair[i] = d;
    counts[d]!++;
  }
  return { count: distinct, keys: distinctKeys, counts, starts: listStarts(counts, distinct), ofPair };
}

/** Where each list starts when the lists are laid out one after the other. */
function listStarts(counts: Uint32Array, distinct: number): Int32Array {
  const starts = new Int32Array(distinct);
  for (let d = 1; d < distinct; d++) starts[d] = starts[d - 1]! + counts[d - 1]!;
  return starts;
}

/** The values, list by list, each list in the order its values were added. */
function groupValues(added: Uint32Array, distinct: DistinctKeys): Int32Array {
  const values = sharedArray(Int32Array, added.length);
  const cursor = distinct.starts.slice();
  for (let i = 0; i < added.length; i++) values[cursor[distinct.ofPair[i]!]!++] = added[i]!;
  return values;
}

/** Places each distinct key in the final slot table; sorts its list by `order` if given. */
function slotTable(distinct: DistinctKeys, values: Int32Array, order: ((a: number, b: number) => number) | undefined): Omit<SharedKeyedLists, 'values'> {
  const slotBits = slotBitsFor(distinct.count);
  const slotShift = 32 - slotBits;
  const slotMask = (1 << slotBits) - 1;
  const slotKeys = sharedArray(Uint32Array, 1 << slotBits);
  const slotStart = sharedArray(Int32Array, 1 << slotBits).fill(-1);
  const slotCount = sharedArray(Uint32Array, 1 << slotBits);
  for (let d = 0; d < distinct.count; d++) {
    const start = distinct.starts[d]!;
    const count = distinct.counts[d]!;
    let slot = Math.imul(distinct.keys[d]!, SLOT_MULTIPLIER) >>> slotShift;
    while (slotStart[slot] !== -1) slot = (slot + 1) & slotMask;
    slotKeys[slot] = distinct.keys[d]!;
    slotStart[slot] = start;
    slotCount[slot] = count;
    if (order && count > 1) sortList(values, start, start + count, order);
  }
  return { slotKeys, slotStart, slotCount };
}

/**
 * Sorts `values[start .. end)` by `order`, unless it is in order already: values are added in
 * load order, which most lists keep, and a sorted list costs no sort.
 */
function sortList(values: Int32Array, start: number, end: number, order: (a: number, b: number) => number): void {
  for (let i = start + 1; i < end; i++) {
    if (order(values[i - 1]!, values[i]!) > 0) {
      values.subarray(start, end).sort(order);
      return;
    }
  }
}
