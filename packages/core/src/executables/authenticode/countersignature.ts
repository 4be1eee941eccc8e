import { OID, startHash } from './algorithms.js';
import type { CertificateStore } from './cert-store.js';
import { ASN1_CONTEXT_0, ASN1_INTEGER, ASN1_OBJECT_ID, ASN1_OCTET_STRING, ASN1_SEQUENCE, ASN1_SET, DerReader, Remaining, sameBytes } from './der.js';
import { attributesDigest, expectDigestAlgorithm, expectSignatureAlgorithm, readTime, sha1Of } from './x509.js';

/** The signed message a countersignature covers and the signer's validity its time must fall in. */
export interface CounterSigned {
  readonly message: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
}

const COUNTER_CONTENT_TYPE = 0;
const COUNTER_MESSAGE_DIGEST = 1;
const COUNTER_SIGNING_TIME = 2;
const ALL_COUNTER_ATTRIBUTES = 7;

/**
 * asn1_parse_countersignature: a PKCS#9 countersignature (the SignerInfo in the SET at `at`),
 * which must be signed by a trusted time-stamping certificate over the signer's encrypted digest,
 * at a time within the signer's validity. Returns whether it verified.
 */
export function verifyCountersignature(reader: DerReader, at: number, left: Remaining, store: CertificateStore, signed: CounterSigned): boolean {
  const fail = (message: string) => reader.fail(`asn1_parse_countersignature: ${message}`) ?? false;
  const signerInfo = reader.expectType(at, left, ASN1_SEQUENCE);
  if (!signerInfo) return fail('expected SEQUENCE inside counterSignature SET');
  const inSigner = new Remaining(signerInfo.size);
  const version = reader.expectType(signerInfo.content, inSigner, ASN1_INTEGER);
  if (!version) return fail('expected INTEGER for counterSignature version');
  if (version.size !== 1) return fail(`expected INTEGER of size 1, got size ${version.size}`);
  if (!reader.readable(version.content, 1)) return fail('failed to read version');
  // Version 1 by the specification, but signatures with 0 validate on Windows.
  if (reader.data[version.content]! > 1) return fail('counterSignature version is not 1 or 0');
  const issuerAndSerial = reader.expectType(version.next, inSigner, ASN1_SEQUENCE);
  if (!issuerAndSerial) return fail('unable to parse issuerAndSerialNumber SEQUENCE in counterSignature');
  const inIssuerAndSerial = new Remaining(issuerAndSerial.size);
  const issuerName = reader.expectType(issuerAndSerial.content, inIssuerAndSerial, ASN1_SEQUENCE);
  if (!issuerName) return fail('unable to parse issuer SEQUENCE in counterSignature');
  const issuer = sha1Of(reader, issuerName.content, issuerName.size);
  if (issuer === undefined) return fail('error in call to map_sha1 for counterSignature issuer');
  const serialNumber = reader.expectType(issuerName.next, inIssuerAndSerial, ASN1_INTEGER);
  if (!serialNumber) return fail('expected ASN1_TYPE_INTEGER serial for counterSignature');
  const serial = sha1Of(reader, serialNumber.content, serialNumber.size);
  if (serial === undefined) return fail('error in call to map_sha1 for counterSignature serial');
  if (inIssuerAndSerial.bytes) return fail('extra data inside counterSignature issuer');
  const digest = expectDigestAlgorithm(reader, issuerAndSerial.next, inSigner);
  if (!digest) return fail('error parsing counterSignature digestAlgorithm');
  const messageDigest = startHash(digest.hash)?.update(signed.message).digest();
  if (!messageDigest) return fail('failed to map in message/compute countersignature hash');
  const attributesAt = digest.next;
  const attributes = reader.expectType(attributesAt, inSigner, ASN1_CONTEXT_0);
  if (!attributes) return fail('unable to parse counterSignature authenticatedAttributes section');
  if (!checkCounterAttributes(reader, attributes.content, attributes.size, { ...digest, messageDigest }, signed)) return false;
  const encryption = expectSignatureAlgorithm(reader, attributes.next, inSigner);
  if (!encryption) return fail('unable to parse the digestEncryptionAlgorithm');
  if (encryption.value !== 'rsa' && encryption.value !== digest.hash) return fail('digestEncryptionAlgorithm conflicts with digestAlgorithm');
  const encryptedDigest = reader.expectType(encryption.next, inSigner, ASN1_OCTET_STRING);
  if (!encryptedDigest) return fail('unexpected encryptedDigest value in counterSignature');
  if (encryptedDigest.size > 513) return fail('countersignature encryptedDigest too long');
  if (inSigner.bytes) return fail('extra data inside countersignature');
  const attributesSize = attributes.next - attributesAt;
  if (!reader.readable(attributesAt, attributesSize)) return fail('failed to read authenticatedAttributes');
  const signedDigest = attributesDigest(reader, attributesAt, attributesSize, digest.hash);
  if (!signedDigest) return false;
  if (!reader.readable(encryptedDigest.content, encryptedDigest.size)) return fail('failed to read countersignature encryptedDigest');
  const signature = reader.bytes(encryptedDigest.content, encryptedDigest.size);
  if (!store.signerOf(issuer, serial, signature, digest.hash, signedDigest, 'time')) return fail('pkcs7 countersignature verification failed');
  reader.debug('asn1_parse_countersignature: countersignature verification completed successfully');
  return true;
}

/** The countersignature's contentType, messageDigest and signingTime, each once. */
function checkCounterAttributes(
  reader: DerReader,
  at: number,
  size: number,
  digest: { size: number; messageDigest: Uint8Array },
  signed: CounterSigned,
): boolean {
  const fail = (message: string) => reader.fail(`asn1_parse_countersignature: ${message}`) ?? false;
  const left = new Remaining(size);
  let next = at;
  let seen = 0;
  while (left.bytes) {
    const attribute = reader.expectType(next, left, ASN1_SEQUENCE);
    if (!attribute) return fail('expected counterSignature attribute SEQUENCE');
    next = attribute.next;
    const inAttribute = new Remaining(attribute.size);
    const type = reader.expectType(attribute.content, inAttribute, ASN1_OBJECT_ID);
    if (!type) return fail('expected attribute type inside counterSignature attribute SEQUENCE');
    if (type.size !== OID.contentType.length) continue;
    if (!reader.readable(type.content, type.size)) return fail('failed to read counterSignature authenticated attribute');
    const kind = counterAttributeKind(reader.bytes(type.content, type.size));
    if (kind === undefined) continue;
    if (seen & (1 << kind)) return fail('duplicate field in countersignature');
    seen |= 1 << kind;
    const values = reader.expectType(type.next, inAttribute, ASN1_SET);
    if (!values) return fail('failed to read counterSignature authenticated attribute');
    if (inAttribute.bytes) return fail('extra data in countersignature value');
    if (!checkCounterAttribute(reader, kind, values.content, new Remaining(values.size), digest, signed)) return false;
  }
  if (seen !== ALL_COUNTER_ATTRIBUTES) return fail('some important attributes are missing in countersignature');
  return true;
}

function counterAttributeKind(type: Uint8Array): number | undefined {
  if (sameBytes(type, OID.contentType)) return COUNTER_CONTENT_TYPE;
  if (sameBytes(type, OID.messageDigest)) return COUNTER_MESSAGE_DIGEST;
  if (sameBytes(type, OID.signingTime)) return COUNTER_SIGNING_TIME;
  return undefined;
}

/** One attribute's value; anything after it in its SET is refused too (after ClamAV's note). */
function checkCounterAttribute(
  reader: DerReader,
  kind: number,
  at: number,
  left: Remaining,
  digest: { size: number; messageDigest: Uint8Array },
  signed: CounterSigned,
): boolean {
  const fail = (message: string) => reader.fail(`asn1_parse_countersignature: ${message}`) ?? false;
  if (kind === COUNTER_CONTENT_TYPE) {
    const asData = new Remaining(left.bytes);
    if (reader.expectContent(at, asData, ASN1_OBJECT_ID, OID.pkcs7Data) !== undefined) {
      left.bytes = asData.bytes;
    } else {
      reader.debug('asn1_parse_countersignature: contentType != pkcs7-data, checking for timestampToken instead');
      // Some signatures name a timestampToken here instead.
      if (reader.expectContent(at, left, ASN1_OBJECT_ID, OID.timestampToken) === undefined) return fail('contentType != timestampToken');
    }
    if (left.bytes) reader.debug('asn1_parse_countersignature: extra data in countersignature content-type');
    return left.bytes === 0;
  }
  if (kind === COUNTER_MESSAGE_DIGEST) {
    const expected = digest.messageDigest.subarray(0, digest.size);
    if (reader.expectContent(at, left, ASN1_OCTET_STRING, expected) === undefined) return fail('countersignature hash mismatch');
    if (left.bytes) reader.debug('asn1_parse_countersignature: extra data in countersignature message-digest');
    return left.bytes === 0;
  }
  const time = readTime(reader, at, left);
  if (!time) return fail('an error occurred when getting the time');
  if (left.bytes) return fail('extra data in countersignature signing-time');
  if (time.seconds < signed.notBefore || time.seconds > signed.notAfter) return fail('countersignature timestamp outside cert validity');
  return true;
}
