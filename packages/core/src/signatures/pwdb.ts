import { ClamError, type ClamErrorCode } from '../errors.js';
import { SignatureError } from '../matching/signature-error.js';
import { atoi, isDigits } from '../util/c-numbers.js';
import { latin1 } from '../util/latin1.js';
import { decodeBytes } from './body-pattern.js';
import type { DatabaseContext } from './database-context.js';
import type { DatabaseInput } from './database-input.js';
import { parseTargetDescription, targetDescriptionSkipMessages } from './ldb.js';
import { forEachLine } from './lines.js';

/** A password ClamAV tries on encrypted archive members. */
export interface ArchivePassword {
  /** The entry's name, as ClamAV prints it when the password fits. */
  readonly name: string;
  /** The password's bytes, one character per byte. */
  readonly password: string;
}

/**
 * The passwords of `.pwdb` databases by the container they are for, each list in the order
 * ClamAV tries it (the last loaded first). Zip members are tried with `zip`, then `any`; ClamAV
 * keeps `rar` too, but its RAR reader never asks for them.
 */
export interface ArchivePasswords {
  readonly zip: ArchivePassword[];
  readonly rar: ArchivePassword[];
  readonly any: ArchivePassword[];
}

export function noArchivePasswords(): ArchivePasswords {
  return { zip: [], rar: [], any: [] };
}

const PWDB_TOKENS = 4;

const CONTAINER_LISTS: Readonly<Record<string, keyof ArchivePasswords>> = {
  CL_TYPE_ANY: 'any',
  CL_TYPE_ZIP: 'zip',
  CL_TYPE_RAR: 'rar',
};

/**
 * `.pwdb` password databases (ClamAV's cli_loadpwdb): `Name;TargetDescriptionBlock;PWStorageType;Password`,
 * storage type 0 for the password as written, 1 for hex; other types are passed over. The target
 * description is a logical signature's (`Target:0` is added when it names no target); its
 * `Container` picks the list. Comment lines are not counted in line numbers. Not counted as
 * signatures. Reproduces ClamAV's quirks: a line skipped for its target description (another
 * functionality level, an unknown attribute) fails the file with "Unknown error code" when no
 * valid line comes after it, and a file without passwords is malformed.
 */
export function loadPasswordDatabase(input: DatabaseInput, ctx: DatabaseContext): number {
  const { logger, engine } = ctx;
  const added: [keyof ArchivePasswords, ArchivePassword][] = [];
  let line = 0;
  let skipped = 0;
  let pending: ClamErrorCode | undefined;
  let failed: ClamErrorCode | undefined;
  forEachLine(
    input.whole(),
    (text) => {
      if (failed !== undefined || text.startsWith('#')) return;
      line++;
      // cli_strtokenize: at most four fields, the fourth cut at the next `;` too.
      const tokens = text.split(';', PWDB_TOKENS);
      if (tokens.length !== PWDB_TOKENS) {
        failed = 'EMALFDB';
        return;
      }
      const [name, attributes, storageType, password] = tokens as [string, string, string, string];
      if (engine.ignored.ignores(name, name, logger)) {
        skipped++;
        return;
      }
      let description;
      try {
        const withTarget = attributes === '' || attributes.includes('Target:') ? attributes : `${attributes},Target:0`;
        description = parseTargetDescription(withTarget, engine.functionalityLevel);
      } catch (error) {
        if (!(error instanceof SignatureError)) throw error;
        for (const { level, text: message } of error.messages) {
          if (level === 'error') logger.error(message);
          else logger.warning(message);
        }
        skipped++;
        failed = 'EMALFDB';
        return;
      }
      if ('skipped' in description) {
        if (logger.debugEnabled) for (const message of targetDescriptionSkipMessages(description, name)) logger.debug(message);
        skipped++;
        pending = 'EBREAK';
        return;
      }
      pending = undefined;
      const list = CONTAINER_LISTS[description.container ?? 'CL_TYPE_ANY'];
      if (list === undefined) {
        logger.error('cli_loadpwdb: Invalid container specified to .pwdb signature');
        throw new ClamError('EMALFDB', { path: ctx.path });
      }
      if (!isDigits(storageType)) {
        logger.error('cli_loadpwdb: Invalid value for PWStorageType (third entry)');
        failed = 'EMALFDB';
        return;
      }
      const type = atoi(storageType);
      if (type !== 0 && type !== 1) {
        if (logger.debugEnabled) logger.debug(`cli_loadpwdb: Unsupported PWStorageType ${type >>> 0}`);
        return;
      }
      const bytes = type === 0 ? password : hexPassword(password, ctx);
      if (bytes === undefined) {
        logger.error("cli_loadpwdb: Can't decode or add new password entry");
        failed = 'EMALFDB';
        return;
      }
      added.push([list, { name, password: bytes }]);
    },
    ctx.lineBuffer,
  );
  const error = failed ?? pending;
  if (error !== undefined) {
    logger.error(`Problem processing external password database at line ${line}`);
    throw new ClamError(error, { path: ctx.path, line });
  }
  if (added.length === 0) {
    logger.error('Empty external password database');
    throw new ClamError('EMALFDB', { path: ctx.path });
  }
  for (const [list, entry] of added) engine.passwords[list].unshift(entry);
  if (logger.debugEnabled) logger.debug(`Loaded ${added.length} (${skipped} skipped) password entries`);
  return 0;
}

/** The password of storage type 1: hex digits, two per byte (cli_mpool_hex2str). */
function hexPassword(hex: string, ctx: DatabaseContext): string | undefined {
  if (hex.length % 2 !== 0) {
    ctx.logger.error(`cli_mpool_hex2str(): Malformed hexstring: ${hex} (length: ${hex.length})`);
    return undefined;
  }
  const bytes = decodeBytes(hex);
  return bytes && latin1(bytes);
}
