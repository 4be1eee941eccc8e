import type { Logger } from '../../util/logger.js';
import type { HashType } from './algorithms.js';
import { bigIntOf, type Certificate } from './certificate.js';
import { rsaVerify } from './rsa.js';

/** What a signer's certificate must be allowed to sign. */
export type SignatureUse = 'code' | 'time';

/**
 * A list of certificates as ClamAV's crtmgr keeps it: the newest first (additions go to the
 * front, and lookups return the first fit, so the order decides which entry is named).
 */
export class CertificateStore {
  readonly certificates: Certificate[];

  constructor(
    private readonly logger: Logger,
    certificates: readonly Certificate[] = [],
  ) {
    this.certificates = [...certificates];
  }

  get size(): number {
    return this.certificates.length;
  }

  /** crtmgr_add: adds `certificate` to the front unless an equivalent one is there. */
  add(certificate: Certificate): void {
    if (certificate.blocked ? this.blockedBy(certificate) : this.trusted(certificate, false)) {
      this.debug(`crtmgr_add: duplicate ${certificate.blocked ? 'blocked' : 'trusted'} certificate detected - not adding`);
      return;
    }
    this.certificates.unshift({ ...certificate });
  }

  remove(certificate: Certificate): void {
    const at = this.certificates.indexOf(certificate);
    if (at >= 0) this.certificates.splice(at, 1);
  }

  /**
   * crtmgr_trust_list_lookup: a trusted entry `certificate` fits in (same subject and key, its
   * validity and uses within the entry's). With `crbOnly`, only `.crb` entries; otherwise only
   * entries of the same hash type, issuer and exponent.
   */
  trusted(certificate: Certificate, crbOnly: boolean): Certificate | undefined {
    return this.certificates.find(
      (entry) =>
        !entry.blocked &&
        (crbOnly
          ? entry.hashType === 'any'
          : certificate.hashType === entry.hashType &&
            certificate.issuer === entry.issuer &&
            certificate.ignoreSerial === entry.ignoreSerial &&
            certificate.exponent === entry.exponent) &&
        (entry.ignoreSerial || certificate.serial === entry.serial) &&
        certificate.notBefore >= entry.notBefore &&
        certificate.notAfter <= entry.notAfter &&
        within(certificate.certSign, entry.certSign) &&
        within(certificate.codeSign, entry.codeSign) &&
        within(certificate.timeSign, entry.timeSign) &&
        certificate.subject === entry.subject &&
        certificate.modulus === entry.modulus,
    );
  }

  /** crtmgr_block_list_lookup: a block-list entry with `certificate`'s subject, key and (unless left out) serial. */
  blockedBy(certificate: Certificate): Certificate | undefined {
    return this.certificates.find(
      (entry) =>
        entry.blocked &&
        entry.subject === certificate.subject &&
        entry.modulus === certificate.modulus &&
        (entry.ignoreSerial || entry.serial === certificate.serial),
    );
  }

  /** crtmgr_lookup. */
  lookup(certificate: Certificate): Certificate | undefined {
    return certificate.blocked ? this.blockedBy(certificate) : this.trusted(certificate, false);
  }

  /**
   * crtmgr_verify_crt: the trusted certificate-signing entry whose key signed `certificate`,
   * preferring one allowed every use `certificate` has.
   */
  issuerOf(certificate: Certificate): Certificate | undefined {
    let best: Certificate | undefined;
    let bestScore = 0;
    let candidates = 0;
    for (const entry of this.certificates) {
      if (!entry.certSign || entry.blocked || entry.subject !== certificate.issuer) continue;
      if (!rsaVerify(entry, certificate.signature, certificate.hashType, certificate.tbsHash, this.logger)) continue;
      const code = certificate.codeSign && entry.codeSign;
      const time = certificate.timeSign && entry.timeSign;
      if (code === certificate.codeSign && time === certificate.timeSign) return entry;
      candidates++;
      const score = Number(code) + Number(time);
      if (score > bestScore) {
        best = entry;
        bestScore = score;
      }
    }
    if (candidates > 1) this.logger.warning('crtmgr_verify_crt: choosing between codeSign cert and timeSign cert without enough info - errors may result');
    return best;
  }

  /**
   * crtmgr_verify_pkcs7: the entry allowed `use` with this issuer and serial whose key made
   * `signature` over `digest`.
   */
  signerOf(issuer: string, serial: string, signature: Uint8Array, hash: HashType, digest: Uint8Array, use: SignatureUse): Certificate | undefined {
    if (signature.length < 1024 / 8 || signature.length > 4096 / 8 + 1) {
      this.debug(`crtmgr_verify_pkcs7: unsupported sig len: ${signature.length}`);
      return undefined;
    }
    const value = bigIntOf(signature);
    for (const entry of this.certificates) {
      if (use === 'code' ? !entry.codeSign : !entry.timeSign) continue;
      if (entry.issuer !== issuer || entry.serial !== serial) continue;
      if (rsaVerify(entry, value, hash, digest, this.logger)) return entry;
      this.debug('crtmgr_verify_pkcs7: found cert with matching issuer and serial but RSA verification failed');
    }
    return undefined;
  }

  private debug(message: string): void {
    if (this.logger.debugEnabled) this.logger.debug(message);
  }
}

/** A use flag the entry covers: `(entry | flag) == entry`. */
function within(flag: boolean, entryFlag: boolean): boolean {
  return !flag || entryFlag;
}
