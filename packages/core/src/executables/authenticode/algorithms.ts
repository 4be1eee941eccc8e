import { createHash } from 'node:crypto';
import { oid, type OidChoice } from './der.js';

/**
 * The hash of a signature or certificate (ClamAV's cli_crt_hashtype). `any` marks the
 * certificates of `.crb` lines; `rsa` and `md2` are named by some signatures but cannot be
 * computed.
 */
export type HashType = 'any' | 'sha1' | 'md5' | 'md2' | 'rsa' | 'sha256' | 'sha384' | 'sha512';

export const OID = {
  sha1: oid('1.3.14.3.2.26'),
  sha1WithRsa: oid('1.3.14.3.2.29'),
  rsaEncryption: oid('1.2.840.113549.1.1.1'),
  md2WithRsa: oid('1.2.840.113549.1.1.2'),
  md5WithRsa: oid('1.2.840.113549.1.1.4'),
  sha1WithRsaEncryption: oid('1.2.840.113549.1.1.5'),
  sha256WithRsa: oid('1.2.840.113549.1.1.11'),
  sha384WithRsa: oid('1.2.840.113549.1.1.12'),
  sha512WithRsa: oid('1.2.840.113549.1.1.13'),
  md5: oid('1.2.840.113549.2.5'),
  sha256: oid('2.16.840.1.101.3.4.2.1'),
  sha384: oid('2.16.840.1.101.3.4.2.2'),
  sha512: oid('2.16.840.1.101.3.4.2.3'),
  pkcs7Data: oid('1.2.840.113549.1.7.1'),
  signedData: oid('1.2.840.113549.1.7.2'),
  contentType: oid('1.2.840.113549.1.9.3'),
  messageDigest: oid('1.2.840.113549.1.9.4'),
  signingTime: oid('1.2.840.113549.1.9.5'),
  counterSignature: oid('1.2.840.113549.1.9.6'),
  timestampToken: oid('1.2.840.113549.1.9.16.1.4'),
  spcIndirectData: oid('1.3.6.1.4.1.311.2.1.4'),
  spcPeImageData: oid('1.3.6.1.4.1.311.2.1.15'),
  spcCabData: oid('1.3.6.1.4.1.311.2.1.25'),
  nestedSignatures: oid('1.3.6.1.4.1.311.2.4.1'),
  rfc3161CounterSignature: oid('1.3.6.1.4.1.311.3.3.1'),
  certificateTrustList: oid('1.3.6.1.4.1.311.10.1'),
  catalogList: oid('1.3.6.1.4.1.311.12.1.1'),
  catalogListMember: oid('1.3.6.1.4.1.311.12.1.2'),
  catalogListMember2: oid('1.3.6.1.4.1.311.12.1.3'),
} as const;

interface DigestAlgorithm {
  readonly hash: HashType;
  readonly size: number;
}

/** The digest algorithms ClamAV accepts (asn1_expect_hash_algo), in its order. */
export const DIGEST_ALGORITHMS: readonly OidChoice<DigestAlgorithm>[] = [
  { oid: OID.sha1, value: { hash: 'sha1', size: 20 } },
  { oid: OID.sha1WithRsaEncryption, value: { hash: 'sha1', size: 20 } },
  { oid: OID.md5, value: { hash: 'md5', size: 16 } },
  { oid: OID.md5WithRsa, value: { hash: 'md5', size: 16 } },
  { oid: OID.sha256, value: { hash: 'sha256', size: 32 } },
  { oid: OID.sha256WithRsa, value: { hash: 'sha256', size: 32 } },
  { oid: OID.sha384, value: { hash: 'sha384', size: 48 } },
  { oid: OID.sha384WithRsa, value: { hash: 'sha384', size: 48 } },
  { oid: OID.sha512, value: { hash: 'sha512', size: 64 } },
  { oid: OID.sha512WithRsa, value: { hash: 'sha512', size: 64 } },
];

/** The signature algorithms ClamAV accepts (asn1_expect_rsa), in its order. */
export const SIGNATURE_ALGORITHMS: readonly OidChoice<HashType>[] = [
  { oid: OID.sha1WithRsa, value: 'sha1' },
  { oid: OID.sha1WithRsaEncryption, value: 'sha1' },
  { oid: OID.md5WithRsa, value: 'md5' },
  { oid: OID.rsaEncryption, value: 'rsa' },
  { oid: OID.md2WithRsa, value: 'md2' },
  { oid: OID.sha256WithRsa, value: 'sha256' },
  { oid: OID.sha384WithRsa, value: 'sha384' },
  { oid: OID.sha512WithRsa, value: 'sha512' },
];

const DIGEST_SIZES: Partial<Record<HashType, number>> = { sha1: 20, md5: 16, sha256: 32, sha384: 48, sha512: 64 };

/** The digest length of a computable hash type, or undefined for `any`, `rsa` and `md2`. */
export function digestSize(hash: HashType): number | undefined {
  return DIGEST_SIZES[hash];
}

/** A running hash of a computable type (get_hash_ctx), or undefined. */
export function startHash(hash: HashType): ReturnType<typeof createHash> | undefined {
  return digestSize(hash) === undefined ? undefined : createHash(hash);
}
