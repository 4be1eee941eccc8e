import type { DconfFlags } from '../engine/dconf.js';
import { ClamError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { parseOffset, type OffsetSpec } from '../signatures/offset.js';
import { parseExpression, type Expression } from './logical-expression.js';
import { compilePcre, parsePcreFlags, type PcreLimits, type PcreProgram } from './pcre.js';
import { SignatureError, withContext } from './signature-error.js';

/**
 * PCRE subsignatures of logical signatures, `[Offset:]Trigger/regex/[Flags]`: parsed and
 * validated like ClamAV's readdb_load_regex_subsignature and cli_pcre_addpatt; the regex itself
 * runs on the PCRE engine of pcre.ts.
 *
 * ClamAV runs a PCRE subsignature once per object, after all other matching, when its trigger
 * (a logical expression over the earlier subsignatures) holds; by default the regex must match at
 * the offset ("anchored"), `r` lets it start anywhere after, `e` confines it to offset..offset+
 * maxshift, and `g` counts every match instead of the first.
 */
export interface RegexSubsignature {
  readonly trigger: Expression;
  readonly offset: OffsetSpec;
  readonly pattern: string;
  /** The flag letters as written (the regex engine ignores ClamAV's own `g`, `r`, `e`). */
  readonly flags: string;
  readonly global: boolean;
  readonly rolling: boolean;
  readonly encompass: boolean;
}

/** A PCRE subsignature with its regex compiled (ClamAV compiles them when the engine is built). */
export interface CompiledRegexSubsignature extends RegexSubsignature {
  readonly program: PcreProgram;
}

/** Parses a PCRE subsignature that is subsignature `index` of a logical signature of `target`. */
export function parseRegexSubsignature(text: string, index: number, target: number): RegexSubsignature {
  const fields = tokenizeOutsideRegex(text, ':', 5);
  const [offsetText, sig] = fields.length === 2 ? [fields[0]!, fields[1]!] : ['*', fields[0]!];
  const open = sig.indexOf('/');
  const close = sig.lastIndexOf('/');
  if (open === close) throw new SignatureError("PCRE subsig mismatched '/' delimiter");
  if (text[0] === '/') throw new SignatureError('PCRE subsig must contain logical trigger');
  const triggerText = sig.slice(0, open);
  const pattern = sig.slice(open + 1, close);
  const flagText = sig.slice(close + 1);
  return withContext('Problem adding PCRE subsignature.', () => {
    if (triggerText === '' || pattern === '') {
      throw new SignatureError('cli_pcre_addpatt: trigger or pattern cannot be an empty string');
    }
    let trigger: Expression;
    let highest: number;
    try {
      ({ root: trigger, highestId: highest } = parseExpression(triggerText));
    } catch (error) {
      throw (error as SignatureError).because(`cli_pcre_addpatt: regex subsig /${pattern}/ is missing a valid logical trigger`);
    }
    if (highest > index) {
      throw new SignatureError(`cli_pcre_addpatt: regex subsig ${index} logical trigger refers to subsequent subsig ${highest}`);
    }
    if (highest === index) {
      throw new SignatureError(`cli_pcre_addpatt: regex subsig ${index} logical trigger is self-referential`);
    }
    const offset = withContext(`cli_pcre_addpatt: cannot calculate offset data: ${offsetText} for pattern: ${pattern}`, () =>
      parseOffset(offsetText, target),
    );
    let flags;
    try {
      flags = parsePcreFlags(flagText);
    } catch (error) {
      throw error instanceof ClamError ? new SignatureError(error.message) : error;
    }
    const { global, rolling, encompass } = flags;
    return { trigger, offset, pattern, flags: flagText, global, rolling, encompass };
  });
}

/** DCONF's PCRE switches (ClamAV's PCRE SUPPORT, OPTIONS and GLOBAL bits). */
export type PcreSwitches = DconfFlags['pcre'];

/** The flag letters that are ClamAV's own rather than PCRE2 compile options. */
const CLAMAV_FLAG_LETTERS = /[gre]/g;

/**
 * The subsignature as cli_pcre_build compiles it under DCONF (called only with SUPPORT on: with
 * it off ClamAV disables every PCRE subsignature): with GLOBAL off the `g` flag is dropped (with
 * ClamAV's debug line, printed for every regex), and with OPTIONS off the regex is compiled
 * without the PCRE options of its flags (`i s m x A E U`).
 */
export function underPcreSwitches(subsig: RegexSubsignature, switches: PcreSwitches, logger: Logger): RegexSubsignature {
  let { flags, global } = subsig;
  if (!switches.global) {
    if (logger.debugEnabled) logger.debug(`cli_pcre_build: disabling global option for regex /${subsig.pattern}/`);
    global = false;
  }
  if (!switches.options) flags = (flags.match(CLAMAV_FLAG_LETTERS) ?? []).join('');
  return flags === subsig.flags && global === subsig.global ? subsig : { ...subsig, flags, global };
}

/**
 * Compiles the regex; a refusal carries ClamAV's messages (which ClamAV prints when the engine
 * is built, not when the line is read).
 */
export function compileRegexSubsignature(subsig: RegexSubsignature, limits: PcreLimits): CompiledRegexSubsignature {
  try {
    return { ...subsig, program: compilePcre(subsig.pattern, subsig.flags, limits) };
  } catch (error) {
    if (!(error instanceof ClamError)) throw error;
    throw new SignatureError(error.message).because('cli_pcre_build: failed to build pcre regex');
  }
}

/**
 * The same, compiled when first run: for a regex known to compile (one of an engine built
 * before, rebuilt in a worker or read from the engine cache), so that loading such an engine
 * does not pay for regexes that no scan reaches.
 */
export function lazilyCompiledRegexSubsignature(subsig: RegexSubsignature, limits: PcreLimits): CompiledRegexSubsignature {
  let program: PcreProgram | undefined;
  return {
    ...subsig,
    get program() {
      return (program ??= compileRegexSubsignature(subsig, limits).program);
    },
  };
}

/** The subsignature without its compiled regex: plain data, to compile again in another thread. */
export function uncompiledRegexSubsignature(compiled: CompiledRegexSubsignature): RegexSubsignature {
  const { trigger, offset, pattern, flags, global, rolling, encompass } = compiled;
  return { trigger, offset, pattern, flags, global, rolling, encompass };
}

/**
 * ClamAV's cli_ldbtokenize: splits at `delimiter`, except between unescaped `/` (inside a
 * regex); at most `max` fields, the last one cut at the next delimiter. The regex state carries
 * over from field to field, as in ClamAV. `regexFrom` is the first field where `/` counts.
 */
export function tokenizeOutsideRegex(text: string, delimiter: string, max: number, regexFrom = 0): string[] {
  // Without a slash there is no regex: a plain split (as common as it is faster).
  if (!text.includes('/')) return text.split(delimiter, max);
  const fields: string[] = [];
  // Searches with indexOf: a line has few slashes, and most fields none.
  let slashAt = -1;
  const nextSlash = (from: number): number => {
    if (slashAt < from) {
      const found = text.indexOf('/', from);
      slashAt = found < 0 ? text.length : found;
    }
    return slashAt;
  };
  let inRegex = false;
  let i = 0;
  while (fields.length < max) {
    const start = i;
    const field = fields.length + 1;
    while (i < text.length) {
      const slash = nextSlash(i);
      if (inRegex) {
        // Inside a regex only its closing slash counts, not the delimiters.
        if (slash >= text.length) {
          i = text.length;
          break;
        }
        if (text.charCodeAt(slash - 1) !== BACKSLASH) inRegex = false;
        i = slash + 1;
        continue;
      }
      const found = text.indexOf(delimiter, i);
      const end = found < 0 ? text.length : found;
      if (field <= regexFrom || slash >= end) {
        i = end;
        break;
      }
      if (slash > 0 && text.charCodeAt(slash - 1) !== BACKSLASH) inRegex = true;
      i = slash + 1;
    }
    fields.push(text.slice(start, i));
    if (i >= text.length) break;
    i++;
  }
  return fields;
}

const BACKSLASH = 0x5c;
