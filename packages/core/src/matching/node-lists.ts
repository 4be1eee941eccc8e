import { SpecialKind, type Special } from '../signatures/body-pattern.js';
import { elementMask, isStoredSpecial, staticBytesKey, storedSpecialIndex, type StaticKey } from '../signatures/pattern-elements.js';
import { sharedArray } from '../util/shared-memory.js';
import { addCaseVariants } from './candidate-index.js';
import { KeyedLists, KeyedListsBuilder, slotBitsFor, type SharedKeyedLists } from './keyed-lists.js';
import { PatternEngine, type PatternTable } from './pattern-table.js';

/** Sets 3-byte node keys apart from 2-byte ones, whatever their bytes. */
const THREE_BYTE_NODE = 0x0100_0000;

/** NodeLists as plain data in shared memory. */
export interface SharedNodeLists {
  chainNext: Int32Array;
  chainHead: Int32Array;
  nodes: SharedKeyedLists;
}

/**
 * The order in which ClamAV's Aho-Corasick automaton handles the patterns seen at one position,
 * which decides which name is reported first, how split patterns progress, and even whether a
 * match is reported twice.
 *
 * ClamAV's trie is only 2 or 3 bytes deep: each pattern hangs at the node of its static key.
 * Patterns it considers identical (same elements, prefix, anchor bytes and boundaries, whatever
 * their offsets, anchor distances or modifiers) share one entry, a "chain": only the first is
 * verified and all of them take its result. A node's entries are sorted by part number, longer
 * chains first, then load order. At a position whose last 3 bytes are a 3-byte key, ClamAV walks
 * that node's entries followed by those of the 2-byte key of the last 2 bytes; meeting an entry
 * whose part number is above every part matched so far, it jumps back to the start of the
 * 2-byte key's entries (once), so those before the jump are handled twice.
 *
 * Both kinds of node live in one KeyedLists in shared memory: a 2-byte node under its key
 * (bytes big-endian), a 3-byte node under `threeByteNode(key)`.
 */

export class NodeLists {
  /** Next pattern in the same chain, -1 at the end; chains start at their head. */
  readonly chainNext: Int32Array;
  /** Head of each pattern's chain (itself for heads and for Boyer-Moore patterns). */
  readonly chainHead: Int32Array;
  /** The entries of each node: a 2-byte node under its key, a 3-byte one under `threeByteNode(key)`. */
  readonly nodes: KeyedLists;

  private constructor(chainNext: Int32Array, chainHead: Int32Array, nodes: KeyedLists) {
    this.chainNext = chainNext;
    this.chainHead = chainHead;
    this.nodes = nodes;
  }

  static fromShared(shared: SharedNodeLists): NodeLists {
    return new NodeLists(shared.chainNext, shared.chainHead, new KeyedLists(shared.nodes));
  }

  toShared(): SharedNodeLists {
    return { chainNext: this.chainNext, chainHead: this.chainHead, nodes: this.nodes.toShared() };
  }

  static build(table: PatternTable): NodeLists {
    const { chainNext, chainHead, chainLength } = chainIdenticalPatterns(table);
    const order = (a: number, b: number): number =>
      table.partNumber[a]! - table.partNumber[b]! || chainLength[b]! - chainLength[a]! || a - b;
    return new NodeLists(chainNext, chainHead, nodeEntries(table, chainHead).build(order));
  }
}

/** The chains of identical patterns (see NodeLists), with each head's chain length. */
interface Chains {
  readonly chainNext: Int32Array;
  readonly chainHead: Int32Array;
  readonly chainLength: Uint32Array;
}

/*
 * The build steps below are separate functions, one loop each, because they run once per target
 * over 10^5 patterns: V8 optimizes such a loop while it runs (on-stack replacement), and code
 * compiled that way for a longer function also covers its later statements, which have not run
 * yet; the first of them to run then discards the optimized code.
 */

function chainIdenticalPatterns(table: PatternTable): Chains {
  const chains = new ChainBuilder(table);
  for (let p = 0; p < table.count; p++) if (table.engine[p] === PatternEngine.AhoCorasick) chains.add(p);
  return chains;
}

/**
 * Groups identical patterns: by a hash of what ClamAV compares, then by comparing. The chain
 * heads of one hash are linked through nextHead from their hash's slot.
 *
 * One pattern per call of `add`, not one loop over all: the generic target's build (at load)
 * calls it often enough for V8 to optimize it, and the build of a larger target (when its first
 * object is scanned) then runs that code from its first pattern, where a loop of its own would
 * run unoptimized until compiled again while it runs.
 */
class ChainBuilder implements Chains {
  readonly chainNext: Int32Array;
  readonly chainHead: Int32Array;
  readonly chainLength: Uint32Array;
  /** Last member of each head's chain. */
  private readonly chainTail: Int32Array;
  /** Each slot is a hash and the first chain head with that hash, side by side: one cache miss. */
  private readonly slots: Int32Array;
  private readonly slotShift: number;
  private readonly slotMask: number;
  private readonly nextHead: Int32Array;
  /**
   * Each special's identity as a number (equal for specials alike, see specialIdentity), made
   * once per build, so that `add` meets no special object (specials have several shapes).
   */
  private readonly specialIds: Int32Array;

  constructor(private readonly table: PatternTable) {
    const n = table.count;
    this.chainNext = sharedArray(Int32Array, n).fill(-1);
    this.chainHead = sharedArray(Int32Array, n);
    this.chainLength = new Uint32Array(n).fill(1);
    this.chainTail = new Int32Array(n);
    for (let p = 0; p < n; p++) this.chainHead[p] = this.chainTail[p] = p;
    const slotBits = slotBitsFor(n);
    this.slotShift = 32 - slotBits;
    this.slotMask = (1 << slotBits) - 1;
    this.slots = new Int32Array(2 << slotBits).fill(-1);
    this.nextHead = new Int32Array(n).fill(-1);
    const ids = new Map<string, number>();
    this.specialIds = Int32Array.from(table.specials, (special) => {
      const identity = specialIdentity(special);
      let id = ids.get(identity);
      if (id === undefined) ids.set(identity, (id = ids.size));
      return id;
    });
  }

  add(p: number): void {
    const { table, slots, nextHead, chainNext, chainHead, chainLength, chainTail } = this;
    const hash = identityHash(table, this.specialIds, p);
    let slot = Math.imul(hash, 0x85ebca6b) >>> this.slotShift;
    while (slots[2 * slot + 1] !== -1 && slots[2 * slot] !== hash) slot = (slot + 1) & this.slotMask;
    const firstHead = 2 * slot + 1;
    let head = slots[firstHead]!;
    while (head !== -1 && !identical(table, this.specialIds, head, p)) head = nextHead[head]!;
    if (head === -1) {
      slots[2 * slot] = hash;
      nextHead[p] = slots[firstHead]!;
      slots[firstHead] = p;
      return;
    }
    // Chains are ordered by part number, then load order; patterns arrive in load order, so
    // they usually go at the end.
    const tail = chainTail[head]!;
    if (table.partNumber[tail]! <= table.partNumber[p]!) {
      chainNext[tail] = p;
      chainTail[head] = p;
      chainHead[p] = head;
      chainLength[head]!++;
      return;
    }
    let previous = -1;
    let member = head;
    while (member !== -1 && table.partNumber[member]! <= table.partNumber[p]!) {
      previous = member;
      member = chainNext[member]!;
    }
    if (previous === -1) {
      // p becomes the new head, in head's place among the heads of its hash.
      nextHead[p] = nextHead[head]!;
      if (slots[firstHead] === head) slots[firstHead] = p;
      else {
        let before = slots[firstHead]!;
        while (nextHead[before] !== head) before = nextHead[before]!;
        nextHead[before] = p;
      }
      chainNext[p] = head;
      chainLength[p] = chainLength[head]! + 1;
      chainTail[p] = chainTail[head]!;
      for (let m = head; m !== -1; m = chainNext[m]!) chainHead[m] = p;
    } else {
      chainNext[p] = member;
      chainNext[previous] = p;
      chainHead[p] = head;
      chainLength[head]!++;
    }
  }
}

/** Each chain head under the node of its static key (every case variant of a nocase key). */
function nodeEntries(table: PatternTable, chainHead: Int32Array): KeyedListsBuilder {
  const nodes = new KeyedListsBuilder();
  const staticKey: StaticKey = { key: 0, nocase: 0 };
  for (let p = 0; p < table.count; p++) {
    if (table.engine[p] !== PatternEngine.AhoCorasick || chainHead[p] !== p) continue;
    const depth = table.keyLength[p]! as 2 | 3;
    staticBytesKey(table.elements, table.elementStart[p]! + table.prefixLength[p]!, depth, staticKey);
    addCaseVariants(nodes, staticKey.key, depth, staticKey.nocase, p, depth === 3 ? threeByteNode : undefined);
  }
  return nodes;
}

/**
 * A hash (a signed 32-bit integer) of what makes ClamAV's automaton take two patterns for one
 * (`identical`): prefix and pattern lengths, anchor elements (as the table stores them),
 * boundaries, elements and the specials' identities.
 */
function identityHash(table: PatternTable, specialIds: Int32Array, p: number): number {
  const { elements } = table;
  const start = table.elementStart[p]!;
  const prefixLength = table.prefixLength[p]!;
  const length = prefixLength + table.length[p]!;
  const specialStart = table.specialStart[p]!;
  let hash = Math.imul(prefixLength + 31 * table.length[p]!, 0x9e3779b1) ^ table.leftAnchor[p]! ^ (table.rightAnchor[p]! << 7);
  hash ^= table.boundary(p) << 13;
  for (let i = 0; i < length; i++) {
    const e = elements[start + i]!;
    // A special counts by its identity, set apart from the stored byte elements (16 bits).
    hash = Math.imul(hash ^ (isStoredSpecial(e) ? 0x10000 + specialIds[storedSpecialIndex(e, specialStart)]! : e), 0x01000193);
  }
  return hash;
}

/**
 * What ClamAV compares of a special when it takes two patterns for one, as a string: two
 * specials are alike when their identities are equal. Byte sets and string sets in any order;
 * generic alternatives in order, each element by its byte and mask (not its case).
 */
function specialIdentity(special: Special): string {
  const head = `${special.kind}${special.negative ? '!' : ''}`;
  switch (special.kind) {
    case SpecialKind.AltByte:
      return `${head}:${[...special.bytes].sort((x, y) => x - y).join(',')}`;
    case SpecialKind.AltFixed:
      return `${head}:${special.length}:${special.strings.map((bytes) => Buffer.from(bytes).toString('hex')).sort().join(',')}`;
    case SpecialKind.AltGeneric: {
      const alternatives = special.alternatives.map((alternative) => Array.from(alternative.elements, (e) => `${e & 0xff}/${elementMask(e)}`).join(' '));
      return `${head}:${alternatives.length}:${alternatives.join('|')}`;
    }
    default:
      return head;
  }
}

/** The key of the node of the 3-byte key `key` (bytes big-endian) in `NodeLists.nodes`. */
export function threeByteNode(key: number): number {
  return THREE_BYTE_NODE | key;
}

/**
 * What ClamAV's patt_cmp_fn compares: element counts, the elements of prefix and pattern, the
 * single-byte anchors' bytes, the boundary flags and the specials (by specialIdentity).
 */
function identical(table: PatternTable, specialIds: Int32Array, a: number, b: number): boolean {
  const sa = table.elementStart[a]!;
  const sb = table.elementStart[b]!;
  if (
    table.prefixLength[a] !== table.prefixLength[b] ||
    table.length[a] !== table.length[b] ||
    table.leftAnchor[a] !== table.leftAnchor[b] ||
    table.rightAnchor[a] !== table.rightAnchor[b] ||
    table.boundary(a) !== table.boundary(b)
  ) {
    return false;
  }
  const specialsA = table.specialStart[a]!;
  const specialsB = table.specialStart[b]!;
  const count = table.prefixLength[a]! + table.length[a]!;
  for (let i = 0; i < count; i++) {
    const ea = table.elements[sa + i]!;
    const eb = table.elements[sb + i]!;
    if (isStoredSpecial(ea) !== isStoredSpecial(eb)) return false;
    if (!isStoredSpecial(ea)) {
      if (ea !== eb) return false;
    } else if (specialIds[storedSpecialIndex(ea, specialsA)] !== specialIds[storedSpecialIndex(eb, specialsB)]) {
      return false;
    }
  }
  return true;
}
