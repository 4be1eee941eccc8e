import type { DetectionSink, Detector, ObjectHashes, ScanObject } from '../engine/scan-object.js';
import { CATALOG_ENTRY_SIZE } from '../executables/authenticode/catalog.js';
import type { NameTable } from '../util/names.js';
import { HASH_ALGORITHMS, type HashIndex } from './hash-index.js';

/**
 * Hash signatures, of whole objects (.hdb/.hsb), PE sections (.mdb/.msb) or PE import tables
 * (.imp): for each algorithm
 * in ClamAV's order (MD5, SHA1, SHA256) the entry for the exact size first, then the any-size
 * entry. A digest is computed only when some signature of that algorithm could match this size.
 */
export class HashDetector implements Detector {
  constructor(
    private readonly index: HashIndex,
    private readonly names: NameTable,
  ) {}

  scan(object: ScanObject, sink: DetectionSink): void {
    this.scanBytes(object.data.length, object.hashes, sink);
  }

  /** Matches `size` bytes whose digests `hashes` gives; false when the scan must stop. */
  scanBytes(size: number, hashes: ObjectHashes, sink: DetectionSink): boolean {
    return this.match(size, hashes, sink, true);
  }

  /**
   * scan_pe_imp's matching of an import table's hash text, in the order of scanBytes. ClamAV
   * drops the outcome of an any-size match (the name is reported, the matching and the PE scan
   * go on) and stops at a sized one whose report ends the scan. False when the scan must stop.
   */
  scanImportTable(size: number, hashes: ObjectHashes, sink: DetectionSink): boolean {
    return this.match(size, hashes, sink, false);
  }

  /** Reports each match; false when a report ends the scan (any-size ones only if `anySizeEnds`). */
  private match(size: number, hashes: ObjectHashes, sink: DetectionSink, anySizeEnds: boolean): boolean {
    for (const algorithm of HASH_ALGORITHMS) {
      if (!this.index.wants(algorithm, size)) continue;
      const match = this.index.lookup(algorithm, hashes.get(algorithm), size);
      if (match.sized >= 0 && !sink.report(this.names.get(match.sized))) return false;
      if (match.anySize >= 0 && !sink.report(this.names.get(match.anySize)) && anySizeEnds) return false;
    }
    return true;
  }
}

/**
 * The allow-list (.fp/.sfp, and the hashes of `.cat` catalogs): is this object, or any container
 * it came from, listed? ClamAV checks the whole chain, so allow-listing an archive clears what is
 * found inside it. As ClamAV's cli_check_fp, the SHA-1 and SHA-256 digests are also looked up with
 * the size of catalog cabinet entries whatever the object's size; a SHA-1 digest is computed for
 * that alone, a SHA-256 one only when other entries want it.
 */
export function isAllowListed(index: HashIndex, object: ScanObject | undefined): boolean {
  for (let current = object; current; current = current.parent) {
    const size = current.data.length;
    for (const algorithm of HASH_ALGORITHMS) {
      const anyCabinet = algorithm !== 'md5' && index.hasSize(algorithm, CATALOG_ENTRY_SIZE.CAB);
      if (!index.wants(algorithm, size) && !(algorithm === 'sha1' && anyCabinet)) continue;
      const digest = current.hashes.get(algorithm);
      const match = index.lookup(algorithm, digest, size);
      if (match.sized >= 0 || match.anySize >= 0) return true;
      if (anyCabinet && index.lookup(algorithm, digest, CATALOG_ENTRY_SIZE.CAB).sized >= 0) return true;
    }
  }
  return false;
}
