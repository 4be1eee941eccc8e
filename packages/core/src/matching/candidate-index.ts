import { sharedArray } from '../util/shared-memory.js';
import { KeyedLists, KeyedListsBuilder, type SharedKeyedLists } from './keyed-lists.js';
import type { PatternTable } from './pattern-table.js';
import { fixedSpecialWidths, searchWindow, type SearchWindow } from './search-window.js';

/**
 * Finds where patterns may match: every pattern has a search window of 2 to 4 static bytes at a
 * fixed distance from its start, and this index reports each position where some window's bytes
 * occur, with the patterns concerned. One pass over the data keeps the last 4 bytes in a 32-bit
 * value; per position, one lookup of the last 2 bytes in a 64 KiB table of flags (is it a 2-byte
 * window? the end of a longer one?) rejects most positions, and a bitmap on a hash of the last
 * 3 bytes most of the rest, before any list lookup.
 *
 * Laid out in typed arrays in shared memory (see toShared) and immutable once built.
 */

/** Receives a candidate: pattern `pattern` may start (after its prefix) at buffer index `at`. */
export type CandidateVisitor = (pattern: number, at: number) => void;

const HASH_MULTIPLIER = 0x9e3779b1;
/** pairFlags: these 2 bytes are a 2-byte window. */
const PAIR_WINDOW = 1;
/** pairFlags: these 2 bytes end the last 3 bytes of some 3- or 4-byte window. */
const PAIR_TAIL = 2;

interface SharedWindowTable {
  lists: SharedKeyedLists;
  /** Parallel to the lists' values (the patterns): the distance from pattern start to window end. */
  endOffsets: Uint32Array;
}

/** The windows of one length, keyed by their bytes as a big-endian number. */
class WindowTable {
  private readonly lists: KeyedLists;
  private readonly endOffsets: Uint32Array;

  private constructor(lists: KeyedLists, endOffsets: Uint32Array) {
    this.lists = lists;
    this.endOffsets = endOffsets;
  }

  static build(entries: KeyedListsBuilder, windowEnd: Uint32Array): WindowTable {
    const lists = entries.build();
    const patterns = lists.values;
    const endOffsets = sharedArray(Uint32Array, patterns.length);
    for (let k = 0; k < patterns.length; k++) endOffsets[k] = windowEnd[patterns[k]!]!;
    return new WindowTable(lists, endOffsets);
  }

  static fromShared(shared: SharedWindowTable): WindowTable {
    return new WindowTable(new KeyedLists(shared.lists), shared.endOffsets);
  }

  toShared(): SharedWindowTable {
    return { lists: this.lists.toShared(), endOffsets: this.endOffsets };
  }

  get empty(): boolean {
    return this.endOffsets.length === 0;
  }

  forEachKey(visit: (key: number) => void): void {
    this.lists.forEachKey(visit);
  }

  /** Reports the candidates of `key` (if any), whose window ends at buffer index `position`. */
  visit(key: number, position: number, visitor: CandidateVisitor): void {
    const lists = this.lists;
    const slot = lists.find(key);
    if (slot === -1) return;
    const patterns = lists.values;
    const start = lists.slotStart[slot]!;
    const end = start + lists.slotCount[slot]!;
    for (let k = start; k < end; k++) visitor(patterns[k]!, position - this.endOffsets[k]!);
  }
}

/** A CandidateIndex as plain data in shared memory. */
export interface SharedCandidateIndex {
  two: SharedWindowTable;
  three: SharedWindowTable;
  four: SharedWindowTable;
  pairFlags: Uint8Array;
  tails: Int32Array;
  tailShift: number;
}

export class CandidateIndex {
  private readonly two: WindowTable;
  private readonly three: WindowTable;
  private readonly four: WindowTable;
  /** Per value of the last 2 bytes: PAIR_WINDOW, PAIR_TAIL (see those). */
  private readonly pairFlags: Uint8Array;
  /** Bit per hash of the last 3 bytes of every 3- and 4-byte window key. */
  private readonly tails: Int32Array;
  private readonly tailShift: number;

  private constructor(two: WindowTable, three: WindowTable, four: WindowTable, pairFlags: Uint8Array, tails: Int32Array, tailShift: number) {
    this.two = two;
    this.three = three;
    this.four = four;
    this.pairFlags = pairFlags;
    this.tails = tails;
    this.tailShift = tailShift;
  }

  /** Indexes the search windows of the patterns for which `searched` holds. */
  static build(table: PatternTable, searched: (pattern: number) => boolean): CandidateIndex {
    const { entries, windowEnd } = windowEntries(table, searched);
    const [two, three, four] = entries.map((byKey) => WindowTable.build(byKey, windowEnd)) as [WindowTable, WindowTable, WindowTable];
    const { pairFlags, tails, tailShift } = positionFilters(two, three, four);
    return new CandidateIndex(two, three, four, pairFlags, tails, tailShift);
  }

  static fromShared(shared: SharedCandidateIndex): CandidateIndex {
    const { two, three, four, pairFlags, tails, tailShift } = shared;
    return new CandidateIndex(WindowTable.fromShared(two), WindowTable.fromShared(three), WindowTable.fromShared(four), pairFlags, tails, tailShift);
  }

  toShared(): SharedCandidateIndex {
    const { pairFlags, tails, tailShift } = this;
    return { two: this.two.toShared(), three: this.three.toShared(), four: this.four.toShared(), pairFlags, tails, tailShift };
  }

  /** Calls `visitor` for every candidate in `buffer`, in order of window end position. */
  scan(buffer: Uint8Array, visitor: CandidateVisitor): void {
    const { two, three, four, pairFlags, tails, tailShift } = this;
    const length = buffer.length;
    if (length < 2) return;
    let rolling = buffer[0]!;
    for (let i = 1; i < length; i++) {
      rolling = ((rolling << 8) | buffer[i]!) >>> 0;
      const flags = pairFlags[rolling & 0xffff]!;
      if (flags === 0) continue;
      if ((flags & PAIR_WINDOW) !== 0) two.visit(rolling & 0xffff, i, visitor);
      if ((flags & PAIR_TAIL) !== 0 && i >= 2) {
        const h = Math.imul(rolling & 0xff_ffff, HASH_MULTIPLIER) >>> tailShift;
        if ((tails[h >>> 5]! & (1 << (h & 31))) !== 0) {
          if (i >= 3) four.visit(rolling, i, visitor);
          three.visit(rolling & 0xff_ffff, i, visitor);
        }
      }
    }
  }
}

// The steps of CandidateIndex.build: one loop per function, for V8's on-stack replacement (see
// the build steps in node-lists.ts).

/** The searched patterns under their window keys, by window length (2, 3, 4), and where each window ends. */
function windowEntries(table: PatternTable, searched: (pattern: number) => boolean): { entries: KeyedListsBuilder[]; windowEnd: Uint32Array } {
  const entries = [new KeyedListsBuilder(), new KeyedListsBuilder(), new KeyedListsBuilder()];
  const windowEnd = new Uint32Array(table.count);
  const window: SearchWindow = { offset: 0, length: 0, key: 0, nocase: 0 };
  const specialWidths = fixedSpecialWidths(table.specials);
  for (let p = 0; p < table.count; p++) {
    if (!searched(p)) continue;
    searchWindow(table, specialWidths, p, window);
    windowEnd[p] = window.offset + window.length - 1;
    addCaseVariants(entries[window.length - 2]!, window.key, window.length, window.nocase, p);
  }
  return { entries, windowEnd };
}

const sameKey = (key: number): number => key;

/**
 * Adds `value` under each key a window or node key stands for: its bytes with every
 * case-insensitive letter in both cases. `nocase` has one bit per byte, the first byte in the
 * highest bit. A function of its own, without callbacks, so that the loops calling it allocate
 * nothing per pattern.
 */
export function addCaseVariants(lists: KeyedListsBuilder, key: number, length: number, nocase: number, value: number, keyOf = sameKey): void {
  if (nocase === 0) {
    lists.add(keyOf(key), value);
    return;
  }
  // Bit 0x20 of each case-insensitive letter (stored in lower case): clearing it gives the upper case.
  let letters = 0;
  for (let k = 0; k < length; k++) {
    const shift = 8 * (length - 1 - k);
    const b = (key >>> shift) & 0xff;
    if ((nocase >> (length - 1 - k)) & 1 && b >= 0x61 && b <= 0x7a) letters |= 0x20 << shift;
  }
  // Every subset of those bits, the empty one (the key itself) first.
  let upper = 0;
  do {
    lists.add(keyOf((key & ~upper) >>> 0), value);
    upper = (upper - letters) & letters;
  } while (upper !== 0);
}

/** The pair flags and the bitmap of 3-byte tails that let a scan skip most positions. */
function positionFilters(two: WindowTable, three: WindowTable, four: WindowTable): { pairFlags: Uint8Array; tails: Int32Array; tailShift: number } {
  let tailCount = 0;
  three.forEachKey(() => tailCount++);
  four.forEachKey(() => tailCount++);
  const tailBits = Math.min(24, Math.max(10, Math.ceil(Math.log2(Math.max(1, tailCount) * 32))));
  const tailShift = 32 - tailBits;
  const pairFlags = sharedArray(Uint8Array, 1 << 16);
  const tails = sharedArray(Int32Array, 1 << (tailBits - 5));
  two.forEachKey((key) => (pairFlags[key]! |= PAIR_WINDOW));
  const addTail = (key: number): void => {
    pairFlags[key & 0xffff]! |= PAIR_TAIL;
    const h = Math.imul(key & 0xff_ffff, HASH_MULTIPLIER) >>> tailShift;
    tails[h >>> 5]! |= 1 << (h & 31);
  };
  three.forEachKey(addTail);
  four.forEachKey(addTail);
  return { pairFlags, tails, tailShift };
}
