import { OFFSET_ANY, OFFSET_NONE, OffsetKind, resolveOffset, type OffsetBase, type OffsetRange } from '../signatures/offset.js';
import type { TargetDescription } from '../signatures/ldb.js';
import { byteCompareMatches } from './byte-compare.js';
import type { KeyedLists } from './keyed-lists.js';
import { evaluateExpression } from './logical-expression.js';
import type { CandidateIndex } from './candidate-index.js';
import { threeByteNode, type NodeLists } from './node-lists.js';
import { PartialTracker } from './partial-tracker.js';
import { PatternAction, PatternEngine } from './pattern-table.js';
import { SubsignatureCounts } from './subsignature-counts.js';
import type { NameTable } from '../util/names.js';
import type { TargetProgram } from './target-program.js';
import { PatternVerifier } from './verify.js';

/**
 * The scan of one object against one target program: per-scan state (relative offsets, split
 * pattern progress, subsignature counts) and the processing ClamAV does per scan window
 * (matcher_run) and at the end (cli_exp_eval). Nothing here writes to the program.
 */

/** What the logical-signature conditions look at besides the matches. */
export interface ObjectFacts extends OffsetBase {
  /** 0 for a top-level object. */
  readonly depth: number;
  /** Types of the enclosing containers, outermost first. */
  readonly containers: readonly string[];
  /**
   * The file offsets of a PE file's version-information strings, where `VI` patterns match
   * (empty when not read: no signature of the scan uses them).
   */
  readonly versionInfo: ReadonlySet<number>;
}

/** How the scan reports. */
export interface ScanCallbacks {
  /** Reports a detection; false stops the scan (first match wins). */
  report(name: string): boolean;
  /**
   * The logical signature `name`, which has `HandlerType: handlerType`, matched: ClamAV
   * re-scans the object as that type instead of alerting (see BodyScanSink). Returns false to
   * stop the scan.
   */
  handle(name: string, handlerType: string): boolean;
  /** `IconGroup1/2:` conditions; ClamAV without icon signatures (.idb) never matches them. */
  iconsMatch(group1: string | undefined, group2: string | undefined): boolean;
  /** A logical signature's expression held but its `Container:` or `Intermediates:` did not. */
  placementDependent(): void;
  /** libclamav debug lines of the matcher; absent when debugging is off. */
  readonly debug?: (message: string) => void;
}

/** How a scan of one target program behaves. */
export interface TargetScanOptions {
  /** ClamAV's --pcre-max-filesize: larger objects skip PCRE subsignatures. */
  readonly pcreMaxFileSize: number;
  /** ClamAV's AC_SCAN_FT: file type patterns take part (see PatternAction.FileType). */
  readonly recognizeFileTypes: boolean;
  /** The type the object is scanned as (what a file type pattern's required type is compared with). */
  readonly fileType: string;
  /**
   * ClamAV's all-match mode. Without it a Boyer-Moore or Aho-Corasick pass over a window ends
   * at its first detection, even when the sink lets the scan go on (as ClamAV does for
   * potentially unwanted names: PUA.*, Heuristics.*).
   */
  readonly allMatch: boolean;
}

/** What handling one match leads to. */
const enum Outcome {
  Continue,
  /** A detection stopped the scan. */
  Stop,
  /** A CL_TYPE_IGNORED file type pattern matched: ClamAV drops the rest of the window's matches. */
  EndWindow,
  /** A detection outside all-match mode that lets the scan go on: the current pass over the window ends. */
  EndPass,
}

/** ClamAV skips PCRE subsignatures on objects larger than this (--pcre-max-filesize). */
export const DEFAULT_PCRE_MAX_FILESIZE = 100 * 1024 * 1024;

const NO_COUNTS = new Uint32Array(0);
/** What walkList returns when it meets an entry of a part above every part matched so far. */
const HIGHER_PART = -1;

export class TargetScan {
  private readonly verifier: PatternVerifier;
  private readonly partial = new PartialTracker();
  readonly counts: SubsignatureCounts;
  /** Resolved relative offsets, [min, max] per slot of the program. */
  private readonly relativeMin: Uint32Array;
  private readonly relativeMax: Uint32Array;
  /** Matches found in the current window, before they are put in ClamAV's order. */
  private readonly found: { pattern: number[]; at: number[]; start: number[]; end: number[] } = {
    pattern: [],
    at: [],
    start: [],
    end: [],
  };
  /** Candidates whose verification waits for the window's other matches (see consider). */
  private readonly deferred: { pattern: number[]; at: number[] } = { pattern: [], at: [] };
  private window: Uint8Array = new Uint8Array(0);
  /**
   * ClamAV's min_partno: one more than the highest part of a split pattern handled so far; list
   * entries with a higher part number end (or restart) a node walk.
   */
  private minPartNumber = 1;
  private windowBase = 0;
  private readonly collect: (pattern: number, at: number) => void;

  private readonly lists: NodeLists;
  private readonly index: CandidateIndex;

  constructor(
    private readonly program: TargetProgram,
    private readonly facts: ObjectFacts,
    private readonly reportNames: NameTable,
    private readonly callbacks: ScanCallbacks,
    private readonly options: TargetScanOptions,
  ) {
    ({ lists: this.lists, index: this.index } = program.matcher);
    this.verifier = new PatternVerifier(program.patterns);
    const logical = program.logical;
    this.counts = new SubsignatureCounts((signature) => logical.subsignatureCount(signature));
    const slots = program.relativeOffsets;
    this.relativeMin = new Uint32Array(slots.length);
    this.relativeMax = new Uint32Array(slots.length);
    const range: OffsetRange = { min: 0, max: 0 };
    for (let slot = 0; slot < slots.length; slot++) {
      const { spec, fitLength } = slots[slot]!;
      resolveOffset(spec, facts, range);
      // ClamAV's Aho-Corasick drops an offset from which the pattern cannot fit (32-bit sum).
      if (fitLength > 0 && range.min !== OFFSET_NONE && (range.min + fitLength) >>> 0 > facts.size) range.min = OFFSET_NONE;
      this.relativeMin[slot] = range.min;
      this.relativeMax[slot] = range.max;
    }
    this.collect = (pattern, at) => this.consider(pattern, at);
  }

  /**
   * ClamAV's matcher_run for one scan window `window` starting at object offset `base`: body
   * pattern matches in ClamAV's order, then byte compares, then (on the window that reaches the
   * end of `whole`) the PCRE subsignatures. Returns false when the scan must stop.
   */
  scanWindow(window: Uint8Array, base: number, whole: Uint8Array): boolean {
    this.window = window;
    this.windowBase = base;
    const { pattern, at, start, end } = this.found;
    pattern.length = at.length = start.length = end.length = 0;
    this.deferred.pattern.length = this.deferred.at.length = 0;
    this.index.scan(window, this.collect);
    if (this.deferred.pattern.length > 0) this.resolveDeferred();
    if (pattern.length > 0 && !this.processMatches()) return false;
    if (this.program.runsByteCompares) this.runByteCompares(window);
    if (base + window.length >= whole.length && whole.length <= this.options.pcreMaxFileSize) this.runRegexes(whole);
    return true;
  }

  /**
   * A candidate (a chain head) from the index. A member of its chain that its offset rules out,
   * or that is a later part of a split pattern whose previous part has not matched yet, has no
   * effect when handled (handle() drops it first). The candidate is verified at once when some
   * other member is left; when only later parts are left, it waits until the window's other
   * matches are known (see resolveDeferred), which spares verifying common later parts (`0000`)
   * all over a file whose first parts never match.
   */
  private consider(p: number, at: number): void {
    const chainNext = this.lists.chainNext;
    const base = this.windowBase + at;
    let waiting = false;
    for (let member = p; member !== -1; member = chainNext[member]!) {
      if (this.offsetExcludes(member, base)) continue;
      if (this.waitsForEarlierPart(member)) {
        waiting = true;
        continue;
      }
      this.verify(p, at);
      return;
    }
    if (waiting) {
      this.deferred.pattern.push(p);
      this.deferred.at.push(at);
    }
  }

  /** Verifies candidate `p` at window index `at` and records the match; true when it matches. */
  private verify(p: number, at: number): boolean {
    if (!this.verifier.matches(this.window, this.windowBase, p, at)) return false;
    this.found.pattern.push(p);
    this.found.at.push(at);
    this.found.start.push(this.verifier.start);
    this.found.end.push(this.verifier.end);
    return true;
  }

  /** Is `p` a later part of a split pattern that cannot match before its previous part has? */
  private waitsForEarlierPart(p: number): boolean {
    const t = this.program.patterns;
    const id = t.partialId[p]!;
    // A macro pattern records its position whatever the parts (handle() does it first).
    return id !== 0 && t.partNumber[p]! > 1 && t.action[p] !== PatternAction.Macro && !this.partial.canMatch(id, t.partNumber[p]!);
  }

  /**
   * Verifies the deferred candidates that may matter after all: those with a member whose
   * previous part is among the window's matches (which can enable it during processMatches),
   * repeatedly, as each new match may enable more. The others stay without effect and are dropped.
   */
  private resolveDeferred(): void {
    const t = this.program.patterns;
    const chainNext = this.lists.chainNext;
    const matchedParts = new Set<number>();
    const addParts = (head: number) => {
      for (let m = head; m !== -1; m = chainNext[m]!) if (t.partialId[m] !== 0) matchedParts.add(partKey(t.partialId[m]!, t.partNumber[m]!));
    };
    for (const p of this.found.pattern) addParts(p);
    // Without any part matched in this window, no waiting part can be enabled.
    if (matchedParts.size === 0) return;
    const { pattern, at } = this.deferred;
    // A window's deferred candidates are mostly a few heads many times over: their verdict is
    // kept until a new match adds parts.
    const verdicts = new Map<number, boolean>();
    let progress = true;
    while (progress) {
      progress = false;
      for (let k = 0; k < pattern.length; k++) {
        const p = pattern[k]!;
        if (p === -1) continue;
        let enabled = verdicts.get(p);
        if (enabled === undefined) verdicts.set(p, (enabled = this.mayBeEnabled(p, matchedParts)));
        if (!enabled) continue;
        pattern[k] = -1;
        if (this.verify(p, at[k]!)) {
          addParts(p);
          verdicts.clear();
          progress = true;
        }
      }
    }
  }

  /** Does a waiting member of `head`'s chain have its previous part among `matchedParts`? */
  private mayBeEnabled(head: number, matchedParts: ReadonlySet<number>): boolean {
    const t = this.program.patterns;
    const chainNext = this.lists.chainNext;
    for (let m = head; m !== -1; m = chainNext[m]!) {
      if (this.waitsForEarlierPart(m) && matchedParts.has(partKey(t.partialId[m]!, t.partNumber[m]! - 1))) return true;
    }
    return false;
  }

  /**
   * Does pattern `p`'s offset rule out a match whose pattern proper starts at object offset
   * `base`? Only unsplit patterns and first parts have their offset checked, as in ClamAV; the
   * match starts between `base - prefix max length` and `base - prefix min length`.
   */
  private offsetExcludes(p: number, base: number): boolean {
    const t = this.program.patterns;
    const kind = t.offsetKind[p]!;
    if (
      kind === OffsetKind.Any ||
      kind === OffsetKind.Macro ||
      kind === OffsetKind.VersionInfo ||
      (t.partialId[p] !== 0 && t.partNumber[p] !== 1)
    ) {
      return false;
    }
    let min: number;
    let max: number;
    if (kind === OffsetKind.Absolute) {
      min = t.offsetMin[p]!;
      max = t.offsetMax[p]!;
    } else {
      min = this.relativeMin[t.offsetMin[p]!]!;
      max = this.relativeMax[t.offsetMin[p]!]!;
      if (min === OFFSET_NONE) return true;
    }
    return max < base - t.prefixMax[p]! || min > base - t.prefixMin[p]!;
  }

  /**
   * Handles the window's matches in ClamAV's order: Boyer-Moore matches first (by hash block
   * position, then newest pattern first), then the Aho-Corasick ones position by position, each
   * position walked through ClamAV's node lists (see NodeLists).
   */
  private processMatches(): boolean {
    const t = this.program.patterns;
    const { pattern, at } = this.found;
    const seenAt = (i: number): number => at[i]! + t.handleOffset[pattern[i]!]!;
    const boyerMoore: number[] = [];
    const ahoCorasick: number[] = [];
    for (let i = 0; i < pattern.length; i++) {
      (t.engine[pattern[i]!] === PatternEngine.BoyerMoore ? boyerMoore : ahoCorasick).push(i);
    }
    boyerMoore.sort((a, b) => seenAt(a) - seenAt(b) || pattern[b]! - pattern[a]!);
    for (const i of boyerMoore) {
      const outcome = this.handle(pattern[i]!, i);
      if (outcome === Outcome.Stop) return false;
      if (outcome === Outcome.EndPass) break;
    }
    ahoCorasick.sort((a, b) => seenAt(a) - seenAt(b));
    for (let k = 0; k < ahoCorasick.length; ) {
      const position = seenAt(ahoCorasick[k]!);
      const matched = new Map<number, number>();
      for (; k < ahoCorasick.length && seenAt(ahoCorasick[k]!) === position; k++) matched.set(pattern[ahoCorasick[k]!]!, ahoCorasick[k]!);
      const outcome = this.walkNode(position, matched);
      if (outcome === Outcome.Stop) return false;
      if (outcome !== Outcome.Continue) break;
    }
    return true;
  }

  /**
   * ClamAV's walk of the node lists at window position `position`; `matched` maps the chain
   * heads verified there to their match.
   */
  private walkNode(position: number, matched: Map<number, number>): Outcome {
    const nodes = this.lists.nodes;
    const w = this.window;
    const three = position >= 2 ? nodes.find(threeByteNode((w[position - 2]! << 16) | (w[position - 1]! << 8) | w[position]!)) : -1;
    const two = position >= 1 ? nodes.find((w[position - 1]! << 8) | w[position]!) : -1;
    // At a 3-byte node ClamAV walks its list followed by the 2-byte list, and may jump back to
    // the start of the 2-byte list once.
    let jumps = three !== -1 ? 1 : 0;
    if (three !== -1) {
      const walked = this.walkList(nodes, three, matched);
      if (walked === HIGHER_PART) jumps = 0;
      else if (walked !== Outcome.Continue) return walked;
    }
    if (two === -1) return Outcome.Continue;
    for (;;) {
      const walked = this.walkList(nodes, two, matched);
      if (walked !== HIGHER_PART) return walked;
      if (jumps === 0) return Outcome.Continue;
      jumps = 0;
    }
  }

  /**
   * Handles the matched entries of one node list in order, up to the first entry whose part
   * number is above every part matched so far (then returns HIGHER_PART).
   */
  private walkList(nodes: KeyedLists, slot: number, matched: Map<number, number>): Outcome | typeof HIGHER_PART {
    const t = this.program.patterns;
    const chainNext = this.lists.chainNext;
    const entries = nodes.values;
    const end = nodes.slotStart[slot]! + nodes.slotCount[slot]!;
    for (let k = nodes.slotStart[slot]!; k < end; k++) {
      const head = entries[k]!;
      if (t.partNumber[head]! > this.minPartNumber) return HIGHER_PART;
      const found = matched.get(head);
      if (found === undefined) continue;
      for (let member = head; member !== -1; member = chainNext[member]!) {
        if (t.partNumber[member]! > this.minPartNumber) break;
        const outcome = this.handle(member, found);
        if (outcome !== Outcome.Continue) return outcome;
      }
    }
    return Outcome.Continue;
  }

  /** Handles pattern `p` for verified match `found` (an index into the window's matches). */
  private handle(p: number, found: number): Outcome {
    const t = this.program.patterns;
    const action = t.action[p]!;
    if (action === PatternAction.FileType && !this.options.recognizeFileTypes) return Outcome.Continue;
    const start = this.windowBase + this.found.start[found]!;
    const end = this.windowBase + this.found.end[found]!;
    const kind = t.offsetKind[p]!;
    const partialId = t.partialId[p]!;
    // Every part of a `VI` pattern must start at a version-information string.
    if (kind === OffsetKind.VersionInfo) {
      if (!this.facts.versionInfo.has(start)) return Outcome.Continue;
      this.callbacks.debug?.(`cli_ac_scanbuff: VI match for offset ${start.toString(16)}`);
    } else if (action === PatternAction.Macro) {
      this.counts.macroLast[t.owner[p]!] = start;
      return Outcome.Continue;
    } else if (kind !== OffsetKind.Any && (partialId === 0 || t.partNumber[p] === 1)) {
      const relative = kind !== OffsetKind.Absolute;
      const min = relative ? this.relativeMin[t.offsetMin[p]!]! : t.offsetMin[p]!;
      const max = relative ? this.relativeMax[t.offsetMin[p]!]! : t.offsetMax[p]!;
      if (min === OFFSET_NONE || max < start || min > start) return Outcome.Continue;
    }
    let offset = start;
    if (partialId !== 0) {
      const part = t.partNumber[p]!;
      if (!this.partial.canMatch(partialId, part)) return Outcome.Continue;
      if (part + 1 > this.minPartNumber) this.minPartNumber = part + 1;
      offset = this.partial.partMatched(partialId, part, t.partCount[p]!, t.gapMin[p]!, t.gapMax[p]!, start, end);
      if (offset === OFFSET_NONE) return Outcome.Continue;
    }
    switch (action) {
      case PatternAction.Subsignature: {
        const signature = t.owner[p]!;
        const subsignature = t.subsignature[p]!;
        this.counts.matched(signature, subsignature, offset, partialId !== 0, this.program.logical.macro(signature, subsignature));
        return Outcome.Continue;
      }
      case PatternAction.FileType: {
        // ClamTS's file type detection is separate; only ClamAV's early stop matters here.
        const rule = this.program.fileTypes[t.owner[p]!]!;
        const applies = rule.requiredType === 'CL_TYPE_ANY' || rule.requiredType === this.options.fileType;
        return rule.type === 'CL_TYPE_IGNORED' && applies ? Outcome.EndWindow : Outcome.Continue;
      }
      default:
        if (!this.callbacks.report(this.reportNames.get(t.owner[p]!))) return Outcome.Stop;
        return this.options.allMatch ? Outcome.Continue : Outcome.EndPass;
    }
  }

  /**
   * ClamAV's cli_bcomp_scanbuf, run after every window: a byte compare counts when its
   * reference subsignature has matched, reading at the reference's last match offset. ClamAV
   * reads that object offset inside the current window; for objects larger than one window that
   * is not the position meant, but it is what ClamAV does.
   */
  private runByteCompares(window: Uint8Array): void {
    for (const { signature, subsignature, value } of this.program.byteCompares) {
      const counts = this.counts.counts(signature);
      if (!counts || !(counts[value.reference]! > 0)) continue;
      let position = this.counts.lastOffset(signature, value.reference);
      if (position === OFFSET_NONE) position = 0;
      if (byteCompareMatches(window, position, value)) this.counts.increment(signature, subsignature);
    }
  }

  /** ClamAV's cli_pcre_scanbuf over the whole object. */
  private runRegexes(data: Uint8Array): void {
    const range: OffsetRange = { min: 0, max: 0 };
    for (const { signature, subsignature, value: regex } of this.program.regexes) {
      let start: number;
      let shift: number;
      const kind = regex.offset.kind;
      if (kind === OffsetKind.Any) {
        start = OFFSET_ANY;
        shift = 0;
      } else if (kind === OffsetKind.Absolute) {
        start = regex.offset.value;
        shift = regex.offset.shift;
      } else {
        // A `VI` offset resolves to "anywhere" (ClamAV looks at no version information here).
        resolveOffset(regex.offset, this.facts, range);
        if (range.min === OFFSET_NONE) continue;
        start = range.min;
        shift = (range.max - range.min) >>> 0;
      }
      if (!evaluateExpression(regex.trigger, this.counts.counts(signature) ?? NO_COUNTS)) continue;
      const anchored = !regex.rolling && shift === 0 && start !== OFFSET_ANY;
      if (start === OFFSET_ANY) start = 0;
      if (start >= data.length) continue;
      const length = regex.encompass && shift !== 0 ? Math.min(shift, data.length - start) : data.length - start;
      const subject = data.subarray(start, start + length);
      const macro = this.program.logical.macro(signature, subsignature);
      let from = 0;
      for (;;) {
        const match = regex.program.exec(subject, from, { anchored });
        if (match === null) break;
        // Without `e`, a match beyond offset+maxshift does not count and ends the search.
        if (!regex.encompass && shift !== 0 && match.start > shift) break;
        this.counts.matched(signature, subsignature, start + match.start, false, macro);
        // ClamAV searches again from the match end; an empty match there would repeat forever
        // without ever counting again, so the search stops.
        if (!regex.global || match.end >= length || match.end === from) break;
        from = match.end;
      }
    }
  }

  /**
   * ClamAV's cli_exp_eval: every logical signature whose expression holds and whose target
   * description fits the object alerts, in load order. Returns false when the scan must stop.
   */
  evaluate(): boolean {
    const touched = this.counts.touched();
    const candidates = mergeSorted(touched, this.program.alwaysEvaluated);
    const logical = this.program.logical;
    for (const index of candidates) {
      const macros = logical.macros(index);
      if (macros !== undefined && touched.includes(index)) {
        for (let sub = 0; sub < logical.subsignatureCount(index); sub++) {
          this.counts.matched(index, sub, OFFSET_NONE, false, macros[sub]);
        }
      }
      if (!evaluateExpression(logical.expression(index), this.counts.counts(index) ?? NO_COUNTS)) continue;
      const description = logical.description(index);
      if (!this.describes(description)) continue;
      const { handlerType, iconGroup1, iconGroup2 } = description;
      if (handlerType !== undefined) {
        if (!this.callbacks.handle(logical.name(index), handlerType)) return false;
        continue;
      }
      if ((iconGroup1 !== undefined || iconGroup2 !== undefined) && (this.facts.status !== 1 || !this.callbacks.iconsMatch(iconGroup1, iconGroup2))) {
        continue;
      }
      if (!this.callbacks.report(logical.name(index))) return false;
    }
    return true;
  }

  /** The `Container:` and `Intermediates:` conditions: the types of the enclosing containers. */
  private placedAsDescribed(tdb: TargetDescription): boolean {
    const { containers, depth } = this.facts;
    const containerAt = (level: number): string => (level >= 0 ? containers[level]! : 'CL_TYPE_ANY');
    if (tdb.container !== undefined && tdb.container !== containerAt(containers.length - 1)) return false;
    if (tdb.intermediates === undefined) return true;
    if (depth < tdb.intermediates.length) return false;
    // CL_TYPE_ANY entries are skipped without consuming a container level, as in ClamAV.
    let level = containers.length - 1;
    for (let i = tdb.intermediates.length - 1; i >= 0; i--) {
      const type = tdb.intermediates[i]!;
      if (type === 'CL_TYPE_ANY') continue;
      if (type !== containerAt(level--)) return false;
    }
    return true;
  }

  /** The target description conditions (lsig_eval) other than icons and handler type. */
  private describes(tdb: TargetDescription): boolean {
    const facts = this.facts;
    if (!this.placedAsDescribed(tdb)) {
      this.callbacks.placementDependent();
      return false;
    }
    if (tdb.fileSize && (tdb.fileSize.min > facts.size || tdb.fileSize.max < facts.size)) return false;
    if (tdb.entryPoint || tdb.numberOfSections) {
      if (facts.status !== 1) return false;
      if (tdb.entryPoint && (tdb.entryPoint.min > facts.entryPoint || tdb.entryPoint.max < facts.entryPoint)) return false;
      const sections = facts.sections.length;
      if (tdb.numberOfSections && (tdb.numberOfSections.min > sections || tdb.numberOfSections.max < sections)) return false;
    }
    return true;
  }
}

/** One number for part `part` of split pattern `id` (parts are below 2^16). */
function partKey(id: number, part: number): number {
  return id * 0x1_0000 + part;
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  if (b.length === 0) return a as number[];
  if (a.length === 0) return b as number[];
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}
