import { createHash } from 'node:crypto';
import { ReleaseBehind } from '../util/file-backed.js';

export type HashAlgorithm = 'md5' | 'sha1' | 'sha256';

/**
 * Whole-object digests, computed at most once per object and only when a loaded signature set asks
 * for them (hash signatures, allow-lists, clean cache).
 */
export class ObjectHashes {
  private readonly digests = new Map<HashAlgorithm, Uint8Array>();

  constructor(private readonly data: Uint8Array) {}

  get(algorithm: HashAlgorithm): Uint8Array {
    let digest = this.digests.get(algorithm);
    if (digest === undefined) {
      digest = hashInSteps(algorithm, this.data);
      this.digests.set(algorithm, digest);
    }
    return digest;
  }

  hex(algorithm: HashAlgorithm): string {
    return Buffer.from(this.get(algorithm)).toString('hex');
  }
}

/** The digest of `data`, hashed a step at a time so that a file-backed object's pages can be given back. */
function hashInSteps(algorithm: HashAlgorithm, data: Uint8Array): Uint8Array {
  const STEP = 1024 * 1024;
  const hash = createHash(algorithm);
  const hashed = new ReleaseBehind(data);
  for (let offset = 0; offset < data.length; offset += STEP) {
    hashed.advance(offset);
    hash.update(data.subarray(offset, offset + STEP));
  }
  return hash.digest();
}

/** Entry point and sections of an executable, as its header parser finds them (executables/). */
export interface ExecutableSection {
  /** Relative virtual address. */
  readonly rva: number;
  readonly virtualSize: number;
  /** Offset of the section's raw data in the file. */
  readonly rawOffset: number;
  readonly rawSize: number;
}

export interface ExecutableInfo {
  /** File offset of the entry point. */
  readonly entryPoint: number;
  readonly sections: readonly ExecutableSection[];
  /** PE files: the file offsets of the version-information strings, when asked for (`VI` offsets). */
  readonly versionInfo?: ReadonlySet<number>;
}

/**
 * One object being scanned: a file, stdin, a stream, or something extracted from a container.
 * Every detector (hash, body, logical, container metadata) sees the same value.
 */
export interface ScanObject {
  readonly data: Uint8Array;
  /** ClamAV file type name, e.g. `CL_TYPE_ZIP`, `CL_TYPE_BINARY_DATA`. */
  readonly fileType: string;
  /** 0 for the top-level object, +1 per container level. */
  readonly depth: number;
  /**
   * File types of the enclosing containers, outermost first (ClamAV's "intermediates"), as
   * ClamAV looks them up: normalised layers are skipped (see `normalised`).
   */
  readonly containers: readonly string[];
  /**
   * A normalised form of its parent (ClamAV's LAYER_ATTRIBUTES_NORMALIZED: HTML views, normalised
   * text). Container lookups pass over it: its container is its parent's container, and its
   * members' container is its parent.
   */
  readonly normalised?: boolean;
  /** The container this object was extracted from. */
  readonly parent?: ScanObject;
  /** Its name inside that container, when it has one. */
  readonly name?: string;
  readonly hashes: ObjectHashes;
  /**
   * Scanned as a view of its container's buffer (ClamAV's nested fmaps) rather than as a buffer
   * of its own: ClamAV does not look for embedded containers in it.
   */
  readonly sharesParentBuffer?: boolean;
  /**
   * Rebuilt by an unpacker or cut out as an embedded PE file, or inside such an object (ClamAV's
   * corrupted_input): headers not quite to spec are expected, so none is reported as broken.
   */
  readonly reconstructed?: boolean;
  /**
   * The file descriptor ClamAV's debug lines name this object by (`Descriptor[N]`, its fmap_fd):
   * the scanned file's (ScanOptions.descriptor), the same for a view of a container's buffer, the
   * next one for an object ClamAV writes to a temporary file of its own.
   */
  readonly descriptor: number;
}

/** Where detectors report what they find. */
export interface DetectionSink {
  /**
   * Records a detection for the current object. Returns true when scanning should go on
   * (all-match mode), false when the caller stops at the first detection.
   */
  report(name: string): boolean;
}

/** A compiled family of signatures (hashes, body patterns, logical signatures, …). */
export interface Detector {
  scan(object: ScanObject, sink: DetectionSink): void;
}
