import type { StoredArgument } from './arguments.js';
import { findOption, optionsFor } from './schema/index.js';
import type { ConfigTool, OptionSpec, OptionType, OptionValue } from './types.js';

/**
 * One option of a parsed configuration, in ClamAV's terms. clamconf's listing and the daemons'
 * decisions depend on exactly these three facts, so they are kept as ClamAV keeps them.
 */
export interface ConfigEntry {
  readonly spec: OptionSpec;
  /** The file set this option (ClamAV's "active"). */
  readonly isSet: boolean;
  /**
   * ClamAV's "enabled": the first value is a string, or a number other than 0 and -1. So
   * `TCPSocket 0` or `LogTime no` are set but not enabled; an option with a default can be
   * enabled without being set.
   */
  readonly enabled: boolean;
  /**
   * The values, first to last. Before the file sets the option there is one: the default.
   * For repeatable options each occurrence adds one (the first replaces the default).
   */
  readonly args: readonly StoredArgument[];
}

/** The built-in value of an option in stored form. */
export function defaultArgument(spec: OptionSpec): StoredArgument {
  const value = spec.default;
  if (typeof value === 'string') return { text: value, number: -1n };
  if (typeof value === 'boolean') return { text: undefined, number: value ? 1n : 0n };
  if (typeof value === 'number') return { text: undefined, number: BigInt(value) };
  return { text: undefined, number: -1n };
}

/** The mutable record the parser fills in; callers see it through `ConfigEntry`. */
export class OptionState implements ConfigEntry {
  readonly spec: OptionSpec;
  isSet = false;
  readonly args: StoredArgument[];

  constructor(spec: OptionSpec) {
    this.spec = spec;
    this.args = [defaultArgument(spec)];
  }

  get enabled(): boolean {
    const first = this.args[0] as StoredArgument;
    return first.text !== undefined || (first.number !== 0n && first.number !== -1n);
  }

  /**
   * Records one occurrence. A repeatable option collects every value; any other option keeps the
   * first one the file gives and silently ignores later ones, as ClamAV does.
   */
  record(value: StoredArgument): void {
    if (this.isSet) {
      if (this.spec.repeatable) this.args.push(value);
      return;
    }
    const first = this.args[0] as StoredArgument;
    // ClamAV replaces the default's string only when the new value has one.
    this.args[0] = { text: value.text ?? first.text, number: value.number };
    this.isSet = true;
  }
}

/** Builds the empty state (every option at its default) of a tool's configuration. */
export function initialStates(tool: ConfigTool): Map<OptionSpec, OptionState> {
  return new Map(optionsFor(tool).map((spec) => [spec, new OptionState(spec)]));
}

function toValue(type: OptionType, arg: StoredArgument): OptionValue | undefined {
  if (type === 'string') return arg.text;
  if (arg.number === -1n) return undefined;
  return type === 'bool' ? arg.number !== 0n : Number(arg.number);
}

/**
 * A parsed clamd.conf, freshclam.conf or clamav-milter.conf: every option the tool knows, each
 * with its value from the file or its default.
 *
 * Options are named by their config-file name or long command-line spelling, like ClamAV's
 * optget(). Asking for a name the tool does not know is a programming error and throws.
 */
export class Config {
  readonly tool: ConfigTool;
  /** The path the configuration was read from, as given. */
  readonly path: string;
  readonly #states: ReadonlyMap<OptionSpec, OptionState>;

  constructor(tool: ConfigTool, path: string, states: ReadonlyMap<OptionSpec, OptionState>) {
    this.tool = tool;
    this.path = path;
    this.#states = states;
  }

  /** Whether the tool has an option of this name. */
  has(name: string): boolean {
    return findOption(this.tool, name) !== undefined;
  }

  /** The file set this option. */
  isSet(name: string): boolean {
    return this.#entry(name).isSet;
  }

  /** ClamAV's "enabled" (see `ConfigEntry.enabled`). */
  isEnabled(name: string): boolean {
    return this.#entry(name).enabled;
  }

  /** The option's (first) value, or undefined when it has none. */
  get(name: string): OptionValue | undefined {
    const entry = this.#entry(name);
    return toValue(entry.spec.type, entry.args[0] as StoredArgument);
  }

  /** Every value of the option, for repeatable ones; empty when it has none. */
  getAll(name: string): OptionValue[] {
    const entry = this.#entry(name);
    const values = entry.args.map((arg) => toValue(entry.spec.type, arg));
    return values.filter((value): value is OptionValue => value !== undefined);
  }

  /** A bool option: true when it is on. */
  getBool(name: string): boolean {
    return this.#typed(name, ['bool']).enabled;
  }

  /**
   * A number or size option's value, or -1 when it has none. Sizes given as 0 ("no limit") read
   * as 2^63-1.
   */
  getNumber(name: string): number {
    return Number((this.#typed(name, ['number', 'size']).args[0] as StoredArgument).number);
  }

  /** Every value of a repeatable number option (OnAccessExcludeUID). */
  getNumbers(name: string): number[] {
    this.#typed(name, ['number', 'size']);
    return this.getAll(name) as number[];
  }

  /** A string option's value, or undefined when it has none. */
  getString(name: string): string | undefined {
    return (this.#typed(name, ['string']).args[0] as StoredArgument).text;
  }

  /** Every value of a repeatable string option (TCPAddr, ExcludePath, DatabaseMirror…). */
  getStrings(name: string): string[] {
    this.#typed(name, ['string']);
    return this.getAll(name) as string[];
  }

  /** Every option of the tool, in schema order (deprecated ones included). */
  entries(): ConfigEntry[] {
    return [...this.#states.values()];
  }

  #entry(name: string): ConfigEntry {
    const spec = findOption(this.tool, name);
    const entry = spec && this.#states.get(spec);
    if (!entry) throw new Error(`${this.tool} has no option called ${name}`);
    return entry;
  }

  #typed(name: string, types: readonly OptionType[]): ConfigEntry {
    const entry = this.#entry(name);
    if (!types.includes(entry.spec.type)) {
      throw new TypeError(`${name} is a ${entry.spec.type} option`);
    }
    return entry;
  }
}
