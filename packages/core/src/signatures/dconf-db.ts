import { ClamError } from '../errors.js';
import { DCONF_MODULES, dconfModuleName, type DconfModule } from '../engine/dconf.js';
import { atoi, scanHex, strtokField } from '../util/c-numbers.js';
import type { DatabaseContext } from './database-context.js';
import type { DatabaseInput } from './database-input.js';
import { forEachLine } from './lines.js';

/**
 * `.cfg` databases, read as ClamAV's cli_dconf_load reads them: a line `MODULE:0xWORD[:min[:max]]`
 * replaces that module's whole word when ClamAV's functionality level is within min–max. Module
 * names are matched case-sensitively at the start of the line; any other line (comments, unknown
 * modules, blank lines) is passed over. A known module whose word does not scan as `0x` and hex
 * digits stops the load: the file is malformed. Lines set nothing else and count as no signature.
 */
export function loadDconfDatabase(input: DatabaseInput, ctx: DatabaseContext): number {
  const { engine, logger, path } = ctx;
  forEachLine(
    input.whole(),
    (line, lineNumber) => {
      const module = moduleOf(line);
      if (!module || !withinLevel(line, engine.functionalityLevel)) return;
      const word = wordOf(line.slice(dconfModuleName(module).length + 1));
      if (word === undefined) {
        logger.error(`Problem parsing configuration file at line ${lineNumber}`);
        throw new ClamError('EMALFDB', { path, line: lineNumber });
      }
      engine.dconfWords[module] = word;
    },
    ctx.lineBuffer,
  );
  return 0;
}

function moduleOf(line: string): DconfModule | undefined {
  return DCONF_MODULES.find((module) => line.startsWith(`${dconfModuleName(module)}:`));
}

/** sscanf("0x%x"): a literal `0x` (no blanks before it), then what %x accepts. */
function wordOf(text: string): number | undefined {
  if (!text.startsWith('0x')) return undefined;
  return scanHex(text, 2)?.value;
}

/**
 * ClamAV's chkflevel on fields 2 (min) and 3 (max): a field that is there must start with a
 * digit and admit the level; a missing or empty one admits any.
 */
function withinLevel(line: string, level: number): boolean {
  const min = strtokField(line, 2, ':');
  if (min === undefined) return true;
  if (!startsWithDigit(min) || atoi(min) >>> 0 > level) return false;
  const max = strtokField(line, 3, ':');
  return max === undefined || (startsWithDigit(max) && atoi(max) >>> 0 >= level);
}

function startsWithDigit(text: string): boolean {
  return text.charCodeAt(0) >= 0x30 && text.charCodeAt(0) <= 0x39;
}

