import { createHash } from 'node:crypto';
import type { HashIndex } from '../../matching/hash-index.js';
import type { Logger } from '../../util/logger.js';
import type { PeFile } from '../pe-file.js';
import { OID } from './algorithms.js';
import { CATALOG_ENTRY_SIZE } from './catalog.js';
import { expectDigestAlgorithm } from './x509.js';
import { ASN1_OBJECT_ID, ASN1_OCTET_STRING, ASN1_SEQUENCE, DerReader, Remaining, toHex } from './der.js';
import { parseSignedData } from './signed-data.js';
import type { AuthenticodeTrust } from './trust.js';

/**
 * ClamAV's Authenticode check of a PE file (cli_check_auth_header and asn1_check_mscat), run
 * before its signatures are matched: `verified` (a trusted signature, or the allow-list has its
 * Authenticode hash with the size 2, as `.cat` catalogs and `.fp`/`.sfp` lines add them: the file
 * is clean and not scanned further), `blocked` (a block-listed certificate was
 * reported and the scan stops) or `unverified` (scanned as usual).
 */
export type AuthenticodeVerdict = 'verified' | 'blocked' | 'unverified';

export interface AuthenticodeCheckOptions {
  readonly logger: Logger;
  /** Reports a block-list name; returns whether the scan goes on (see ScanRun.report). */
  readonly report: (name: string) => boolean;
  /** Seconds since the epoch. */
  readonly now?: number;
}

const AUTHENTICODE_ENTRY_SIZE = CATALOG_ENTRY_SIZE.PE;
const AUTHENTICODE_HASHES = ['sha1', 'sha256'] as const;

/** A byte range of the file that the Authenticode hash covers. */
interface Region {
  readonly at: number;
  readonly size: number;
}

/** The COFF header with the PE signature, and where the optional header's CheckSum is. */
const FILE_HEADER_SIZE = 24;
const CHECKSUM_OFFSET = 64;
/** The optional header without data directories, PE32 and PE32+. */
const OPTIONAL_HEADER_SIZE = 96;
const OPTIONAL_HEADER_PLUS_SIZE = 112;
const DATA_DIRECTORY_SIZE = 8;
const SECURITY_DIRECTORY = 4;
/** WIN_CERTIFICATE: dwLength, wRevision, wCertificateType. */
const CERTIFICATE_HEADER_SIZE = 8;
const WIN_CERT_REVISION_2 = 0x0200;
const WIN_CERT_TYPE_PKCS7 = 0x0002;

export function checkAuthenticode(
  data: Uint8Array,
  pe: PeFile,
  trust: AuthenticodeTrust,
  allowList: HashIndex,
  options: AuthenticodeCheckOptions,
): AuthenticodeVerdict {
  if (trust.disabled) return 'unverified';
  const { rva: securityOffset, size: securitySize } = pe.directories[SECURITY_DIRECTORY]!;
  const listsAuthenticodeHashes = AUTHENTICODE_HASHES.some((hash) => allowList.hasSize(hash, AUTHENTICODE_ENTRY_SIZE));
  if (securitySize < CERTIFICATE_HEADER_SIZE && !listsAuthenticodeHashes) return 'unverified';
  const reader = new DerReader(data, options.logger);
  const regions = headerRegions(pe);
  const afterHeaders = regions[1]!.at + regions[1]!.size + DATA_DIRECTORY_SIZE;
  if (afterHeaders > pe.headersSize) return 'unverified';
  if (securityOffset === 0) {
    if (afterHeaders < data.length) regions.push({ at: afterHeaders, size: data.length - afterHeaders });
    return listedInAllowList(data, regions, allowList, reader) ? 'verified' : 'unverified';
  }
  const signatureAt = signatureStart(data, securityOffset, securitySize, afterHeaders, reader);
  if (signatureAt === undefined) return 'unverified';
  if (afterHeaders < securityOffset) regions.push({ at: afterHeaders, size: securityOffset - afterHeaders });
  const verdict = checkEmbeddedSignature(reader, signatureAt, securitySize - CERTIFICATE_HEADER_SIZE, regions, trust, options);
  if (verdict !== 'unverified') return verdict;
  // A file whose own signature did not verify may still be listed in a catalog.
  return listedInAllowList(data, regions, allowList, reader) ? 'verified' : 'unverified';
}

/** MZ up to the CheckSum, then from after it up to the security directory entry. */
function headerRegions(pe: PeFile): Region[] {
  const checksumAt = pe.peOffset + FILE_HEADER_SIZE + CHECKSUM_OFFSET;
  const optionalSize = pe.isPe32Plus ? OPTIONAL_HEADER_PLUS_SIZE : OPTIONAL_HEADER_SIZE;
  const afterChecksum = checksumAt + 4;
  const toSecurityEntry = optionalSize - CHECKSUM_OFFSET - 4 + DATA_DIRECTORY_SIZE * SECURITY_DIRECTORY;
  return [
    { at: 0, size: checksumAt },
    { at: afterChecksum, size: toSecurityEntry },
  ];
}

/**
 * Where the PKCS#7 data of the certificate table starts, after ClamAV's checks of where the table
 * is and of its WIN_CERTIFICATE header; undefined when they refuse it.
 */
function signatureStart(data: Uint8Array, offset: number, size: number, afterHeaders: number, reader: DerReader): number | undefined {
  if (data.length !== offset + size) return reader.fail('cli_check_auth_header: expected authenticode data at the end of the file');
  if (afterHeaders > offset) return reader.fail('cli_check_auth_header: security directory offset appears to overlap with the PE header');
  if (offset + CERTIFICATE_HEADER_SIZE > data.length) return undefined;
  const view = new DataView(data.buffer, data.byteOffset + offset, CERTIFICATE_HEADER_SIZE);
  if (view.getUint16(4, true) !== WIN_CERT_REVISION_2) return reader.fail('cli_check_auth_header: unsupported authenticode data revision');
  if (view.getUint16(6, true) !== WIN_CERT_TYPE_PKCS7) return reader.fail('cli_check_auth_header: unsupported authenticode data type');
  if (view.getUint32(0, true) !== size) {
    // ClamAV verifies such signatures anyway, as Windows does by default.
    reader.debug('cli_check_auth_header: MS13-098 violation detected, but continuing on to verify certificate');
  }
  return offset + CERTIFICATE_HEADER_SIZE;
}

/** asn1_check_mscat: the signature is trusted and its SpcIndirectData holds the file's hash. */
function checkEmbeddedSignature(
  reader: DerReader,
  at: number,
  size: number,
  regions: readonly Region[],
  trust: AuthenticodeTrust,
  options: AuthenticodeCheckOptions,
): AuthenticodeVerdict {
  reader.debug(`in asn1_check_mscat (offset: ${at})`);
  const { logger } = options;
  const parsed = parseSignedData(reader, at, size, trust.roots(logger), {
    embedded: true,
    blockList: trust.everything(logger),
    report: options.report,
    now: options.now ?? Math.floor(Date.now() / 1000),
    dumpCertificates: trust.dumpCertificates,
  });
  if (parsed.status === 'virus') return 'blocked';
  if (parsed.status !== 'clean' || !parsed.content) return 'unverified';
  return storedHashMatches(reader, parsed.content.at, parsed.content.size, regions) ? 'verified' : 'unverified';
}

/** SpcIndirectDataContent: `SEQUENCE { spcPEImageData … }, DigestInfo { algorithm, hash }`. */
function storedHashMatches(reader: DerReader, at: number, size: number, regions: readonly Region[]): boolean {
  const fail = (message: string) => reader.fail(`asn1_check_mscat: ${message}`) ?? false;
  const left = new Remaining(size);
  const data = reader.expectType(at, left, ASN1_SEQUENCE);
  if (!data) return fail('expected SEQUENCE at top level of hash container');
  if (reader.expectContent(data.content, new Remaining(data.size), ASN1_OBJECT_ID, OID.spcPeImageData) === undefined) {
    return fail('expected spcPEImageData OID in the first hash SEQUENCE');
  }
  const digestInfo = reader.expectType(data.next, left, ASN1_SEQUENCE);
  if (!digestInfo) return fail('expected second hash container object to be a SEQUENCE');
  if (left.bytes) return fail('extra data in hash SEQUENCE');
  const inDigestInfo = new Remaining(digestInfo.size);
  const algorithm = expectDigestAlgorithm(reader, digestInfo.content, inDigestInfo);
  if (!algorithm) return fail('unexpected file hash algo');
  const computed = regionsDigest(reader.data, regions, algorithm.hash);
  if (!computed) return false;
  if (reader.logger.debugEnabled) reader.debug(`Authenticode: ${toHex(computed)}`);
  if (reader.expectContent(algorithm.next, inDigestInfo, ASN1_OCTET_STRING, computed) === undefined) {
    return fail('computed authenticode hash did not match stored value');
  }
  if (inDigestInfo.bytes) return fail('extra data after the stored authenticode hash');
  reader.debug('asn1_check_mscat: file with valid authenticode signature, trusted');
  return true;
}

/** The hash of the regions, or undefined when one reaches past the end of the file. */
function regionsDigest(data: Uint8Array, regions: readonly Region[], hash: string): Uint8Array | undefined {
  const hasher = createHash(hash);
  for (const { at, size } of regions) {
    if (size === 0) continue;
    if (at + size > data.length) return undefined;
    hasher.update(data.subarray(at, at + size));
  }
  return hasher.digest();
}

/**
 * Does the allow-list hold the file's SHA-1 or SHA-256 Authenticode hash with the size 2? A hash
 * is computed only when the list has entries of that algorithm and size.
 */
function listedInAllowList(data: Uint8Array, regions: readonly Region[], allowList: HashIndex, reader: DerReader): boolean {
  for (const hash of AUTHENTICODE_HASHES) {
    if (!allowList.hasSize(hash, AUTHENTICODE_ENTRY_SIZE)) continue;
    const digest = regionsDigest(data, regions, hash);
    if (!digest) return false;
    if (allowList.lookup(hash, digest, AUTHENTICODE_ENTRY_SIZE).sized >= 0) {
      reader.debug(`cli_check_auth_header: PE file trusted by catalog file (${hash})`);
      return true;
    }
  }
  return false;
}
