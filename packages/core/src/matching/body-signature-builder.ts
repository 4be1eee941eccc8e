import { DEFAULT_DCONF } from '../engine/dconf.js';
import { TARGET_TYPES } from '../filetypes/targets.js';
import { ClamError } from '../errors.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { NameTable } from '../util/names.js';
import { PLAIN_PART, applyModifiers } from '../signatures/body-pattern.js';
import { parseCdbLine, type ContainerSignature } from '../signatures/cdb.js';
import {
  LogicalTextCache,
  classifySubsignature,
  parseLogicalLine,
  splitLogicalLine,
  targetDescriptionSkipMessages,
  type LogicalSignatureLine,
} from '../signatures/ldb.js';
import { parseNdbLine } from '../signatures/ndb.js';
import { BodyDetector } from './body-detector.js';
import { parseByteCompare } from './byte-compare.js';
import { PCRE_DEFAULT_LIMITS, type PcreLimits } from './pcre.js';
import { PatternAction } from './pattern-table.js';
import { parseRegexSubsignature, type PcreSwitches } from './regex-subsig.js';
import { SignatureError, inContext, withContext } from './signature-error.js';
import type { MacroLink } from './subsignature-counts.js';
import { TargetProgramBuilder, emptyMatcherSummary, type FileTypeRule, type PatternNames, type TargetProgram } from './target-program.js';
import { DEFAULT_PCRE_MAX_FILESIZE } from './target-scan.js';

/**
 * Loads body (.ndb/.ndu), logical (.ldb/.ldu) and container metadata (.cdb) signatures line by
 * line, with ClamAV 1.4.6's acceptance rules and messages, and builds the BodyDetector.
 *
 * A refused line is logged with ClamAV's chain of messages, ending with
 * "Problem parsing database at line N", and turned into a ClamError carrying the path and line;
 * the caller adds "Can't load <path>: <error>" as ClamAV's loader does.
 */

/** What the database loader tells about the line being added. */
export interface SignatureContext {
  readonly path: string;
  /** 1-based line number. */
  readonly line: number;
  readonly logger: Logger;
  /** The reported name of a signature: the raw name plus `.UNOFFICIAL` for unofficial databases. */
  name(raw: string): string;
  /**
   * Does ClamAV drop this signature by name (.ign/.ign2 lists, PUA category filters)? `line` is
   * the database line the name comes from, for ignore entries that carry its MD5.
   */
  ignored(name: string, line: string): boolean;
  /** The engine's functionality level, for the MinFL/MaxFL fields (ClamAV 1.4.6: 216). */
  readonly functionalityLevel: number;
}

export interface BodySignatureOptions {
  /** Load .ndb signatures named HTML.Phishing.* and Email.Phishing.* (ClamAV's default: yes). */
  readonly phishingSignatures?: boolean;
  /** --pcre-match-limit / --pcre-recmatch-limit. */
  readonly pcreLimits?: PcreLimits;
  /** --pcre-max-filesize. */
  readonly pcreMaxFileSize?: number;
}

/** ClamAV's cli_mpool_virname: the name without a " (Clam)" suffix, refused when empty. */
function signatureName(raw: string): string {
  const clam = raw.indexOf(' (Clam)');
  const name = clam >= 0 ? raw.slice(0, clam) : raw;
  if (name === '') throw new SignatureError('cli_mpool_virname: Empty virus name', 'EMEM');
  return name;
}

export class BodySignatureBuilder {
  private readonly targets: (TargetProgramBuilder | undefined)[] = [];
  private readonly reportNames = new NameTable();
  /** ClamAV prepends each container signature to its list, so the last loaded is checked first. */
  private readonly containerSignatures: ContainerSignature[] = [];
  /** Signatures loaded: what ClamAV counts as "Known viruses" for these formats. */
  signatureCount = 0;
  /** Expressions and target descriptions already parsed (dropped when the detector is built). */
  private logicalTexts: LogicalTextCache | undefined;

  constructor(private readonly options: BodySignatureOptions = {}) {}

  private target(target: number): TargetProgramBuilder {
    return (this.targets[target] ??= new TargetProgramBuilder(target));
  }

  /** Adds an .ndb/.ndu line; false when ClamAV skips it (comment, ignored, functionality level, target). */
  addNdb(line: string, ctx: SignatureContext): boolean {
    if (line.startsWith('#')) return false;
    if (this.options.phishingSignatures === false && (line.startsWith('HTML.Phishing') || line.startsWith('Email.Phishing'))) {
      return false;
    }
    let parsed: ReturnType<typeof parseNdbLine>;
    try {
      parsed = parseNdbLine(line, ctx.functionalityLevel, (name) => ctx.ignored(name, line));
    } catch (error) {
      return fail(ctx, error, 'EMALFDB');
    }
    if ('skipped' in parsed) {
      if (parsed.reason !== undefined) debug(ctx, () => parsed.reason!);
      return false;
    }
    const { name: raw, target, offset, hex } = parsed;
    const display = () => ctx.name(signatureName(raw));
    const owner = { action: PatternAction.Report, owner: this.reportNames.size, subsignature: 0 };
    try {
      this.target(target).addPattern(hex, PLAIN_PART, offset, owner, { raw, display });
    } catch (error) {
      return fail(ctx, error, 'EMALFDB');
    }
    this.reportNames.addReported(display());
    this.signatureCount++;
    return true;
  }

  /** Adds an .ldb/.ldu line; false when ClamAV skips it. */
  addLdb(line: string, ctx: SignatureContext): boolean {
    if (line.startsWith('#')) return false;
    try {
      const fields = splitLogicalLine(line);
      if (fields.length < 4) throw new SignatureError('Invalid or unsupported ldb signature format');
      const raw = fields[0]!;
      if (ctx.ignored(raw, line)) {
        debug(ctx, () => `cli_loadldb: Skipping ignored signature ${raw}`);
        return false;
      }
      this.logicalTexts ??= new LogicalTextCache(ctx.functionalityLevel);
      const parsed = parseLogicalLine(fields, ctx.functionalityLevel, this.logicalTexts);
      if ('skipped' in parsed) {
        if (ctx.logger.debugEnabled) for (const message of targetDescriptionSkipMessages(parsed, raw)) ctx.logger.debug(message);
        return false;
      }
      let name: string;
      try {
        name = ctx.name(signatureName(raw));
      } catch (error) {
        throw (error as SignatureError).because("cli_loadldb: Can't allocate memory for virname in lsig table");
      }
      this.addLogical(parsed, name);
    } catch (error) {
      return fail(ctx, error, null);
    }
    this.signatureCount++;
    return true;
  }

  private addLogical(line: LogicalSignatureLine, name: string): void {
    const program = this.target(line.description.target);
    const signature = program.nextLogicalIndex;
    const macros: (MacroLink | undefined)[] = [];
    const names: PatternNames = { raw: line.name, display: null };
    for (let index = 0; index < line.subsignatures.length; index++) {
      try {
        this.addSubsignature(program, signature, index, line.subsignatures[index]!, names, macros);
      } catch (error) {
        throw inContext(error, `cli_loadldb: failed to parse subsignature ${index} in ${line.name}`);
      }
    }
    program.addLogical({
      name,
      description: line.description,
      descriptionKey: line.descriptionText,
      expression: line.logic.root,
      expressionKey: line.logicText,
      subsignatureCount: line.subsignatures.length,
      macros: macros.length > 0 ? macros : [],
    });
  }

  /** Adds subsignature `index` of logical signature `signature`; a macro is recorded in `macros`. */
  private addSubsignature(
    program: TargetProgramBuilder,
    signature: number,
    index: number,
    text: string,
    names: PatternNames,
    macros: (MacroLink | undefined)[],
  ): void {
    const form = classifySubsignature(text, names.raw);
    switch (form.kind) {
      case 'macro':
        // ClamAV links a macro to the subsignature before it; a leading macro never counts.
        if (index > 0) macros[index - 1] = form;
        program.countMacroPlaceholder();
        break;
      case 'regex':
        program.addRegex(signature, index, parseRegexSubsignature(text, index, program.target));
        break;
      case 'byte-compare':
        program.addByteCompare(
          signature,
          index,
          withContext(`Problem adding byte compare subsignature: ${text}`, () => parseByteCompare(text)),
        );
        break;
      case 'image-fuzzy-hash':
        // Image fuzzy hashes are not computed by ClamTS: such subsignatures never match.
        break;
      case 'content': {
        const owner = { action: PatternAction.Subsignature, owner: signature, subsignature: index };
        if (!form.modifiers) {
          program.addPattern(form.hex, PLAIN_PART, form.offset, owner, names);
          break;
        }
        for (const { hex, options } of applyModifiers(form.hex, form.modifiers, names.raw)) {
          program.addPattern(hex, options, form.offset, owner, names);
        }
        break;
      }
    }
  }

  /**
   * Adds the body pattern of an .ftm line of magic type 1 (or of ClamAV's built-in list, which
   * ClamAV adds after all databases when no .ftm was loaded). It never detects; ClamAV keeps it
   * in the generic target's automaton, where it affects how the other patterns are matched.
   * Throws SignatureError with ClamAV's messages when ClamAV refuses the pattern (the .ftm
   * loader then reports the line).
   */
  addFileTypePattern(hex: string, offset: string, name: string, rule: FileTypeRule): void {
    const program = this.target(0);
    const owner = { action: PatternAction.FileType, owner: program.addFileType(rule), subsignature: 0 };
    program.addPattern(hex, PLAIN_PART, offset, owner, { raw: name, display: null });
  }

  /** Adds a .cdb line; false when ClamAV skips it. */
  addCdb(line: string, ctx: SignatureContext): boolean {
    if (line.startsWith('#')) return false;
    let result;
    try {
      const firstField = line.split(':', 1)[0]!;
      result = parseCdbLine(
        line,
        ctx.functionalityLevel,
        (raw) => ctx.name(signatureName(raw)),
        (name) => ctx.ignored(name, firstField),
      );
    } catch (error) {
      return fail(ctx, error, null);
    }
    if (result === 'skipped') return false;
    this.containerSignatures.unshift(result);
    this.signatureCount++;
    return true;
  }

  /**
   * Builds the detector. Compiles the PCRE subsignatures (target by target, like ClamAV's engine
   * compilation) as DCONF's PCRE switches say; a regex PCRE refuses is logged and reported as
   * ClamError('EMALFDB').
   */
  build(logger: Logger = silentLogger, pcreSwitches: PcreSwitches = DEFAULT_DCONF.pcre): BodyDetector {
    this.logicalTexts = undefined;
    const limits = this.options.pcreLimits ?? PCRE_DEFAULT_LIMITS;
    const programs = Array.from({ length: TARGET_TYPES.length }, (_, target) => {
      const builder = this.targets[target];
      let program: TargetProgram | undefined;
      try {
        program = builder?.build(limits, pcreSwitches, logger);
      } catch (error) {
        if (!(error instanceof SignatureError)) throw error;
        log(logger, error);
        throw new ClamError('EMALFDB');
      }
      if (logger.debugEnabled) logger.debug(builder ? builder.summary() : emptyMatcherSummary(target));
      return program;
    });
    this.reportNames.freeze();
    return new BodyDetector(programs, this.reportNames, this.containerSignatures, {
      pcreMaxFileSize: this.options.pcreMaxFileSize ?? DEFAULT_PCRE_MAX_FILESIZE,
      pcreLimits: limits,
    });
  }
}

function log(logger: Logger, error: SignatureError): void {
  for (const { level, text } of error.messages) {
    if (level === 'error') logger.error(text);
    else logger.warning(text);
  }
}

function debug(ctx: SignatureContext, message: () => string): void {
  if (ctx.logger.debugEnabled) ctx.logger.debug(message());
}

/**
 * Logs a refused line the way ClamAV does and throws the matching ClamError. `code` forces the
 * error code (the .ndb loader reports every failure as a malformed database).
 */
function fail(ctx: SignatureContext, error: unknown, code: 'EMALFDB' | null): never {
  if (!(error instanceof SignatureError)) throw error;
  log(ctx.logger, error);
  ctx.logger.error(`Problem parsing database at line ${ctx.line}`);
  throw new ClamError(code ?? error.code, { path: ctx.path, line: ctx.line });
}
