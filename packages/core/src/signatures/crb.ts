import { ClamError } from '../errors.js';
import { FOREVER, type Certificate } from '../executables/authenticode/certificate.js';
import { CATALOG_ENTRY_SIZE, loadCatalog } from '../executables/authenticode/catalog.js';
import { atoi, isDigits } from '../util/c-numbers.js';
import type { DatabaseContext } from './database-context.js';
import type { DatabaseInput } from './database-input.js';
import { splitTokens } from './ignore-db.js';
import { forEachLine } from './lines.js';

/**
 * `.crb` certificate lists (ClamAV's cli_loadcrt):
 * `Name;Trusted;Subject;Serial;Pubkey;Exponent;CodeSign;TimeSign;CertSign;NotBefore;Comment[;MinFL[;MaxFL]]`.
 * Subject and serial are SHA-1s (the serial may be left empty: any serial), the public key the
 * modulus in hex (the exponent is always taken as 65537), Trusted 1 for a trusted CA, 0 for a
 * block-list entry. Not counted as signatures. As in ClamAV, a line inherits two fields from
 * the line before: a line with a serial keeps "any serial" once a line without one was read,
 * and an empty NotBefore keeps the previous line's.
 */
export function loadCrbDatabase(input: DatabaseInput, ctx: DatabaseContext): number {
  const { logger, engine } = ctx;
  if (!engine.dconf.pe.certs) {
    if (logger.debugEnabled) logger.debug('cli_loadcrt: Ignoring .crb sigs due to DCONF configuration');
    return 0;
  }
  if (engine.authenticode.disabled) {
    if (logger.debugEnabled) logger.debug('cli_loadcrt: Ignoring .crb sigs due to engine options');
    return 0;
  }
  const store = engine.authenticode.certificates(logger);
  const line: Certificate = {
    subject: '',
    issuer: 'ca'.repeat(20),
    serial: '',
    ignoreSerial: false,
    modulus: 0n,
    exponent: 65537n,
    signature: 0n,
    tbsHash: new Uint8Array(0),
    notBefore: 0,
    notAfter: FOREVER,
    hashType: 'any',
    certSign: false,
    codeSign: false,
    timeSign: false,
    blocked: false,
  };
  const fail = (message: string, lineNumber: number): never => {
    logger.error(message);
    if (logger.debugEnabled) logger.debug(`Number of certs: ${store.size}`);
    throw new ClamError('EMALFDB', { path: ctx.path, line: lineNumber });
  };
  forEachLine(
    input.whole(),
    (text, lineNumber) => {
      if (text.startsWith('#') || text.length === 0) return;
      const tokens = splitTokens(text, ';', CRB_TOKENS + 1);
      if (tokens.length > CRB_TOKENS || tokens.length < CRB_TOKENS - 2) {
        fail(`cli_loadcrt: line ${lineNumber}: Invalid number of tokens: ${tokens.length}`, lineNumber);
      }
      if (!withinFunctionalityLevel(tokens, lineNumber, ctx, fail)) return;
      const flag = (index: number, what: string): boolean => {
        const c = tokens[index]![0];
        if (c !== '0' && c !== '1') fail(`cli_loadcrt: line ${lineNumber}: Invalid ${what} specification. Expected 0 or 1`, lineNumber);
        return c === '1';
      };
      line.blocked = !flag(1, 'trust');
      if (tokens[3]!.length > 0) {
        line.serial = sha1Field(tokens[3]!, 'serial', lineNumber, fail);
      } else {
        line.ignoreSerial = true;
        line.serial = 'ca'.repeat(20);
      }
      if (engine.authenticode.dumpCertificates && logger.debugEnabled) {
        logger.debug(`cli_loadcrt: subject: ${tokens[2]}`);
        logger.debug(`cli_loadcrt: public key: ${tokens[4]}`);
      }
      line.subject = sha1Field(tokens[2]!, 'subject', lineNumber, fail);
      const modulus = hexPrefixValue(tokens[4]!);
      if (modulus === undefined) fail(`cli_loadcrt: line ${lineNumber}: Cannot convert public key to binary string`, lineNumber);
      line.modulus = modulus!;
      line.codeSign = flag(6, 'code sign');
      line.timeSign = flag(7, 'time sign');
      line.certSign = flag(8, 'cert sign');
      line.name = tokens[0]!.length > 0 ? tokens[0] : undefined;
      if (tokens[9]!.length > 0) line.notBefore = atoi(tokens[9]!);
      store.add(line);
    },
    ctx.lineBuffer,
  );
  if (logger.debugEnabled) logger.debug(`Number of certs: ${store.size}`);
  return 0;
}

const CRB_TOKENS = 13;

/** The optional MinFL and MaxFL fields: false when the line is for another engine. */
function withinFunctionalityLevel(tokens: string[], lineNumber: number, ctx: DatabaseContext, fail: (message: string, line: number) => never): boolean {
  if (tokens.length <= CRB_TOKENS - 2) return true;
  const { logger, engine } = ctx;
  const level = engine.functionalityLevel;
  if (!isDigits(tokens[CRB_TOKENS - 2]!)) fail(`cli_loadcrt: line ${lineNumber}: Invalid minimum feature level`, lineNumber);
  if (atoi(tokens[CRB_TOKENS - 2]!) >>> 0 > level) {
    if (logger.debugEnabled) logger.debug(`cli_loadcrt: Cert ${tokens[0]} not loaded (required f-level: ${level})`);
    return false;
  }
  if (tokens.length !== CRB_TOKENS) return true;
  if (!isDigits(tokens[CRB_TOKENS - 1]!)) fail(`cli_loadcrt: line ${lineNumber}: Invalid maximum feature level`, lineNumber);
  if (atoi(tokens[CRB_TOKENS - 1]!) >>> 0 < level) {
    if (logger.debugEnabled) logger.debug(`cli_ladcrt: Cert ${tokens[0]} not loaded (maximum f-level: ${tokens[CRB_TOKENS - 1]})`);
    return false;
  }
  return true;
}

/** A SHA-1 field: exactly 40 hex digits, kept in lower case. */
function sha1Field(text: string, what: string, lineNumber: number, fail: (message: string, line: number) => never): string {
  if (text.length !== 40) fail(`cli_loadcrt: line ${lineNumber}: ${what} is not the appropriate length for a SHA1 Hash`, lineNumber);
  if (!/^[0-9a-fA-F]{40}$/.test(text)) fail(`cli_loadcrt: line ${lineNumber}: Cannot convert ${what} to binary string`, lineNumber);
  return text.toLowerCase();
}

/** BN_hex2bn: the value of the leading hex digits (after an optional `-`), undefined when there are none. */
function hexPrefixValue(text: string): bigint | undefined {
  const negative = text.startsWith('-');
  const digits = /^[0-9a-fA-F]*/.exec(negative ? text.slice(1) : text)![0];
  if (digits.length === 0) return undefined;
  const value = BigInt(`0x${digits}`);
  return negative ? -value : value;
}

/**
 * `.cat` catalogs (ClamAV's cli_loadmscat): a catalog whose signature verifies against the
 * certificates loaded so far adds its chain to them and its members' Authenticode hashes to the
 * allow-list, without a name, as ClamAV adds them to hm_fp: PE hashes with the size 2 and cabinet
 * hashes with the size 1 (see checkAuthenticode and isAllowListed). A catalog that fails is
 * skipped with a debug line, never an error.
 */
export function loadCatalogDatabase(input: DatabaseInput, ctx: DatabaseContext): number {
  const { logger, engine } = ctx;
  const { pe } = engine.dconf;
  if (!pe.catalog || !pe.certs) {
    if (logger.debugEnabled) logger.debug('cli_loadmscat: Ignoring .cat sigs due to DCONF configuration');
    return 0;
  }
  if (engine.authenticode.disabled) {
    if (logger.debugEnabled) logger.debug('cli_loadmscat: Ignoring .cat sigs due to engine options');
    return 0;
  }
  const data = input.whole();
  let unnamed: number | undefined;
  const loaded = loadCatalog(
    data,
    engine.authenticode.certificates(logger),
    logger,
    ({ kind, digest }) => {
      unnamed ??= engine.names.addReported('');
      engine.allowHashes.addDigest(digest, CATALOG_ENTRY_SIZE[kind], unnamed);
    },
    { dumpCertificates: engine.authenticode.dumpCertificates },
  );
  if (!loaded && logger.debugEnabled) logger.debug(`Failed to load certificates from cat: ${ctx.path}`);
  return 0;
}
