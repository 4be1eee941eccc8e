/**
 * The shape of one entry of the option schema.
 *
 * ClamAV keeps a single table of options shared by every tool: config-file directives
 * ("MaxThreads"), their command-line spellings ("--max-threads") and options that exist on the
 * command line only. ClamTS keeps the same single table (see `schema/`), so that clamd, clamdscan,
 * clamconf, freshclam and the command-line parsers all read one list.
 */

/** Every ClamAV program that reads the option table. */
export type ClamTool =
  | 'clamd'
  | 'freshclam'
  | 'milter'
  | 'clamscan'
  | 'clamdscan'
  | 'sigtool'
  | 'clamconf'
  | 'clamdtop'
  | 'clambc'
  | 'clamonacc';

/**
 * The programs that own a configuration file. clamdscan, clamdtop and clamonacc read clamd.conf,
 * so they parse it as 'clamd'.
 */
export type ConfigTool = 'clamd' | 'freshclam' | 'milter';

/**
 * How an argument is read:
 * - `bool`: yes/no, true/false or 1/0, in any letter case;
 * - `number`: decimal digits only, stored as a C `int` (so large values wrap around like atoi());
 * - `size`: digits with an optional K, M or G suffix (either case; ×1024, ×1024², ×1024³), a
 *   leading 0 meaning octal; 0 stands for "no limit" and is stored as 2^63-1. ClamAV's SIZE and
 *   SIZE64 kinds behave identically on 64-bit platforms, so they are one kind here;
 * - `string`: the text as written (see the parser for quoting).
 */
export type OptionType = 'bool' | 'number' | 'size' | 'string';

/** A value as a caller sees it: `string` options give strings, `bool` booleans, the rest numbers. */
export type OptionValue = string | number | boolean;

export interface OptionSpec {
  /** Config-file name ("MaxThreads"); absent for options that exist on the command line only. */
  readonly name?: string;
  /** Long command-line spelling without dashes ("max-threads"). Config files accept it too. */
  readonly longopt?: string;
  /** One-letter command-line spelling. */
  readonly shortopt?: string;
  readonly type: OptionType;
  /**
   * The built-in value; `null` when the option has none, which ClamAV reports as "disabled".
   * Numbers and sizes are plain byte or unit counts.
   */
  readonly default: string | number | boolean | null;
  /** The programs that accept this option (in their config file, on their command line or both). */
  readonly tools: readonly ClamTool[];
  /** Every occurrence adds a value (TCPAddr, ExcludePath, DatabaseMirror…). */
  readonly repeatable: boolean;
  /** Still recognised but ignored: a config file naming it gets a warning, not an error. */
  readonly deprecated: boolean;
  /** Left out of generated sample files (developer options). */
  readonly hidden: boolean;
  /** On the command line the argument may not be omitted even though there is a default. */
  readonly argRequired: boolean;
  /** For string options with a fixed vocabulary: the accepted words (matched in any case). */
  readonly choices?: readonly string[];
  /** Sample values shown (commented out) in generated config files, one line each. */
  readonly examples: readonly string[];
  /** What the option does; lines are separated by "\n". */
  readonly description: string;
}

/** The fields an entry of the schema spells out; `defineOptions` fills in the rest. */
export type OptionInit = Pick<OptionSpec, 'type' | 'tools'> &
  Partial<Omit<OptionSpec, 'type' | 'tools'>>;

export function defineOptions(entries: readonly OptionInit[]): readonly OptionSpec[] {
  return entries.map((entry) =>
    Object.freeze({
      default: null,
      repeatable: false,
      deprecated: false,
      hidden: false,
      argRequired: false,
      examples: [],
      description: '',
      ...entry,
    }),
  );
}
