import { ClamError } from '../errors.js';
import type { BodySignatureBuilder, SignatureContext } from '../matching/body-signature-builder.js';
import type { DatabaseContext } from './database-context.js';
import type { DatabaseInput } from './database-input.js';
import { forEachLine } from './lines.js';
import { displayName } from '../util/names.js';
import { skippedByPuaFilter } from './pua.js';

export type BodyFormat = 'ndb' | 'ldb' | 'cdb';

/**
 * Loads an .ndb/.ndu, .ldb/.ldu or .cdb file line by line into the body-signature builder, with
 * the loader's naming (.UNOFFICIAL), ignore lists and PUA filter. Returns the signatures loaded.
 */
export function loadBodyDatabase(input: DatabaseInput, format: BodyFormat, builder: BodySignatureBuilder, ctx: DatabaseContext): number {
  const { engine, logger, path, puaFilter } = ctx;
  const before = builder.signatureCount;
  // One context for the file, told each line's number: the builder only reads it while it adds that line.
  const signatureContext: { -readonly [K in keyof SignatureContext]: SignatureContext[K] } = {
    path,
    line: 0,
    logger,
    name: (raw) => displayName(raw, ctx.official),
    ignored: (name, entry) =>
      (puaFilter !== undefined && skippedByPuaFilter(name, puaFilter)) || engine.ignored.ignores(name, entry, logger),
    functionalityLevel: engine.functionalityLevel,
  };
  const lines = forEachLine(
    input.whole(),
    (text, line) => {
      signatureContext.line = line;
      if (format === 'ndb') builder.addNdb(text, signatureContext);
      else if (format === 'ldb') builder.addLdb(text, signatureContext);
      else builder.addCdb(text, signatureContext);
    },
    ctx.lineBuffer,
  );
  if (lines === 0) {
    logger.error('Empty database file');
    throw new ClamError('EMALFDB', { path });
  }
  return builder.signatureCount - before;
}
