import { byteMatches, isStoredSpecial, storedSpecialIndex, wideElement } from '../signatures/pattern-elements.js';
import type { Logger } from '../util/logger.js';
import { AC_KEY_MAX } from '../matching/ac-key.js';
import type { Alternative, PatternPart, TypePattern } from './type-pattern.js';
import type { TypeOffset } from './type-offset.js';
import { T, TYPE_ANY } from './types.js';

/**
 * The type-signature side of ClamAV's Aho-Corasick matcher (cli_ac_scanbuff in AC_SCAN_FT mode),
 * reproducing the order in which matches are seen, because that order decides the result:
 * a match replaces the current type when its code is higher, and types from CL_TYPE_SFX upwards
 * and CL_TYPE_MSEXE replace it whatever came before. CL_TYPE_IGNORED ends the scan at once.
 *
 * Matches are reported where the indexed key (2-3 static bytes) of a part ends; at one position
 * the parts with a 3-byte key come before those with a 2-byte key, and within a key ClamAV's
 * list order applies (lower part numbers first, then shared patterns, then load order, standing
 * in for ClamAV's allocation order).
 *
 * Split signatures (`*`, `{n-m}`) keep ClamAV's per-signature table of the last 9 end offsets of
 * each part, including its wrap-around, so limits hit by ClamAV are hit here too.
 */

/** A loaded type signature (an `.ftm` line of magic type 1). */
export interface TypeSignature {
  /** The name as ClamAV reports it in debug output (with `.UNOFFICIAL` outside signed databases). */
  readonly name: string;
  /** The type the object must have for the signature to apply (TYPE_ANY for all). */
  readonly requiredType: number;
  readonly type: number;
  readonly pattern: TypePattern;
}

/** An embedded object found by type signatures: a container or executable inside the data. */
export interface EmbeddedType {
  readonly type: number;
  /** Offset in the scanned object where the embedded object starts. */
  readonly offset: number;
}

const KEY2 = 1;
const KEY3_START = 2;
/** ClamAV remembers at most this many embedded objects per object (except ZIP SFX entries). */
const MAX_EMBEDDED = 10;
/** Offsets remembered per part of a split signature (ClamAV's tracklen 8, plus one). */
const TRACKED = 9;
const ROW = TRACKED + 1;
const NO_OFFSET = -1;
const OFFSET_ANY = 0xffffffff;
const OFFSET_NONE = 0xfffffffe;

interface Member {
  readonly signature: number;
  readonly part: PatternPart;
  readonly partCount: number;
  readonly order: number;
}

/** Parts that ClamAV treats as one pattern, tried together after one match check. */
interface Chain {
  readonly part: PatternPart;
  readonly members: readonly Member[];
}

export class TypeMatcher {
  /**
   * The chains of each 2-byte key, through their index in `key2Chains` (keys without chains,
   * which pairFlags tells apart, have 0). Not an Array of 64 Ki entries: V8 makes one through
   * a path that withdraws a guarantee (its "Array constructor" protector) on which optimized
   * code relies, and that code is thrown away to be compiled again.
   */
  private readonly key2Index = new Int32Array(0x10000);
  private readonly key2Chains: (readonly Chain[])[] = [];
  private readonly byKey3 = new Map<number, readonly Chain[]>();
  /**
   * For each byte pair: KEY2 when a 2-byte key ends it, KEY3_START when a 3-byte key begins with
   * it. Most pairs have neither, and the scan loop skips them on one table read.
   */
  private readonly pairFlags = new Uint8Array(0x10000);

  constructor(readonly signatures: readonly TypeSignature[]) {
    const byKey = new Map<number, Member[]>();
    let order = 0;
    signatures.forEach((signature, index) => {
      for (const part of signature.pattern.parts) {
        const key = keyOf(part);
        let members = byKey.get(key);
        if (!members) byKey.set(key, (members = []));
        members.push({ signature: index, part, partCount: signature.pattern.parts.length, order: order++ });
      }
    });
    for (const [key, members] of byKey) {
      const chains = chainsInListOrder(members);
      if (key >= 0x10000) {
        this.byKey3.set(key & 0xffffff, chains);
        this.pairFlags[(key >> 8) & 0xffff]! |= KEY3_START;
      } else {
        this.key2Index[key] = this.key2Chains.push(chains) - 1;
        this.pairFlags[key]! |= KEY2;
      }
    }
  }

  /**
   * Scans one buffer that starts at `fileOffset` in the object; returns the type code found in
   * this buffer (TYPE_ANY when none), like cli_ac_scanbuff. State in `scan` carries over between
   * buffers of the same object.
   */
  scanBuffer(scan: TypeScan, buf: Uint8Array, fileOffset: number): number {
    const ctx: Pass = { scan, buf, fileOffset, type: TYPE_ANY };
    const flags = this.pairFlags;
    const length = buf.length;
    let pair = length > 0 ? buf[0]! : 0;
    for (let i = 1; i < length; i++) {
      pair = ((pair << 8) | buf[i]!) & 0xffff;
      const pairFlags = flags[pair]!;
      if (pairFlags === 0) continue;
      // Keys are handled where they end: the 2-byte key ending here, then the 3-byte key that
      // starts with this pair and ends at the next byte (before the next 2-byte key, as in ClamAV).
      if (pairFlags & KEY2) {
        // KEY2 is set for exactly the keys that have chains.
        if (this.visit(ctx, this.key2Chains[this.key2Index[pair]!]!, i - 1)) return T.IGNORED;
      }
      if (pairFlags & KEY3_START && i + 1 < length) {
        const chains = this.byKey3.get((pair << 8) | buf[i + 1]!);
        if (chains && this.visit(ctx, chains, i - 1)) return T.IGNORED;
      }
    }
    return ctx.type;
  }

  /** Handles the parts whose key starts at `keyStart`; true when CL_TYPE_IGNORED ends the scan. */
  private visit(ctx: Pass, chains: readonly Chain[], keyStart: number): boolean {
    for (const chain of chains) {
      const match = findMatch(ctx.buf, keyStart, chain.part);
      if (!match) continue;
      for (const member of chain.members) {
        if (this.accept(ctx, member, match)) return true;
      }
    }
    return false;
  }

  /** Takes a part's match into account; true when CL_TYPE_IGNORED ends the scan. */
  private accept(ctx: Pass, member: Member, match: MatchSpan): boolean {
    const signature = this.signatures[member.signature];
    const start = ctx.fileOffset + match.start;
    const { offset } = signature.pattern;
    if (offset.kind === 'macro') return false;
    const partNo = member.part.partNo;
    if (partNo <= 1 && !ctx.scan.offsetAllows(offset, start)) return false;
    if (partNo === 0) return this.complete(ctx, signature, () => [start], ` at ${start}`) === 'ignored';
    return this.advancePart(ctx, member, signature, start, ctx.fileOffset + match.end);
  }

  /** ClamAV's bookkeeping for split signatures; the signature completes with its last part. */
  private advancePart(ctx: Pass, member: Member, signature: TypeSignature, start: number, end: number): boolean {
    const { partNo, minGap, maxGap } = member.part;
    const parts = member.partCount;
    let table = ctx.scan.partTables.get(member.signature);
    if (partNo !== 1 && (!table || table[(partNo - 2) * ROW] === 0)) return false;
    if (!table) ctx.scan.partTables.set(member.signature, (table = newPartTable(parts)));

    let found = 0;
    if (partNo !== 1) {
      const previous = (partNo - 2) * ROW;
      for (let j = 1; j <= TRACKED && table[previous + j] !== NO_OFFSET; j++) {
        const gap = start - table[previous + j];
        if (gap >= 0 && !(maxGap && gap > maxGap) && !(minGap && gap < minGap)) {
          found = j;
          break;
        }
      }
    }
    const starts = (parts - 1) * ROW;
    if (partNo === 2 && found > 1) {
      // ClamAV moves the chosen first-part occurrence to the front (start offsets too, except for PE).
      swap(table, 1, found);
      if (signature.type !== T.MSEXE) swap(table, starts + 1, starts + found);
    }
    if (partNo === 1 || (found && partNo !== parts)) {
      const row = (partNo - 1) * ROW;
      if (table[row] === TRACKED) table[row] = 1; // wraps: slot 1 keeps the oldest offset
      const slot = ++table[row];
      table[row + slot] = end;
      if (partNo === 1) table[starts + slot] = start;
      return false;
    }
    if (!found) return false;
    const firstPartStarts = () => {
      const result: number[] = [];
      for (let j = 1; j <= TRACKED && table[j] !== NO_OFFSET; j++) result.push(table[starts + j]);
      return result;
    };
    const outcome = this.complete(ctx, signature, firstPartStarts, '');
    if (outcome === 'taken') table.set(newPartTable(parts));
    return outcome === 'ignored';
  }

  /**
   * A whole signature matched. CL_TYPE_IGNORED stops everything; other types are taken when they
   * outrank the current one. `where` is the debug suffix (ClamAV gives the offset for one-piece
   * signatures only, and only those may record an MBR as embedded).
   */
  private complete(ctx: Pass, signature: TypeSignature, starts: () => number[], where: string): 'ignored' | 'taken' | 'rejected' {
    const { type } = signature;
    const applies = signature.requiredType === TYPE_ANY || ctx.scan.currentType === signature.requiredType;
    if (!applies) return 'rejected';
    if (type === T.IGNORED) return 'ignored';
    if (!(type > ctx.type || type >= T.SFX || type === T.MSEXE)) return 'rejected';
    const { logger } = ctx.scan;
    if (logger?.debugEnabled) logger.debug(`Matched signature for file type ${signature.name}${where}`);
    ctx.type = type;
    ctx.scan.recordEmbedded(type, starts, where !== '');
    return 'taken';
  }
}

/** One call of scanBuffer. */
interface Pass {
  readonly scan: TypeScan;
  readonly buf: Uint8Array;
  readonly fileOffset: number;
  /** Best type so far in this buffer. */
  type: number;
}

export interface TypeScanOptions {
  /** Size of the whole object, to place `EOF-n` offsets; leave out while only the head is typed. */
  readonly objectSize?: number;
  /** Remember embedded objects (ClamAV does during the raw scan, not while typing the head). */
  readonly collectEmbedded?: boolean;
  /** The engine's MaxFiles, which limits how many ZIP SFX entries are remembered (0 = no limit). */
  readonly maxFiles?: number;
  readonly logger?: Logger;
}

/** The matching state for one object: split-signature tables and embedded objects found so far. */
export class TypeScan {
  readonly partTables = new Map<number, Float64Array>();
  readonly embedded: EmbeddedType[] = [];
  readonly logger?: Logger;

  constructor(
    /** The object's current type, which signatures with a required type are compared with. */
    readonly currentType: number,
    private readonly options: TypeScanOptions = {},
  ) {
    this.logger = options.logger;
  }

  offsetAllows(offset: TypeOffset, start: number): boolean {
    switch (offset.kind) {
      case 'any':
        return true;
      case 'absolute':
        if (offset.min === OFFSET_ANY) return true;
        return offset.min !== OFFSET_NONE && start >= offset.min && start <= offset.max;
      case 'eof': {
        if (this.options.objectSize === undefined) return false;
        const min = (this.options.objectSize - offset.distance) >>> 0;
        if (min === OFFSET_NONE) return false;
        return start >= min && start <= ((min + offset.shift) >>> 0);
      }
      default:
        return false;
    }
  }

  /**
   * Adds embedded-object offsets under ClamAV's rules: SFX-class types always, MBR from single-piece
   * signatures, and PE inside PE/ZIP/OLE2 objects; at most 10 objects except ZIP SFX entries.
   */
  recordEmbedded(type: number, starts: () => number[], singlePiece: boolean): void {
    if (!this.options.collectEmbedded) return;
    if (this.embedded.length >= MAX_EMBEDDED && type !== T.ZIPSFX) return;
    const peInside = type === T.MSEXE && (this.currentType === T.MSEXE || this.currentType === T.ZIP || this.currentType === T.MSOLE2);
    if (!(type >= T.SFX || peInside || (singlePiece && type === T.MBR))) return;
    const maxFiles = this.options.maxFiles ?? 0;
    for (const offset of starts()) {
      if (type === T.ZIPSFX) {
        if (maxFiles && this.embedded.length > maxFiles) continue;
      } else if (this.embedded.length >= MAX_EMBEDDED) {
        continue;
      }
      this.embedded.push({ type, offset });
    }
  }
}

interface MatchSpan {
  readonly start: number;
  readonly end: number;
}

function keyOf(part: PatternPart): number {
  const { body, keyLength } = part;
  // 3-byte keys get a marker bit above 24 bits so that they never collide with 2-byte keys.
  return keyLength === AC_KEY_MAX ? 0x1000000 | (body[0] << 16) | (body[1] << 8) | body[2] : (body[0] << 8) | body[1];
}

/** ClamAV's list order inside one trie node (see the module comment). */
function chainsInListOrder(members: Member[]): Chain[] {
  const byIdentity = new Map<string, Member[]>();
  for (const member of members) {
    const same = byIdentity.get(member.part.identity);
    if (same) same.push(member);
    else byIdentity.set(member.part.identity, [member]);
  }
  const byPartThenOrder = (a: Member, b: Member) => a.part.partNo - b.part.partNo || a.order - b.order;
  const chains = [...byIdentity.values()].map((same) => same.sort(byPartThenOrder));
  chains.sort((a, b) => a[0].part.partNo - b[0].part.partNo || b.length - a.length || a[0].order - b[0].order);
  return chains.map((same) => ({ part: same[0].part, members: same }));
}

function newPartTable(parts: number): Float64Array {
  const table = new Float64Array(parts * ROW).fill(NO_OFFSET);
  for (let row = 0; row < parts; row++) table[row * ROW] = 0;
  return table;
}

function swap(table: Float64Array, a: number, b: number): void {
  const kept = table[a];
  table[a] = table[b];
  table[b] = kept;
}

/**
 * ClamAV's ac_findmatch for a part whose key starts at `keyStart`: the rest of the body forwards,
 * then the prefix backwards. The whole pattern must fit in the buffer.
 */
function findMatch(buf: Uint8Array, keyStart: number, part: PatternPart): MatchSpan | undefined {
  if (keyStart + part.bodyBytes > buf.length || part.prefixBytes > keyStart) return undefined;
  const { body, prefix, alternatives } = part;
  let at = keyStart + part.keyLength;
  for (let i = part.keyLength; i < body.length; i++) {
    const width = elementWidth(body[i], alternatives);
    if (!elementMatches(buf, at, body[i], alternatives)) return undefined;
    at += width;
  }
  const end = at;
  at = keyStart;
  for (let i = prefix.length - 1; i >= 0; i--) {
    at -= elementWidth(prefix[i], alternatives);
    if (!elementMatches(buf, at, prefix[i], alternatives)) return undefined;
  }
  return { start: at, end };
}

function elementWidth(code: number, alternatives: readonly Alternative[]): number {
  return isStoredSpecial(code) ? alternatives[storedSpecialIndex(code, 0)]!.width : 1;
}

function elementMatches(buf: Uint8Array, at: number, code: number, alternatives: readonly Alternative[]): boolean {
  if (isStoredSpecial(code)) return alternativeMatches(buf, at, alternatives[storedSpecialIndex(code, 0)]!);
  return byteMatches(wideElement(code, 0), buf[at]!);
}

function alternativeMatches(buf: Uint8Array, at: number, alternative: Alternative): boolean {
  const { width, choices, negated } = alternative;
  let hit = false;
  for (const choice of choices) {
    let equal = true;
    for (let k = 0; k < width && equal; k++) equal = buf[at + k] === choice[k];
    if (equal) {
      hit = true;
      break;
    }
  }
  return hit !== negated;
}
