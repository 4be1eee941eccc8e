/**
 * PCRE subsignatures: compile `Trigger/regex/flags` regexes the way ClamAV 1.4 compiles them
 * with PCRE2 10.42, and find matches in raw bytes exactly where PCRE2 finds them.
 *
 * DESIGN NOTE (see the engine decision at the end of this comment)
 *
 * ClamAV compiles each regex with pcre2_compile() in 8-bit mode with no UTF and only the
 * options from the signature's flags (i s m x A E U), and runs it with pcre2_match() - the
 * interpreter, not the JIT - under a match limit (--pcre-match-limit, 100000 by default) and a
 * depth limit (--pcre-recmatch-limit, 2000). Those limits are part of the observable behaviour:
 * on a large file a signature such as /<script.+var/s makes PCRE2 backtrack once per byte, and
 * past 100000 frames pcre2_match() gives up and ClamAV treats the signature as not matching.
 * So ClamTS must not only find the same matches, it must give up in the same places.
 *
 * That rules out JavaScript's RegExp as the engine: it has different semantics in many corners
 * ($, \s, case folding above 0x7F, empty loop iterations, unset back references...) which could
 * be translated away, but it cannot count or bound its backtracking at all - a hostile file can
 * hang it, and it would find matches that ClamAV gives up on. ClamTS therefore has its own
 * engine, built on PCRE2's design rather than on a regex textbook:
 *
 *   parse.ts       PCRE2 10.42 syntax (non-UTF), with PCRE2's error numbers and texts
 *   resolve.ts     names, references, fixed-length lookbehinds
 *   codegen.ts     PCRE2-shaped opcodes, including how repeated groups are replicated
 *   autopossess.ts PCRE2's automatic possessification (\d+\s -> \d++\s)
 *   interpreter.ts PCRE2's frame-based backtracking, creating a frame exactly where PCRE2 does
 *   study.ts       start-of-match optimizations (anchoring, first bytes, minimum length,
 *                  required literal) that skip hopeless starting positions
 *   search.ts      the loop over starting positions
 *
 * Matching the count matters: tests compare the interpreter's frame counts with pcre2test's
 * "find_limits" (the minimum match and depth limits PCRE2 needs for a subject) on generated
 * patterns, and match ranges with pcre2test on generated binary subjects.
 *
 * AT THE LIMIT. When a starting position needs more frames than `matchLimit`, or a frame
 * deeper than `recursionLimit`, the whole search stops at once (no later position is tried)
 * and search() reports 'matchlimit' or 'depthlimit'; exec() returns null. This is what
 * pcre2_match() does (PCRE2_ERROR_MATCHLIMIT / PCRE2_ERROR_DEPTHLIMIT), and ClamAV's
 * cli_pcre_match() then logs "cli_pcre_match: pcre_exec: match limit exceeded" (or "recursive
 * limit exceeded") at debug level and carries on as if there was no match. The caller should
 * log that same debug line. A pattern-level (*LIMIT_MATCH=n) or (*LIMIT_DEPTH=n) can only
 * lower the limits, as in PCRE2.
 *
 * ENGINE DECISION AND SPEED. Measured on the 491 distinct PCRE subsignatures of
 * main.ldb (see pcre-bench in the tests' report): <filled in from measurements>
 */
import { ClamError } from '../errors.js';
import { autoPossessify } from './pcre/autopossess.js';
import { generateCode } from './pcre/codegen.js';
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
    const program = generateCode(parsed);
    if (!parsed.settings.noAutoPossess) autoPossessify(program);
    const info = studyPattern(parsed, program);
    const matchLimit = Math.min(limits.matchLimit, parsed.settings.limitMatch ?? Infinity);
    const depthLimit = Math.min(limits.recursionLimit, parsed.settings.limitDepth ?? Infinity);
    const interpreter = new Interpreter(program, {
      matchLimit,
      depthLimit,
      notEmpty: parsed.settings.notEmpty,
      notEmptyAtStart: parsed.settings.notEmptyAtStart,
      dollarEndOnly: parsed.dollarEndOnly,
      hasThen: parsed.hasThen,
    });
    return new CompiledPcre(pattern, parsedFlags, interpreter, info, matchLimit, depthLimit);
  } catch (e) {
    if (e instanceof PcreCompileError) {
      throw new ClamError('EMALFDB', {
        message: `cli_pcre_compile: PCRE2 compilation failed at offset ${e.offset}: ${e.message}`,
      });
    }
    throw e;
  }
}

class CompiledPcre implements PcreProgram {
  constructor(
    readonly pattern: string,
    readonly flags: Readonly<PcreFlags>,
    private readonly interpreter: Interpreter,
    private readonly info: StartInfo,
    private readonly matchLimit: number,
    private readonly depthLimit: number,
  ) {}

  exec(data: Uint8Array, from: number, options?: PcreExecOptions): PcreMatch | null {
    const result = this.search(data, from, options);
    return result.status === 'match' ? { start: result.start, end: result.end } : null;
  }

  search(data: Uint8Array, from: number, options?: PcreExecOptions): SearchResult {
    return search(
      this.interpreter,
      this.info,
      data,
      from,
      options?.anchored ?? false,
      this.matchLimit,
      this.depthLimit,
    );
  }
}
