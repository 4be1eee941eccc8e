import { convertArgument, isWellFormed } from './arguments.js';
import { optionsFor } from './schema/index.js';
import type { ClamTool, OptionSpec, OptionValue } from './types.js';

/**
 * Command-line parsing with the behaviour of ClamAV's tools (its getopt_long over the shared option
 * table): long options take `--name=value` or `--name value`, unique prefixes of long names are
 * accepted, short options can be grouped (`-ri`) or take a glued value (`-dFILE`), options whose
 * argument may be omitted take it only after `=`, operands and options may be mixed, and `--` ends
 * the options. The options and their defaults come from the one schema in `@clamts/core`.
 */
export class ParsedCommandLine {
  constructor(
    private readonly specs: ReadonlyMap<string, OptionSpec>,
    private readonly values: ReadonlyMap<string, readonly OptionValue[]>,
    readonly operands: readonly string[],
    /** `WARNING: Ignoring …` lines for accepted-but-ignored options, in argument order. */
    readonly warnings: readonly string[] = [],
  ) {}

  /** Given on the command line (as opposed to defaulted). */
  has(long: string): boolean {
    return this.values.has(long);
  }

  bool(long: string): boolean {
    return this.value(long) === true;
  }

  string(long: string): string | undefined {
    const value = this.value(long);
    return typeof value === 'string' ? value : undefined;
  }

  number(long: string): number {
    const value = this.value(long);
    return typeof value === 'number' ? value : -1;
  }

  /** Every value given for a repeatable option (none: an empty list, whatever the default). */
  strings(long: string): string[] {
    return (this.values.get(long) ?? []).filter((v): v is string => typeof v === 'string');
  }

  /** The last value given, or the schema's default. */
  private value(long: string): OptionValue | undefined {
    const given = this.values.get(long);
    if (given) return given[given.length - 1];
    const spec = this.specs.get(long);
    if (!spec) throw new Error(`unknown option --${long}`);
    return spec.default ?? undefined;
  }
}

/** Parsing failed; `lines` are the complete messages to print on stderr, in order. */
export class CommandLineError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

/** May the argument be left out (`--opt` alone)? ClamAV's rule for optional_argument. */
function argumentOptional(spec: OptionSpec): boolean {
  return !spec.argRequired && (spec.type === 'bool' || typeof spec.default === 'string');
}

/**
 * Parses `argv` for `tool`. With `ignore`, the options of that other tool are accepted too but
 * only warned about (`WARNING: Ignoring unsupported option --x`), as clamdscan does with
 * clamscan's options; deprecated options are warned about the same way.
 */
export function parseCommandLine(tool: ClamTool, argv: readonly string[], ignore?: ClamTool): ParsedCommandLine {
  const own = optionsFor(tool).filter((spec) => spec.longopt !== undefined);
  const ignoredSpecs = ignore ? optionsFor(ignore).filter((spec) => spec.longopt !== undefined && !own.includes(spec)) : [];
  // As in ClamAV, the first entry with a given spelling is the one that counts.
  const byLong = new Map<string, OptionSpec>();
  const byShort = new Map<string, OptionSpec>();
  for (const spec of [...own, ...ignoredSpecs]) {
    if (!byLong.has(spec.longopt!)) byLong.set(spec.longopt!, spec);
    if (spec.shortopt && !byShort.has(spec.shortopt)) byShort.set(spec.shortopt, spec);
  }
  const ownSpecs = new Set(own);
  const values = new Map<string, OptionValue[]>();
  const operands: string[] = [];
  const warnings: string[] = [];

  const display = (spec: OptionSpec) => `--${spec.longopt}${spec.shortopt ? ` (-${spec.shortopt})` : ''}`;
  const store = (spec: OptionSpec, raw: string | undefined) => {
    if (!ownSpecs.has(spec) || spec.deprecated) {
      warnings.push(`WARNING: Ignoring ${spec.deprecated ? 'deprecated' : 'unsupported'} option ${display(spec)}`);
      return;
    }
    const value = convert(spec, raw);
    const list = values.get(spec.longopt!);
    if (list && spec.repeatable) list.push(value);
    else values.set(spec.longopt!, [value]);
  };
  const convert = (spec: OptionSpec, raw: string | undefined): OptionValue => {
    if (raw === undefined) return spec.type === 'bool' ? true : (spec.default as OptionValue);
    if (spec.type === 'string' && raw === '') {
      throw new CommandLineError([`ERROR: Option ${display(spec)} requires a non-empty string argument`]);
    }
    const conversion = isWellFormed(spec, raw) ? convertArgument(spec, raw) : { ok: false as const };
    if (!conversion.ok) throw new CommandLineError([`ERROR: Incorrect argument format for option ${display(spec)}`]);
    if (spec.type === 'string') return raw;
    if (spec.type === 'bool') return conversion.value.number === 1n;
    return Number(conversion.value.number);
  };
  const failure = (getoptLine: string, summary: string) => new CommandLineError([getoptLine, `ERROR: ${summary}`]);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = findLong(byLong, name, tool);
      if (!spec) throw failure(`${tool}: unrecognized option \`${arg}'`, 'Unknown option passed');
      if (eq >= 0) store(spec, arg.slice(eq + 1));
      else if (argumentOptional(spec)) store(spec, undefined);
      else if (i + 1 < argv.length) store(spec, argv[++i]);
      else throw failure(`${tool}: option \`${arg}' requires an argument`, 'Incomplete option passed (missing argument)');
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const spec = byShort.get(arg[j]!);
        if (!spec) throw failure(`${tool}: illegal option -- ${arg[j]}`, 'Unknown option passed');
        if (spec.type === 'bool') {
          store(spec, undefined);
          continue;
        }
        if (j + 1 < arg.length) store(spec, arg.slice(j + 1));
        else if (argumentOptional(spec)) store(spec, undefined);
        else if (i + 1 < argv.length) store(spec, argv[++i]);
        else throw failure(`${tool}: option requires an argument -- ${arg[j]}`, 'Incomplete option passed (missing argument)');
        break;
      }
    } else {
      operands.push(arg);
    }
  }
  return new ParsedCommandLine(byLong, values, operands, warnings);
}

/** An exact long name, or else the only option that starts with `name` (getopt_long's rule). */
function findLong(byLong: ReadonlyMap<string, OptionSpec>, name: string, tool: string): OptionSpec | undefined {
  if (name.length === 0) return undefined;
  const exact = byLong.get(name);
  if (exact) return exact;
  const candidates = [...byLong.values()].filter((s) => s.longopt!.startsWith(name));
  if (candidates.length > 1) {
    throw new CommandLineError([`${tool}: option \`--${name}' is ambiguous`, 'ERROR: Unknown option passed']);
  }
  return candidates[0];
}
