import type { StoredArgument } from './arguments.js';
import { defaultArgument, type Config, type ConfigEntry } from './config.js';

export interface RenderOptions {
  /** `clamconf -n`: leave out options whose first value equals the default. */
  readonly nonDefault?: boolean;
}

/**
 * The option listing of one config file in `clamconf` output: one line per option the tool knows,
 * in schema order, such as `MaxThreads = "12"`, `TCPAddr = "a", "b"`, `LogClean disabled` or
 * `*** ScanOnAccess is DEPRECATED ***`. Command-line-only options are not listed, and deprecated
 * ones only when set, which needs a Config parsed with `keepDeprecated` (as clamconf does).
 * Every line ends with "\n".
 */
export function renderConfigOptions(config: Config, options: RenderOptions = {}): string {
  let out = '';
  for (const entry of config.entries()) {
    const line = renderEntry(entry, options.nonDefault ?? false);
    if (line !== undefined) out += `${line}\n`;
  }
  return out;
}

function renderEntry(entry: ConfigEntry, nonDefault: boolean): string | undefined {
  const { spec } = entry;
  if (spec.name === undefined) return undefined;
  if (spec.deprecated) return entry.isSet ? `*** ${spec.name} is DEPRECATED ***` : undefined;
  if (nonDefault && isDefault(entry)) return undefined;
  if (!entry.enabled) return `${spec.name} disabled`;
  if (spec.type === 'bool') return `${spec.name} = "yes"`;
  const shown = (arg: StoredArgument) => `"${spec.type === 'string' ? arg.text : arg.number}"`;
  return `${spec.name} = ${entry.args.map(shown).join(', ')}`;
}

/** clamconf compares the first value only, both its string and its number. */
function isDefault(entry: ConfigEntry): boolean {
  const first = entry.args[0] as StoredArgument;
  const builtIn = defaultArgument(entry.spec);
  return first.number === builtIn.number && first.text === builtIn.text;
}
