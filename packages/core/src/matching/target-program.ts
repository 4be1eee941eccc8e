import {
  SplitKind,
  UNBOUNDED_GAP,
  byteElement,
  decodePlainHex,
  hasWildcardSyntax,
  parseGap,
  parsePart,
  splitPattern,
  type ParsedPart,
  type PartOptions,
} from '../signatures/body-pattern.js';
import type { TargetDescription } from '../signatures/ldb.js';
import {
  OffsetKind,
  isRelativeOffset,
  parseOffset,
  type OffsetSpec,
} from '../signatures/offset.js';
import type { ByteCompare } from './byte-compare.js';
import { CandidateIndex } from './candidate-index.js';
import { evaluateExpression, type Expression } from './logical-expression.js';
import { NodeLists } from './node-lists.js';
import { checkPrefilter, isPrefilteredTarget } from './prefilter-check.js';
import {
  PatternAction,
  PatternEngine,
  PatternTableBuilder,
  type PatternEntry,
  type PatternTable,
} from './pattern-table.js';
import type { PcreLimits } from './pcre.js';
import { compileRegexSubsignature, type CompiledRegexSubsignature, type RegexSubsignature } from './regex-subsig.js';
import { SignatureError, withContext } from './signature-error.js';
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

export interface LogicalSignature {
  /** The name reported (with `.UNOFFICIAL` where applicable). */
  readonly name: string;
  readonly description: TargetDescription;
  readonly expression: Expression;
  readonly subsignatureCount: number;
  /** For each subsignature, the macro subsignature that follows it. */
  readonly macros: readonly (MacroLink | undefined)[];
  /** ClamAV evaluates every logical signature; those true without any match must always be checked. */
  readonly trueWithoutMatches: boolean;
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

export class TargetProgram {
  constructor(
    readonly target: number,
    readonly patterns: PatternTable,
    readonly lists: NodeLists,
    readonly index: CandidateIndex,
    readonly relativeOffsets: readonly RelativeOffset[],
    readonly logical: readonly LogicalSignature[],
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
  ) {}

  /** ClamAV's maxpatlen, which sets how much consecutive scan windows overlap. */
  get longestPattern(): number {
    return this.patterns.longestPattern;
  }
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
  private readonly relativeOffsets: RelativeOffset[] = [];
  private readonly logical: LogicalSignature[] = [];
  private readonly regexes: SubsignatureRef<RegexSubsignature>[] = [];
  private readonly byteCompares: SubsignatureRef<ByteCompare>[] = [];
  private readonly fileTypes: FileTypeRule[] = [];
  private readonly occupiedBmBuckets = new Set<number>();
  private partialCount = 0;

  constructor(readonly target: number) {}

  /** ClamAV's Aho-Corasick-only targets: all but the generic and PE targets. */
  private get acOnly(): boolean {
    return this.target !== 0 && this.target !== 1;
  }

  /** The index the next logical signature will get. */
  get nextLogicalIndex(): number {
    return this.logical.length;
  }

  get patternCount(): number {
    return this.table.size;
  }

  /**
   * Adds a body pattern (cli_add_content_match_pattern): split at `*` and ranges, or one part,
   * or a plain pattern for the Boyer-Moore matcher. Throws SignatureError with ClamAV's messages.
   */
  addPattern(hex: string, options: PartOptions, offsetText: string, owner: PatternOwner, names: PatternNames): void {
    const split = splitPattern(hex);
    if (split.kind === SplitKind.Single) {
      // The pattern after `{n}` became `??`s.
      const single = split.parts[0]!.hex!;
      const bmEligible =
        !this.acOnly &&
        owner.action !== PatternAction.Subsignature &&
        owner.action !== PatternAction.FileType &&
        !options.modified &&
        !hasWildcardSyntax(single) &&
        !(this.target === 1 && (offsetText === '*' || offsetText.includes(','))) &&
        !offsetText.includes('VI') &&
        !offsetText.includes('$');
      if (bmEligible) {
        this.addBoyerMoore(single, offsetText, owner, names);
      } else {
        withContext('cli_add_content_match_pattern: Problem adding signature (3).', () =>
          this.addPart(parsePart(single, options, names.raw), offsetText, owner, names, NOT_SPLIT),
        );
      }
      return;
    }
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
        withContext(addFailure, () =>
          this.addPart(parsePart(partHex, options, names.raw), offsetText, owner, names, {
            partialId,
            partNumber: i + 1,
            partCount,
            gapMin: gap.min,
            gapMax: gap.max,
          }),
        );
      }
    });
  }

  /** cli_ac_addsig after parsing: prefix and key, name, offset. */
  private addPart(part: ParsedPart, offsetText: string, owner: PatternOwner, names: PatternNames, split: SplitColumns): void {
    if (isPrefilteredTarget(this.target)) checkPrefilter(part, names.raw);
    const prepared = this.table.prepare(part, PatternEngine.AhoCorasick);
    names.display?.();
    const offset = parseOffset(offsetText, this.target);
    // Only an unsplit pattern or the first part of a split one is checked against its offset.
    const checksOffset = split.partialId === 0 || split.partNumber === 1;
    const relative = checksOffset && isRelativeOffset(offset) && offset.kind !== OffsetKind.VersionInfo;
    this.table.add(prepared, this.entry(macroOwner(offset, owner), offset, relative, split, 0));
    if (relative) this.relativeOffsets.push({ spec: offset, fitLength: prepared.minLength });
  }

  /** The table entry: what the pattern does, its offset (bounds or relative slot), its part. */
  private entry(owner: PatternOwner, offset: OffsetSpec, relative: boolean, split: SplitColumns, bmShift: number): PatternEntry {
    let offsetMin = offset.value;
    let offsetMax = 0;
    if (relative) offsetMin = this.relativeOffsets.length;
    else if (offset.kind === OffsetKind.Absolute) offsetMax = (offset.value + offset.shift) >>> 0;
    return {
      action: owner.action,
      owner: owner.owner,
      subsignature: owner.subsignature,
      offsetKind: offset.kind,
      offsetMin,
      offsetMax,
      partialId: split.partialId,
      partNumber: split.partNumber,
      partCount: split.partCount,
      gapMin: split.gapMin,
      gapMax: split.gapMax,
      bmShift,
    };
  }

  /** The Boyer-Moore path: plain hex of .ndb signatures in the generic and PE targets. */
  private addBoyerMoore(hex: string, offsetText: string, owner: PatternOwner, names: PatternNames): void {
    const bytes = decodePlainHex(hex);
    const name = names.display ? names.display() : names.raw;
    const offset = withContext('cli_add_content_match_pattern: Problem adding signature (4).', () => {
      if (bytes.length < BM_MIN_LENGTH) throw new SignatureError(`cli_bm_addpatt: Signature for ${name} is too short`);
      return withContext(`cli_bm_addpatt: Can't calculate offset for signature ${name}`, () => parseOffset(offsetText, this.target));
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
    const part: ParsedPart = {
      elements: Uint32Array.from(bytes, (b) => byteElement(b)),
      specials: [],
      left: null,
      right: null,
      boundary: 0,
      wide: false,
    };
    const prepared = this.table.prepare(part, PatternEngine.BoyerMoore);
    const relative = isRelativeOffset(offset);
    this.table.add(prepared, this.entry(owner, offset, relative, NOT_SPLIT, shift));
    if (relative) this.relativeOffsets.push({ spec: offset, fitLength: 0 });
  }

  /** Registers a file type pattern's types; returns the owner index for its patterns. */
  addFileType(fileType: FileTypeRule): number {
    return this.fileTypes.push(fileType) - 1;
  }

  addLogical(signature: Omit<LogicalSignature, 'trueWithoutMatches'>): void {
    const trueWithoutMatches = evaluateExpression(signature.expression, []);
    this.logical.push({ ...signature, trueWithoutMatches });
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
  build(pcreLimits: PcreLimits): TargetProgram {
    const regexes = this.regexes.map(({ signature, subsignature, value }) => ({
      signature,
      subsignature,
      value: compileRegexSubsignature(value, pcreLimits),
    }));
    const patterns = this.table.build();
    const lists = new NodeLists(patterns);
    // Only chain heads are searched for; the other members of a chain take their head's result.
    const index = new CandidateIndex(patterns, (p) => lists.chainHead[p] === p);
    const alwaysEvaluated = this.logical.flatMap((signature, index) => (signature.trueWithoutMatches ? [index] : []));
    return new TargetProgram(
      this.target,
      patterns,
      lists,
      index,
      this.relativeOffsets,
      this.logical,
      regexes,
      this.byteCompares,
      this.fileTypes,
      alwaysEvaluated,
      this.target === 0 || this.partialCount > 0,
    );
  }
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

const NOT_SPLIT: SplitColumns = { partialId: 0, partNumber: 0, partCount: 0, gapMin: 0, gapMax: 0 };
