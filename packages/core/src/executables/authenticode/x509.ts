import { createHash } from 'node:crypto';
import { DIGEST_ALGORITHMS, OID, SIGNATURE_ALGORITHMS, startHash, type HashType } from './algorithms.js';
import type { CertificateStore } from './cert-store.js';
import { bigIntOf, type Certificate } from './certificate.js';
import {
  ASN1_BIT_STRING,
  ASN1_BOOLEAN,
  ASN1_CONTEXT_0,
  ASN1_CONTEXT_3,
  ASN1_GENERALIZED_TIME,
  ASN1_INTEGER,
  ASN1_OBJECT_ID,
  ASN1_OCTET_STRING,
  ASN1_SEQUENCE,
  ASN1_UTC_TIME,
  DerReader,
  Remaining,
  sameBytes,
} from './der.js';

/**
 * X.509 certificates as ClamAV's asn1.c reads them (asn1_get_x509 and its helpers): only RSA
 * keys, version 1 or 3, the key-usage, extended-key-usage and basic-constraints extensions for
 * what a certificate may sign.
 */

/** How reading one embedded certificate ended (ASN1_GET_X509_*). */
export type CertificateRead = 'added' | 'skipped' | 'unrecoverable';

/** ClamAV's CRT_RAWMAXLEN - 1: the bytes of a name or serial it copies before hashing it. */
const RAW_COPY = 63;

const KEY_USAGE = Uint8Array.of(0x55, 0x1d, 0x0f);
const EXTENDED_KEY_USAGE = Uint8Array.of(0x55, 0x1d, 0x25);
const BASIC_CONSTRAINTS = Uint8Array.of(0x55, 0x1d, 0x13);
const CODE_SIGNING = Uint8Array.of(0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03);
const TIME_STAMPING = Uint8Array.of(0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08);
const LIFETIME_SIGNING = Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x0a, 0x03, 0x0d);
const VERSION_3 = Uint8Array.of(0x02);

/** SHA-1 (hex) of `length` bytes at `at` (map_sha1), or undefined. */
export function sha1Of(reader: DerReader, at: number, length: number): string | undefined {
  if (!reader.readable(at, length)) return reader.fail('map_sha1: failed to read hash data');
  return createHash('sha1').update(reader.bytes(at, length)).digest('hex');
}

/** map_raw then map_sha1, as ClamAV reads a name or serial it keeps: its first bytes and its SHA-1. */
function rawSha1Of(reader: DerReader, at: number, length: number): { raw: Uint8Array; sha1: string } | undefined {
  if (!reader.readable(at, Math.min(length, RAW_COPY))) return reader.fail('map_raw: failed to read map data');
  const sha1 = sha1Of(reader, at, length);
  return sha1 === undefined ? undefined : { raw: reader.bytes(at, Math.min(length, RAW_COPY)), sha1 };
}

/** map_hash: the digest of `length` bytes at `at`, or undefined. */
export function digestOf(reader: DerReader, at: number, length: number, hash: HashType): Uint8Array | undefined {
  const hasher = startHash(hash);
  if (!hasher) return reader.fail('asn1_map_hash: unsupported hashtype');
  if (!reader.readable(at, length)) return reader.fail(`map_${hash}: failed to read hash data`);
  return hasher.update(reader.bytes(at, length)).digest();
}

/** asn1_expect_rsa: a signature algorithm identifier. */
export function expectSignatureAlgorithm(reader: DerReader, at: number, left: Remaining): { value: HashType; next: number } | undefined {
  const found = reader.expectAlgorithmOf(at, left, SIGNATURE_ALGORITHMS);
  if (!found) return reader.fail('asn1_expect_rsa: Failed to find valid OID alternative for RSA algo');
  return found;
}

/** asn1_expect_hash_algo: a digest algorithm identifier. */
export function expectDigestAlgorithm(reader: DerReader, at: number, left: Remaining): { hash: HashType; size: number; next: number } | undefined {
  const found = reader.expectAlgorithmOf(at, left, DIGEST_ALGORITHMS);
  if (!found) return reader.fail('asn1_expect_hash_algo: Failed to find valid OID alternative for hash algo');
  return { ...found.value, next: found.next };
}

/** The digest of the authenticated attributes `[0] …` as signed: with a SET tag in place of [0]. */
export function attributesDigest(reader: DerReader, at: number, size: number, hash: HashType): Uint8Array | undefined {
  const hasher = startHash(hash);
  if (!hasher) return reader.fail('asn1_get_hash_ctx: unsupported hashtype');
  return hasher.update(Uint8Array.of(0x31)).update(reader.bytes(at + 1, size - 1)).digest();
}

/** asn1_getnum: two decimal digits, or -1 (logged). */
function twoDigits(reader: DerReader, at: number): number {
  const a = reader.data[at]!;
  const b = reader.data[at + 1]!;
  if (a < 0x30 || a > 0x39 || b < 0x30 || b > 0x39) {
    reader.debug(`asn1_getnum: expecting digits, found '${String.fromCharCode(a)}${String.fromCharCode(b)}'`);
    return -1;
  }
  return (a - 0x30) * 10 + (b - 0x30);
}

/**
 * mktime's reading of a calendar time with tm_isdst 0: in the machine's local zone, at its
 * standard-time offset (even on a date daylight saving time covers), fields out of range carried
 * over. Seconds since the epoch.
 */
function localStandardSeconds(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, second, 0);
  return Math.floor(date.getTime() / 1000) + standardOffsetMinutes(year) * 60;
}

/**
 * Minutes the local zone's standard time is behind UTC in `year` (Date#getTimezoneOffset's sign):
 * the larger offset of January and July, as daylight saving time moves clocks forward.
 */
function standardOffsetMinutes(year: number): number {
  const january = new Date(0);
  january.setFullYear(year, 0, 1);
  const july = new Date(0);
  july.setFullYear(year, 6, 1);
  return Math.max(january.getTimezoneOffset(), july.getTimezoneOffset());
}

/**
 * asn1_get_time: a UTCTime or GeneralizedTime, as seconds. ClamAV's quirks are kept: its mktime
 * reads the fields as the machine's local standard time (see localStandardSeconds), so validity
 * checks against the current time shift with the zone the scan runs in; a GeneralizedTime's
 * century digits count twice (`2049` reads as 2020); seconds may be left out of a UTCTime.
 */
export function readTime(reader: DerReader, at: number, left: Remaining): { seconds: number; next: number } | undefined {
  const object = reader.getObject(at, left);
  if (!object) return undefined;
  const generalized = object.type === ASN1_GENERALIZED_TIME;
  if (!generalized && object.type !== ASN1_UTC_TIME) {
    return reader.fail(`asn1_get_time: expected UTCTime or GeneralizedTime, got ${object.type.toString(16).padStart(2, '0')}`);
  }
  if (!reader.readable(object.content, generalized ? 15 : 13)) return reader.fail('asn1_get_time: failed to read content');
  let p = object.content;
  let year: number;
  if (generalized) {
    const century = twoDigits(reader, p);
    if (century < 0) return undefined;
    const yy = twoDigits(reader, p);
    if (yy < 0) return undefined;
    year = century * 100 + yy;
    p += 4;
  } else {
    const yy = twoDigits(reader, p);
    if (yy < 0) return undefined;
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    p += 2;
  }
  const field = (name: string, min: number, max: number): number | undefined => {
    const n = twoDigits(reader, p);
    if (n < min || n > max) return reader.fail(`asn1_get_time: invalid ${name} ${n >>> 0}`);
    p += 2;
    return n;
  };
  const month = field('month', 1, 12);
  if (month === undefined) return undefined;
  const day = field('day', 1, 31);
  if (day === undefined) return undefined;
  const hour = field('hour', 0, 23);
  if (hour === undefined) return undefined;
  const minute = field('minute', 0, 59);
  if (minute === undefined) return undefined;
  let second = 0;
  if (reader.data[p] !== 0x5a) {
    const s = field('second', 0, 59);
    if (s === undefined) return undefined;
    second = s;
    if (reader.data[p] !== 0x5a) return reader.fail(`asn1_get_time: expected UTC time 'Z', got '${String.fromCharCode(reader.data[p] ?? 0)}'`);
  }
  return { seconds: localStandardSeconds(year, month - 1, day, hour, minute, second), next: object.next };
}

/** asn1_get_rsa_pubkey: the modulus and exponent of an RSA subjectPublicKeyInfo. */
function readRsaKey(reader: DerReader, at: number, left: Remaining): { modulus: bigint; exponent: bigint; next: number } | undefined {
  const info = reader.expectType(at, left, ASN1_SEQUENCE);
  if (!info) return undefined;
  const inInfo = new Remaining(info.size);
  const afterAlgorithm = reader.expectAlgorithm(info.content, inInfo, OID.rsaEncryption);
  if (afterAlgorithm === undefined) return reader.fail('asn1_get_rsa_pubkey: AlgorithmIdentifier other than RSA not yet supported');
  const bits = reader.expectType(afterAlgorithm, inInfo, ASN1_BIT_STRING);
  if (!bits) return undefined;
  if (inInfo.bytes) return reader.fail('asn1_get_rsa_pubkey: found unexpected extra data in subjectPublicKeyInfo');
  if (!reader.readable(bits.content, 1)) return reader.fail('asn1_get_rsa_pubkey: cannot read public key content');
  if (reader.data[bits.content] !== 0) return reader.fail('asn1_get_rsa_pubkey: unexpected byte frags in public key');
  const inBits = new Remaining((bits.size - 1) >>> 0);
  const key = reader.expectType(bits.content + 1, inBits, ASN1_SEQUENCE);
  if (!key) return undefined;
  if (inBits.bytes) return reader.fail('asn1_get_rsa_pubkey: found unexpected extra data in public key content');
  const inKey = new Remaining(key.size);
  const modulus = reader.expectType(key.content, inKey, ASN1_INTEGER);
  if (!modulus) return undefined;
  if (modulus.size < 1024 / 8 || modulus.size > 4096 / 8 + 1) {
    return reader.fail(`asn1_get_rsa_pubkey: modulus has got an unsupported length (${(modulus.size * 8) >>> 0})`);
  }
  if (!reader.readable(modulus.content, modulus.size)) return reader.fail('asn1_get_rsa_pubkey: cannot read n');
  const exponent = reader.expectType(modulus.next, inKey, ASN1_INTEGER);
  if (!exponent) return undefined;
  if (inKey.bytes) return reader.fail('asn1_get_rsa_pubkey: found unexpected extra data after exp');
  if (exponent.size < 1 || exponent.size > modulus.size) {
    return reader.fail(`asn1_get_rsa_pubkey: exponent has got an unsupported length (${(exponent.size * 8) >>> 0})`);
  }
  if (!reader.readable(exponent.content, exponent.size)) return reader.fail('asn1_get_rsa_pubkey: cannot read e');
  return {
    modulus: bigIntOf(reader.bytes(modulus.content, modulus.size)),
    exponent: bigIntOf(reader.bytes(exponent.content, exponent.size)),
    next: info.next,
  };
}

/** What the extensions say a certificate may sign. */
interface Uses {
  certSign: boolean;
  codeSign: boolean;
  timeSign: boolean;
}

/**
 * The optional [1] [2] [3] fields after the key; [3] holds the extensions, which set `uses`.
 * Returns whether they were read (ClamAV's quirk kept: extra data after the extensions ends the
 * walk as if it had succeeded).
 */
function readExtensionFields(reader: DerReader, at: number, left: Remaining, uses: Uses): boolean {
  let last = 0;
  let next = at;
  while (left.bytes) {
    const field = reader.getObject(next, left);
    if (!field) return false;
    if (field.type <= ASN1_CONTEXT_0 + last || field.type > ASN1_CONTEXT_3) {
      reader.debug(`asn1_get_x509: found type ${field.type.toString(16).padStart(2, '0')} in extensions, expecting a1, a2 or a3`);
      return false;
    }
    last = field.type - ASN1_CONTEXT_0;
    next = field.next;
    if (field.type !== ASN1_CONTEXT_3) continue;
    const inField = new Remaining(field.size);
    const extensions = reader.expectType(field.content, inField, ASN1_SEQUENCE);
    if (!extensions) return false;
    if (inField.bytes) {
      reader.debug('asn1_get_x509: found unexpected extra data in extensions');
      return left.bytes === 0;
    }
    if (!readExtensions(reader, extensions.content, extensions.size, uses)) return false;
  }
  return true;
}

/** The extensions SEQUENCE's content; false where ClamAV gives up on the certificate. */
function readExtensions(reader: DerReader, start: number, size: number, uses: Uses): boolean {
  const left = new Remaining(size);
  let at = start;
  let keyUsage = false;
  let extendedKeyUsage = false;
  while (left.bytes) {
    const extension = reader.expectType(at, left, ASN1_SEQUENCE);
    if (!extension) return false;
    at = extension.next;
    const inExtension = new Remaining(extension.size);
    const id = reader.expectType(extension.content, inExtension, ASN1_OBJECT_ID);
    if (!id) return false;
    let value = reader.getObject(id.next, inExtension);
    if (!value) return false;
    if (value.type === ASN1_BOOLEAN) {
      if (value.size !== 1) return reader.fail('asn1_get_x509: found boolean with wrong length') ?? false;
      value = reader.getObject(value.next, inExtension);
      if (!value) return false;
    }
    if (value.type !== ASN1_OCTET_STRING) return reader.fail(`asn1_get_x509: bad extension value type ${value.type}`) ?? false;
    if (inExtension.bytes) return reader.fail('asn1_get_x509: extra data in extension') ?? false;
    if (id.size !== 3) continue;
    if (!reader.readable(id.content, 3)) return false;
    const name = reader.bytes(id.content, 3);
    if (sameBytes(name, KEY_USAGE)) {
      keyUsage = true;
      if (!readKeyUsage(reader, value.content, value.size, uses)) return false;
    } else if (sameBytes(name, EXTENDED_KEY_USAGE)) {
      extendedKeyUsage = true;
      const read = readExtendedKeyUsage(reader, value.content, value.size, uses);
      if (read === 'bad-list') return false;
      // A bad purpose ends the extensions with one more failed read, as in ClamAV.
      if (read === 'bad-purpose') return reader.fail('asn1_get_obj: insufficient data length') ?? false;
    } else if (sameBytes(name, BASIC_CONSTRAINTS)) {
      if (!readBasicConstraints(reader, value.content, value.size, uses)) return false;
    }
  }
  if (!extendedKeyUsage) uses.codeSign = uses.timeSign = true;
  if (!keyUsage) uses.certSign = true;
  return true;
}

function readKeyUsage(reader: DerReader, at: number, size: number, uses: Uses): boolean {
  if (size < 4 || size > 5) return reader.fail('asn1_get_x509: bad KeyUsage') ?? false;
  if (!reader.readable(at, size)) return false;
  const bytes = reader.bytes(at, size);
  if (bytes[0] !== 0x03 || bytes[1] !== size - 2 || bytes[2]! > 7) return reader.fail('asn1_get_x509: bad KeyUsage') ?? false;
  let usage = bytes[3]!;
  if (size === 4) usage &= ~((1 << bytes[2]!) - 1);
  uses.certSign = (usage & 4) !== 0;
  return true;
}

function readExtendedKeyUsage(reader: DerReader, at: number, size: number, uses: Uses): 'read' | 'bad-list' | 'bad-purpose' {
  const inValue = new Remaining(size);
  const purposes = reader.expectType(at, inValue, ASN1_SEQUENCE);
  if (!purposes) return 'bad-list';
  if (inValue.bytes) {
    reader.debug('asn1_get_x509: extra data in ExtKeyUsage');
    return 'bad-list';
  }
  const left = new Remaining(purposes.size);
  let next = purposes.content;
  while (left.bytes) {
    const purpose = reader.expectType(next, left, ASN1_OBJECT_ID);
    if (!purpose) return 'bad-purpose';
    next = purpose.next;
    if (purpose.size !== 8 && purpose.size !== 10) continue;
    if (!reader.readable(purpose.content, purpose.size)) return 'bad-purpose';
    const id = reader.bytes(purpose.content, purpose.size);
    if (sameBytes(id.subarray(0, 8), CODE_SIGNING)) uses.codeSign = true;
    else if (sameBytes(id.subarray(0, 8), TIME_STAMPING)) uses.timeSign = true;
    else if (sameBytes(id, LIFETIME_SIGNING)) reader.debug('asn1_get_x509: lifetime signing specified but enforcing this is not currently supported');
  }
  return 'read';
}

function readBasicConstraints(reader: DerReader, at: number, size: number, uses: Uses): boolean {
  const constraints = reader.expectType(at, new Remaining(size), ASN1_SEQUENCE);
  if (!constraints) return false;
  if (!constraints.size) {
    uses.certSign = false;
    return true;
  }
  const first = reader.getObject(constraints.content, new Remaining(constraints.size));
  if (!first) return false;
  if (first.type === ASN1_BOOLEAN) {
    if (first.size !== 1) return reader.fail(`asn1_get_x509: wrong bool size in basic constraint ${first.size}`) ?? false;
    if (!reader.readable(first.content, 1)) return false;
    uses.certSign = reader.data[first.content] !== 0;
    return true;
  }
  if (first.type !== ASN1_INTEGER) return false;
  uses.certSign = false;
  return true;
}

/**
 * asn1_get_x509: reads the certificate at `at` (advancing `cursor.at`) and adds it to `store`
 * unless an equal one is there. `skipped` means a bad certificate the caller can read past;
 * `unrecoverable` that not even its outer SEQUENCE could be read.
 */
export function readCertificate(reader: DerReader, cursor: { at: number }, left: Remaining, store: CertificateStore): CertificateRead {
  const outer = reader.expectType(cursor.at, left, ASN1_SEQUENCE);
  if (!outer) {
    reader.debug('asn1_get_x509: expected SEQUENCE at the x509 start');
    return 'unrecoverable';
  }
  cursor.at = outer.next;
  const certificate = parseCertificate(reader, outer.content, outer.size, store);
  if (certificate === 'duplicate') return 'added';
  if (!certificate) return 'skipped';
  store.add(certificate);
  return 'added';
}

function parseCertificate(reader: DerReader, start: number, size: number, store: CertificateStore): Certificate | 'duplicate' | undefined {
  const inCertificate = new Remaining(size);
  const tbs = reader.expectType(start, inCertificate, ASN1_SEQUENCE);
  if (!tbs) return reader.fail('asn1_get_x509: expected SEQUENCE at the TBSCertificate start');
  const inTbs = new Remaining(tbs.size);
  const first = reader.getObject(tbs.content, inTbs);
  if (!first) return reader.fail('asn1_get_x509: failed to get first item in the TBSCertificate');
  const uses: Uses = { certSign: false, codeSign: false, timeSign: false };
  let serial = first;
  let version: 1 | 3;
  if (first.type === ASN1_CONTEXT_0) {
    const inVersion = new Remaining(first.size);
    if (reader.expectContent(first.content, inVersion, ASN1_INTEGER, VERSION_3) === undefined) {
      return reader.fail('asn1_get_x509: unexpected type or value for TBSCertificate version');
    }
    if (inVersion.bytes) return reader.fail('asn1_get_x509: found unexpected extra data in version');
    version = 3;
    const found = reader.expectType(first.next, inTbs, ASN1_INTEGER);
    if (!found) return reader.fail('asn1_get_x509: expected x509 serial INTEGER');
    serial = found;
  } else if (first.type === ASN1_INTEGER) {
    // Version 1 certificates say nothing of their purpose: ClamAV takes them for time stamping.
    version = 1;
    Object.assign(uses, { certSign: true, codeSign: false, timeSign: true });
  } else {
    return reader.fail('asn1_get_x509: expected version or serialNumber as the first item in TBSCertificate');
  }
  const serialHash = rawSha1Of(reader, serial.content, serial.size);
  if (serialHash === undefined) return undefined;
  const algorithm = expectSignatureAlgorithm(reader, serial.next, inTbs);
  if (!algorithm) return reader.fail('asn1_get_x509: unable to parse AlgorithmIdentifier');
  const issuer = reader.expectType(algorithm.next, inTbs, ASN1_SEQUENCE);
  if (!issuer) return reader.fail('asn1_get_x509: expected SEQUENCE when parsing cert issuer');
  const validity = reader.expectType(issuer.next, inTbs, ASN1_SEQUENCE);
  if (!validity) return reader.fail('asn1_get_x509: expected SEQUENCE when parsing cert validity');
  const inValidity = new Remaining(validity.size);
  const notBefore = readTime(reader, validity.content, inValidity);
  if (!notBefore) return reader.fail('asn1_get_x509: unable to extract the notBefore time');
  const notAfter = readTime(reader, notBefore.next, inValidity);
  if (!notAfter) return reader.fail('asn1_get_x509: unable to extract the notAfter time');
  if (notBefore.seconds >= notAfter.seconds) return reader.fail('asn1_get_x509: bad validity');
  if (inValidity.bytes) return reader.fail('asn1_get_x509: found unexpected extra data in validity');
  const subject = reader.expectType(validity.next, inTbs, ASN1_SEQUENCE);
  if (!subject) return reader.fail('asn1_get_x509: expected SEQUENCE when parsing cert subject');
  const subjectHash = rawSha1Of(reader, subject.content, subject.size);
  if (subjectHash === undefined) return undefined;
  const key = readRsaKey(reader, subject.next, inTbs);
  if (!key) return reader.fail('asn1_get_x509: failed to get RSA public key');
  if (version === 1 && inTbs.bytes) {
    return reader.fail('asn1_get_x509: TBSCertificate should not contain fields beyond subjectPublicKeyInfo if version == 1');
  }
  if (!readExtensionFields(reader, key.next, inTbs, uses)) return reader.fail('asn1_get_x509: An error occurred when parsing x509 extensions');
  if (!uses.certSign && !uses.codeSign && !uses.timeSign) {
    reader.debug('asn1_get_x509: encountered a certificate with no cert, code, or time signing capabilities');
  }
  const issuerHash = rawSha1Of(reader, issuer.content, issuer.size);
  if (issuerHash === undefined) return undefined;
  const outerAlgorithm = expectSignatureAlgorithm(reader, tbs.next, inCertificate);
  if (!outerAlgorithm) return undefined;
  if (outerAlgorithm.value !== algorithm.value) return reader.fail('asn1_get_x509: found conflicting RSA hash types');
  const certificate: Certificate = {
    subject: subjectHash.sha1,
    issuer: issuerHash.sha1,
    serial: serialHash.sha1,
    ignoreSerial: false,
    modulus: key.modulus,
    exponent: key.exponent,
    signature: 0n,
    tbsHash: new Uint8Array(0),
    notBefore: notBefore.seconds,
    notAfter: notAfter.seconds,
    hashType: algorithm.value,
    ...uses,
    blocked: false,
    raw: { subject: subjectHash.raw, serial: serialHash.raw, issuer: issuerHash.raw },
  };
  if (store.lookup(certificate)) {
    reader.debug('asn1_get_x509: duplicate embedded certificates detected');
    return 'duplicate';
  }
  const signature = reader.expectType(outerAlgorithm.next, inCertificate, ASN1_BIT_STRING);
  if (!signature) return reader.fail('asn1_get_x509: Failed to parse x509 signature BIT STRING');
  if (signature.size > 513) return reader.fail('asn1_get_x509: signature too long');
  if (!reader.readable(signature.content, signature.size)) return reader.fail('asn1_get_x509: cannot read signature');
  if (inCertificate.bytes) return reader.fail('asn1_get_x509: found unexpected extra data in signature');
  const tbsHash = digestOf(reader, start, tbs.next - start, algorithm.value);
  if (!tbsHash) return reader.fail('asn1_get_x509: Unsupported hashtype or hash computation failed');
  certificate.signature = bigIntOf(reader.bytes(signature.content, signature.size));
  certificate.tbsHash = tbsHash;
  return certificate;
}
