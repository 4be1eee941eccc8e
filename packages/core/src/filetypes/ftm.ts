import { ClamError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { atoi, isDigits } from '../util/c-numbers.js';
import type { TypeSignature } from './type-matcher.js';
import { SignatureError } from '../matching/signature-error.js';
import { decodeBytes } from '../signatures/body-pattern.js';
import { parseTypePattern } from './type-pattern.js';
import { databaseTypeCode } from './types.js';

/**
 * `.ftm` lines (FileTypeMagic): `magictype:offset:magic:name:requiredtype:type[:minflevel[:maxflevel]]`.
 * Magic type 0 compares bytes at a fixed offset, 1 is a body pattern (see type-pattern.ts),
 * 4 compares bytes at a fixed offset of a partition. Other magic types are skipped.
 */

/** A fixed-offset magic (magic types 0 and 4). */
export interface MagicEntry {
  readonly kind: 'magic';
  readonly name: string;
  /** 32-bit unsigned, as ClamAV stores it. */
  readonly offset: number;
  readonly magic: Uint8Array;
  readonly type: number;
  /** Magic type 4: used when typing partitions instead of files. */
  readonly partition: boolean;
}

export interface PatternEntry {
  readonly kind: 'pattern';
  readonly signature: TypeSignature;
}

/** A line that loads nothing: outside this engine's functionality level, or an unknown magic type. */
export interface SkippedLine {
  readonly kind: 'skipped';
  /** ClamAV's debug message for the skip, when it prints one. */
  readonly reason?: string;
}

export type FtmLine = MagicEntry | PatternEntry | SkippedLine;

export interface FtmLineOptions {
  /** The engine's functionality level (cl_retflevel), compared with the optional level fields. */
  readonly functionalityLevel: number;
  /** From a signed official database: names are not marked `.UNOFFICIAL`. */
  readonly official: boolean;
  /** Receives ClamAV's error lines for refused lines. */
  readonly logger?: Logger;
}

/**
 * Parses one line (already chomped, not a comment). Throws ClamError('EMALFDB') for the lines
 * ClamAV refuses, after logging the error lines ClamAV prints for them.
 */
export function parseFtmLine(line: string, options: FtmLineOptions): FtmLine {
  const fields = splitFields(line);
  const skipped = skippedByLevel(fields, options.functionalityLevel);
  if (skipped) return skipped;
  const [magicType, offset, magic, name, required, result] = fields;

  const requiredType = databaseTypeCode(required);
  const type = databaseTypeCode(result);
  if (requiredType === undefined || type === undefined) throw malformed();
  if (!isDigits(magicType)) throw malformed(options, 'cli_loadftm: Invalid value for the first field');

  switch (atoi(magicType)) {
    case 1:
      return { kind: 'pattern', signature: patternSignature(name, magic, offset, requiredType, type, options) };
    case 0:
    case 4: {
      if (!isDigits(offset)) throw malformed(options, 'cli_loadftm: Invalid offset');
      const bytes = decodeBytes(magic);
      if (!bytes) {
        if (magic.length % 2) options.logger?.error(`cli_mpool_hex2str(): Malformed hexstring: ${magic} (length: ${magic.length})`);
        throw malformed(options, "cli_loadftm: Can't decode the hex string");
      }
      return { kind: 'magic', name, offset: atoi(offset) >>> 0, magic: bytes, type, partition: atoi(magicType) === 4 };
    }
    default:
      return { kind: 'skipped', reason: `cli_loadftm: Unsupported mode ${atoi(magicType) >>> 0}` };
  }
}

/**
 * The magic type of a line that parseFtmLine accepts, or undefined when the functionality level
 * skips it: what the body matcher asks of a line, without parsing its pattern again.
 */
export function ftmMagicType(line: string, functionalityLevel: number): number | undefined {
  const fields = splitFields(line);
  return skippedByLevel(fields, functionalityLevel) ? undefined : atoi(fields[0]!);
}

/**
 * Checks the number of fields and the optional level fields (throwing for malformed ones); returns
 * the skipped line when they leave it out at this functionality level.
 */
function skippedByLevel(fields: readonly string[], functionalityLevel: number): SkippedLine | undefined {
  if (fields.length < 6 || fields.length > 8) throw malformed();
  if (fields.length === 6) return undefined;
  const [, , , name, , , minLevel, maxLevel] = fields;
  if (!isDigits(minLevel!)) throw malformed();
  if (atoi(minLevel!) >>> 0 > functionalityLevel) {
    return { kind: 'skipped', reason: `cli_loadftm: File type signature for ${name} not loaded (required f-level: ${atoi(minLevel!)})` };
  }
  if (maxLevel !== undefined) {
    if (!isDigits(maxLevel)) throw malformed();
    if (atoi(maxLevel) >>> 0 < functionalityLevel) return { kind: 'skipped' };
  }
  return undefined;
}

/** Like cli_strtokenize with 9 slots: the ninth field keeps any further colons. */
function splitFields(line: string): string[] {
  const fields = line.split(':');
  return fields.length > 9 ? [...fields.slice(0, 8), fields.slice(8).join(':')] : fields;
}

function patternSignature(
  name: string,
  hex: string,
  offset: string,
  requiredType: number,
  type: number,
  options: FtmLineOptions,
): TypeSignature {
  try {
    const pattern = parseTypePattern(name, hex, offset);
    return { name: options.official ? name : `${name}.UNOFFICIAL`, requiredType, type, pattern };
  } catch (error) {
    if (!(error instanceof SignatureError)) throw error;
    for (const { level, text } of error.messages) {
      if (level === 'warning') options.logger?.warning(text);
      else options.logger?.error(text);
    }
    throw malformed();
  }
}

function malformed(options?: FtmLineOptions, message?: string): ClamError {
  if (message) options?.logger?.error(message);
  return new ClamError('EMALFDB');
}
