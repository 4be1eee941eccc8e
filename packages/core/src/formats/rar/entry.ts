import { ClamError } from '../../errors.js';

/**
 * What a RAR archive says about itself and its entries, the same for both header formats
 * (RAR 1.5–4 in `rar4-headers.ts`, RAR 5 in `rar5-headers.ts`); the handler (`../rar.ts`) reads
 * either through `RarArchive` and unpacks each entry with the decoder its `unpackVersion` names.
 */

/** One file or directory entry of a RAR archive. */
export interface RarEntry {
  /** The name as stored (RAR 1.5–4: OEM or the Unicode name when present; RAR 5: UTF-8). */
  readonly name: string;
  readonly isDirectory: boolean;
  /** The entry's data is encrypted (its header itself is readable). */
  readonly encrypted: boolean;
  readonly packedSize: number;
  readonly unpackedSize: number;
  /** The compression method as the header stores it (RAR 1.5–4: 0x30 store … 0x35 best; RAR 5: 0 … 5). */
  readonly method: number;
  /** The decoder the data needs: 15, 20, 26, 29 or 36 (RAR 1.5–4), 50 or 70 (RAR 5); stored data needs none. */
  readonly unpackVersion: number;
  /** The entry continues the previous entry's dictionary and decoder state (solid archive). */
  readonly solid: boolean;
  readonly dictionarySize: number;
  /** CRC32 of the unpacked data, when the header has one. */
  readonly crc32?: number;
  /** Where the packed data starts in the archive buffer (it runs `packedSize` bytes). */
  readonly dataStart: number;
  /** The data continues in the next volume (multi-volume archives); only this part is here. */
  readonly continuesInNextVolume: boolean;
  /** The data starts in a previous volume. */
  readonly continuesFromPreviousVolume: boolean;
}

/** One RAR archive, opened from a buffer at the offset of its signature. */
export interface RarArchive {
  /** The headers are encrypted: no entry can be listed (ClamAV counts one encrypted file). */
  readonly headersEncrypted: boolean;
  /** The archive comment, unpacked, when there is one. */
  readonly comment?: Uint8Array;
  /**
   * The entries in archive order, lazily; service headers (comments, recovery records, ACLs…)
   * are not entries. Stops quietly at the end of the archive or at damage, telling why in `debug`.
   */
  entries(): Iterable<RarEntry>;
}

/** Turns one entry's packed data into its content; one instance serves a run of solid entries. */
export interface RarUnpacker {
  /**
   * Decodes `packed` (the entry's data) up to the entry's `unpackedSize` and returns the first
   * `limit` bytes of it (all, when smaller): a solid successor needs the whole entry decoded even
   * when the handler keeps nothing of it (limit 0). Throws `RarDataError` (with what was decoded
   * before the damage) on corrupt data. A solid entry continues from the state the previous call
   * left; any other entry starts afresh (one unpacker serves the whole archive).
   */
  unpack(entry: RarEntry, packed: Uint8Array, limit: number): Uint8Array;
}

/**
 * The error both decoders throw for corrupt packed data. Like UnRAR, which stops at damage and
 * leaves the bytes it got (ClamAV then scans that partial file, CRC mismatch notwithstanding), it
 * carries what was decoded before the damage.
 */
export class RarDataError extends ClamError {
  constructor(
    message: string,
    /** The entry's content up to the damage (at most the `limit` given to `unpack`). */
    readonly partial: Uint8Array,
  ) {
    super('EFORMAT', { message });
  }
}
