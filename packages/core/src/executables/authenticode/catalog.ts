import type { Logger } from '../../util/logger.js';
import { OID } from './algorithms.js';
import type { CertificateStore } from './cert-store.js';
import { expectDigestAlgorithm } from './x509.js';
import { ASN1_OBJECT_ID, ASN1_OCTET_STRING, ASN1_SEQUENCE, ASN1_SET, ASN1_UTC_TIME, DerReader, Remaining, sameBytes, toHex } from './der.js';
import { parseSignedData } from './signed-data.js';

/** A member hash of a catalog: a SHA-1 or SHA-256 digest, of a PE file or of a cabinet. */
export interface CatalogHash {
  readonly digest: Uint8Array;
  readonly kind: 'PE' | 'CAB';
}

/**
 * The sizes ClamAV gives catalog hashes in its allow-list (hm_fp), which tell PE and cabinet
 * hashes apart from each other and from whole-file hashes.
 */
export const CATALOG_ENTRY_SIZE = { CAB: 1, PE: 2 } as const;

const LIST_MEMBERS = [
  { oid: OID.catalogListMember, value: undefined },
  { oid: OID.catalogListMember2, value: undefined },
];

/**
 * asn1_load_mscat: a signed Microsoft catalog (`.cat`). Its signature must verify against
 * `store` (the engine's certificates, which gain the catalog's chain); then every member's
 * Authenticode hash is returned, or undefined when any part fails (ClamAV then loads none).
 * Hashes before a failing member are still returned to `onHash`, as ClamAV has added them.
 */
export function loadCatalog(
  data: Uint8Array,
  store: CertificateStore,
  logger: Logger,
  onHash: (hash: CatalogHash) => void,
  options: { now?: number; dumpCertificates?: boolean } = {},
): boolean {
  const reader = new DerReader(data, logger);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const parsed = parseSignedData(reader, 0, data.length, store, { embedded: false, blockList: store, now, dumpCertificates: options.dumpCertificates });
  if (parsed.status !== 'clean' || !parsed.content) return false;
  const left = new Remaining(parsed.content.size);
  const list = reader.expectType(parsed.content.at, left, ASN1_SEQUENCE);
  if (!list) return false;
  const inList = new Remaining(list.size);
  if (reader.expectContent(list.content, inList, ASN1_OBJECT_ID, OID.catalogList) === undefined) return false;
  if (inList.bytes) return reader.fail('asn1_load_mscat: found extra data in szOID_CATALOG_LIST content') ?? false;
  const listId = reader.expectType(list.next, left, ASN1_OCTET_STRING);
  if (!listId) return false;
  const effectiveDate = reader.expectType(listId.next, left, ASN1_UTC_TIME);
  if (!effectiveDate) return false;
  const member = reader.expectAlgorithmOf(effectiveDate.next, left, LIST_MEMBERS);
  if (!member) return reader.fail('asn1_expect_list_member: Failed to find valid OID alternative for list member algo') ?? false;
  const members = reader.expectType(member.next, left, ASN1_SEQUENCE);
  if (!members) return false;
  const inMembers = new Remaining(members.size);
  let next = members.content;
  while (inMembers.bytes) {
    const entry = reader.expectType(next, inMembers, ASN1_SEQUENCE);
    if (!entry) return false;
    next = entry.next;
    if (!readMember(reader, entry.content, entry.size, onHash)) return false;
  }
  return true;
}

/** One catalog member: `OCTET STRING tag, SET { attributes }`; SpcIndirectData attributes hold hashes. */
function readMember(reader: DerReader, at: number, size: number, onHash: (hash: CatalogHash) => void): boolean {
  const left = new Remaining(size);
  const tag = reader.expectType(at, left, ASN1_OCTET_STRING);
  if (!tag) return false;
  const attributes = reader.expectType(tag.next, left, ASN1_SET);
  if (!attributes) return false;
  if (left.bytes) return reader.fail('asn1_load_mscat: found extra data in tag') ?? false;
  const inAttributes = new Remaining(attributes.size);
  let next = attributes.content;
  while (inAttributes.bytes) {
    const attribute = reader.expectType(next, inAttributes, ASN1_SEQUENCE);
    if (!attribute) return false;
    next = attribute.next;
    const read = readMemberAttribute(reader, attribute.content, attribute.size);
    if (read === 'failed') return false;
    if (read !== 'other') onHash(read);
  }
  return true;
}

/** An attribute of a member: the hash of an SpcIndirectData one, `other` for the rest. */
function readMemberAttribute(reader: DerReader, at: number, size: number): CatalogHash | 'other' | 'failed' {
  const fail = (message?: string): 'failed' => {
    if (message) reader.debug(`asn1_load_mscat: ${message}`);
    return 'failed';
  };
  const left = new Remaining(size);
  const type = reader.expectType(at, left, ASN1_OBJECT_ID);
  if (!type) return fail();
  if (type.size !== OID.spcIndirectData.length) return 'other';
  if (!reader.readable(type.content, type.size)) return fail('cannot read SPC_INDIRECT_DATA');
  // Others are catalog names and member information (CAT_NAMEVALUE_OBJID, CAT_MEMBERINFO_OBJID).
  if (!sameBytes(reader.bytes(type.content, type.size), OID.spcIndirectData)) return 'other';
  const values = reader.expectType(type.next, left, ASN1_SET);
  if (!values) return fail();
  if (left.bytes) return fail('found extra data in tag value');
  const inValues = new Remaining(values.size);
  const indirect = reader.expectType(values.content, inValues, ASN1_SEQUENCE);
  if (!indirect) return fail();
  if (inValues.bytes) return fail('found extra data in SPC_INDIRECT_DATA_OBJID tag');
  const inIndirect = new Remaining(indirect.size);
  const dataType = reader.expectType(indirect.content, inIndirect, ASN1_SEQUENCE);
  if (!dataType) return fail();
  const kindOid = reader.expectType(dataType.content, new Remaining(dataType.size), ASN1_OBJECT_ID);
  if (!kindOid) return fail();
  if (kindOid.size !== OID.spcPeImageData.length) return fail('bad hash type size');
  if (!reader.readable(kindOid.content, kindOid.size)) return fail('cannot read hash type');
  const kindBytes = reader.bytes(kindOid.content, kindOid.size);
  const kind = sameBytes(kindBytes, OID.spcPeImageData) ? 'PE' : sameBytes(kindBytes, OID.spcCabData) ? 'CAB' : undefined;
  if (!kind) return fail('unexpected hash type');
  const digestInfo = reader.expectType(dataType.next, inIndirect, ASN1_SEQUENCE);
  if (!digestInfo) return fail();
  if (inIndirect.bytes) return fail('found extra data after hash');
  const inDigestInfo = new Remaining(digestInfo.size);
  const algorithm = expectDigestAlgorithm(reader, digestInfo.content, inDigestInfo);
  if (!algorithm) return fail('failed to identify hash algorithm used');
  if (algorithm.hash !== 'sha1' && algorithm.hash !== 'sha256') return fail('only SHA1 and SHA256 hashes are supported for .cat file sigs');
  const value = reader.expectType(algorithm.next, inDigestInfo, ASN1_OCTET_STRING);
  if (!value) return fail();
  if (inDigestInfo.bytes) return fail('found extra data in hash');
  if (value.size !== algorithm.size) return fail(`bad hash size ${value.size}`);
  if (!reader.readable(value.content, value.size)) return fail('cannot read hash');
  const digest = reader.bytes(value.content, value.size);
  if (reader.logger.debugEnabled) reader.debug(`asn1_load_mscat: got hash ${toHex(digest)} (${kind})`);
  return { digest, kind };
}
