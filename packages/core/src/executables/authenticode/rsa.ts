import type { Logger } from '../../util/logger.js';
import { digestSize, OID, type HashType } from './algorithms.js';
import { byteLength, bytesOf } from './certificate.js';
import { sameBytes } from './der.js';

/**
 * ClamAV's own PKCS#1 v1.5 signature check (crtmgr_rsa_verify): the signature raised to the
 * key's exponent, the type-1 padding, then a DigestInfo that must name `hash` exactly as ClamAV
 * spells it and hold `digest`. Every refusal logs what ClamAV logs.
 */
export function rsaVerify(key: { modulus: bigint; exponent: bigint }, signature: bigint, hash: HashType, digest: Uint8Array, logger: Logger): boolean {
  const hashLength = digestSize(hash);
  if (hashLength === undefined) {
    logger.error(`crtmgr_rsa_verify: Unsupported hashtype: ${HASH_TYPE_NUMBERS[hash]}`);
    return false;
  }
  const keyLength = byteLength(key.modulus);
  if (Math.abs(keyLength - byteLength(signature)) > 1) return debug(logger, 'crtmgr_rsa_verify: keylen and siglen differ by more than one');
  const recovered = bytesOf(modPow(signature, key.exponent, key.modulus));
  const payload = unpad(recovered, keyLength, logger);
  if (!payload) return debug(logger, 'crtmgr_rsa_verify: RSA_padding_check_PKCS1_type_1() failed');
  return digestInfoHolds(payload, hash, hashLength, digest, logger);
}

/** cli_crt_hashtype's numbers, for the one message that prints one. */
const HASH_TYPE_NUMBERS: Record<HashType, number> = { any: 0, sha1: 1, md5: 2, md2: 3, rsa: 4, sha256: 5, sha384: 6, sha512: 7 };

function debug(logger: Logger, message: string): false {
  if (logger.debugEnabled) logger.debug(message);
  return false;
}

/** `base ** exponent mod modulus` (BN_mod_exp); 0 for a modulus of 0 or 1. */
function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus <= 1n) return 0n;
  let result = 1n;
  let square = base % modulus;
  for (let e = exponent < 0n ? -exponent : exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * square) % modulus;
    square = (square * square) % modulus;
  }
  return result;
}

const UNPAD = '_padding_check_PKCS1_type_1';

/**
 * The data after `00 01 FF… 00` in `from` (the recovered block without its leading zeros), for
 * a key of `keyLength` bytes; undefined when the padding is wrong.
 */
function unpad(from: Uint8Array, keyLength: number, logger: Logger): Uint8Array | undefined {
  if (keyLength < 11) return undefined;
  let at = 0;
  let length = from.length;
  if (keyLength === length) {
    if (from[at++] !== 0x00) return debug(logger, `${UNPAD}: Bad padding`) || undefined;
    length--;
  }
  if (keyLength !== length + 1 || from[at++] !== 0x01) return debug(logger, `${UNPAD}: Bad block type`) || undefined;
  const paddingEnd = length - 1;
  let i = 0;
  for (; i < paddingEnd; i++, at++) {
    if (from[at] === 0xff) continue;
    if (from[at] === 0x00) {
      at++;
      break;
    }
    return debug(logger, `${UNPAD}: Bad header`) || undefined;
  }
  if (i === paddingEnd) return debug(logger, `${UNPAD}: Bad header`) || undefined;
  if (i < 8) return debug(logger, `${UNPAD}: Bad padding`) || undefined;
  return from.subarray(at, at + paddingEnd - (i + 1));
}

/** The DER prefixes (algorithm OID and NULL) ClamAV accepts for each hash, by their length. */
const ALGORITHM_BLOCKS: Partial<Record<HashType, Uint8Array>> = {
  sha1: algorithmBlock(OID.sha1),
  md5: algorithmBlock(OID.md5),
  sha256: algorithmBlock(OID.sha256),
  sha384: algorithmBlock(OID.sha384),
  sha512: algorithmBlock(OID.sha512),
};

function algorithmBlock(oid: Uint8Array): Uint8Array {
  return Uint8Array.from([0x06, oid.length, ...oid, 0x05, 0x00]);
}

const CRYPTO_MISSING = 'crtmgr_rsa_verify: FIXME ACAB - CRYPTO MISSING?';

/** `SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING digest }`, checked as ClamAV checks it. */
function digestInfoHolds(d: Uint8Array, hash: HashType, hashLength: number, digest: Uint8Array, logger: Logger): boolean {
  let length = d.length;
  if (length <= hashLength) return debug(logger, 'crtmgr_rsa_verify: encountered len less than hashlen');
  if (d[0] !== 0x30 || d[1] !== length - 2) return debug(logger, 'crtmgr_rsa_verify: unexpected hash to be ASN1 DER encoded.');
  length -= 2;
  let at = 2;
  if (length < 2 || d[at] !== 0x30) return debug(logger, 'crtmgr_rsa_verify: expected SEQUENCE at beginning of cert AlgorithmIdentifier');
  const algorithmLength = d[at + 1]!;
  length -= 2;
  at += 2;
  if (length < algorithmLength) return debug(logger, 'crtmgr_rsa_verify: key length mismatch in ASN1 DER hash encoding');
  if (!algorithmAccepted(d.subarray(at, at + algorithmLength), hash, logger)) return false;
  length -= algorithmLength;
  at += algorithmLength;
  if (length < 2 || d[at] !== 0x04 || d[at + 1] !== hashLength) return debug(logger, 'crtmgr_rsa_verify: hash length mismatch in ASN1 DER hash encoding');
  at += 2;
  length -= 2;
  if (length !== hashLength) return debug(logger, 'crtmgr_rsa_verify: extra data in the ASN1 DER hash encoding');
  return sameBytes(d.subarray(at, at + hashLength), digest.subarray(0, hashLength));
}

/** The algorithm block: 9 bytes only SHA-1, 12 only MD5, 13 one of the SHA-2 hashes. */
function algorithmAccepted(block: Uint8Array, hash: HashType, logger: Logger): boolean {
  const expected = ALGORITHM_BLOCKS[hash];
  const sha2 = hash === 'sha256' || hash === 'sha384' || hash === 'sha512';
  const lengthFits =
    (block.length === 9 && hash === 'sha1') || (block.length === 12 && hash === 'md5') || (block.length === 13 && sha2);
  if (!lengthFits || !expected) {
    logger.error(CRYPTO_MISSING);
    return false;
  }
  if (sameBytes(block, expected)) return true;
  if (sha2) return debug(logger, `crtmgr_rsa_verify: invalid AlgorithmIdentifier block for ${hash.toUpperCase()} hash`);
  logger.error(CRYPTO_MISSING);
  return false;
}
