import type { HashAlgorithm } from '../engine/scan-object.js';
import { GrowableShared, sharedArray } from '../util/shared-memory.js';

export const DIGEST_LENGTH: Record<HashAlgorithm, number> = { md5: 16, sha1: 20, sha256: 32 };
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['md5', 'sha1', 'sha256'];

/** Size value that stands for ClamAV's `*` (any size). ClamAV refuses 0 as a real size. */
export const ANY_SIZE = 0;

/** The algorithm a hex digest of this many characters belongs to, as ClamAV tells them apart. */
export function algorithmForHexLength(length: number): HashAlgorithm | undefined {
  switch (length) {
    case 32:
      return 'md5';
    case 40:
      return 'sha1';
    case 64:
      return 'sha256';
    default:
      return undefined;
  }
}

const HEX_VALUE = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) table[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    table[0x41 + i] = 10 + i;
    table[0x61 + i] = 10 + i;
  }
  return table;
})();

/** One lookup's answer: the name ids of the sized and the any-size entry that match, or -1. */
export interface HashMatch {
  sized: number;
  anySize: number;
}

class TableBuilder {
  readonly digests = new GrowableShared(Uint8Array, 1 << 12);
  readonly sizes = new GrowableShared(Uint32Array, 1 << 8);
  readonly names = new GrowableShared(Uint32Array, 1 << 8);

  constructor(readonly digestLength: number) {}
}

/**
 * Collects hash signatures while databases load. Digests are decoded straight from the database
 * bytes into one flat buffer per algorithm, so millions of entries cost a few bytes each.
 */
export class HashIndexBuilder {
  private readonly tables = new Map<HashAlgorithm, TableBuilder>();

  get count(): number {
    let total = 0;
    for (const table of this.tables.values()) total += table.sizes.length;
    return total;
  }

  /**
   * Adds the hex digest in `source[start, end)` (its length decides the algorithm).
   * Returns false, adding nothing, when it is not a well-formed MD5, SHA1 or SHA256 hex string.
   */
  addHex(source: Uint8Array, start: number, end: number, size: number, nameId: number): boolean {
    const algorithm = algorithmForHexLength(end - start);
    if (algorithm === undefined) return false;
    const table = this.table(algorithm);
    const digestLength = table.digestLength;
    const base = table.digests.length;
    const out = table.digests.ensure(base + digestLength);
    for (let i = 0; i < digestLength; i++) {
      const high = HEX_VALUE[source[start + 2 * i]!]!;
      const low = HEX_VALUE[source[start + 2 * i + 1]!]!;
      if (high < 0 || low < 0) return false;
      out[base + i] = (high << 4) | low;
    }
    table.digests.length += digestLength;
    table.sizes.push(size);
    table.names.push(nameId);
    return true;
  }

  /** Adds a binary digest (its length decides the algorithm); false, adding nothing, for another length. */
  addDigest(digest: Uint8Array, size: number, nameId: number): boolean {
    const algorithm = algorithmForHexLength(digest.length * 2);
    if (algorithm === undefined) return false;
    const table = this.table(algorithm);
    const base = table.digests.length;
    table.digests.ensure(base + digest.length).set(digest, base);
    table.digests.length += digest.length;
    table.sizes.push(size);
    table.names.push(nameId);
    return true;
  }

  build(): HashIndex {
    const tables = new Map<HashAlgorithm, SortedTable>();
    for (const [algorithm, table] of this.tables) tables.set(algorithm, SortedTable.from(table));
    return new HashIndex(tables);
  }

  private table(algorithm: HashAlgorithm): TableBuilder {
    let table = this.tables.get(algorithm);
    if (!table) {
      table = new TableBuilder(DIGEST_LENGTH[algorithm]);
      this.tables.set(algorithm, table);
    }
    return table;
  }
}

/**
 * Entries are bucketed on the leading bits of their digest, enough bits for about this many
 * entries per bucket (a few bytes of bucket table per entry).
 */
const ENTRIES_PER_BUCKET = 8;
const MIN_BUCKET_BITS = 8;
const MAX_BUCKET_BITS = 22;
/** Buckets up to this size are sorted by insertion (nearly all of them, with the sizing above). */
const INSERTION_SORT_MAX = 48;

function bucketBitsFor(entries: number): number {
  const wanted = Math.ceil(Math.log2(Math.max(1, entries / ENTRIES_PER_BUCKET)));
  return Math.min(MAX_BUCKET_BITS, Math.max(MIN_BUCKET_BITS, wanted));
}

/** The first digest byte not wholly given by a bucket of `bits` bits: where comparisons start. */
function firstUnbucketedByte(bits: number): number {
  return bits >> 3;
}

/** The bucket of the digest at `p` in `digests`: its leading `bits` bits. */
function bucketOf(digests: Uint8Array, p: number, bits: number): number {
  return ((digests[p]! << 16) | (digests[p + 1]! << 8) | digests[p + 2]!) >>> (24 - bits);
}

/** A sorted table as plain data in shared memory. */
export interface SharedSortedTable {
  digestLength: number;
  /** The entries in load order: digests, sizes, name ids. */
  digests: Uint8Array;
  sizes: Uint32Array;
  names: Uint32Array;
  /** The entries (load-order indexes) sorted by (digest, size), load order among equal keys. */
  order: Uint32Array;
  /** How many leading digest bits choose the bucket. */
  bucketBits: number;
  /** Where each bucket's entries start in `order` (one more than there are buckets). */
  bucketStarts: Uint32Array;
  /** The distinct sizes (ANY_SIZE too, if present), ascending, to tell quickly whether hashing an object is useful. */
  distinctSizes: Uint32Array;
  hasAnySize: boolean;
}

/**
 * Entries sorted by (digest, size), in load order among equal keys. A bucket table on the
 * leading digest bits, sized to the entry count, narrows each lookup to a handful of entries.
 *
 * The entries stay where loading put them and only their order is sorted: gathering millions of
 * digests into sorted order reads memory at random, three misses per entry (the 8-million
 * signature database spent 3.8 s there), while a lookup follows the order for the few entries of
 * one bucket.
 */
class SortedTable {
  private constructor(private readonly t: SharedSortedTable) {}

  static fromShared(shared: SharedSortedTable): SortedTable {
    return new SortedTable(shared);
  }

  toShared(): SharedSortedTable {
    return this.t;
  }

  static from(builder: TableBuilder): SortedTable {
    const n = builder.sizes.length;
    const digestLength = builder.digestLength;
    const digests = builder.digests.used();
    const sizes = builder.sizes.used();
    const names = builder.names.used();
    // Stable counting sort on the leading digest bits, then a sort on the rest of the key
    // inside each (small) bucket.
    const bucketBits = bucketBitsFor(n);
    const bucketStarts = bucketStartsOf(digests, n, digestLength, bucketBits);
    const order = orderByBucket(digests, n, digestLength, bucketBits, bucketStarts);
    const first = firstUnbucketedByte(bucketBits);
    sortBuckets(order, bucketStarts, (a: number, b: number): number => {
      for (let i = first, pa = a * digestLength, pb = b * digestLength; i < digestLength; i++) {
        const d = digests[pa + i]! - digests[pb + i]!;
        if (d !== 0) return d;
      }
      return sizes[a]! - sizes[b]! || a - b;
    });
    const hasAnySize = sizes.includes(ANY_SIZE);
    // With any-size entries every object must be hashed anyway: the size list would go unused.
    const distinctSizes = distinctSorted(sizes);
    return new SortedTable({ digestLength, digests, sizes, names, order, bucketBits, bucketStarts, distinctSizes, hasAnySize });
  }

  get count(): number {
    return this.t.sizes.length;
  }

  get hasAnySize(): boolean {
    return this.t.hasAnySize;
  }

  /** Could an object of this size match anything here? (Saves hashing objects no entry can match.) */
  mayMatchSize(size: number): boolean {
    return this.t.hasAnySize || this.hasSize(size);
  }

  /** Is there an entry of exactly this size (ClamAV's cli_hm_have_size)? */
  hasSize(size: number): boolean {
    const sizes = this.t.distinctSizes;
    let low = 0;
    let high = sizes.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (sizes[mid]! < size) low = mid + 1;
      else high = mid;
    }
    return low < sizes.length && sizes[low] === size;
  }

  lookup(digest: Uint8Array, size: number): HashMatch {
    const { bucketStarts, order, sizes, names } = this.t;
    const result: HashMatch = { sized: -1, anySize: -1 };
    const bucket = bucketOf(digest, 0, this.t.bucketBits);
    let low = bucketStarts[bucket]!;
    let high = bucketStarts[bucket + 1]!;
    // Lower bound of the digest inside the bucket.
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.compareDigest(order[mid]!, digest) < 0) low = mid + 1;
      else high = mid;
    }
    const end = bucketStarts[bucket + 1]!;
    // Among equal entries the last loaded wins, as in ClamAV.
    for (let i = low; i < end && this.compareDigest(order[i]!, digest) === 0; i++) {
      const entry = order[i]!;
      const entrySize = sizes[entry]!;
      // An empty object (an empty import table) matches any-size entries only.
      if (entrySize === ANY_SIZE) result.anySize = names[entry]!;
      else if (entrySize === size) result.sized = names[entry]!;
    }
    return result;
  }

  /** Compares entry `entry`'s digest (past the bucket's bytes) with `digest`. */
  private compareDigest(entry: number, digest: Uint8Array): number {
    const { digestLength, digests } = this.t;
    const base = entry * digestLength;
    for (let i = firstUnbucketedByte(this.t.bucketBits); i < digestLength; i++) {
      const d = digests[base + i]! - digest[i]!;
      if (d !== 0) return d;
    }
    return 0;
  }
}

export type SharedHashIndex = Partial<Record<HashAlgorithm, SharedSortedTable>>;

// The steps of SortedTable.from: one loop per function, for V8's on-stack replacement (see the
// build steps in node-lists.ts).

/** Where each bucket's entries start once sorted by bucket (bucketCount + 1 offsets). */
function bucketStartsOf(digests: Uint8Array, n: number, digestLength: number, bucketBits: number): Uint32Array {
  return runningTotals(bucketSizes(digests, n, digestLength, bucketBits));
}

/** How many entries each bucket has, at the index after the bucket's (index 0 stays 0). */
function bucketSizes(digests: Uint8Array, n: number, digestLength: number, bucketBits: number): Uint32Array {
  const sizes = sharedArray(Uint32Array, (1 << bucketBits) + 1);
  for (let p = 0; p < n * digestLength; p += digestLength) sizes[bucketOf(digests, p, bucketBits) + 1]!++;
  return sizes;
}

/** Replaces each count by the sum of the counts up to it. */
function runningTotals(counts: Uint32Array): Uint32Array {
  for (let i = 1; i < counts.length; i++) counts[i]! += counts[i - 1]!;
  return counts;
}

/** The entries in bucket order, load order within each bucket (a stable counting sort), in shared memory. */
function orderByBucket(digests: Uint8Array, n: number, digestLength: number, bucketBits: number, bucketStarts: Uint32Array): Uint32Array {
  const order = sharedArray(Uint32Array, n);
  const fill = bucketStarts.slice(0, bucketStarts.length - 1);
  for (let entry = 0, p = 0; entry < n; entry++, p += digestLength) {
    order[fill[bucketOf(digests, p, bucketBits)]!++] = entry;
  }
  return order;
}

/** Sorts each bucket's part of `order` with `compare`: by insertion when small, as most are. */
function sortBuckets(order: Uint32Array, bucketStarts: Uint32Array, compare: (a: number, b: number) => number): void {
  for (let b = 0; b + 1 < bucketStarts.length; b++) {
    const start = bucketStarts[b]!;
    const end = bucketStarts[b + 1]!;
    if (end - start <= 1) continue;
    if (end - start > INSERTION_SORT_MAX) {
      order.subarray(start, end).sort(compare);
      continue;
    }
    for (let i = start + 1; i < end; i++) {
      const entry = order[i]!;
      let j = i - 1;
      for (; j >= start && compare(order[j]!, entry) > 0; j--) order[j + 1] = order[j]!;
      order[j + 1] = entry;
    }
  }
}

/** The distinct values of `values`, ascending, in shared memory. */
function distinctSorted(values: Uint32Array): Uint32Array {
  const sorted = values.slice().sort();
  const count = keepDistinct(sorted);
  const distinct = sharedArray(Uint32Array, count);
  distinct.set(sorted.subarray(0, count));
  return distinct;
}

/** Moves the distinct values of sorted `values` to its start; returns how many there are. */
function keepDistinct(values: Uint32Array): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (i === 0 || values[i] !== values[i - 1]) values[count++] = values[i]!;
  return count;
}

/** Immutable hash lookup for whole-file (hdb/hsb/fp/sfp) or PE-section (mdb/msb) signatures. */
export class HashIndex {
  constructor(private readonly tables: ReadonlyMap<HashAlgorithm, SortedTable>) {}

  toShared(): SharedHashIndex {
    const shared: SharedHashIndex = {};
    for (const [algorithm, table] of this.tables) shared[algorithm] = table.toShared();
    return shared;
  }

  static fromShared(shared: SharedHashIndex): HashIndex {
    const tables = new Map<HashAlgorithm, SortedTable>();
    for (const algorithm of HASH_ALGORITHMS) {
      const table = shared[algorithm];
      if (table) tables.set(algorithm, SortedTable.fromShared(table));
    }
    return new HashIndex(tables);
  }

  get count(): number {
    let total = 0;
    for (const table of this.tables.values()) total += table.count;
    return total;
  }

  /** True when some entry of this algorithm could match an object of `size` bytes. */
  wants(algorithm: HashAlgorithm, size: number): boolean {
    return this.tables.get(algorithm)?.mayMatchSize(size) ?? false;
  }

  /** Is there an entry of exactly this size, not counting any-size ones? */
  hasSize(algorithm: HashAlgorithm, size: number): boolean {
    return this.tables.get(algorithm)?.hasSize(size) ?? false;
  }

  /** Is there an any-size entry? */
  hasAnySize(algorithm: HashAlgorithm): boolean {
    return this.tables.get(algorithm)?.hasAnySize ?? false;
  }

  lookup(algorithm: HashAlgorithm, digest: Uint8Array, size: number): HashMatch {
    const table = this.tables.get(algorithm);
    return table ? table.lookup(digest, size) : { sized: -1, anySize: -1 };
  }
}
