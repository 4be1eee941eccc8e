/**
 * Command-line parsing with the behaviour of ClamAV's tools (getopt_long with ClamAV's option
 * types): long options take `--name=value` or `--name value`, unique prefixes of long names are
 * accepted, short options can be grouped (`-ri`) or take a glued value (`-dFILE`), boolean options
 * take an optional `=yes/no`, operands and options may be mixed, and `--` ends the options.
 */
export type OptionType = 'bool' | 'string' | 'number' | 'size';

export interface OptionSpec {
  /** Long name without dashes, e.g. `max-filesize`. */
  readonly long: string;
  readonly short?: string;
  readonly type: OptionType;
  /** Every occurrence is kept (e.g. `--database`, `--exclude`); otherwise the last one wins. */
  readonly repeatable?: boolean;
}

export type OptionValue = boolean | string | number;

export class ParsedCommandLine {
  constructor(
    private readonly values: ReadonlyMap<string, readonly OptionValue[]>,
    readonly operands: readonly string[],
  ) {}

  has(long: string): boolean {
    return this.values.has(long);
  }

  bool(long: string, fallback = false): boolean {
    const value = this.last(long);
    return value === undefined ? fallback : value === true;
  }

  string(long: string): string | undefined {
    const value = this.last(long);
    return typeof value === 'string' ? value : undefined;
  }

  number(long: string): number | undefined {
    const value = this.last(long);
    return typeof value === 'number' ? value : undefined;
  }

  strings(long: string): string[] {
    return (this.values.get(long) ?? []).filter((v): v is string => typeof v === 'string');
  }

  private last(long: string): OptionValue | undefined {
    const all = this.values.get(long);
    return all?.[all.length - 1];
  }
}

/** Parsing failed; `lines` are the complete messages to print on stderr, in order. */
export class CommandLineError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

const BOOL_PATTERN = /^(yes|true|1|no|false|0)$/i;
const NUMBER_PATTERN = /^[0-9]+$/;
const SIZE_PATTERN = /^([0-9]+)([KMG]?)$/i;
const SIZE_MULTIPLIER: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

export function parseCommandLine(tool: string, argv: readonly string[], specs: readonly OptionSpec[]): ParsedCommandLine {
  const values = new Map<string, OptionValue[]>();
  const operands: string[] = [];
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));

  const display = (spec: OptionSpec) => `--${spec.long}${spec.short ? ` (-${spec.short})` : ''}`;
  const store = (spec: OptionSpec, raw: string | undefined) => {
    const value = convert(spec, raw);
    const list = values.get(spec.long);
    if (list && spec.repeatable) list.push(value);
    else values.set(spec.long, [value]);
  };
  const convert = (spec: OptionSpec, raw: string | undefined): OptionValue => {
    const bad = () => new CommandLineError([`ERROR: Incorrect argument format for option ${display(spec)}`]);
    switch (spec.type) {
      case 'bool':
        if (raw === undefined) return true;
        if (!BOOL_PATTERN.test(raw)) throw bad();
        return /^(yes|true|1)$/i.test(raw);
      case 'string':
        if (!raw) throw new CommandLineError([`ERROR: Option ${display(spec)} requires a non-empty string argument`]);
        return raw;
      case 'number':
        if (!NUMBER_PATTERN.test(raw ?? '')) throw bad();
        return Number(raw);
      case 'size': {
        const match = SIZE_PATTERN.exec(raw ?? '');
        if (!match) throw bad();
        return Number(match[1]) * SIZE_MULTIPLIER[match[2]!.toLowerCase()]!;
      }
    }
  };
  const missingArgument = (getoptLine: string) =>
    new CommandLineError([getoptLine, 'ERROR: Incomplete option passed (missing argument)']);
  const unknown = (getoptLine: string) => new CommandLineError([getoptLine, 'ERROR: Unknown option passed']);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = findLong(specs, name, tool);
      if (!spec) throw unknown(`${tool}: unrecognized option \`${arg}'`);
      if (eq >= 0) {
        store(spec, arg.slice(eq + 1));
      } else if (spec.type === 'bool') {
        store(spec, undefined);
      } else {
        if (i + 1 >= argv.length) throw missingArgument(`${tool}: option \`${arg}' requires an argument`);
        store(spec, argv[++i]);
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const spec = byShort.get(arg[j]!);
        if (!spec) throw unknown(`${tool}: illegal option -- ${arg[j]}`);
        if (spec.type === 'bool') {
          store(spec, undefined);
          continue;
        }
        if (j + 1 < arg.length) store(spec, arg.slice(j + 1));
        else if (i + 1 < argv.length) store(spec, argv[++i]);
        else throw missingArgument(`${tool}: option requires an argument -- ${arg[j]}`);
        break;
      }
    } else {
      operands.push(arg);
    }
  }
  return new ParsedCommandLine(values, operands);
}

/** An exact long name, or else the only option that starts with `name` (getopt_long's rule). */
function findLong(specs: readonly OptionSpec[], name: string, tool: string): OptionSpec | undefined {
  const exact = specs.find((s) => s.long === name);
  if (exact) return exact;
  const candidates = specs.filter((s) => s.long.startsWith(name));
  if (candidates.length > 1 && name.length > 0) {
    throw new CommandLineError([`${tool}: option \`--${name}' is ambiguous`, 'ERROR: Unknown option passed']);
  }
  return name.length > 0 ? candidates[0] : undefined;
}
