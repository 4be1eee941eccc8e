import {
  BOUNDARY_LEFT,
  BOUNDARY_LEFT_NEGATIVE,
  BOUNDARY_RIGHT,
  BOUNDARY_RIGHT_NEGATIVE,
  LINE_MARKER_LEFT,
  LINE_MARKER_LEFT_NEGATIVE,
  LINE_MARKER_RIGHT,
  LINE_MARKER_RIGHT_NEGATIVE,
  SpecialKind,
  WORD_MARKER_LEFT,
  WORD_MARKER_LEFT_NEGATIVE,
  WORD_MARKER_RIGHT,
  WORD_MARKER_RIGHT_NEGATIVE,
  type Special,
} from '../signatures/body-pattern.js';
import { byteMatches, isSpecialElement, specialIndex, wideElement } from '../signatures/pattern-elements.js';
import { NO_ANCHOR, type PatternTable } from './pattern-table.js';

/**
 * Checks whether a pattern matches at a position, with the exact semantics of ClamAV 1.4's
 * Aho-Corasick verification (ac_findmatch and its helpers), quirks included: the pattern proper
 * is matched forwards and may stop early at the end of the buffer, the prefix backwards, the
 * right-hand word/line conditions treat the buffer end as a boundary, generic alternatives that
 * are prefixes of one another are tried one by one.
 *
 * Buffers are ClamAV's scan windows (at most SCAN_WINDOW bytes), so "the end of the buffer" is
 * the end of the window, as in ClamAV.
 */

/** ClamAV's SCANBUFF: the window size its matcher walks objects in. */
export const SCAN_WINDOW = 0x20000;

/** ClamAV's CL_COUNT_PRECISION: data scanned is counted in units of this many bytes. */
export const COUNT_PRECISION = 4096;

/**
 * ClamAV's boundary classes for `(B)`: 1 may precede a word, 2 may follow one, 3 both.
 */
const BOUNDARY = new Uint8Array(256);
for (const [c, v] of [
  ['\n', 2], ['\r', 2], [' ', 3], ['"', 2], ["'", 2], ['-', 3], ['.', 1], ['/', 3],
  ['<', 1], ['=', 2], ['>', 2], ['@', 1], ['_', 3],
] as const) {
  BOUNDARY[c.charCodeAt(0)] = v;
}

function isAlnum(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/**
 * Generic alternatives that are prefixes of one another make ClamAV try the rest of the pattern
 * after each of them, which is exponential in the number of such alternatives. Whether the rest
 * matches from a given element and position never changes within one check, so failed branches
 * are remembered (the first success ends the check), making the work polynomial.
 */
const POSITION_RANGE = 0x1_0000_0000;

export class PatternVerifier {
  /** Start (inclusive) and end (exclusive) of the last match, as buffer indexes. */
  start = 0;
  end = 0;

  private buffer: Uint8Array = new Uint8Array(0);
  private fileBase = 0;
  private pattern = 0;
  private elementBase = 0;
  private prefixBase = 0;
  private specialStart = 0;
  /** Branches (element, position) known to fail in the current check; created on first need. */
  private failedBranches: Set<number> | null = null;
  private readonly specials: readonly Special[];

  constructor(private readonly table: PatternTable) {
    this.specials = table.specials;
  }

  /**
   * Does pattern `p` match with its pattern proper starting at `at` in `buffer`, whose first byte
   * is at `fileBase` in the object? On success `start`/`end` hold the match bounds.
   */
  matches(buffer: Uint8Array, fileBase: number, p: number, at: number): boolean {
    const t = this.table;
    if (at + t.minLength[p]! > buffer.length || t.prefixMin[p]! > at) return false;
    this.buffer = buffer;
    this.fileBase = fileBase;
    this.pattern = p;
    this.prefixBase = t.elementStart[p]!;
    this.elementBase = this.prefixBase + t.prefixLength[p]!;
    this.specialStart = t.specialStart[p]!;
    this.failedBranches = null;
    return this.forward(at, at, 0) !== 0;
  }

  private byteAt(i: number): number {
    return i >= 0 && i < this.buffer.length ? this.buffer[i]! : 0;
  }

  /** Matches the pattern proper from element `i` at `bp`, then the right side, then the prefix. */
  private forward(bp: number, origin: number, i: number): number {
    const t = this.table;
    const p = this.pattern;
    const buffer = this.buffer;
    const length = buffer.length;
    const elements = t.elements;
    const count = t.length[p]!;
    for (; i < count && bp < length; i++) {
      const e = wideElement(elements[this.elementBase + i]!, this.specialStart);
      if (isSpecialElement(e)) {
        const consumed = this.special(bp, origin, i, specialIndex(e), false);
        if (consumed <= 0) return consumed;
        bp += consumed - 1;
      } else if (!byteMatches(e, buffer[bp]!)) {
        return 0;
      }
      bp++;
    }
    this.end = bp;
    if (!this.rightSideMatches(bp)) return 0;
    return this.backward(origin - 1, origin, t.prefixLength[p]! - 1);
  }

  private rightSideMatches(bp: number): boolean {
    const t = this.table;
    const p = this.pattern;
    const length = this.buffer.length;
    const flags = t.boundary(p);
    const inWindow = length <= SCAN_WINDOW;
    if (flags & BOUNDARY_RIGHT) {
      let match = (flags & BOUNDARY_RIGHT_NEGATIVE) !== 0;
      if (inWindow && (bp === length || BOUNDARY[this.byteAt(bp)]! >= 2)) match = !match;
      if (!match) return false;
    }
    if (flags & LINE_MARKER_RIGHT) {
      let match = (flags & LINE_MARKER_RIGHT_NEGATIVE) !== 0;
      const b = this.byteAt(bp);
      if (inWindow && (bp === length || b === 0x0a || (b === 0x0d && bp + 1 < length && this.byteAt(bp + 1) === 0x0a))) {
        match = !match;
      }
      if (!match) return false;
    }
    if (flags & WORD_MARKER_RIGHT) {
      let match = (flags & WORD_MARKER_RIGHT_NEGATIVE) !== 0;
      if (inWindow) {
        if (bp === length) match = !match;
        else if (t.isWide(p) && bp + 1 < length) {
          if (!(isAlnum(this.byteAt(bp)) && this.byteAt(bp + 1) === 0)) match = !match;
        } else if (!isAlnum(this.byteAt(bp))) match = !match;
      }
      if (!match) return false;
    }
    const anchor = t.rightAnchor[p]!;
    if (anchor !== NO_ANCHOR) {
      let at = bp + t.rightMin[p]!;
      let found = false;
      for (let d = t.rightMin[p]!; d <= t.rightMax[p]!; d++, at++) {
        if (at >= length) return false;
        if (byteMatches(anchor, this.buffer[at]!)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }

  /** Matches prefix element `i` and those before it backwards from `bp`, then the left side. */
  private backward(bp: number, origin: number, i: number): number {
    const t = this.table;
    const p = this.pattern;
    if (t.prefixLength[p]! > 0) {
      // A generic alternative that is the first prefix element and a prefix of another one makes
      // ClamAV read outside the pattern; such a branch never matches there either.
      if (i < 0) return 0;
      for (;;) {
        const e = wideElement(t.elements[this.prefixBase + i]!, this.specialStart);
        if (isSpecialElement(e)) {
          const consumed = this.special(bp, origin, i, specialIndex(e), true);
          if (consumed <= 0) return consumed;
          bp = bp + 1 - consumed;
        } else if (bp < 0 || bp >= this.buffer.length || !byteMatches(e, this.buffer[bp]!)) {
          return 0;
        }
        if (i === 0 || bp === 0) break;
        bp--;
        i--;
      }
      this.start = bp;
    } else {
      bp = origin;
      this.start = origin;
    }
    return this.leftSideMatches(bp) ? 1 : 0;
  }

  private leftSideMatches(bp: number): boolean {
    const t = this.table;
    const p = this.pattern;
    const flags = t.boundary(p);
    const atFileStart = this.fileBase + bp === 0;
    if (flags & BOUNDARY_LEFT) {
      let match = (flags & BOUNDARY_LEFT_NEGATIVE) !== 0;
      if (atFileStart || (bp > 0 && (BOUNDARY[this.byteAt(bp - 1)] === 1 || BOUNDARY[this.byteAt(bp - 1)] === 3))) match = !match;
      if (!match) return false;
    }
    if (flags & LINE_MARKER_LEFT) {
      let match = (flags & LINE_MARKER_LEFT_NEGATIVE) !== 0;
      if (atFileStart || (bp > 0 && this.byteAt(bp - 1) === 0x0a)) match = !match;
      if (!match) return false;
    }
    if (flags & WORD_MARKER_LEFT) {
      let match = (flags & WORD_MARKER_LEFT_NEGATIVE) !== 0;
      if (atFileStart) match = !match;
      else if (t.isWide(p)) {
        if (this.fileBase + bp - 1 === 0) match = !match;
        if (bp >= 2 && !(isAlnum(this.byteAt(bp - 2)) && this.byteAt(bp - 1) === 0)) match = !match;
      } else if (bp > 0 && !isAlnum(this.byteAt(bp - 1))) match = !match;
      if (!match) return false;
    }
    const anchor = t.leftAnchor[p]!;
    if (anchor !== NO_ANCHOR) {
      const min = t.leftMin[p]!;
      if (min + 1 > bp) return false;
      let at = bp - (min + 1);
      let found = false;
      for (let d = min; d <= t.leftMax[p]!; d++) {
        if (byteMatches(anchor, this.buffer[at]!)) {
          found = true;
          break;
        }
        if (at === 0) return false;
        at--;
      }
      if (!found) return false;
    }
    return true;
  }

  /**
   * One special element at `bp`. Returns the bytes it consumes, 0 when it does not match, or -1
   * when a generic alternative already matched the rest of the pattern in a branch.
   */
  private special(bp: number, origin: number, i: number, index: number, reverse: boolean): number {
    const s = this.specials[index]!;
    const buffer = this.buffer;
    const length = buffer.length;
    const b = this.byteAt(bp);
    switch (s.kind) {
      case SpecialKind.AltByte:
        return s.bytes.includes(b) !== s.negative ? 1 : 0;
      case SpecialKind.AltFixed: {
        const n = s.length;
        let from: number;
        if (!reverse) {
          if (bp + n > length) return s.negative ? 1 : 0;
          from = bp;
        } else {
          if (bp < n - 1) return s.negative ? 1 : 0;
          from = bp - (n - 1);
        }
        const member = s.strings.some((candidate) => equalAt(buffer, from, candidate));
        return member !== s.negative ? n : 0;
      }
      case SpecialKind.AltGeneric: {
        for (const alternative of s.alternatives) {
          const n = alternative.elements.length;
          let from: number;
          if (!reverse) {
            if (bp + n > length) continue;
            from = bp;
          } else {
            if (n === 0 || bp < n - 1) continue;
            from = bp - (n - 1);
          }
          if (!elementsMatchAt(alternative.elements, buffer, from)) continue;
          if (alternative.unique) return n;
          const next = reverse ? from - 1 : from + n;
          // Element index (below 64 Ki), direction and position (from -1) as one exact number.
          const key = (2 * i + (reverse ? 1 : 0)) * POSITION_RANGE + (next + 1);
          if (this.failedBranches?.has(key)) continue;
          const resolved = reverse ? this.backward(next, origin, i - 1) : this.forward(next, origin, i + 1);
          if (resolved !== 0) return -1;
          (this.failedBranches ??= new Set()).add(key);
        }
        return 0;
      }
      case SpecialKind.LineMarker:
        if (b === 0x0a) return s.negative ? 0 : 1;
        if (b === 0x0d && bp + 1 < length && buffer[bp + 1] === 0x0a) return s.negative ? 0 : 2;
        return s.negative ? 1 : 0;
      case SpecialKind.Boundary:
        return (BOUNDARY[b] !== 0) !== s.negative ? 1 : 0;
      case SpecialKind.WordMarker:
        return !isAlnum(b) !== s.negative ? 1 : 0;
    }
  }
}

function equalAt(buffer: Uint8Array, from: number, bytes: Uint8Array): boolean {
  for (let k = 0; k < bytes.length; k++) if (buffer[from + k] !== bytes[k]) return false;
  return true;
}

function elementsMatchAt(elements: Uint32Array, buffer: Uint8Array, from: number): boolean {
  for (let k = 0; k < elements.length; k++) if (!byteMatches(elements[k]!, buffer[from + k]!)) return false;
  return true;
}
