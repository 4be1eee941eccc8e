import { MIN_STATIC_BYTES, specialLengths, type ByteAnchor, type ParsedPart, type Special } from '../signatures/body-pattern.js';
import { isStoredSpecial, storedSpecialIndex } from '../signatures/pattern-elements.js';
import { emptyObjectArray } from '../util/object-array.js';
import { GrowableShared } from '../util/shared-memory.js';
import { SignatureError } from './signature-error.js';
import { choosePrefixLength, keyLengthAt } from './ac-key.js';

/**
 * Every body pattern of one target type, compiled and laid out in typed arrays (one entry per
 * part of a split pattern). Built once, then only read, so scans never mutate it; the arrays
 * live in shared memory, so worker threads read the same table (toShared/fromShared).
 *
 * Each pattern keeps ClamAV's decomposition: a "prefix" (elements matched backwards from the
 * pattern start, chosen so that the pattern proper starts with 2 or 3 static bytes, its "key")
 * and the pattern proper. Matches are processed in the order ClamAV's automaton finds them:
 * by the position of the last key byte. Independently, each pattern has its own search window
 * (up to 4 static bytes at a fixed distance from the start) that the candidate index looks for.
 */

/** Marks "no single-byte anchor" in the anchor element arrays. */
export const NO_ANCHOR = 0;

/**
 * What a part without an anchor writes to the anchor columns. An object of the same shape as the
 * parsed anchors: the writes then read one kind of object from the first pattern on, and V8's
 * code for them is not thrown away when the first anchored pattern comes (anchors are rare).
 */
const UNANCHORED: ByteAnchor = { element: NO_ANCHOR, min: 0, max: 0 };

/** What a pattern match does. */
export const enum PatternAction {
  /** Detects: reports the signature's name (an .ndb signature). */
  Report,
  /** Counts a match of a logical signature's subsignature. */
  Subsignature,
  /** Records the position for logical-signature macros (an .ndb `$n$` signature). */
  Macro,
  /**
   * A file type pattern (.ftm magic type 1): never detects, but ClamAV keeps it in the same
   * automaton, where it shapes the order and progress of the others (see NodeLists), and a
   * CL_TYPE_IGNORED one ends the window's matching when file type recognition is on.
   */
  FileType,
}

/** How ClamAV matches the pattern, which decides its order within a chunk. */
export const enum PatternEngine {
  /** ClamAV's Boyer-Moore matcher (plain hex .ndb patterns of the generic and PE targets): first. */
  BoyerMoore,
  /** ClamAV's Aho-Corasick matcher: second. */
  AhoCorasick,
}

/** Where a prepared pattern goes and what it does. */
export interface PatternEntry {
  readonly action: PatternAction;
  /** Report: the signature index; Subsignature: the logical signature index; Macro: the group. */
  readonly owner: number;
  /** Subsignature index within the logical signature. */
  readonly subsignature: number;
  /** Offset constraint: OffsetKind, and absolute bounds or the relative-offset slot. */
  readonly offsetKind: number;
  readonly offsetMin: number;
  readonly offsetMax: number;
  /** Split patterns: the partial-signature id (1-based; 0 = not split), part number, part count (0 when not split). */
  readonly partialId: number;
  readonly partNumber: number;
  readonly partCount: number;
  /** Distance from the end of the previous part to the start of this one (max 0: unlimited). */
  readonly gapMin: number;
  readonly gapMax: number;
  /** Boyer-Moore only: ClamAV's hash-bucket shift, which decides its report order. */
  readonly bmShift: number;
}

const enum Flag {
  Wide = 0x1_0000,
}

/** The typed-array columns of a pattern table, one entry per pattern. */
const COLUMNS = {
  /** Start of the pattern's elements in `elements`: prefix, then pattern proper. */
  elementStart: Uint32Array,
  /** Elements in the prefix and in the pattern proper. */
  prefixLength: Uint16Array,
  length: Uint16Array,
  /** Byte lengths ClamAV accounts for the pattern proper and the prefix (min, max). */
  minLength: Uint32Array,
  maxLength: Uint32Array,
  prefixMin: Uint32Array,
  prefixMax: Uint32Array,
  /** Static key length (2 or 3) of the pattern proper: ClamAV handles the match at its last byte. */
  keyLength: Uint8Array,
  /** Index of the first special of the pattern in `specials`, and how many belong to the prefix. */
  specialStart: Uint32Array,
  prefixSpecials: Uint16Array,
  leftAnchor: Uint32Array,
  leftMin: Uint8Array,
  leftMax: Uint8Array,
  rightAnchor: Uint32Array,
  rightMin: Uint8Array,
  rightMax: Uint8Array,
  /** Boundary flags (low 16 bits) and Flag bits. */
  flags: Uint32Array,
  engine: Uint8Array,
  action: Uint8Array,
  owner: Uint32Array,
  subsignature: Uint8Array,
  /** Offset constraint: OffsetKind, and absolute bounds or the relative-offset slot. */
  offsetKind: Uint8Array,
  offsetMin: Uint32Array,
  offsetMax: Uint32Array,
  /** Split patterns: partial-signature id (0 = not split), part number and count (0 when not split). */
  partialId: Uint32Array,
  partNumber: Uint16Array,
  partCount: Uint16Array,
  gapMin: Uint32Array,
  gapMax: Uint32Array,
  /**
   * Where ClamAV's matcher handles a match, relative to the start of the pattern proper: the last
   * key byte (Aho-Corasick) or the Boyer-Moore hash block.
   */
  handleOffset: Uint32Array,
} as const;

type ColumnName = keyof typeof COLUMNS;
const COLUMN_NAMES = Object.keys(COLUMNS) as ColumnName[];
export type PatternColumns = { readonly [K in ColumnName]: InstanceType<(typeof COLUMNS)[K]> };

/**
 * A PatternTable as plain data: the columns and elements in shared memory, the specials (a few
 * thousand small objects in a real database) as plain objects that are copied.
 */
export interface SharedPatternTable {
  columns: PatternColumns;
  elements: Uint16Array;
  specials: readonly Special[];
  longestPattern: number;
}

/** Column-wise storage of all patterns of one target type (see COLUMNS for the columns). */
export class PatternTable {
  readonly elementStart: Uint32Array;
  readonly prefixLength: Uint16Array;
  readonly length: Uint16Array;
  readonly minLength: Uint32Array;
  readonly maxLength: Uint32Array;
  readonly prefixMin: Uint32Array;
  readonly prefixMax: Uint32Array;
  readonly keyLength: Uint8Array;
  readonly specialStart: Uint32Array;
  readonly prefixSpecials: Uint16Array;
  readonly leftAnchor: Uint32Array;
  readonly leftMin: Uint8Array;
  readonly leftMax: Uint8Array;
  readonly rightAnchor: Uint32Array;
  readonly rightMin: Uint8Array;
  readonly rightMax: Uint8Array;
  readonly flags: Uint32Array;
  readonly engine: Uint8Array;
  readonly action: Uint8Array;
  readonly owner: Uint32Array;
  readonly subsignature: Uint8Array;
  readonly offsetKind: Uint8Array;
  readonly offsetMin: Uint32Array;
  readonly offsetMax: Uint32Array;
  readonly partialId: Uint32Array;
  readonly partNumber: Uint16Array;
  readonly partCount: Uint16Array;
  readonly gapMin: Uint32Array;
  readonly gapMax: Uint32Array;
  readonly handleOffset: Uint32Array;

  constructor(
    columns: PatternColumns,
    /**
     * All elements, stored (see wideElement): for pattern p,
     * `elements[elementStart[p] .. + prefixLength[p] + length[p]]`.
     */
    readonly elements: Uint16Array,
    readonly specials: readonly Special[],
    /** ClamAV's maxpatlen: the longest pattern (max lengths of prefix and pattern proper). */
    readonly longestPattern: number,
  ) {
    // Assigned one by one, in a fixed order, so that the hot columns are fast properties.
    this.elementStart = columns.elementStart;
    this.prefixLength = columns.prefixLength;
    this.length = columns.length;
    this.minLength = columns.minLength;
    this.maxLength = columns.maxLength;
    this.prefixMin = columns.prefixMin;
    this.prefixMax = columns.prefixMax;
    this.keyLength = columns.keyLength;
    this.specialStart = columns.specialStart;
    this.prefixSpecials = columns.prefixSpecials;
    this.leftAnchor = columns.leftAnchor;
    this.leftMin = columns.leftMin;
    this.leftMax = columns.leftMax;
    this.rightAnchor = columns.rightAnchor;
    this.rightMin = columns.rightMin;
    this.rightMax = columns.rightMax;
    this.flags = columns.flags;
    this.engine = columns.engine;
    this.action = columns.action;
    this.owner = columns.owner;
    this.subsignature = columns.subsignature;
    this.offsetKind = columns.offsetKind;
    this.offsetMin = columns.offsetMin;
    this.offsetMax = columns.offsetMax;
    this.partialId = columns.partialId;
    this.partNumber = columns.partNumber;
    this.partCount = columns.partCount;
    this.gapMin = columns.gapMin;
    this.gapMax = columns.gapMax;
    this.handleOffset = columns.handleOffset;
  }

  static fromShared(shared: SharedPatternTable): PatternTable {
    return new PatternTable(shared.columns, shared.elements, shared.specials, shared.longestPattern);
  }

  toShared(): SharedPatternTable {
    const columns = Object.fromEntries(COLUMN_NAMES.map((name) => [name, this[name]])) as unknown as PatternColumns;
    return { columns, elements: this.elements, specials: this.specials, longestPattern: this.longestPattern };
  }

  get count(): number {
    return this.engine.length;
  }

  isWide(p: number): boolean {
    return (this.flags[p]! & Flag.Wide) !== 0;
  }

  boundary(p: number): number {
    return this.flags[p]! & 0xffff;
  }
}

type Column = InstanceType<(typeof COLUMNS)[ColumnName]>;
type MutableColumns = { [K in ColumnName]: InstanceType<(typeof COLUMNS)[K]> };
type ColumnStorage = { [K in ColumnName]: GrowableShared<InstanceType<(typeof COLUMNS)[K]>> };
type SharedColumnType<T extends Column> = { new (buffer: SharedArrayBuffer, byteOffset?: number, length?: number): T; BYTES_PER_ELEMENT: number };

/** Address space each column reserves: room for 4 M patterns (a real database has 10^5 per target). */
const COLUMN_RESERVE_BYTES = 16 * 1024 * 1024;

function columnStorage(capacity: number): ColumnStorage {
  const storage = {} as Record<ColumnName, GrowableShared<Column>>;
  for (const name of COLUMN_NAMES) {
    storage[name] = new GrowableShared(COLUMNS[name] as unknown as SharedColumnType<Column>, capacity, COLUMN_RESERVE_BYTES);
  }
  return storage as ColumnStorage;
}

/** Views of the grown part of every column, for the builder's writes. */
function columnViews(s: ColumnStorage): MutableColumns {
  // A literal, so that the object has a fixed shape: built key by key, its 34 properties would
  // make V8 store it as a (slow) dictionary.
  return {
    elementStart: s.elementStart.array,
    prefixLength: s.prefixLength.array,
    length: s.length.array,
    minLength: s.minLength.array,
    maxLength: s.maxLength.array,
    prefixMin: s.prefixMin.array,
    prefixMax: s.prefixMax.array,
    keyLength: s.keyLength.array,
    specialStart: s.specialStart.array,
    prefixSpecials: s.prefixSpecials.array,
    leftAnchor: s.leftAnchor.array,
    leftMin: s.leftMin.array,
    leftMax: s.leftMax.array,
    rightAnchor: s.rightAnchor.array,
    rightMin: s.rightMin.array,
    rightMax: s.rightMax.array,
    flags: s.flags.array,
    engine: s.engine.array,
    action: s.action.array,
    owner: s.owner.array,
    subsignature: s.subsignature.array,
    offsetKind: s.offsetKind.array,
    offsetMin: s.offsetMin.array,
    offsetMax: s.offsetMax.array,
    partialId: s.partialId.array,
    partNumber: s.partNumber.array,
    partCount: s.partCount.array,
    gapMin: s.gapMin.array,
    gapMax: s.gapMax.array,
    handleOffset: s.handleOffset.array,
  };
}

/**
 * Collects patterns while signatures load, straight into typed columns that grow by doubling:
 * a real database has some 10^5 patterns and 10^7 elements, for which arrays of JavaScript
 * numbers take several times the memory and time. The columns grow in place in shared memory
 * (GrowableShared), and the built table is their used part: nothing is copied.
 */
export class PatternTableBuilder {
  private readonly storage = columnStorage(1024);
  private columns = columnViews(this.storage);
  private count = 0;
  private readonly elements = new GrowableShared(Uint16Array, 16 * 1024);
  private readonly specials = emptyObjectArray<Special>();
  private longest = 0;
  private built = false;

  get size(): number {
    return this.count;
  }

  /** ClamAV's maxpatlen of the patterns added so far. */
  get longestPattern(): number {
    return this.longest;
  }

  /**
   * Splits a parsed part into prefix and pattern proper, refusing (with ClamAV's message) a part
   * in which no static key of 2 bytes can be found.
   */
  prepare(part: ParsedPart, engine: PatternEngine): PreparedPattern {
    return prepare(part, engine, this.specials.length);
  }

  /** The minimum byte length of pattern `id`'s pattern proper (see COLUMNS). */
  minLength(id: number): number {
    return this.columns.minLength[id]!;
  }

  /**
   * The storage the next pattern's elements go to: parsePart writes a part's elements after its
   * used entries, and `add` counts them in.
   */
  get pendingElements(): GrowableShared<Uint16Array> {
    return this.elements;
  }

  /** Adds a pattern prepared by the last `prepare` call, its part parsed into `pendingElements`, and returns its id. */
  add(prepared: PreparedPattern, entry: PatternEntry): number {
    const { part, prefixLength } = prepared;
    if (part.elements !== this.elements.array || part.start !== this.elements.length) {
      throw new Error('PatternTableBuilder: the part was not parsed into pendingElements');
    }
    const id = this.nextId();
    const c = this.columns;
    c.elementStart[id] = part.start;
    this.elements.length += part.length;
    sumLengths(prepared, LENGTHS);
    if (part.specials.length > 0) this.specials.push(...part.specials);
    c.prefixLength[id] = prefixLength;
    c.length[id] = part.length - prefixLength;
    c.minLength[id] = LENGTHS.min;
    c.maxLength[id] = LENGTHS.max;
    c.prefixMin[id] = LENGTHS.prefixMin;
    c.prefixMax[id] = LENGTHS.prefixMax;
    c.keyLength[id] = prepared.keyLength;
    c.specialStart[id] = prepared.specialStart;
    c.prefixSpecials[id] = LENGTHS.prefixSpecials;
    const left = part.left ?? UNANCHORED;
    const right = part.right ?? UNANCHORED;
    c.leftAnchor[id] = left.element;
    c.leftMin[id] = left.min;
    c.leftMax[id] = left.max;
    c.rightAnchor[id] = right.element;
    c.rightMin[id] = right.min;
    c.rightMax[id] = right.max;
    c.flags[id] = part.boundary | (part.wide ? Flag.Wide : 0);
    c.engine[id] = prepared.engine;
    c.handleOffset[id] = prepared.engine === PatternEngine.BoyerMoore ? entry.bmShift : prepared.keyLength - 1;
    this.longest = Math.max(this.longest, LENGTHS.max + LENGTHS.prefixMax);
    this.writeEntry(id, entry);
    return id;
  }

  private nextId(): number {
    if (this.built) throw new Error('PatternTableBuilder: the table is already built');
    const id = this.count++;
    if (id === this.columns.engine.length) {
      for (const name of COLUMN_NAMES) this.storage[name].ensure(id + 1);
      this.columns = columnViews(this.storage);
    }
    return id;
  }

  private writeEntry(id: number, entry: PatternEntry): void {
    const c = this.columns;
    c.action[id] = entry.action;
    c.owner[id] = entry.owner;
    c.subsignature[id] = entry.subsignature;
    c.offsetKind[id] = entry.offsetKind;
    c.offsetMin[id] = entry.offsetMin;
    c.offsetMax[id] = entry.offsetMax;
    c.partialId[id] = entry.partialId;
    c.partNumber[id] = entry.partNumber;
    c.partCount[id] = entry.partCount;
    c.gapMin[id] = entry.gapMin;
    c.gapMax[id] = entry.gapMax;
  }

  /** The table, in the shared memory the builder wrote (no copy); the builder cannot be used afterwards. */
  build(): PatternTable {
    const columns = {} as Record<ColumnName, Column>;
    for (const name of COLUMN_NAMES) columns[name] = this.storage[name].used(this.count);
    this.built = true;
    return new PatternTable(columns as PatternColumns, this.elements.used(), this.specials, this.longest);
  }
}

/** The byte lengths ClamAV accounts for a pattern (see COLUMNS), as sumLengths sums them. */
interface Lengths {
  min: number;
  max: number;
  prefixMin: number;
  prefixMax: number;
  prefixSpecials: number;
}

const LENGTHS: Lengths = { min: 0, max: 0, prefixMin: 0, prefixMax: 0, prefixSpecials: 0 };

/** Sums a prepared part's byte lengths into `out`: one byte per element, but a special's own. */
function sumLengths(prepared: PreparedPattern, out: Lengths): void {
  const { part, prefixLength } = prepared;
  out.prefixMin = out.prefixMax = prefixLength;
  out.min = out.max = part.length - prefixLength;
  out.prefixSpecials = 0;
  if (part.specials.length > 0) addSpecialLengths(prepared, out);
}

/**
 * Corrects the sums for the part's specials. A function that ends with its loop: V8 compiles a
 * long pattern's loop while it runs, and code compiled that way for a longer function also covers
 * the statements after the loop, which then discard it again and again (see the build steps in
 * node-lists.ts).
 */
function addSpecialLengths(prepared: PreparedPattern, out: Lengths): void {
  const { part, prefixLength } = prepared;
  const { elements, start } = part;
  for (let i = 0; i < part.length; i++) {
    const e = elements[start + i]!;
    if (!isStoredSpecial(e)) continue;
    const [min, max] = specialLengths(part.specials[storedSpecialIndex(e, 0)]!);
    if (i < prefixLength) {
      out.prefixMin += min - 1;
      out.prefixMax += max - 1;
      out.prefixSpecials++;
    } else {
      out.min += min - 1;
      out.max += max - 1;
    }
  }
}

/** A part split into prefix and pattern proper, ready to be added. */
export interface PreparedPattern {
  /** Its elements are the prefix, then the pattern proper. */
  readonly part: ParsedPart;
  readonly engine: PatternEngine;
  readonly prefixLength: number;
  readonly keyLength: number;
  /** Where the part's specials will start in the table's list. */
  readonly specialStart: number;
}

function prepare(part: ParsedPart, engine: PatternEngine, specialStart: number): PreparedPattern {
  const prefixLength = engine === PatternEngine.BoyerMoore ? 0 : choosePrefixLength(part);
  const keyLength = keyLengthAt(part, prefixLength);
  // ClamAV's automaton refuses such a pattern without a message of its own.
  if (keyLength < MIN_STATIC_BYTES) throw new SignatureError();
  return { part, engine, prefixLength, keyLength, specialStart };
}
