import { ClamError } from '../errors.js';
import { latin1 } from '../util/latin1.js';
import { ANY_SIZE, type HashIndexBuilder } from '../matching/hash-index.js';
import type { DatabaseContext } from './database-context.js';
import type { DatabaseInput } from './database-input.js';
import { skippedByPuaFilter } from './pua.js';

/** What a hash database line describes, which decides the field order and the wildcard rule. */
export type HashPurpose =
  | 'file' // .hdb .hsb .hdu .hsu: Hash:Size:Name
  | 'allow' // .fp .sfp: Hash:Size:Name, a match makes the object clean
  | 'pe-section' // .mdb .msb .mdu .msu: Size:Hash:Name
  | 'pe-import'; // .imp: Hash:Size:Name, `*` size allowed without a level

const MAX_TOKENS = 5;
const COLON = 0x3a;

/** Lowest functionality level that understands `*` sizes. */
const WILDCARD_SIZE_LEVEL = 73;

/**
 * Loads one hash database (ClamAV's cli_loadhash): `Hash:Size:Name[:MinFL[:MaxFL]]`, or
 * `Size:Hash:Name…` for PE sections. Returns the number of signatures loaded.
 * Works on the raw bytes, chunk by chunk, because hash databases can hold millions of lines.
 */
export function loadHashDatabase(
  input: DatabaseInput,
  purpose: HashPurpose,
  index: HashIndexBuilder,
  ctx: DatabaseContext,
): number {
  const { logger, engine } = ctx;
  const sizeField = purpose === 'pe-section' ? 0 : 1;
  const hashField = purpose === 'pe-section' ? 1 : 0;
  const level = engine.functionalityLevel;
  const starts = new Int32Array(MAX_TOKENS + 1);
  const ends = new Int32Array(MAX_TOKENS + 1);
  let lineNumber = 0;
  let loaded = 0;

  const fail = (message?: string): never => {
    if (message) logger.error(message);
    logger.error(`cli_loadhash: Problem parsing database at line ${lineNumber}`);
    throw new ClamError('EMALFDB', { path: ctx.path, line: lineNumber });
  };

  for (const data of input.chunks()) {
    let position = 0;
    while (position < data.length) {
      const lineStart = position;
      // Read as fgets reads into ClamAV's line buffer (see nextLineEnd).
      const lineCap = Math.min(data.length, lineStart + ctx.lineBuffer - 1);
      let lineEnd = findByte(data, 0x0a, lineStart, lineCap);
      position = lineEnd < lineCap ? lineEnd + 1 : lineCap;
      lineNumber++;
      if (data[lineStart] === 0x23 /* # */) continue;
      while (lineEnd > lineStart && (data[lineEnd - 1] === 0x0d || data[lineEnd - 1] === 0x0a)) lineEnd--;

      // Tokenize like ClamAV: up to MAX_TOKENS + 1 tokens, the last keeping further colons.
      let count = 0;
      let tokenStart = lineStart;
      while (count < MAX_TOKENS) {
        const colon = findByte(data, COLON, tokenStart, lineEnd);
        if (colon === lineEnd) break;
        starts[count] = tokenStart;
        ends[count++] = colon;
        tokenStart = colon + 1;
      }
      starts[count] = tokenStart;
      ends[count++] = lineEnd;

      if (count < 3) fail();
      let minLevel = 0;
      if (count > MAX_TOKENS - 2) {
        minLevel = parseLeadingInt(data, starts[3]!, ends[3]!);
        if (count > MAX_TOKENS) fail();
        if (level < minLevel) continue;
        if (count === MAX_TOKENS && level > parseLeadingInt(data, starts[4]!, ends[4]!)) continue;
      }

      let size: number;
      if (ends[sizeField]! - starts[sizeField]! === 1 && data[starts[sizeField]!] === 0x2a /* * */) {
        size = ANY_SIZE;
        if (purpose !== 'pe-import' && (count < MAX_TOKENS - 1 || minLevel < WILDCARD_SIZE_LEVEL)) {
          fail(
            'cli_loadhash: Minimum FLEVEL field must be at least 73 for wildcard size hash signatures.' +
              ` For reference, running FLEVEL is ${level}`,
          );
        }
      } else {
        size = parseSize(data, starts[sizeField]!, ends[sizeField]!);
        if (size <= 0) fail('cli_loadhash: Invalid value for the size field');
      }

      const nameStart = starts[2]!;
      const nameEnd = ends[2]!;
      if (ctx.puaFilter || engine.ignored.size > 0) {
        const name = latin1(data, nameStart, nameEnd);
        if (ctx.puaFilter && skippedByPuaFilter(name, ctx.puaFilter)) continue;
        if (engine.ignored.ignores(name, latin1(data, lineStart, lineEnd), logger)) continue;
      }
      if (nameEnd === nameStart) fail('cli_virname: Empty virus name');

      const nameId = engine.names.add(data, nameStart, nameEnd, ctx.official);
      if (!index.addHex(data, starts[hashField]!, ends[hashField]!, size, nameId)) {
        fail(`cli_loadhash: Malformed hash string at line ${lineNumber}`);
      }
      loaded++;
    }
  }

  if (lineNumber === 0) {
    logger.error('cli_loadhash: Empty database file');
    throw new ClamError('EMALFDB', { path: ctx.path });
  }
  return loaded;
}

/**
 * The first position of `byte` in `data[from, to)`, or `to`. Hash database lines are short: a
 * loop costs less than Buffer#indexOf's call into C++ for every line and field.
 */
function findByte(data: Uint8Array, byte: number, from: number, to: number): number {
  while (from < to && data[from] !== byte) from++;
  return from;
}

/** C's atoi: optional sign and leading digits, 0 when there are none. */
function parseLeadingInt(data: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && (data[i] === 0x20 || data[i] === 0x09)) i++;
  let sign = 1;
  if (i < end && (data[i] === 0x2d || data[i] === 0x2b)) sign = data[i++] === 0x2d ? -1 : 1;
  let value = 0;
  while (i < end && data[i]! >= 0x30 && data[i]! <= 0x39) value = value * 10 + data[i++]! - 0x30;
  return sign * value;
}

/** A decimal size that must be the whole field, non-zero and below 0xffffffff; -1 otherwise. */
function parseSize(data: Uint8Array, start: number, end: number): number {
  if (start === end) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = data[i]! - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
    if (value >= 0xffffffff) return -1;
  }
  return value;
}
