import { createHash } from 'node:crypto';
import { ClamError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { DATABASE_LINE_BUFFER, forEachLine } from './lines.js';

/**
 * Signatures dropped by name (`.ign`, `.ign2`). An entry is a name, optionally with the MD5 of
 * the whole database line it must come from (`Name:md5`); the old three-field `.ign` form
 * (`db:line:Name`) names the signature in its third field.
 */
export class IgnoreList {
  private readonly entries = new Map<string, Array<string | null>>();

  get size(): number {
    return this.entries.size;
  }

  add(name: string, lineMd5: string | null): void {
    const list = this.entries.get(name);
    if (list) list.push(lineMd5);
    else this.entries.set(name, [lineMd5]);
  }

  /**
   * Is the signature `rawName`, read from database line `line`, ignored? Names are compared as
   * ClamAV normalises them: without a trailing `.UNOFFICIAL` or `.{…}` clause, padded to three
   * characters.
   */
  ignores(rawName: string, line: string, logger: Logger): boolean {
    if (this.entries.size === 0) return false;
    const candidates = this.entries.get(normaliseName(rawName));
    if (!candidates) return false;
    let lineMd5: string | undefined;
    for (const expected of candidates) {
      if (expected !== null) {
        lineMd5 ??= createHash('md5').update(line, 'latin1').digest('hex');
        if (lineMd5 !== expected) continue;
      }
      if (logger.debugEnabled) logger.debug(`Ignoring signature ${normaliseName(rawName)}`);
      return true;
    }
    return false;
  }
}

function padName(name: string): string {
  return name.length < 3 ? name.padEnd(3, ' ') : name;
}

function normaliseName(name: string): string {
  if (name.length > 3 && name.endsWith('}')) {
    const clause = name.indexOf('.{');
    if (clause >= 0) return padName(name.slice(0, clause));
  } else if (name.length > 11 && name.endsWith('.UNOFFICIAL')) {
    return padName(name.slice(0, -11));
  }
  return padName(name);
}

/** Loads a `.ign`/`.ign2` file into `list`. */
export function loadIgnoreDatabase(data: Uint8Array, path: string, list: IgnoreList, logger: Logger): void {
  forEachLine(
    data,
    (line, lineNumber) => {
    if (line.startsWith('#')) return;
    const fields = splitTokens(line, ':', 4);
    if (fields.length > 3) return fail(lineNumber);
    const name = fields.length === 3 ? fields[2]! : fields[0]!;
    if (name.length === 0) {
      logger.error('cli_loadign: No signature name provided');
      return fail(lineNumber);
    }
    let md5: string | null = null;
    if (fields.length === 2) {
      md5 = fields[1]!.toLowerCase();
      if (!/^[0-9a-f]{32}$/.test(md5)) {
        logger.error(`cli_loadign: Malformed MD5 string at line ${lineNumber}`);
        return fail(lineNumber);
      }
    }
    list.add(padName(name), md5);
    },
    DATABASE_LINE_BUFFER,
  );

  function fail(lineNumber: number): never {
    logger.error(`cli_loadign: Problem parsing database at line ${lineNumber}`);
    throw new ClamError('EMALFDB', { path, line: lineNumber });
  }
}

/**
 * Splits like ClamAV's tokenizer: at most `max` tokens, the last one keeping any further
 * delimiters, so "more than max-1 fields" shows as `length === max`.
 */
export function splitTokens(text: string, delimiter: string, max: number): string[] {
  const tokens: string[] = [];
  let start = 0;
  while (tokens.length < max - 1) {
    const next = text.indexOf(delimiter, start);
    if (next < 0) break;
    tokens.push(text.slice(start, next));
    start = next + 1;
  }
  tokens.push(text.slice(start));
  return tokens;
}
