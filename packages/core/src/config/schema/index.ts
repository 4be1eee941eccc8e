import type { ClamTool, OptionSpec } from '../types.js';
import { CERTIFICATE_OPTIONS } from './certificates.js';
import { COMMAND_LINE_OPTIONS } from './command-line.js';
import { DAEMON_OPTIONS } from './daemon.js';
import { DEVELOPER_OPTIONS } from './developer.js';
import { FRESHCLAM_OPTIONS } from './freshclam.js';
import { LEGACY_OPTIONS } from './legacy.js';
import { MILTER_OPTIONS } from './milter.js';
import { ON_ACCESS_OPTIONS } from './on-access.js';
import { SCAN_OPTIONS } from './scanning.js';

/**
 * Every option of every ClamAV 1.4 tool. The order is ClamAV's and it is visible: clamconf lists
 * a tool's options in this order and generated sample files follow it. A name can appear more
 * than once for different tools (ReadTimeout means one thing to clamd, another to clamav-milter).
 */
export const CONFIG_SCHEMA: readonly OptionSpec[] = [
  ...COMMAND_LINE_OPTIONS,
  ...DAEMON_OPTIONS,
  ...SCAN_OPTIONS,
  ...ON_ACCESS_OPTIONS,
  ...DEVELOPER_OPTIONS,
  ...FRESHCLAM_OPTIONS,
  ...CERTIFICATE_OPTIONS,
  ...LEGACY_OPTIONS,
  ...MILTER_OPTIONS,
];

interface ToolOptions {
  readonly specs: readonly OptionSpec[];
  readonly byKey: ReadonlyMap<string, OptionSpec>;
}

const toolOptionsCache = new Map<ClamTool, ToolOptions>();

function toolOptions(tool: ClamTool): ToolOptions {
  let entry = toolOptionsCache.get(tool);
  if (!entry) {
    const specs = CONFIG_SCHEMA.filter((spec) => spec.tools.includes(tool));
    const byKey = new Map<string, OptionSpec>();
    // ClamAV takes the first of the tool's options whose name or long spelling matches.
    for (const spec of specs) {
      for (const key of [spec.name, spec.longopt]) {
        if (key !== undefined && !byKey.has(key)) byKey.set(key, spec);
      }
    }
    entry = { specs, byKey };
    toolOptionsCache.set(tool, entry);
  }
  return entry;
}

/** The options a tool knows, in schema order (deprecated ones included). */
export function optionsFor(tool: ClamTool): readonly OptionSpec[] {
  return toolOptions(tool).specs;
}

/**
 * The tool's option called `key`: its config-file name or its long command-line spelling,
 * compared case-sensitively as ClamAV does.
 */
export function findOption(tool: ClamTool, key: string): OptionSpec | undefined {
  return toolOptions(tool).byKey.get(key);
}
