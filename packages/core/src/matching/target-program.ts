import {
  SplitKind,
  UNBOUNDED_GAP,
  decodePlainHex,
  hasWildcardSyntax,
  parseGap,
  parsePart,
  splitPattern,
  type ParsedPart,
  type PartOptions,
  type SplitPattern,
} from '../signatures/body-pattern.js';
import { withLoadingInliningBudgetSync } from '../engine/inlining-budget.js';
import { TARGET_TYPES } from '../filetypes/targets.js';
import type { TargetDescription } from '../signatures/ldb.js';
import {
  OffsetKind,
  isRelativeOffset,
  parseOffset,
  type OffsetSpec,
} from '../signatures/offset.js';
import type { Logger } from '../util/logger.js';
import { NameTable, type SharedNameTable } from '../util/names.js';
import { emptyObjectArray } from '../util/object-array.js';
import { toShared } from '../util/shared-memory.js';
import type { ByteCompare } from './byte-compare.js';
import { CandidateIndex, type SharedCandidateIndex } from './candidate-index.js';
import { evaluateExpression, type Expression } from './logical-expression.js';
import { NodeLists, type SharedNodeLists } from './node-lists.js';
import { checkPrefilter, isPrefilteredTarget } from './prefilter-check.js';
import {
  PatternAction,
  PatternEngine,
  PatternTable,
  PatternTableBuilder,
  type PatternEntry,
  type SharedPatternTable,
} from './pattern-table.js';
import type { PcreLimits } from './pcre.js';
import {
  compileRegexSubsignature,
  lazilyCompiledRegexSubsignature,
  uncompiledRegexSubsignature,
  underPcreSwitches,
  type CompiledRegexSubsignature,
  type PcreSwitches,
  type RegexSubsignature,
} from './regex-subsig.js';
import { SignatureError, inContext, withContext } from './signature-error.js';
import type { MacroLink } from './subsignature-counts.js';

/**
 * Everything loaded for one target type (ClamAV's cli_matcher "root"): body patterns, logical
 * signatures and their PCRE and byte-compare subsignatures. The builder mirrors how ClamAV adds
 * patterns (cli_add_content_match_pattern); the built program is immutable.
 */

/** ClamAV's shortest Boyer-Moore pattern. */
const BM_MIN_LENGTH = 3;
/** The Boyer-Moore hash ClamAV buckets patterns by (3 bytes), which decides their match order. */
function bmHash(a: number, b: number, c: number): number {
  return 211 * a + 37 * b + c;
}

/** A logical signature as the loader adds it. */
export interface LogicalSignature {
  /** The name reported (with `.UNOFFICIAL` where applicable). */
  readonly name: string;
  readonly description: TargetDescription;
  readonly expression: Expression;
  /**
   * Texts that equal descriptions and expressions share (their source text): a database has a
   * few hundred distinct ones for tens of thousands of signatures, kept once.
   */
  readonly descriptionKey: string;
  readonly expressionKey: string;
  readonly subsignatureCount: number;
  /** For each subsignature, the macro subsignature that follows it (empty when there are none). */
  readonly macros: readonly (MacroLink | undefined)[];
}

/**
 * A LogicalTable as plain data: the per-signature columns in shared memory; the expressions and
 * target descriptions, of which a real database has a few hundred distinct ones for tens of
 * thousands of signatures, and the rare macro links as plain objects, which are copied.
 */
export interface SharedLogicalTable {
  names: SharedNameTable;
  expressionIds: Uint32Array;
  descriptionIds: Uint32Array;
  subsignatureCounts: Uint8Array;
  expressions: readonly Expression[];
  descriptions: readonly TargetDescription[];
  /** Signatures with macro subsignatures and their links. */
  macros: readonly (readonly [signature: number, links: readonly (MacroLink | undefined)[]])[];
}

/** The logical signatures of a target program, by index in load order. */
export class LogicalTable {
  private readonly names: NameTable;
  private readonly macroLinks: ReadonlyMap<number, readonly (MacroLink | undefined)[]>;

  private constructor(private readonly shared: SharedLogicalTable) {
    this.names = NameTable.fromShared(shared.names);
    this.macroLinks = new Map(shared.macros);
  }

  static fromShared(shared: SharedLogicalTable): LogicalTable {
    return new LogicalTable(shared);
  }

  toShared(): SharedLogicalTable {
    return this.shared;
  }

  get count(): number {
    return this.shared.subsignatureCounts.length;
  }

  name(signature: number): string {
    return this.names.get(signature);
  }

  expression(signature: number): Expression {
    return this.shared.expressions[this.shared.expressionIds[signature]!]!;
  }

  description(signature: number): TargetDescription {
    return this.shared.descriptions[this.shared.descriptionIds[signature]!]!;
  }

  subsignatureCount(signature: number): number {
    return this.shared.subsignatureCounts[signature]!;
  }

  /** For each subsignature, the macro subsignature that follows it; undefined when there is none. */
  macros(signature: number): readonly (MacroLink | undefined)[] | undefined {
    return this.macroLinks.get(signature);
  }

  /** The macro subsignature that follows subsignature `subsignature`, if any. */
  macro(signature: number, subsignature: number): MacroLink | undefined {
    return this.macroLinks.get(signature)?.[subsignature];
  }
}

/** Gives values with equal keys (their source text) one id, so that each distinct value is kept once. */
class DistinctValues<T extends object> {
  readonly values = emptyObjectArray<T>();
  private readonly ids = new Map<string, number>();

  /** The id of `value`, known by `key`: the first value added with that key. */
  id(value: T, key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.values.push(value) - 1;
      this.ids.set(key, id);
    }
    return id;
  }
}

class LogicalTableBuilder {
  private readonly names = new NameTable();
  private readonly expressionIds: number[] = [];
  private readonly descriptionIds: number[] = [];
  private readonly subsignatureCounts: number[] = [];
  private readonly expressions = new DistinctValues<Expression>();
  private readonly descriptions = new DistinctValues<TargetDescription>();
  private readonly macros: [number, readonly (MacroLink | undefined)[]][] = [];

  get count(): number {
    return this.names.size;
  }

  add(signature: LogicalSignature): void {
    if (signature.macros.length > 0) this.macros.push([this.count, signature.macros]);
    this.names.addReported(signature.name);
    this.expressionIds.push(this.expressions.id(signature.expression, signature.expressionKey));
    this.descriptionIds.push(this.descriptions.id(signature.description, signature.descriptionKey));
    this.subsignatureCounts.push(signature.subsignatureCount);
  }

  build(): LogicalTable {
    this.names.freeze();
    return LogicalTable.fromShared({
      names: this.names.toShared(),
      expressionIds: toShared(Uint32Array, this.expressionIds),
      descriptionIds: toShared(Uint32Array, this.descriptionIds),
      subsignatureCounts: toShared(Uint8Array, this.subsignatureCounts),
      expressions: this.expressions.values,
      descriptions: this.descriptions.values,
      macros: this.macros,
    });
  }
}

export interface SubsignatureRef<T> {
  readonly signature: number;
  readonly subsignature: number;
  readonly value: T;
}

/** What an .ftm body pattern recognises: `type`, when scanning an object of `requiredType` (CL_TYPE_ANY: any). */
export interface FileTypeRule {
  readonly type: string;
  readonly requiredType: string;
}

/** A relative offset (EOF-n, EP+n, …) resolved once per scanned object. */
export interface RelativeOffset {
  readonly spec: OffsetSpec;
  /**
   * ClamAV's Aho-Corasick drops a relative offset when the pattern cannot fit in the object from
   * there; this is the pattern's minimum length for that check (0: no check, Boyer-Moore).
   */
  readonly fitLength: number;
}

/** A TargetProgram as structured-cloneable data (see BodyDetector.toShared). */
export interface SharedTargetProgram {
  target: number;
  patterns: SharedPatternTable;
  /** Absent when the program was shared with only the matchers built so far and this one was not. */
  matcher?: SharedProgramMatcher;
  relativeOffsets: readonly RelativeOffset[];
  logical: SharedLogicalTable;
  /** The PCRE subsignatures as written: each thread compiles its own regexes. */
  regexes: readonly SubsignatureRef<RegexSubsignature>[];
  byteCompares: readonly SubsignatureRef<ByteCompare>[];
  fileTypes: readonly FileTypeRule[];
  alwaysEvaluated: readonly number[];
  runsByteCompares: boolean;
}

/** What finds a program's pattern matches: the node lists and the candidate index. */
export interface ProgramMatcher {
  readonly lists: NodeLists;
  readonly index: CandidateIndex;
}

interface SharedProgramMatcher {
  lists: SharedNodeLists;
  index: SharedCandidateIndex;
}

/**
 * Which matchers a shared program carries: its matcher in any case (built now if it was not
 * yet: worker threads share it instead of each building one), or only one built already (the
 * engine cache stores what a run built; a thread that reads such a program builds the matcher
 * itself when a scan first needs it).
 */
export type SharedMatchers = 'all' | 'built';

function buildMatcher(patterns: PatternTable): ProgramMatcher {
  const lists = NodeLists.build(patterns);
  // Only chain heads are searched for; the other members of a chain take their head's result.
  const index = CandidateIndex.build(patterns, (p) => lists.chainHead[p] === p);
  return { lists, index };
}

/**
 * How to build a target's matcher when a scan first needs it: with the compiler budget of a load
 * (see inlining-budget.ts), as it is the same kind of work, run once.
 */
function deferredMatcher(patterns: PatternTable): () => ProgramMatcher {
  return () => withLoadingInliningBudgetSync(() => buildMatcher(patterns));
}

export class TargetProgram {
  /** The matcher, or how to build it when a scan first needs it (see TargetProgramBuilder.build). */
  private matcherOrBuild: ProgramMatcher | (() => ProgramMatcher);

  constructor(
    readonly target: number,
    readonly patterns: PatternTable,
    matcher: ProgramMatcher | (() => ProgramMatcher),
    readonly relativeOffsets: readonly RelativeOffset[],
    readonly logical: LogicalTable,
    readonly regexes: readonly SubsignatureRef<CompiledRegexSubsignature>[],
    readonly byteCompares: readonly SubsignatureRef<ByteCompare>[],
    /** The types of the file type patterns (owner of PatternAction.FileType patterns). */
    readonly fileTypes: readonly FileTypeRule[],
    /** Logical signatures to evaluate even when nothing matched, in load order. */
    readonly alwaysEvaluated: readonly number[],
    /**
     * ClamAV only runs byte compares in a target with at least one split pattern (the generic
     * target always has some: ClamAV's built-in file type patterns).
     */
    readonly runsByteCompares: boolean,
  ) {
    this.matcherOrBuild = matcher;
    this.usesVersionInfo = patterns.offsetKind.includes(OffsetKind.VersionInfo);
  }

  /** The matcher, built now if it was not yet. */
  get matcher(): ProgramMatcher {
    if (typeof this.matcherOrBuild === 'function') this.matcherOrBuild = this.matcherOrBuild();
    return this.matcherOrBuild;
  }

  /** Whether the matcher is built. */
  get hasMatcher(): boolean {
    return typeof this.matcherOrBuild !== 'function';
  }

  /** Whether a pattern has a `VI` offset, so that scans need the object's version information. */
  readonly usesVersionInfo: boolean;

  /**
   * Rebuilds, in any thread, a program reading the shared memory of the original; its regexes,
   * which compiled when the original was built, compile again on first use.
   */
  static fromShared(shared: SharedTargetProgram, pcreLimits: PcreLimits): TargetProgram {
    const patterns = PatternTable.fromShared(shared.patterns);
    const { matcher } = shared;
    return new TargetProgram(
      shared.target,
      patterns,
      matcher ? { lists: NodeLists.fromShared(matcher.lists), index: CandidateIndex.fromShared(matcher.index) } : deferredMatcher(patterns),
      shared.relativeOffsets,
      LogicalTable.fromShared(shared.logical),
      shared.regexes.map(({ signature, subsignature, value }) => ({
        signature,
        subsignature,
        value: lazilyCompiledRegexSubsignature(value, pcreLimits),
      })),
      shared.byteCompares,
      shared.fileTypes,
      shared.alwaysEvaluated,
      shared.runsByteCompares,
    );
  }

  toShared(matchers: SharedMatchers): SharedTargetProgram {
    const matcher = matchers === 'all' || this.hasMatcher ? this.matcher : undefined;
    return {
      target: this.target,
      patterns: this.patterns.toShared(),
      matcher: matcher && { lists: matcher.lists.toShared(), index: matcher.index.toShared() },
      relativeOffsets: this.relativeOffsets,
      logical: this.logical.toShared(),
      regexes: this.regexes.map(({ signature, subsignature, value }) => ({ signature, subsignature, value: uncompiledRegexSubsignature(value) })),
      byteCompares: this.byteCompares,
      fileTypes: this.fileTypes,
      alwaysEvaluated: this.alwaysEvaluated,
      runsByteCompares: this.runsByteCompares,
    };
  }

  /** ClamAV's maxpatlen, which sets how much consecutive scan windows overlap. */
  get longestPattern(): number {
    return this.patterns.longestPattern;
  }
}

/**
 * Compiles the PCRE subsignatures' regexes as DCONF's PCRE switches say (none with SUPPORT off,
 * which then never match); a refusal carries ClamAV's messages.
 */
function compileRegexes(
  regexes: readonly SubsignatureRef<RegexSubsignature>[],
  limits: PcreLimits,
  switches: PcreSwitches,
  logger: Logger,
): SubsignatureRef<CompiledRegexSubsignature>[] {
  if (!switches.support) return [];
  return regexes.map(({ signature, subsignature, value }) => ({
    signature,
    subsignature,
    value: compileRegexSubsignature(underPcreSwitches(value, switches, logger), limits),
  }));
}

/** What a body pattern does when it matches. */
export interface PatternOwner {
  readonly action: PatternAction;
  /** Report: index into the report names; Subsignature: logical signature; Macro: group. */
  readonly owner: number;
  readonly subsignature: number;
}

/** How ClamAV names a signature in the messages about its patterns. */
export interface PatternNames {
  /** As written in the line; the Aho-Corasick messages use it. */
  readonly raw: string;
  /**
   * The reported name, which ClamAV makes (and refuses when empty) while adding the pattern of
   * an .ndb signature; the Boyer-Moore messages use it. Null for logical signatures, whose name
   * is checked elsewhere.
   */
  readonly display: (() => string) | null;
}

export class TargetProgramBuilder {
  private readonly table = new PatternTableBuilder();
  private readonly relativeOffsets = emptyObjectArray<RelativeOffset>();
  private readonly logical = new LogicalTableBuilder();
  /** Logical signatures true without any match, in load order. */
  private readonly alwaysEvaluated: number[] = [];
  /** Whether each expression (by its text) is true without any match: a database repeats a few hundred. */
  private readonly trueWithoutMatches = new Map<string, boolean>();
  private readonly regexes: SubsignatureRef<RegexSubsignature>[] = [];
  private readonly byteCompares: SubsignatureRef<ByteCompare>[] = [];
  private readonly fileTypes: FileTypeRule[] = [];
  private readonly occupiedBmBuckets = new Set<number>();
  private partialCount = 0;
  /** ClamAV's per-matcher pattern counts (see summary). */
  private readonly counts: MatcherCounts = { ac: 0, acRelative: 0, bm: 0, bmRelative: 0, bmAbsolute: 0 };

  constructor(readonly target: number) {}

  /** ClamAV's Aho-Corasick-only targets: all but the generic and PE targets. */
  private get acOnly(): boolean {
    return this.target !== 0 && this.target !== 1;
  }

  /** The index the next logical signature will get. */
  get nextLogicalIndex(): number {
    return this.logical.count;
  }

  get patternCount(): number {
    return this.table.size;
  }

  /**
   * Adds a body pattern (cli_add_content_match_pattern): split at `*` and ranges, or one part,
   * or a plain pattern for the Boyer-Moore matcher. Throws SignatureError with ClamAV's messages.
   */
  addPattern(hex: string, options: PartOptions, offsetText: string, owner: PatternOwner, names: PatternNames): void {
    // Without `{` or `*` a pattern is one part, as splitPattern would say (most are).
    const split = hex.includes('{') || hex.includes('*') ? splitPattern(hex) : undefined;
    if (split === undefined || split.kind === SplitKind.Single) {
      // The pattern after `{n}` became `??`s.
      const single = split === undefined ? hex : split.parts[0]!.hex!;
      if (this.takesBoyerMoore(single, options, offsetText, owner)) {
        this.addBoyerMoore(single, offsetText, owner, names);
        return;
      }
      try {
        this.addPart(single, options, offsetText, owner, names, NOT_SPLIT);
      } catch (error) {
        throw inContext(error, 'cli_add_content_match_pattern: Problem adding signature (3).');
      }
      return;
    }
    this.addSplitPattern(split, options, offsetText, owner, names);
  }

  /** The parts of a pattern split at `*` and ranges, each added with its place in the whole. */
  private addSplitPattern(split: SplitPattern, options: PartOptions, offsetText: string, owner: PatternOwner, names: PatternNames): void {
    const partialId = ++this.partialCount;
    const partCount = split.parts.length;
    const addFailure =
      split.kind === SplitKind.Ranged
        ? 'cli_add_content_match_pattern: Problem adding signature (1).'
        : 'cli_add_content_match_pattern: Problem adding signature (2).';
    // In the ranged form, ClamAV ends every failure with "(1b)", after "(1)" for a bad part.
    const ranged = (step: () => void) =>
      split.kind === SplitKind.Ranged ? withContext('cli_add_content_match_pattern: Problem adding signature (1b).', step) : step();
    ranged(() => {
      for (let i = 0; i < partCount; i++) {
        const { hex: partHex, gap: gapText } = split.parts[i]!;
        const gap = gapText === null ? UNBOUNDED_GAP : parseGap(gapText);
        if (partHex === null) {
          throw new SignatureError(`cli_add_content_match_pattern: Can't extract part ${i + 1} of partial signature.`);
        }
        const columns = { partialId, partNumber: i + 1, partCount, gapMin: gap.min, gapMax: gap.max };
        withContext(addFailure, () => this.addPart(partHex, options, offsetText, owner, names, columns));
      }
    });
  }

  /** Whether ClamAV gives a single-part pattern to its Boyer-Moore matcher rather than to Aho-Corasick. */
  private takesBoyerMoore(hex: string, options: PartOptions, offsetText: string, owner: PatternOwner): boolean {
    return (
      !this.acOnly &&
      owner.action !== PatternAction.Subsignature &&
      owner.action !== PatternAction.FileType &&
      !options.modified &&
      !hasWildcardSyntax(hex) &&
      !(this.target === 1 && (offsetText === '*' || offsetText.includes(','))) &&
      !offsetText.includes('VI') &&
      !offsetText.includes('$')
    );
  }

  /** cli_ac_addsig: parses the part, then prefix and key, name, offset. */
  private addPart(hex: string, options: PartOptions, offsetText: string, owner: PatternOwner, names: PatternNames, split: SplitColumns): void {
    const part = parsePart(hex, options, names.raw, this.table.pendingElements);
    if (isPrefilteredTarget(this.target)) checkPrefilter(part, names.raw);
    const prepared = this.table.prepare(part, PatternEngine.AhoCorasick);
    names.display?.();
    const offset = parseOffset(offsetText, this.target);
    // Only an unsplit pattern or the first part of a split one is checked against its offset.
    const checksOffset = split.partialId === 0 || split.partNumber === 1;
    const relative = checksOffset && isRelativeOffset(offset) && offset.kind !== OffsetKind.VersionInfo;
    const entry = this.entry(macroOwner(offset, owner), offset, relative, split, 0);
    const id = this.table.add(prepared, entry);
    if (relative) this.relativeOffsets.push({ spec: offset, fitLength: this.table.minLength(id) });
    // ClamAV counts every part, whatever offset checks it.
    this.counts.ac++;
    if (isRelativeOffset(offset)) this.counts.acRelative++;
  }

  /**
   * The table entry: what the pattern does, its offset (bounds or relative slot), its part. One
   * object, filled again for each pattern (the table copies it into its columns).
   */
  private entry(owner: PatternOwner, offset: OffsetSpec, relative: boolean, split: SplitColumns, bmShift: number): PatternEntry {
    let offsetMin = offset.value;
    let offsetMax = 0;
    if (relative) offsetMin = this.relativeOffsets.length;
    else if (offset.kind === OffsetKind.Absolute) offsetMax = (offset.value + offset.shift) >>> 0;
    ENTRY.action = owner.action;
    ENTRY.owner = owner.owner;
    ENTRY.subsignature = owner.subsignature;
    ENTRY.offsetKind = offset.kind;
    ENTRY.offsetMin = offsetMin;
    ENTRY.offsetMax = offsetMax;
    ENTRY.partialId = split.partialId;
    ENTRY.partNumber = split.partNumber;
    ENTRY.partCount = split.partCount;
    ENTRY.gapMin = split.gapMin;
    ENTRY.gapMax = split.gapMax;
    ENTRY.bmShift = bmShift;
    return ENTRY;
  }

  /** The Boyer-Moore path: plain hex of .ndb signatures in the generic and PE targets. */
  private addBoyerMoore(hex: string, offsetText: string, owner: PatternOwner, names: PatternNames): void {
    const bytes = decodePlainHex(hex);
    const name = names.display ? names.display() : names.raw;
    const offset = withContext('cli_add_content_match_pattern: Problem adding signature (4).', () => {
      if (bytes.length < BM_MIN_LENGTH) throw new SignatureError(`cli_bm_addpatt: Signature for ${name} is too short`);
      return withContext(() => `cli_bm_addpatt: Can't calculate offset for signature ${name}`, () => parseOffset(offsetText, this.target));
    });
    // ClamAV moves the pattern's hash block to the first 3 bytes whose bucket is still empty.
    let shift = 0;
    for (let i = 0; i + BM_MIN_LENGTH <= bytes.length; i++) {
      if (!this.occupiedBmBuckets.has(bmHash(bytes[i]!, bytes[i + 1]!, bytes[i + 2]!))) {
        shift = i;
        break;
      }
    }
    this.occupiedBmBuckets.add(bmHash(bytes[shift]!, bytes[shift + 1]!, bytes[shift + 2]!));
    // An exact byte is stored as its value.
    const elements = this.table.pendingElements;
    const start = elements.length;
    elements.ensure(start + bytes.length).set(bytes, start);
    const part: ParsedPart = { elements: elements.array, start, length: bytes.length, specials: [], left: null, right: null, boundary: 0, wide: false };
    const prepared = this.table.prepare(part, PatternEngine.BoyerMoore);
    const relative = isRelativeOffset(offset);
    this.table.add(prepared, this.entry(owner, offset, relative, NOT_SPLIT, shift));
    if (relative) this.relativeOffsets.push({ spec: offset, fitLength: 0 });
    this.counts.bm++;
    if (relative) this.counts.bmRelative++;
    else if (offset.kind === OffsetKind.Absolute) this.counts.bmAbsolute++;
  }

  /**
   * ClamAV adds a placeholder pattern (two zero bytes, which carries the macro's range for the
   * logical signature code) to the Aho-Corasick matcher for each macro subsignature: it counts
   * among the matcher's patterns. ClamTS keeps the macro with its signature instead.
   */
  countMacroPlaceholder(): void {
    this.counts.ac++;
  }

  /**
   * ClamAV's debug line about this target's matcher once it is built (cl_engine_compile): its
   * Aho-Corasick and Boyer-Moore patterns and PCRE subsignatures (disabled ones included), how
   * many of each have a relative or absolute offset (ClamAV counts no absolute Aho-Corasick
   * offset), and the longest pattern.
   */
  summary(): string {
    const { ac, acRelative, bm, bmRelative, bmAbsolute } = this.counts;
    const pcreAbsolute = this.regexes.filter(({ value }) => value.offset.kind === OffsetKind.Absolute).length;
    const pcreRelative = this.regexes.filter(({ value }) => isRelativeOffset(value.offset)).length;
    return matcherLine(this.target, {
      ac: `${ac} (reloff: ${acRelative}, absoff: 0)`,
      bm: `${bm} (reloff: ${bmRelative}, absoff: ${bmAbsolute})`,
      pcre: `${this.regexes.length} (reloff: ${pcreRelative}, absoff: ${pcreAbsolute})`,
      longest: this.table.longestPattern,
    });
  }

  /** Registers a file type pattern's types; returns the owner index for its patterns. */
  addFileType(fileType: FileTypeRule): number {
    return this.fileTypes.push(fileType) - 1;
  }

  addLogical(signature: LogicalSignature): void {
    // ClamAV evaluates every logical signature; those true without any match must always be checked.
    let alwaysTrue = this.trueWithoutMatches.get(signature.expressionKey);
    if (alwaysTrue === undefined) {
      alwaysTrue = evaluateExpression(signature.expression, []);
      this.trueWithoutMatches.set(signature.expressionKey, alwaysTrue);
    }
    if (alwaysTrue) this.alwaysEvaluated.push(this.logical.count);
    this.logical.add(signature);
  }

  addRegex(signature: number, subsignature: number, value: RegexSubsignature): void {
    this.regexes.push({ signature, subsignature, value });
  }

  addByteCompare(signature: number, subsignature: number, value: ByteCompare): void {
    this.byteCompares.push({ signature, subsignature, value });
  }

  /**
   * Builds the immutable program. Compiles the PCRE subsignatures, which is where ClamAV
   * reports a bad regex (when the engine is compiled).
   */
  build(pcreLimits: PcreLimits, pcreSwitches: PcreSwitches, logger: Logger): TargetProgram {
    const regexes = compileRegexes(this.regexes, pcreLimits, pcreSwitches, logger);
    const patterns = this.table.build();
    return new TargetProgram(
      this.target,
      patterns,
      // Every scan needs the generic matcher; another target's waits for the first object of its
      // type (a scan of text files never builds the 10^5 patterns of the PE target).
      this.target === 0 ? buildMatcher(patterns) : deferredMatcher(patterns),
      this.relativeOffsets,
      this.logical.build(),
      regexes,
      this.byteCompares,
      this.fileTypes,
      this.alwaysEvaluated,
      this.target === 0 || this.partialCount > 0,
    );
  }
}

interface MatcherCounts {
  ac: number;
  acRelative: number;
  bm: number;
  bmRelative: number;
  bmAbsolute: number;
}

/** The `Matcher[N]` debug line of a target with no signatures. */
export function emptyMatcherSummary(target: number): string {
  const none = '0 (reloff: 0, absoff: 0)';
  return matcherLine(target, { ac: none, bm: none, pcre: none, longest: 0 });
}

function matcherLine(target: number, counts: { ac: string; bm: string; pcre: string; longest: number }): string {
  // Only the generic and PE matchers use Boyer-Moore; ClamAV marks the others.
  const mode = target === 0 || target === 1 ? '' : '(ac_only mode)';
  return `Matcher[${target}]: ${TARGET_TYPES[target]!.name}: AC sigs: ${counts.ac} BM sigs: ${counts.bm} PCREs: ${counts.pcre} maxpatlen ${counts.longest} ${mode}`;
}

/** A pattern with a `$n$` offset only records where macro group n matched, whoever owns it. */
function macroOwner(offset: OffsetSpec, owner: PatternOwner): PatternOwner {
  return offset.kind === OffsetKind.Macro ? { action: PatternAction.Macro, owner: offset.value, subsignature: 0 } : owner;
}

interface SplitColumns {
  readonly partialId: number;
  readonly partNumber: number;
  readonly partCount: number;
  readonly gapMin: number;
  readonly gapMax: number;
}

const ENTRY: { -readonly [K in keyof PatternEntry]: PatternEntry[K] } = {
  action: PatternAction.Report,
  owner: 0,
  subsignature: 0,
  offsetKind: 0,
  offsetMin: 0,
  offsetMax: 0,
  partialId: 0,
  partNumber: 0,
  partCount: 0,
  gapMin: 0,
  gapMax: 0,
  bmShift: 0,
};

const NOT_SPLIT: SplitColumns = { partialId: 0, partNumber: 0, partCount: 0, gapMin: 0, gapMax: 0 };
