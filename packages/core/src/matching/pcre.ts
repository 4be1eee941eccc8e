/**
 * PCRE subsignatures: compile `Trigger/regex/flags` regexes the way ClamAV 1.4 compiles them
 * with PCRE2 10.42, and find matches in raw bytes exactly where PCRE2 finds them.
 *
 * WHAT HAS TO MATCH. ClamAV compiles each regex with pcre2_compile() in 8-bit mode without UTF,
 * with only the options of the signature's flags (i s m x A E U), and runs pcre2_match() - the
 * interpreter, not the JIT - under a match limit (--pcre-match-limit, 100000 by default) and a
 * depth limit (--pcre-recmatch-limit, 2000). The limits are observable: /aaa.*?X/s matches
 * across 99997 bytes and not across 99998, because PCRE2 then needs more than 100000
 * backtracking frames, gives up, and ClamAV treats that as no match. ClamTS must find the same
 * matches and give up in the same places.
 *
 * ENGINE DECISION. JavaScript's RegExp is not usable as the engine, even for patterns that
 * could be translated faithfully: it cannot count or bound its backtracking, so a hostile file
 * can hang it and it finds matches ClamAV gives up on. Translating to RegExp only where the
 * limits provably cannot matter would need a worst-case analysis of every pattern and would
 * still need a second engine for the rest. So ClamTS has one engine, a port of the design of
 * PCRE2's interpreter (its own code, same structure):
 *
 *   parse.ts       PCRE2 10.42 syntax (non-UTF), with PCRE2's error numbers, texts and offsets
 *   resolve.ts     names, references, fixed-length lookbehinds
 *   codegen.ts     PCRE2-shaped opcodes, including the replication of repeated groups, and
 *   units.ts       PCRE2's first/required code unit bookkeeping
 *   autopossess.ts PCRE2's automatic possessification (\d+\s becomes \d++\s)
 *   interpreter.ts PCRE2's frame-based backtracking: a frame is created exactly where PCRE2
 *                  creates one, so both limits trigger on the same inputs
 *   anchoring.ts, start-bits.ts, min-length.ts, study.ts
 *                  PCRE2's start-of-match analysis, quirks included (they change results:
 *                  with (*COMMIT), and its minimum length can exclude real matches)
 *   search.ts      the loop over starting positions, as pcre2_match() runs it
 *   literal.ts     ClamTS's one extra shortcut: stop when a literal every match needs is absent
 *
 * Tests compare match ranges, limit errors and compile errors with the real libpcre2-8 on
 * generated patterns and binary subjects and on every PCRE subsignature of main.ldb, sweep the
 * limits to check that the engine needs exactly as many frames as PCRE2, and check both limit
 * thresholds against clamscan.
 *
 * SPEED (PCRE_BENCH=1 packages/core/test/pcre-bench.test.ts; the 491 distinct PCRE
 * subsignatures of main.ldb, each searched once over 1 MiB): about 950 MB/s per pattern on
 * random bytes and 230 MB/s on source text, against 1300 and 320 MB/s for V8's RegExp on the
 * same patterns (where translatable, unbounded) and 28 MB/s for a naive search that tries every
 * position. Native PCRE2 (interpreter, as ClamAV uses it) takes 1.5 s for all of them on 1 MiB
 * of JavaScript text where this engine takes 1.3 s. The hot paths: single-character repeats
 * scan with 256-entry tables, and a frame whose first item is a character test that fails is
 * counted without being built (see Interpreter.quickFail).
 *
 * AT THE LIMIT. When a starting position needs more frames than `matchLimit`, or a frame
 * deeper than `recursionLimit`, the whole search stops at once (no later position is tried)
 * and search() reports 'matchlimit' or 'depthlimit'; exec() returns null. This is what
 * pcre2_match() does (PCRE2_ERROR_MATCHLIMIT / PCRE2_ERROR_DEPTHLIMIT), and ClamAV's
 * cli_pcre_match() then logs "cli_pcre_match: pcre_exec: match limit exceeded" (or "recursive
 * limit exceeded") at debug level and carries on as if there was no match; the caller should
 * log the same. The count restarts at each starting position, as in PCRE2. A pattern's
 * (*LIMIT_MATCH=n) or (*LIMIT_DEPTH=n) can only lower the limits. Where ClamTS's literal
 * shortcut stops a search that PCRE2 would have continued into the limit, ClamTS reports
 * 'nomatch' instead of the limit error: ClamAV's result is the same, only its debug log differs.
 *
 * NOT SUPPORTED (compilePcre throws ClamError EMALFDB saying so; PCRE2 would accept them; none
 * occurs in main.ldb): Unicode properties \p \P \X, (*UTF) (*UCP), script runs (*sr:...),
 * newline and \R conventions other than the default ((*CR) (*CRLF) (*ANY) (*ANYCRLF) (*NUL)
 * (*BSR_ANYCRLF)), and pattern characters above 0xFF (a pattern is one character per byte).
 * PCRE2 10.42 also accepts some lookbehinds that are not fixed-length, through a bug in its
 * length analysis (a multi-branch lookbehind inside a group that a later lookbehind refers to);
 * ClamTS rejects those.
 */
import { ClamError } from '../errors.js';
import type { ParsedPattern } from './pcre/ast.js';
import { autoPossessify } from './pcre/autopossess.js';
import { type CodeProgram, generateCode } from './pcre/codegen.js';
import { PcreCompileError } from './pcre/compile-error.js';
import { Interpreter } from './pcre/interpreter.js';
import { type PatternOptions, parsePattern } from './pcre/parse.js';
import { resolvePattern } from './pcre/resolve.js';
import { type SearchResult, search } from './pcre/search.js';
import { type StartInfo, studyPattern } from './pcre/study.js';

export type { SearchResult as PcreSearchResult } from './pcre/search.js';

export interface PcreMatch {
  start: number;
  end: number;
}

/** ClamAV's --pcre-match-limit and --pcre-recmatch-limit (PCRE2's match and depth limits). */
export interface PcreLimits {
  matchLimit: number;
  recursionLimit: number;
}

/** libclamav's defaults (CLI_DEFAULT_PCRE_MATCH_LIMIT, CLI_DEFAULT_PCRE_RECMATCH_LIMIT). */
export const PCRE_DEFAULT_LIMITS: Readonly<PcreLimits> = { matchLimit: 100000, recursionLimit: 2000 };

export interface PcreExecOptions {
  /**
   * Match only at `from` (PCRE2_ANCHORED at match time). ClamAV sets this for a subsignature
   * with an exact offset and no 'r' flag.
   */
  anchored?: boolean;
}

/**
 * The flags after the closing slash of a PCRE subsignature. ClamAV accepts exactly these
 * letters (cli_pcre_addoptions and cli_pcre_addpatt); anything else makes the database invalid.
 */
export interface PcreFlags {
  caseless: boolean; // i  PCRE2_CASELESS
  dotall: boolean; // s  PCRE2_DOTALL
  multiline: boolean; // m  PCRE2_MULTILINE
  extended: boolean; // x  PCRE2_EXTENDED
  anchored: boolean; // A  PCRE2_ANCHORED
  dollarEndOnly: boolean; // E  PCRE2_DOLLAR_ENDONLY
  ungreedy: boolean; // U  PCRE2_UNGREEDY
  /** g: find every match in the buffer, not just the first (handled by the caller). */
  global: boolean;
  /** r: do not anchor a subsignature that has an offset (handled by the caller). */
  rolling: boolean;
  /** e: only search offset..offset+maxshift (handled by the caller). */
  encompass: boolean;
}

export interface PcreProgram {
  /** First match starting at or after `from` (byte offsets into data), or null. */
  exec(data: Uint8Array, from: number, options?: PcreExecOptions): PcreMatch | null;
  /** Like exec, but says why there is no match (including the match and depth limits). */
  search(data: Uint8Array, from: number, options?: PcreExecOptions): SearchResult;
  readonly flags: Readonly<PcreFlags>;
  readonly pattern: string;
}

/** Parses ClamAV's PCRE flag letters; throws ClamError('EMALFDB') on an unknown letter. */
export function parsePcreFlags(flags: string): PcreFlags {
  const parsed: PcreFlags = {
    caseless: false,
    dotall: false,
    multiline: false,
    extended: false,
    anchored: false,
    dollarEndOnly: false,
    ungreedy: false,
    global: false,
    rolling: false,
    encompass: false,
  };
  for (const letter of flags) {
    switch (letter) {
      case 'i': parsed.caseless = true; break;
      case 's': parsed.dotall = true; break;
      case 'm': parsed.multiline = true; break;
      case 'x': parsed.extended = true; break;
      case 'A': parsed.anchored = true; break;
      case 'E': parsed.dollarEndOnly = true; break;
      case 'U': parsed.ungreedy = true; break;
      case 'g': parsed.global = true; break;
      case 'r': parsed.rolling = true; break;
      case 'e': parsed.encompass = true; break;
      default:
        throw new ClamError('EMALFDB', {
          message: `cli_pcre_addpatt: unknown/extra pcre option encountered ${letter}`,
        });
    }
  }
  return parsed;
}

/**
 * Compiles `pattern` (one character per pattern byte, as in the .ldb file) with ClamAV's
 * `flags`. Throws ClamError('EMALFDB') with libclamav's message when PCRE2 would refuse the
 * pattern or ClamAV the flags.
 */
export function compilePcre(pattern: string, flags: string, limits: PcreLimits = PCRE_DEFAULT_LIMITS): PcreProgram {
  const parsedFlags = parsePcreFlags(flags);
  const options: PatternOptions = {
    caseless: parsedFlags.caseless,
    multiline: parsedFlags.multiline,
    dotall: parsedFlags.dotall,
    extended: parsedFlags.extended,
    anchored: parsedFlags.anchored,
    dollarEndOnly: parsedFlags.dollarEndOnly,
    ungreedy: parsedFlags.ungreedy,
  };
  try {
    const parsed = parsePattern(pattern, options);
    resolvePattern(parsed);
    // Code generation is the last step that can refuse a pattern (one too large).
    const program = generateCode(parsed);
    const matchLimit = Math.min(limits.matchLimit, parsed.settings.limitMatch ?? Infinity);
    const depthLimit = Math.min(limits.recursionLimit, parsed.settings.limitDepth ?? Infinity);
    return new CompiledPcre(pattern, parsedFlags, parsed, program, matchLimit, depthLimit);
  } catch (e) {
    if (e instanceof PcreCompileError) {
      throw new ClamError('EMALFDB', {
        message: `cli_pcre_compile: PCRE2 compilation failed at offset ${e.offset}: ${e.message}`,
      });
    }
    throw e;
  }
}

/** The interpreter of a compiled pattern, with the start-of-match analysis it searches with. */
interface Matcher {
  readonly interpreter: Interpreter;
  readonly info: StartInfo;
}

/**
 * A pattern that compiled. Its matcher is finished when first searched with: a database has
 * hundreds of regexes, most of which a scan never runs, and nothing after code generation can
 * refuse a pattern.
 */
class CompiledPcre implements PcreProgram {
  private matcher: Matcher | undefined;

  constructor(
    readonly pattern: string,
    readonly flags: Readonly<PcreFlags>,
    private parsed: ParsedPattern | undefined,
    private program: CodeProgram | undefined,
    private readonly matchLimit: number,
    private readonly depthLimit: number,
  ) {}

  private finishedMatcher(): Matcher {
    if (this.matcher !== undefined) return this.matcher;
    const parsed = this.parsed!;
    const program = this.program!;
    if (!parsed.settings.noAutoPossess) autoPossessify(program);
    const info = studyPattern(parsed, program);
    const interpreter = new Interpreter(program, {
      notEmpty: parsed.settings.notEmpty,
      notEmptyAtStart: parsed.settings.notEmptyAtStart,
      dollarEndOnly: parsed.dollarEndOnly,
      hasThen: parsed.hasThen,
    });
    this.parsed = this.program = undefined;
    return (this.matcher = { interpreter, info });
  }

  exec(data: Uint8Array, from: number, options?: PcreExecOptions): PcreMatch | null {
    const result = this.search(data, from, options);
    return result.status === 'match' ? { start: result.start, end: result.end } : null;
  }

  search(data: Uint8Array, from: number, options?: PcreExecOptions): SearchResult {
    const { interpreter, info } = this.finishedMatcher();
    try {
      return search(interpreter, info, data, from, options?.anchored ?? false, this.matchLimit, this.depthLimit);
    } finally {
      // The program outlives the scan: it must not keep the scanned object alive.
      interpreter.releaseSubject();
    }
  }
}
