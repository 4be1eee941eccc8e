import type { HashType } from './algorithms.js';

/**
 * A certificate as ClamAV's trust store keeps it (struct cli_crt): the SHA-1 of its subject,
 * issuer and serial, its RSA key, the hash of its to-be-signed part and its signature, its
 * validity and what it may sign. `.crb` lines make certificates of hash type `any`, with only
 * subject, serial, key, validity start and flags.
 */
export interface Certificate {
  /** The `.crb` line's name (what a block-list match reports). */
  name?: string;
  /** SHA-1 of the subject, issuer and serial number contents, in hex. */
  subject: string;
  issuer: string;
  serial: string;
  /** A `.crb` line without a serial: any serial matches. */
  ignoreSerial: boolean;
  modulus: bigint;
  exponent: bigint;
  /** The certificate's own signature, for checking it against its issuer's key. */
  signature: bigint;
  /** The digest of its to-be-signed part, with `hashType`. */
  tbsHash: Uint8Array;
  /** Validity, seconds since the epoch. */
  notBefore: number;
  notAfter: number;
  hashType: HashType;
  certSign: boolean;
  codeSign: boolean;
  timeSign: boolean;
  /** A `.crb` block-list line. */
  blocked: boolean;
  /** An embedded certificate's subject, serial and issuer as read (their first 63 bytes), for --dumpcerts. */
  raw?: RawNames;
}

export interface RawNames {
  readonly subject: Uint8Array;
  readonly serial: Uint8Array;
  readonly issuer: Uint8Array;
}

/** The end of validity of `.crb` certificates: ClamAV's largest time (INT64_MAX), as near as a number gets. */
export const FOREVER = Number.MAX_SAFE_INTEGER;

/** A `.crb` certificate as plain data (hex key), for the engine, its cache and worker threads. */
export interface StoredCertificate {
  name?: string;
  subject: string;
  issuer: string;
  serial: string;
  ignoreSerial: boolean;
  modulus: string;
  exponent: string;
  signature: string;
  tbsHash: string;
  notBefore: number;
  notAfter: number;
  hashType: HashType;
  certSign: boolean;
  codeSign: boolean;
  timeSign: boolean;
  blocked: boolean;
}

export function storeCertificate({ raw: _raw, ...certificate }: Certificate): StoredCertificate {
  return {
    ...certificate,
    modulus: certificate.modulus.toString(16),
    exponent: certificate.exponent.toString(16),
    signature: certificate.signature.toString(16),
    tbsHash: Buffer.from(certificate.tbsHash).toString('hex'),
  };
}

export function restoreCertificate(stored: StoredCertificate): Certificate {
  return {
    ...stored,
    modulus: hexToBigInt(stored.modulus),
    exponent: hexToBigInt(stored.exponent),
    signature: hexToBigInt(stored.signature),
    tbsHash: Uint8Array.from(Buffer.from(stored.tbsHash, 'hex')),
  };
}

function hexToBigInt(hex: string): bigint {
  return hex.startsWith('-') ? -BigInt(`0x${hex.slice(1)}`) : BigInt(`0x${hex}`);
}

/** An unsigned big-endian integer (BN_bin2bn). */
export function bigIntOf(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}`);
}

/** BN_num_bytes: the bytes of an integer's magnitude without leading zeros. */
export function byteLength(value: bigint): number {
  return value === 0n ? 0 : Math.ceil((value < 0n ? -value : value).toString(16).length / 2);
}

/** BN_bn2bin: those bytes, big-endian. */
export function bytesOf(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0);
  const hex = value.toString(16);
  return Uint8Array.from(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
}
