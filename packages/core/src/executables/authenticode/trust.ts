import type { Logger } from '../../util/logger.js';
import { CertificateStore } from './cert-store.js';
import { restoreCertificate, storeCertificate, type StoredCertificate } from './certificate.js';

/**
 * What the `.crb` and `.cat` databases loaded, as plain data (for the engine cache and worker
 * threads): ClamAV's engine->cmgr (newest first: `.crb` lines and the certificates of verified
 * catalogs). The hashes that verified catalogs list join the allow-list (`Engine.allowHashes`),
 * as ClamAV's hm_fp entries of size 2 (PE files) and 1 (cabinets).
 */
export interface AuthenticodeTrustData {
  readonly certificates: readonly StoredCertificate[];
  /** `--nocerts` / DisableCertCheck (ENGINE_OPTIONS_DISABLE_PE_CERTS): no database loaded, no check. */
  readonly disabled: boolean;
  /** `--dumpcerts` (ENGINE_OPTIONS_PE_DUMPCERTS): debug lines with every certificate read. */
  readonly dumpCertificates: boolean;
}

/** The mutable side, on the engine builder. */
export class AuthenticodeTrustBuilder {
  disabled = false;
  dumpCertificates = false;
  private store?: CertificateStore;

  /** The engine's certificate list, which `.crb` lines and verified catalogs add to. */
  certificates(logger: Logger): CertificateStore {
    this.store ??= new CertificateStore(logger);
    return this.store;
  }

  build(): AuthenticodeTrustData {
    return {
      certificates: (this.store?.certificates ?? []).map(storeCertificate),
      disabled: this.disabled,
      dumpCertificates: this.dumpCertificates,
    };
  }
}

/** The loaded trust, ready for checks. */
export class AuthenticodeTrust {
  readonly disabled: boolean;
  readonly dumpCertificates: boolean;
  private readonly certificates;

  constructor(readonly data: AuthenticodeTrustData) {
    this.disabled = data.disabled;
    this.dumpCertificates = data.dumpCertificates;
    this.certificates = data.certificates.map(restoreCertificate);
  }

  /** The whole list (block-list entries included), for block-list lookups. */
  everything(logger: Logger): CertificateStore {
    return new CertificateStore(logger, this.certificates);
  }

  /**
   * crtmgr_add_roots: a fresh trust store for one check, the list without its block-list
   * entries, added one by one (so in reverse order, duplicates dropped).
   */
  roots(logger: Logger): CertificateStore {
    const store = new CertificateStore(logger);
    for (const certificate of this.certificates) if (!certificate.blocked) store.add(certificate);
    return store;
  }
}

export const NO_AUTHENTICODE_TRUST: AuthenticodeTrustData = { certificates: [], disabled: false, dumpCertificates: false };
