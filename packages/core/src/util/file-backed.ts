/**
 * Memory backed by a temporary file, for large decompressed objects (ClamAV writes those to a
 * temporary file and scans them through a map that lets go of scanned pages; this is the same).
 *
 * A `FileBackedBuffer` is a shared mapping of an unlinked file in the temporary directory (the
 * `@clamts/filemap` addon): the engine writes and reads it as any Uint8Array. Pages are given back
 * to the kernel as soon as a pass is past them (`releasePages`): their contents stay in the file's
 * page cache, written to disk under memory pressure, and come back on the next touch. Releasing
 * is therefore always safe, whoever else holds a view of the same bytes; it only costs a page
 * fault if they are read again. The file disappears when the mapping is garbage collected.
 *
 * Without the addon (not built) or a usable temporary directory, large objects simply stay in
 * ordinary memory.
 */
import { closeSync, ftruncateSync, openSync, readSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as bufferConstants } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClamError } from '../errors.js';

interface FileMapAddon {
  mapShared(fd: number, length: number): ArrayBuffer;
  allocate(fd: number, offset: number, length: number): number;
  releasePages(buffer: ArrayBuffer, offset: number, length: number): void;
}

/** Decompressed output past this size moves to file-backed memory. */
export const SPILL_THRESHOLD = 16 * 1024 * 1024;
/**
 * Files larger than this are read for scanning into file-backed memory, whose pages the scan gives
 * back as it goes; smaller ones into ordinary memory, where a scanner keeps one buffer of at most
 * this size for the next file.
 */
export const FILE_READ_THRESHOLD = 4 * 1024 * 1024;
/** Disk blocks are reserved this far ahead of the writer. */
const RESERVE_STEP = 16 * 1024 * 1024;
/** Sequential passes give pages back in steps of this size. */
export const RELEASE_STEP = 1024 * 1024;

let addon: FileMapAddon | null | undefined;
function fileMap(): FileMapAddon | null {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)('@clamts/filemap') as FileMapAddon;
    } catch {
      addon = null;
    }
  }
  return addon;
}

/** Can large objects go to file-backed memory here (the addon is built)? */
export function fileBackingAvailable(): boolean {
  return fileMap() !== null;
}

/** The ArrayBuffers that are file mappings: only their pages can be released. */
const mappings = new WeakSet<ArrayBufferLike>();

let temporaryDirectory: string | undefined;

/** Closes the descriptor of a buffer abandoned before it was sealed (a decoder that threw). */
const descriptors = new FinalizationRegistry<number>((fd) => closeSync(fd));

/**
 * Runs `work` (synchronous) with temporary files going to `directory` (the system's when
 * undefined): ClamAV's `--tempdir` / `TemporaryDirectory` for the scan in progress.
 */
export function withTemporaryDirectory<T>(directory: string | undefined, work: () => T): T {
  const previous = temporaryDirectory;
  temporaryDirectory = directory;
  try {
    return work();
  } finally {
    temporaryDirectory = previous;
  }
}

/** A writable mapping of `capacity` bytes of a new temporary file, whose disk blocks are reserved as it fills. */
export class FileBackedBuffer {
  readonly bytes: Uint8Array;
  private reserved = 0;

  private constructor(
    private readonly addon: FileMapAddon,
    private fd: number,
    capacity: number,
  ) {
    const buffer = addon.mapShared(fd, capacity);
    mappings.add(buffer);
    this.bytes = new Uint8Array(buffer);
    descriptors.register(this, fd, this);
  }

  /**
   * A new file-backed buffer in `directory` (by default the scan's temporary directory), or
   * undefined when none can be made there (ordinary memory then).
   */
  static create(capacity: number, directory = temporaryDirectory): FileBackedBuffer | undefined {
    const map = fileMap();
    if (!map) return undefined;
    const size = Math.min(capacity, bufferConstants.MAX_LENGTH);
    let fd: number | undefined;
    try {
      const path = join(directory ?? tmpdir(), `clamts-${randomBytes(8).toString('hex')}.tmp`);
      fd = openSync(path, 'wx+', 0o600);
      unlinkSync(path);
      ftruncateSync(fd, size);
      return new FileBackedBuffer(map, fd, size);
    } catch {
      // A directory that cannot take the file (missing, read-only, full) leaves the object in memory.
      if (fd !== undefined) closeSync(fd);
      return undefined;
    }
  }

  /**
   * Reserves disk blocks for the first `length` bytes before they are written: a write to a page
   * without a block on a full disk would kill the process. Throws EWRITE when the disk is full.
   */
  reserve(length: number): void {
    if (length <= this.reserved) return;
    const upTo = Math.min(this.bytes.length, Math.max(length, this.reserved + RESERVE_STEP));
    const errno = this.addon.allocate(this.fd, this.reserved, upTo - this.reserved);
    if (errno !== 0) throw new ClamError('EWRITE');
    this.reserved = upTo;
  }

  /** No more writes: the descriptor is closed (the mapping keeps the file until it is collected). */
  seal(): void {
    if (this.fd < 0) return;
    descriptors.unregister(this);
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Is `view` in file-backed memory? */
export function isFileBacked(view: Uint8Array): boolean {
  return mappings.has(view.buffer);
}

/**
 * Gives back the pages of bytes `from`..`to` of `view` when it is file-backed (a no-op for any
 * other memory). The bytes stay readable.
 */
export function releasePages(view: Uint8Array, from = 0, to = view.length): void {
  if (to <= from || !isFileBacked(view)) return;
  addon!.releasePages(view.buffer as ArrayBuffer, view.byteOffset + from, to - from);
}

/**
 * Gives back the pages of a file-backed view behind a sequential pass (a decoder writing it, the
 * matcher or a hash reading it), a step at a time, keeping the last `keep` bytes before the pass.
 */
export class ReleaseBehind {
  private released = 0;

  constructor(
    private readonly view: Uint8Array,
    private readonly keep = 0,
  ) {}

  /** The pass has reached `offset`. */
  advance(offset: number): void {
    const upTo = offset - this.keep;
    if (upTo - this.released < RELEASE_STEP) return;
    releasePages(this.view, this.released, upTo);
    this.released = upTo;
  }
}

/**
 * Reads the first `size` bytes of the file `fd` (positional reads: a descriptor passed by a
 * client keeps its offset) into file-backed memory, a step at a time, giving back the pages read:
 * a scan then holds a few steps of a large file in memory, as ClamAV's aging file map does.
 * Returns the bytes read (fewer if the file shrank), or undefined when no file-backed memory can
 * be made (the caller reads into ordinary memory).
 */
export function readIntoFileBacked(fd: number, size: number, directory?: string): Uint8Array | undefined {
  const file = FileBackedBuffer.create(size, directory);
  if (!file) return undefined;
  try {
    file.reserve(size);
  } catch {
    // No room on the disk for the copy: ordinary memory will do.
    file.seal();
    return undefined;
  }
  const read = new ReleaseBehind(file.bytes);
  const length = readPositional(fd, file.bytes, size, (done) => read.advance(done));
  file.seal();
  releasePages(file.bytes, 0, length);
  return file.bytes.subarray(0, length);
}

/**
 * Reads the first `size` bytes of the file `fd` for a scan, with positional reads: into
 * file-backed memory when it is larger than FILE_READ_THRESHOLD and such memory can be made in
 * `directory`, else into ordinary memory. Returns the bytes read (fewer if the file shrank).
 */
export function readForScan(fd: number, size: number, directory?: string): Uint8Array {
  const fileBacked = size > FILE_READ_THRESHOLD ? readIntoFileBacked(fd, size, directory) : undefined;
  if (fileBacked) return fileBacked;
  const bytes = Buffer.allocUnsafe(size);
  return bytes.subarray(0, readPositional(fd, bytes, size));
}

/**
 * Reads the first `size` bytes of `fd` into `into` in steps of RELEASE_STEP, at positions from 0
 * (a descriptor passed by a client keeps its offset); `afterStep` hears how many are read so far.
 * Returns how many bytes were read: fewer than `size` if the file ended sooner.
 */
function readPositional(fd: number, into: Uint8Array, size: number, afterStep?: (done: number) => void): number {
  let length = 0;
  for (let count = 1; count > 0 && length < size; length += count) {
    count = readSync(fd, into, length, Math.min(size - length, RELEASE_STEP), length);
    afterStep?.(length + count);
  }
  return length;
}
