import { OID, type HashType } from './algorithms.js';
import { CertificateStore } from './cert-store.js';
import type { Certificate } from './certificate.js';
import { verifyCountersignature } from './countersignature.js';
import {
  ASN1_CONTEXT_0,
  ASN1_CONTEXT_1,
  ASN1_INTEGER,
  ASN1_OBJECT_ID,
  ASN1_OCTET_STRING,
  ASN1_SEQUENCE,
  ASN1_SET,
  DerReader,
  NOWHERE,
  Remaining,
  sameBytes,
  toHex,
} from './der.js';
import { attributesDigest, digestOf, expectDigestAlgorithm, readCertificate, sha1Of } from './x509.js';

/**
 * ClamAV's verdict on a PKCS#7 SignedData (asn1_parse_mscat): `clean` (signed by a trusted
 * chain, in time), `virus` (a certificate is block-listed), `unverified` (parsed, not trusted:
 * CL_EVERIFY) or `unparsed` (CL_EPARSE).
 */
export type SignedDataStatus = 'clean' | 'virus' | 'unverified' | 'unparsed';

export interface SignedDataResult {
  readonly status: SignedDataStatus;
  /** The signed content (its SEQUENCE's content), once the parse got that far. */
  readonly content?: { readonly at: number; readonly size: number };
}

export interface SignedDataOptions {
  /** An embedded Authenticode signature (SpcIndirectData) rather than a catalog (CTL). */
  readonly embedded: boolean;
  /** The certificates `.crb` block-list entries are looked up in (the engine's whole list). */
  readonly blockList: CertificateStore;
  /**
   * Reports a block-list entry's name; returns whether the scan goes on (with --allmatch, or an
   * allow-listed file). Absent when loading a catalog, where a block-list hit just fails it.
   */
  readonly report?: (name: string) => boolean;
  /** Seconds since the epoch, for the signer's validity. */
  readonly now: number;
  /** --dumpcerts: a debug line block for every embedded certificate. */
  readonly dumpCertificates?: boolean;
}

const VERSION_1 = Uint8Array.of(0x01);
const ATTRIBUTE_CONTENT_TYPE = 0;
const ATTRIBUTE_MESSAGE_DIGEST = 1;
const UNAUTHENTICATED_COUNTERSIGNATURE = 0;
const UNAUTHENTICATED_NESTED = 1;
const UNAUTHENTICATED_RFC3161 = 2;

/**
 * asn1_parse_mscat: reads the SignedData of `size` bytes at `at`, adds the certificates it
 * embeds that chain to `store`'s trusted ones into `store`, and verifies the signer.
 */
export function parseSignedData(reader: DerReader, at: number, size: number, store: CertificateStore, options: SignedDataOptions): SignedDataResult {
  reader.debug('in asn1_parse_mscat');
  const parse = new SignedDataParse(reader, store, options);
  const status = parse.run(at, size);
  if (status === 'unparsed') reader.debug('asn1_parse_mscat: failed to parse authenticode section');
  return { status, content: parse.content };
}

class SignedDataParse {
  /**
   * What a failure returns: `unparsed`, until an allowed block-list report turns it to `clean`
   * (ClamAV keeps that result for every later failure).
   */
  private failure: SignedDataStatus = 'unparsed';
  content?: { at: number; size: number };

  constructor(
    private readonly reader: DerReader,
    private readonly store: CertificateStore,
    private readonly options: SignedDataOptions,
  ) {}

  private fail(message: string): SignedDataStatus {
    this.reader.debug(`asn1_parse_mscat: ${message}`);
    return this.failure;
  }

  run(offset: number, total: number): SignedDataStatus {
    const { reader } = this;
    if (!reader.readable(offset, 1)) return this.fail('failed to read pkcs#7 entry');
    const contentInfo = reader.expectType(offset, new Remaining(total), ASN1_SEQUENCE);
    // (Trailing bytes after the ContentInfo are allowed: many signatures are zero-padded.)
    if (!contentInfo) return this.fail('expected SEQUENCE at top level');
    const inContentInfo = new Remaining(contentInfo.size);
    const afterType = reader.expectContent(contentInfo.content, inContentInfo, ASN1_OBJECT_ID, OID.signedData);
    if (afterType === undefined) return this.fail('expected contentType == signedData');
    const explicit = reader.expectType(afterType, inContentInfo, ASN1_CONTEXT_0);
    if (!explicit) return this.fail("expected '[0] - content' following signedData contentType");
    if (inContentInfo.bytes) return this.fail('found extra data in pkcs#7');
    const inExplicit = new Remaining(explicit.size);
    const signedData = reader.expectType(explicit.content, inExplicit, ASN1_SEQUENCE);
    if (!signedData) return this.fail("expected SEQUENCE inside signedData '[0] - content'");
    if (inExplicit.bytes) return this.fail('found extra data in signedData');
    const left = new Remaining(signedData.size);
    const afterVersion = reader.expectContent(signedData.content, left, ASN1_INTEGER, VERSION_1);
    if (afterVersion === undefined) return this.fail("expected 'INTEGER - VERSION 1' for signedData version");
    const algorithms = reader.expectType(afterVersion, left, ASN1_SET);
    if (!algorithms) return this.fail('expected SET OF DigestAlgorithmIdentifier inside signedData');
    const inAlgorithms = new Remaining(algorithms.size);
    const digest = expectDigestAlgorithm(reader, algorithms.content, inAlgorithms);
    if (!digest) return this.fail('error parsing SignedData digestAlgorithm');
    if (inAlgorithms.bytes) return this.fail('found extra data in the SignerData digestAlgorithm SET');
    const signedContent = reader.expectType(algorithms.next, left, ASN1_SEQUENCE);
    if (!signedContent) return this.fail("expected 'SEQUENCE - contentInfo' inside SignedData following DigestAlgorithmIdentifiers");
    if (!this.readContent(signedContent.content, signedContent.size)) return this.failure;
    const certificates = reader.expectType(signedContent.next, left, ASN1_CONTEXT_0);
    if (!certificates) return this.fail('expected 0xa0 certificates entry');
    if (certificates.size) {
      const status = this.collectCertificates(certificates.content, certificates.size);
      if (status) return status;
    }
    return this.readSignerInfos(certificates.next, left, digest);
  }

  private get contentTypeOid(): Uint8Array {
    return this.options.embedded ? OID.spcIndirectData : OID.certificateTrustList;
  }

  /** The contentInfo: its type, then `[0] { SEQUENCE }`, whose content is what was signed. */
  private readContent(at: number, size: number): boolean {
    const { reader } = this;
    const left = new Remaining(size);
    const afterType = reader.expectContent(at, left, ASN1_OBJECT_ID, this.contentTypeOid);
    if (afterType === undefined) return this.refuse(`unexpected ContentType for embedded mode ${Number(this.options.embedded)}`);
    const explicit = reader.expectType(afterType, left, ASN1_CONTEXT_0);
    if (!explicit) return this.refuse("expected '[0] - content' following DigestAlgorithmIdentifier contentType");
    if (left.bytes) return this.refuse('found extra data in contentInfo');
    const inExplicit = new Remaining(explicit.size);
    const content = reader.expectType(explicit.content, inExplicit, ASN1_SEQUENCE);
    if (!content) return this.refuse("expected SEQUENCE in DigestAlgorithmIdentifier '[0] - contentInfo'");
    if (inExplicit.bytes) return this.refuse('found extra data in content');
    this.content = { at: content.content, size: content.size };
    return true;
  }

  /**
   * The embedded certificates: a block-listed one ends the check (or is reported and passed
   * with --allmatch); those the `.crb` trusts directly, then those signed by a trusted one
   * (repeatedly, whatever their order), join the trust store. Returns a status to end with.
   */
  private collectCertificates(at: number, size: number): SignedDataStatus | undefined {
    const { reader, store, options } = this;
    const embedded = new CertificateStore(reader.logger);
    const left = new Remaining(size);
    const cursor = { at };
    while (left.bytes) {
      const read = readCertificate(reader, cursor, left, embedded);
      if (read === 'unrecoverable') return this.fail('an unrecoverable error occurred while extracting x509 certificates');
      if (read === 'skipped') reader.debug('asn1_parse_mscat: skipping x509 certificate with errors');
    }
    if (embedded.size === 0) return undefined;
    reader.debug(`asn1_parse_mscat: ${embedded.size} embedded certificates collected`);
    if (options.dumpCertificates && reader.logger.debugEnabled) for (const certificate of embedded.certificates) dumpCertificate(certificate, reader);
    let blocked = false;
    for (const certificate of [...embedded.certificates]) {
      const entry = options.blockList.blockedBy(certificate);
      if (entry) {
        const name = entry.name ?? '(unnamed CRB rule)';
        reader.debug(`asn1_parse_mscat: Found Authenticode certificate blocked by ${name}`);
        blocked = true;
        if (options.report) {
          if (!options.report(name)) return 'virus';
          blocked = false;
          this.failure = 'clean';
        }
      }
      const crb = store.trusted(certificate, true);
      if (crb) {
        reader.debug(`asn1_parse_mscat: Directly trusting embedded cert based on ${crb.name ?? '(no name)'}`);
        store.add({ ...certificate, name: crb.name });
        embedded.remove(certificate);
      }
    }
    if (blocked) return 'virus';
    this.trustChained(embedded);
    if (embedded.size) reader.debug(`asn1_parse_mscat: ${embedded.size} certificates did not verify`);
    return undefined;
  }

  /** Moves every certificate a trusted one signed into the trust store, until none is left to move. */
  private trustChained(embedded: CertificateStore): void {
    const { reader, store } = this;
    let moved = true;
    while (moved) {
      moved = false;
      for (const certificate of [...embedded.certificates]) {
        if (store.trusted(certificate, false)) {
          reader.debug('asn1_parse_mscat: found embedded certificate matching one in the trust store');
          embedded.remove(certificate);
          continue;
        }
        const parent = store.issuerOf(certificate);
        if (!parent) continue;
        reader.debug(`asn1_parse_mscat: Indirectly trusting embedded cert based on ${parent.name ?? '(no name)'}`);
        store.add({ ...certificate, codeSign: certificate.codeSign && parent.codeSign, timeSign: certificate.timeSign && parent.timeSign });
        embedded.remove(certificate);
        moved = true;
        break;
      }
    }
  }

  /** The one SignerInfo: its issuer and serial, digest, authenticated attributes and signature. */
  private readSignerInfos(at: number, left: Remaining, digest: { hash: HashType; size: number }): SignedDataStatus {
    const { reader } = this;
    let signerInfos = reader.getObject(at, left);
    if (!signerInfos) return this.fail('failed to get next ASN1 section');
    if (signerInfos.type === ASN1_CONTEXT_1) {
      signerInfos = reader.getObject(signerInfos.next, left);
      if (!signerInfos) return this.fail('unexpected CRL entries were found');
    }
    if (signerInfos.type !== ASN1_SET) return this.fail(`unexpected type ${signerInfos.type.toString(16).padStart(2, '0')} for signerInfo`);
    if (left.bytes) return this.fail('unexpected extra data after signerInfos');
    const inSet = new Remaining(signerInfos.size);
    const signerInfo = reader.expectType(signerInfos.content, inSet, ASN1_SEQUENCE);
    if (!signerInfo) return this.fail('expected SEQUENCE in signerInfos');
    if (inSet.bytes) return this.fail('only one signerInfo shall be present');
    const inSigner = new Remaining(signerInfo.size);
    const afterVersion = reader.expectContent(signerInfo.content, inSigner, ASN1_INTEGER, VERSION_1);
    if (afterVersion === undefined) return this.fail('expected Version == 1 for signerInfo');
    const issuerAndSerial = reader.expectType(afterVersion, inSigner, ASN1_SEQUENCE);
    if (!issuerAndSerial) return this.fail('expected issuerAndSerialNumber SEQUENCE');
    const inIssuerAndSerial = new Remaining(issuerAndSerial.size);
    const issuerName = reader.expectType(issuerAndSerial.content, inIssuerAndSerial, ASN1_SEQUENCE);
    if (!issuerName) return this.fail('expected issuer SEQUENCE');
    const issuer = sha1Of(reader, issuerName.content, issuerName.size);
    if (issuer === undefined) return this.fail('error in call to map_sha1 for issuer');
    const serialNumber = reader.expectType(issuerName.next, inIssuerAndSerial, ASN1_INTEGER);
    if (!serialNumber) return this.fail('expected ASN1_TYPE_INTEGER serial');
    const serial = sha1Of(reader, serialNumber.content, serialNumber.size);
    if (serial === undefined) return this.fail('error in call to map_sha1 for serial');
    if (inIssuerAndSerial.bytes) return this.fail('extra data inside issuerAndSerialNumber');
    const signerDigest = expectDigestAlgorithm(reader, issuerAndSerial.next, inSigner);
    if (!signerDigest) return this.fail('error parsing SignerInfo digestAlgorithm');
    if (signerDigest.hash !== digest.hash) return this.fail('SignerInfo digestAlgorithm is not the same as the algorithm in SignedData');
    const attributesAt = signerDigest.next;
    const attributes = reader.expectType(attributesAt, inSigner, ASN1_CONTEXT_0);
    if (!attributes) return this.fail('unable to parse authenticatedAttributes section');
    const attributesSize = attributes.next - attributesAt;
    if (attributes.next === NOWHERE || attributesSize < 2) return this.fail('authenticatedAttributes size is too small');
    const messageDigest = this.readAuthenticatedAttributes(attributes.content, attributes.size, digest.size);
    if (!messageDigest) return this.failure;
    const afterEncryption = reader.expectAlgorithm(attributes.next, inSigner, OID.rsaEncryption);
    if (afterEncryption === undefined) return this.fail('digestEncryptionAlgorithms other than RSA are not yet supported');
    const encryptedDigest = reader.expectType(afterEncryption, inSigner, ASN1_OCTET_STRING);
    if (!encryptedDigest) return this.fail('unexpected encryptedDigest value');
    if (encryptedDigest.size > 513) return this.fail('encryptedDigest too long');
    const content = this.content!;
    const contentDigest = digestOf(reader, content.at, content.size, digest.hash);
    if (!contentDigest) return this.fail('failed to map in message/compute message digest');
    if (!sameBytes(contentDigest, messageDigest)) return this.fail('messageDigest mismatch');
    if (!reader.readable(attributesAt, attributesSize)) return this.fail('failed to read authenticatedAttributes');
    const signedDigest = attributesDigest(reader, attributesAt, attributesSize, digest.hash);
    if (!signedDigest) return this.failure;
    if (!reader.readable(encryptedDigest.content, encryptedDigest.size)) return this.fail('failed to read encryptedDigest');
    const signature = reader.bytes(encryptedDigest.content, encryptedDigest.size);
    const signer = this.store.signerOf(issuer, serial, signature, digest.hash, signedDigest, 'code');
    if (!signer) {
      this.failure = 'unverified';
      return this.fail('pkcs7 signature verification failed');
    }
    reader.debug('asn1_parse_mscat: authenticatedAttributes successfully parsed and verified');
    if (!inSigner.bytes) return this.judgeByValidity(signer, ' (unauthAttrs missing)');
    const unauthenticated = reader.expectType(encryptedDigest.next, inSigner, ASN1_CONTEXT_1);
    if (!unauthenticated) return this.fail('unable to find unauthenticatedAttributes section');
    if (inSigner.bytes) return this.fail('extra data inside signerInfo');
    const countersigned = this.readUnauthenticatedAttributes(unauthenticated.content, unauthenticated.size, { message: signature, ...signer });
    if (countersigned === undefined) return this.failure;
    reader.debug('asn1_parse_mscat: unauthenticatedAttributes successfully parsed');
    return countersigned ? 'clean' : this.judgeByValidity(signer, '');
  }

  /** Without a countersignature the signer's certificate must be valid now. */
  private judgeByValidity(signer: Certificate, why: string): SignedDataStatus {
    const { now } = this.options;
    if (now < signer.notBefore || now > signer.notAfter) {
      this.failure = 'unverified';
      return this.fail(`no countersignature${why} and signing certificate has expired`);
    }
    this.reader.debug(`asn1_parse_mscat: no countersignature${why} but the signing certificate is still valid`);
    return 'clean';
  }

  /** contentType (the content's type again) and messageDigest, each once; returns the digest. */
  private readAuthenticatedAttributes(at: number, size: number, digestSize: number): Uint8Array | undefined {
    const { reader } = this;
    const left = new Remaining(size);
    let next = at;
    let seen = 0;
    let messageDigest: Uint8Array | undefined;
    while (left.bytes) {
      const attribute = reader.expectType(next, left, ASN1_SEQUENCE);
      if (!attribute) return this.failUndefined('expected attribute SEQUENCE');
      next = attribute.next;
      const inAttribute = new Remaining(attribute.size);
      const type = reader.expectType(attribute.content, inAttribute, ASN1_OBJECT_ID);
      if (!type) return this.failUndefined('expected attribute type inside attribute SEQUENCE');
      if (type.size !== OID.contentType.length) continue;
      if (!reader.readable(type.content, type.size)) return this.failUndefined('failed to read authenticated attribute');
      const name = reader.bytes(type.content, type.size);
      const kind = sameBytes(name, OID.contentType) ? ATTRIBUTE_CONTENT_TYPE : sameBytes(name, OID.messageDigest) ? ATTRIBUTE_MESSAGE_DIGEST : undefined;
      if (kind === undefined) continue;
      const values = reader.expectType(type.next, inAttribute, ASN1_SET);
      if (!values) return this.failUndefined("expected 'set - contents' for authenticated attribute");
      if (inAttribute.bytes) return this.failUndefined('extra data in authenticated attributes');
      if (seen & (1 << kind)) return this.failUndefined('contentType or messageDigest appear twice');
      const inValues = new Remaining(values.size);
      if (kind === ATTRIBUTE_CONTENT_TYPE) {
        if (reader.expectContent(values.content, inValues, ASN1_OBJECT_ID, this.contentTypeOid) === undefined) {
          return this.failUndefined(`unexpected ContentType for embedded mode ${Number(this.options.embedded)} (for authenticated attribute)`);
        }
      } else {
        const value = reader.expectType(values.content, inValues, ASN1_OCTET_STRING);
        if (!value) return this.failUndefined('unexpected messageDigest value');
        if (value.size !== digestSize) return this.failUndefined(`messageDigest attribute has the wrong size (${value.size})`);
        if (!reader.readable(value.content, digestSize)) return this.failUndefined('failed to read authenticated attribute');
        messageDigest = reader.bytes(value.content, digestSize);
      }
      seen |= 1 << kind;
      if (inValues.bytes) return this.failUndefined('extra data in authenticated attribute');
    }
    if (!messageDigest || !(seen & 1)) return this.failUndefined('contentType or messageDigest are missing');
    return messageDigest;
  }

  /**
   * The unsigned attributes: a countersignature is verified; nested signatures and RFC 3161
   * time stamps are noted and passed. Returns whether a countersignature was there, or
   * undefined on failure.
   */
  private readUnauthenticatedAttributes(at: number, size: number, signed: { message: Uint8Array; notBefore: number; notAfter: number }): boolean | undefined {
    const { reader } = this;
    const left = new Remaining(size);
    let next = at;
    let seen = 0;
    while (left.bytes) {
      const attribute = reader.expectType(next, left, ASN1_SEQUENCE);
      if (!attribute) return this.failUndefined('expected SEQUENCE starting an unauthenticatedAttribute');
      next = attribute.next;
      const inAttribute = new Remaining(attribute.size);
      const type = reader.expectType(attribute.content, inAttribute, ASN1_OBJECT_ID);
      if (!type) return this.failUndefined('expected OID inside unauthenticatedAttribute SEQUENCE');
      if (type.size !== OID.counterSignature.length && type.size !== OID.nestedSignatures.length) continue;
      if (!reader.readable(type.content, type.size)) return this.failUndefined('failed to read unauthenticated attribute OID');
      const kind = unauthenticatedKind(reader.bytes(type.content, type.size));
      if (kind === undefined) continue;
      const values = reader.expectType(type.next, inAttribute, ASN1_SET);
      if (!values) return this.failUndefined("expected 'set - contents' inside unauthenticated attribute");
      if (inAttribute.bytes) return this.failUndefined('extra data in unauthenticated attribute');
      if (seen & (1 << kind)) return this.failUndefined('counterSignature or nestedSignature appear twice');
      const inValues = new Remaining(values.size);
      if (kind === UNAUTHENTICATED_COUNTERSIGNATURE) {
        if (!verifyCountersignature(reader, values.content, inValues, this.store, signed)) return undefined;
      } else {
        reader.debug(
          kind === UNAUTHENTICATED_NESTED
            ? 'asn1_parse_mscat: nested signatures detected but parsing them is not currently supported'
            : 'asn1_parse_mscat: RFC3161 timestamping countersignature detected but parsing them is not currently supported',
        );
        inValues.bytes = 0;
      }
      seen |= 1 << kind;
      if (inValues.bytes) return this.failUndefined('extra data in unauthenticated attribute');
    }
    return (seen & 1) !== 0;
  }

  private failUndefined(message: string): undefined {
    this.fail(message);
    return undefined;
  }

  private refuse(message: string): false {
    this.fail(message);
    return false;
  }
}

/** The lines --dumpcerts prints for an embedded certificate. */
function dumpCertificate(certificate: Certificate, reader: DerReader): void {
  const uses = `${certificate.codeSign ? 'code ' : ''}${certificate.timeSign ? 'time ' : ''}${certificate.certSign ? 'cert ' : ''}`;
  const seconds = (value: number) => BigInt.asUintN(64, BigInt(value)).toString();
  const hex = (bytes: Uint8Array | undefined) => (bytes ? toHex(bytes) : '');
  const serial = [...(certificate.raw?.serial ?? [])].map((b) => b.toString(16).padStart(2, '0')).join(':');
  for (const line of [
    'cert:',
    `  subject: ${certificate.subject}`,
    `  serial: ${certificate.serial}`,
    `  pubkey: ${bigIntHex(certificate.modulus)}`,
    `  i: ${certificate.issuer} ${seconds(certificate.notBefore)}->${seconds(certificate.notAfter)} ${uses}`,
    '  ==============RAW==============',
    `  raw_subject: ${hex(certificate.raw?.subject)}`,
    `  raw_serial: ${serial}`,
    `  raw_issuer: ${hex(certificate.raw?.issuer)}`,
  ]) {
    reader.debug(line);
  }
}

/** BN_bn2hex: upper-case hex, whole bytes, "0" for zero. */
function bigIntHex(value: bigint): string {
  if (value === 0n) return '0';
  const digits = value.toString(16).toUpperCase();
  return digits.length % 2 ? `0${digits}` : digits;
}

function unauthenticatedKind(type: Uint8Array): number | undefined {
  if (sameBytes(type, OID.counterSignature)) return UNAUTHENTICATED_COUNTERSIGNATURE;
  if (sameBytes(type, OID.nestedSignatures)) return UNAUTHENTICATED_NESTED;
  if (sameBytes(type, OID.rfc3161CounterSignature)) return UNAUTHENTICATED_RFC3161;
  return undefined;
}
