import { findOption, type Config, type OptionSpec } from '@clamts/core';
import type { ParsedCommandLine } from '@clamts/core';

/**
 * clamd's options: clamd.conf, overridden by the command line. ClamAV parses the command line
 * first and then the config file into the same table, where a value already set is kept (repeatable
 * options collect both); so `clamd --pid=/x` beats `PidFile /y`, and `--datadir` beats
 * DatabaseDirectory.
 */
export class ClamdSettings {
  constructor(
    private readonly commandLine: ParsedCommandLine,
    readonly config: Config,
  ) {}

  bool(name: string): boolean {
    const given = this.fromCommandLine(name);
    return given ? this.commandLine.bool(given) : this.config.getBool(name);
  }

  /** A number or size option; -1 when unset without a default. */
  number(name: string): number {
    const given = this.fromCommandLine(name);
    return given ? this.commandLine.number(given) : this.config.getNumber(name);
  }

  string(name: string): string | undefined {
    const given = this.fromCommandLine(name);
    return given ? this.commandLine.string(given) : this.config.getString(name);
  }

  strings(name: string): string[] {
    const given = this.fromCommandLine(name);
    const fromFile = this.config.getStrings(name);
    return given ? [...this.commandLine.strings(given), ...(this.config.isSet(name) ? fromFile : [])] : fromFile;
  }

  /** Set on the command line or in the file (ClamAV's `active`). */
  isSet(name: string): boolean {
    return this.fromCommandLine(name) !== undefined || this.config.isSet(name);
  }

  /** ClamAV's `enabled`: a string value, or a number other than 0 and -1. */
  isEnabled(name: string): boolean {
    const given = this.fromCommandLine(name);
    if (!given) return this.config.isEnabled(name);
    const spec = findOption('clamd', name) as OptionSpec;
    if (spec.type === 'string') return this.commandLine.string(given) !== undefined;
    if (spec.type === 'bool') return this.commandLine.bool(given);
    const value = this.commandLine.number(given);
    return value !== 0 && value !== -1;
  }

  /** The long option name when the command line gave this option. */
  private fromCommandLine(name: string): string | undefined {
    const longopt = findOption('clamd', name)?.longopt;
    return longopt !== undefined && this.commandLine.has(longopt) ? longopt : undefined;
  }
}
