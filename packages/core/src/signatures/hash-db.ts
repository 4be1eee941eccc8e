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
  const lines = new HashLines(purpose, index, ctx);
  for (const data of input.chunks()) {
    let position = 0;
    while (position < data.length) {
      const lineStart = position;
      // Read as fgets reads into ClamAV's line buffer (see nextLineEnd).
      const lineCap = Math.min(data.length, lineStart + ctx.lineBuffer - 1);
      const lineEnd = findByte(data, 0x0a, lineStart, lineCap);
      position = lineEnd < lineCap ? lineEnd + 1 : lineCap;
      lines.add(data, lineStart, lineEnd);
    }
  }
  if (lines.lineNumber === 0) {
    ctx.logger.error('cli_loadhash: Empty database file');
    throw new ClamError('EMALFDB', { path: ctx.path });
  }
  return lines.loaded;
}

/**
 * The lines of one hash database, added one at a time. A line is a call of its own rather than
 * the body of the loader's loop: V8 then optimizes it as a function, once, instead of compiling
 * the whole loader again for the running loop each time it meets a path its code had not seen.
 */
class HashLines {
  lineNumber = 0;
  loaded = 0;
  private readonly sizeField: number;
  private readonly hashField: number;
  private readonly level: number;
  /** Where each token of the line starts and ends. */
  private readonly starts = new Int32Array(MAX_TOKENS + 1);
  private readonly ends = new Int32Array(MAX_TOKENS + 1);

  constructor(
    private readonly purpose: HashPurpose,
    private readonly index: HashIndexBuilder,
    private readonly ctx: DatabaseContext,
  ) {
    this.sizeField = purpose === 'pe-section' ? 0 : 1;
    this.hashField = purpose === 'pe-section' ? 1 : 0;
    this.level = ctx.engine.functionalityLevel;
  }

  /** Adds the line `data[lineStart, lineEnd)` (its line feed excluded). */
  add(data: Uint8Array, lineStart: number, lineEnd: number): void {
    const { starts, ends, sizeField, level, ctx } = this;
    this.lineNumber++;
    if (data[lineStart] === 0x23 /* # */) return;
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

    if (count < 3) this.fail();
    let minLevel = 0;
    if (count > MAX_TOKENS - 2) {
      minLevel = parseLeadingInt(data, starts[3]!, ends[3]!);
      if (count > MAX_TOKENS) this.fail();
      if (level < minLevel) return;
      if (count === MAX_TOKENS && level > parseLeadingInt(data, starts[4]!, ends[4]!)) return;
    }

    const sizeStart = starts[sizeField]!;
    const sizeEnd = ends[sizeField]!;
    let size = parseSize(data, sizeStart, sizeEnd);
    if (size <= 0 && sizeEnd - sizeStart === 1 && data[sizeStart] === 0x2a /* * */) {
      size = ANY_SIZE;
      if (this.purpose !== 'pe-import' && (count < MAX_TOKENS - 1 || minLevel < WILDCARD_SIZE_LEVEL)) {
        this.fail(
          'cli_loadhash: Minimum FLEVEL field must be at least 73 for wildcard size hash signatures.' +
            ` For reference, running FLEVEL is ${level}`,
        );
      }
    } else if (size <= 0) {
      this.fail('cli_loadhash: Invalid value for the size field');
    }

    const nameStart = starts[2]!;
    const nameEnd = ends[2]!;
    const { engine } = ctx;
    if (ctx.puaFilter || engine.ignored.size > 0) {
      const name = latin1(data, nameStart, nameEnd);
      if (ctx.puaFilter && skippedByPuaFilter(name, ctx.puaFilter)) return;
      if (engine.ignored.ignores(name, latin1(data, lineStart, lineEnd), ctx.logger)) return;
    }
    if (nameEnd === nameStart) this.fail('cli_virname: Empty virus name');

    const nameId = engine.names.add(data, nameStart, nameEnd, ctx.official);
    if (!this.index.addHex(data, starts[this.hashField]!, ends[this.hashField]!, size, nameId)) {
      this.fail(`cli_loadhash: Malformed hash string at line ${this.lineNumber}`);
    }
    this.loaded++;
  }

  private fail(message?: string): never {
    const { logger, path } = this.ctx;
    if (message) logger.error(message);
    logger.error(`cli_loadhash: Problem parsing database at line ${this.lineNumber}`);
    throw new ClamError('EMALFDB', { path, line: this.lineNumber });
  }
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
