import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ClamError } from '../errors.js';
import { readContainer, parseCvdHeader, type ContainerKind, type CvdEntry, type CvdHeader } from './cvd.js';
import type { DatabaseContext } from './database-context.js';
import { isDirectoryDatabase } from './database-formats.js';
import { splitTokens } from './ignore-db.js';
import { forEachLine } from './lines.js';

/** Where the files of a container go: the loader's per-file dispatch. */
export interface EntrySink {
  loadBytes(path: string, data: Uint8Array, official: boolean): void;
}

const SECONDS_PER_WEEK = 7 * 24 * 3600;

/**
 * Loads a `.cvd`/`.cld`/`.cud` like ClamAV's cli_cvdload: verify the container, skip it when an
 * equal or newer twin (`.cld` beside `.cvd`) exists, check the `.info` manifest, then load every
 * database file inside through the normal dispatch — as official signatures unless it is a `.cud`.
 */
export function loadContainer(data: Uint8Array, kind: ContainerKind, ctx: DatabaseContext, sink: EntrySink): void {
  const { logger, path } = ctx;
  const { header, entries } = readContainer(data, path, kind, logger);
  if (kind !== 'cud' && newerTwinExists(path, kind, header, ctx)) return;

  if (/daily\./.test(path)) {
    warnAboutAge(header, ctx);
    ctx.engine.databaseVersion = { version: header.version, buildTime: header.buildTimestamp };
  }
  if (header.functionalityLevel > ctx.engine.functionalityLevel) {
    logger.warning('*******************************************************************');
    logger.warning('***  This version of the ClamAV engine is outdated.             ***');
    logger.warning('***   Read https://docs.clamav.net/manual/Installing.html       ***');
    logger.warning('*******************************************************************');
  }

  const manifest = readManifest(entries, header, ctx);
  for (const entry of entries) {
    if (!isDirectoryDatabase(entry.name)) continue;
    const expected = manifest.get(entry.name);
    if (!expected) return fail(`cli_tgzload: File ${entry.name} not found in .info`);
    if (expected.size !== entry.data.length) return fail(`cli_tgzload: File ${entry.name} not correctly loaded`);
    if (createHash('sha256').update(entry.data).digest('hex') !== expected.sha256) {
      return fail(`cli_tgzload: Invalid checksum for file ${entry.name}`);
    }
    try {
      sink.loadBytes(entry.name, entry.data, kind !== 'cud');
    } catch (error) {
      if (!(error instanceof ClamError)) throw error;
      return fail(`cli_tgzload: Can't load ${entry.name}`);
    }
  }

  function fail(message: string): never {
    logger.error(message);
    throw new ClamError('EMALFDB', { path });
  }
}

interface ManifestEntry {
  size: number;
  sha256: string;
}

/**
 * The `.info` file inside a container: a copy of the container header, then `name:size:sha256`
 * for each file. Its header must agree with the container's.
 */
function readManifest(entries: readonly CvdEntry[], header: CvdHeader, ctx: DatabaseContext): Map<string, ManifestEntry> {
  const { logger, path } = ctx;
  const fail = (message: string): never => {
    logger.error(message);
    throw new ClamError('EMALFDB', { path });
  };
  const info = entries.find((entry) => entry.name.toLowerCase().endsWith('.info'));
  const manifest = new Map<string, ManifestEntry>();
  let infoHeader: CvdHeader | undefined;
  if (info) {
    forEachLine(info.data, (line, lineNumber) => {
      if (line.startsWith('DSIG:')) return;
      if (line.startsWith('ClamAV-VDB:')) {
        infoHeader = parseCvdHeader(Buffer.from(line.padEnd(512, ' '), 'latin1'), path);
        return;
      }
      if (!infoHeader) fail('cli_loadinfo: Incorrect file format');
      const fields = splitTokens(line, ':', 4);
      if (fields.length !== 3) fail(`cli_loadinfo: Problem parsing database at line ${lineNumber}`);
      const [name, size, sha256] = fields as [string, string, string];
      if (!/^[0-9]+$/.test(size)) fail('cli_loadinfo: Invalid value in the size field');
      if (!/^[0-9a-fA-F]{64}$/.test(sha256)) fail(`cli_loadinfo: Malformed SHA2-256 string at line ${lineNumber}`);
      manifest.set(name, { size: Number(size), sha256: sha256.toLowerCase() });
    });
  }
  if (
    !infoHeader ||
    infoHeader.version !== header.version ||
    infoHeader.signatureCount !== header.signatureCount ||
    infoHeader.functionalityLevel !== header.functionalityLevel ||
    infoHeader.buildTimestamp !== header.buildTimestamp
  ) {
    fail('cli_cvdload: Corrupted CVD header');
  }
  return manifest;
}

/** ClamAV loads only one of `x.cvd` and `x.cld`: the newer, or the `.cvd` when equal. */
function newerTwinExists(path: string, kind: ContainerKind, header: CvdHeader, ctx: DatabaseContext): boolean {
  const twin = path.slice(0, -2) + (kind === 'cld' ? 'vd' : 'ld');
  if (!existsSync(twin)) return false;
  let twinHeader: CvdHeader;
  try {
    twinHeader = parseCvdHeader(readFileSync(twin).subarray(0, 512), twin);
  } catch {
    return false;
  }
  if (twinHeader.version > header.version) {
    ctx.logger.warning(
      `Detected duplicate databases ${path} and ${twin}. The ${path} database is older and will not be loaded, ` +
        'you should manually remove it from the database directory.',
    );
    return true;
  }
  if (twinHeader.version === header.version && kind === 'cvd') {
    ctx.logger.warning(`Detected duplicate databases ${path} and ${twin}, please manually remove one of them`);
    return true;
  }
  return false;
}

function warnAboutAge(header: CvdHeader, ctx: DatabaseContext): void {
  const now = Math.floor(Date.now() / 1000);
  const lines =
    header.buildTimestamp > now + 3600
      ? ['      Virus database timestamp in the future!   ', '  Please check the timezone and clock settings  ']
      : now - header.buildTimestamp > SECONDS_PER_WEEK
        ? ['  The virus database is older than 7 days!  ', '   Please update it as soon as possible.    ']
        : [];
  if (lines.length === 0) return;
  const border = '*'.repeat(lines[0]!.length + 6);
  ctx.logger.warning(border);
  for (const line of lines) ctx.logger.warning(`***${line}***`);
  ctx.logger.warning(border);
}
