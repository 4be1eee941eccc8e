import { readFile } from 'node:fs/promises';
import { ClamError } from '../errors.js';
import { convertArgument, isWellFormed, SIZE_LIMIT } from './arguments.js';
import { Config, initialStates } from './config.js';
import { findOption } from './schema/index.js';
import type { ConfigTool } from './types.js';

export interface ParseOptions {
  /**
   * clamconf's mode: deprecated options are recorded as set (so they can be reported as
   * DEPRECATED) instead of being skipped with a warning.
   */
  readonly keepDeprecated?: boolean;
  /**
   * Receives each warning, worded as ClamAV words it but without the "WARNING: " prefix the tools
   * put in front. Parsing goes on after a warning.
   */
  readonly onWarning?: (message: string) => void;
}

/** ClamAV reads config files with fgets() into a 1024-byte buffer: 1023 bytes and a NUL. */
const LINE_BUFFER_BYTES = 1023;

/**
 * Parses a configuration the way ClamAV 1.4 does, quirks included:
 * - a line is `Name value`, split at the first space or tab; leading blanks are skipped and
 *   trailing spaces, tabs and the newline are dropped (a carriage return stays in the value);
 * - lines of two bytes or less (newline included) and lines starting with `#` are skipped, so
 *   there are no trailing comments: `LogTime yes # note` is an invalid bool;
 * - a value starting with `"` runs to the last `"` of the line and may hold blanks;
 * - names are case-sensitive and may be the long command-line spelling ("log-rotate");
 * - a non-repeatable option given twice keeps its first value;
 * - any line starting with `Example` rejects the whole file.
 *
 * Errors throw a ClamError('ECONFIG') whose message is ClamAV's (without "ERROR: ") and whose
 * `line` is the offending line; the first error stops the parse, as in ClamAV.
 *
 * `input` is the file's bytes, or text that is taken as UTF-8. The work is done on bytes (one
 * char per byte) so that lengths and line splitting are C's; values are decoded as UTF-8.
 */
export function parseConfig(
  input: string | Uint8Array,
  tool: ConfigTool,
  path: string,
  options: ParseOptions = {},
): Config {
  const states = initialStates(tool);
  for (const { number, content } of readLines(toByteString(input))) {
    const line = skipBlanks(content);
    if (line.length <= 2 || line.startsWith('#')) continue;
    const error = (message: string) => new ClamError('ECONFIG', { path, line: number, message });
    if (line.startsWith('Example')) throw error(`Please edit the example config file ${path}`);

    const split = line.search(/[ \t]/);
    if (split === -1) throw error(`Missing argument for option at ${path}:${number}`);
    const name = fromByteString(line.slice(0, split));
    let arg = skipBlanks(line.slice(split + 1)).replace(/[ \t\n]+$/, '');
    if (arg === '') throw error(`Missing argument for option at ${path}:${number}`);
    if (arg.startsWith('"')) {
      const close = arg.lastIndexOf('"');
      if (close === 0) {
        throw error(`Missing closing parenthesis in option ${name} at ${path}:${number}`);
      }
      arg = arg.slice(1, close);
      if (arg === '') throw error(`Empty argument for option ${name} at ${path}:${number}`);
    }

    const spec = findOption(tool, name);
    const state = spec && states.get(spec);
    if (!state) throw error(`Parse error at ${path}:${number}: Unknown option ${name}`);

    if (state.spec.deprecated) {
      // Deprecated options are neither validated nor used.
      if (options.keepDeprecated) {
        state.record({ text: 'foo', number: 1n });
      } else {
        // ClamAV prints the config-file name, which command-line-only options lack.
        const shown = state.spec.name ?? '(null)';
        options.onWarning?.(`Ignoring deprecated option ${shown} at ${path}:${number}`);
      }
      continue;
    }

    const value = fromByteString(arg);
    if (!isWellFormed(state.spec, value)) {
      throw error(`Incorrect argument format for option ${name}`);
    }
    const converted = convertArgument(state.spec, value);
    if (!converted.ok) throw error(`Can't parse numerical argument for option ${name}`);
    if (converted.tooHigh) {
      options.onWarning?.(`Numerical value for option ${name} too high, resetting to ${SIZE_LIMIT}`);
    }
    state.record(converted.value);
  }
  return new Config(tool, path, states);
}

/**
 * Reads and parses a configuration file. A file that cannot be opened gives
 * ClamError('EOPEN', { path }): ClamAV prints nothing specific for it, only the tool's own
 * "Can't open/parse the config file …". A directory reads as an empty file, as it does with
 * ClamAV's fopen()/fgets().
 */
export async function loadConfigFile(
  path: string,
  tool: ConfigTool,
  options: ParseOptions = {},
): Promise<Config> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EISDIR') throw new ClamError('EOPEN', { path });
    bytes = new Uint8Array(0);
  }
  return parseConfig(bytes, tool, path, options);
}

/**
 * Splits the text into the lines ClamAV's fgets() loop sees: up to and including a newline, or
 * 1023 bytes when no newline comes sooner. Each counts for the line numbers; a NUL byte ends the
 * line's content, as it ends a C string.
 */
function* readLines(text: string): Generator<{ number: number; content: string }> {
  let number = 0;
  for (let pos = 0; pos < text.length; ) {
    const newline = text.indexOf('\n', pos);
    const end = Math.min(newline === -1 ? text.length : newline + 1, pos + LINE_BUFFER_BYTES);
    const line = text.slice(pos, end);
    const nul = line.indexOf('\0');
    yield { number: ++number, content: nul === -1 ? line : line.slice(0, nul) };
    pos = end;
  }
}

/** Skips leading spaces and tabs, but like ClamAV never the last character. */
function skipBlanks(s: string): string {
  let i = 0;
  while (i < s.length - 1 && (s[i] === ' ' || s[i] === '\t')) i++;
  return s.slice(i);
}

function toByteString(input: string | Uint8Array): string {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function fromByteString(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}
