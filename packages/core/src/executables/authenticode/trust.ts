import type { Logger } from '../../util/logger.js';
import { CertificateStore } from './cert-store.js';
import { restoreCertificate, storeCertificate, type StoredCertificate } from './certificate.js';

/**
 * What the `.crb` and `.cat` databases loaded, as plain data (for the engine cache and worker
 * threads): ClamAV's engine->cmgr (newest first: `.crb` lines and the certificates of verified
 * catalogs) and the Authenticode hashes of PE files in verified catalogs (hm_fp entries of size 2).
 */
export interface AuthenticodeTrustData {
  readonly certificates: readonly StoredCertificate[];
  readonly catalogHashes: { readonly sha1: readonly string[]; readonly sha256: readonly string[] };
  /** `--nocerts` / DisableCertCheck (ENGINE_OPTIONS_DISABLE_PE_CERTS): no database loaded, no check. */
  readonly disabled: boolean;
  /** `--dumpcerts` (ENGINE_OPTIONS_PE_DUMPCERTS): debug lines with every certificate read. */
  readonly dumpCertificates: boolean;
}

/** The mutable side, on the engine builder. */
export class AuthenticodeTrustBuilder {
  disabled = false;
  dumpCertificates = false;
  readonly catalogHashes = { sha1: new Set<string>(), sha256: new Set<string>() };
  private store?: CertificateStore;

  /** The engine's certificate list, which `.crb` lines and verified catalogs add to. */
  certificates(logger: Logger): CertificateStore {
    this.store ??= new CertificateStore(logger);
    return this.store;
  }

  build(): AuthenticodeTrustData {
    return {
      certificates: (this.store?.certificates ?? []).map(storeCertificate),
      catalogHashes: { sha1: [...this.catalogHashes.sha1], sha256: [...this.catalogHashes.sha256] },
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
  readonly catalogHashes: { readonly sha1: ReadonlySet<string>; readonly sha256: ReadonlySet<string> };

  constructor(readonly data: AuthenticodeTrustData) {
    this.disabled = data.disabled;
    this.dumpCertificates = data.dumpCertificates;
    this.certificates = data.certificates.map(restoreCertificate);
    this.catalogHashes = { sha1: new Set(data.catalogHashes.sha1), sha256: new Set(data.catalogHashes.sha256) };
  }

  get hasCatalogHashes(): boolean {
    return this.catalogHashes.sha1.size > 0 || this.catalogHashes.sha256.size > 0;
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

export const NO_AUTHENTICODE_TRUST: AuthenticodeTrustData = { certificates: [], catalogHashes: { sha1: [], sha256: [] }, disabled: false, dumpCertificates: false };
