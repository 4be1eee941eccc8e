/**
 * The one interface every container or document format implements. The scanner detects an
 * object's type, finds the handler registered for it, and scans each object the handler yields
 * like a file (recursively), enforcing the limits; handlers never scan anything themselves.
 *
 * Adding a format means adding one module that exports a `FormatHandler` and listing it in
 * `formats/registry.ts` — nothing else changes.
 */
import type { HtmlLink } from './normalise/html.js';
import type { ArchivePassword } from '../signatures/pwdb.js';

/** The `--scan-*` switch (clamd `Scan*` option) that turns a handler off, as in ClamAV. */
export type ScanSwitch = 'archive' | 'mail' | 'ole2' | 'pdf' | 'html' | 'xmldocs' | 'pe' | 'elf' | 'swf' | 'hwp3' | 'onenote' | 'image';

/**
 * One object found inside a container. An object with empty `data` carries only metadata (an
 * encrypted, failed or skipped member): container signatures may match it, nothing is scanned.
 */
export interface ExtractedObject {
  readonly data: Uint8Array;
  /** Name inside the container, when it has one (archive member name, attachment file name). */
  readonly name?: string;
  /**
   * Metadata ClamAV's container signatures (.cdb, ldb `Container:`) can match: the size the
   * member has inside the container, whether it was encrypted, its position — exactly the number
   * ClamAV passes for that format (0-based in 7z, 1-based in ARJ, always 0 in CAB/CHM, absent
   * where ClamAV passes 0) — and the compression method number of the format.
   */
  readonly compressedSize?: number;
  /**
   * The member's size as the container declares it, which ClamAV's metadata matching uses (for a
   * member yielded as metadata only, or cut at a limit); the length of `data` when absent.
   */
  readonly declaredSize?: number;
  readonly encrypted?: boolean;
  readonly position?: number;
  readonly method?: number;
  /**
   * For normalised views and extracted code (HTML views, normalised scripts, VBA source…): the
   * fixed types ClamAV matches the object as, in order, instead of typing and unpacking it.
   */
  readonly scanAs?: readonly string[];
  /**
   * With `scanAs`: ClamAV matches this view as one buffer in memory (vba_scandata): body and
   * logical signatures without scan windows, no hash signatures, counted once as data scanned.
   */
  readonly inMemory?: boolean;
  /**
   * ClamAV scans this object as a view of the container's own buffer (cpio members), not as a
   * new file: embedded containers are not looked for in it.
   */
  readonly sameBuffer?: boolean;
  /**
   * A normalised form of the container (HTML views, the data URIs of HTML): ClamAV's
   * LAYER_ATTRIBUTES_NORMALIZED (`ScanObject.normalised`).
   */
  readonly normalised?: boolean;
  /** Rebuilt by an executable unpacker or cut out as an embedded PE file (`ScanObject.reconstructed`). */
  readonly reconstructed?: boolean;
  /**
   * ClamAV matches no container metadata signature on this object: it is not a member (an archive
   * comment), or the handler yielded the member's metadata before (zip matches every header
   * before it extracts anything).
   */
  readonly noMetadata?: boolean;
}

/** Something a handler noticed that ClamAV reports as a heuristic (when that alert is enabled). */
export type HeuristicKind =
  | 'encrypted-archive' // Heuristics.Encrypted.<Format>
  | 'encrypted-doc'
  | 'broken' // Heuristics.Broken.Executable and friends
  | 'broken-media'
  | 'macros' // Heuristics.OLE2.ContainsMacros
  | 'exceeds-max' // Heuristics.Limits.Exceeded.*
  | 'heuristic' // on unless --heuristic-alerts=no, e.g. Heuristics.Zip.OverlappingFiles
  | 'always'; // reported whatever the options, e.g. Heuristics.XZ.DicSizeLimit

export interface ExtractionContext {
  /**
   * Bytes a single extracted object may have before the handler must stop inflating it
   * (the remaining --max-scansize / --max-filesize budget): protects against decompression bombs.
   * Handlers yield a truncated object or skip it (as ClamAV does for that format) past this size.
   */
  readonly maxObjectSize: number;
  /** --max-filesize (unbounded when 0): what handlers that trim like ClamAV's cli_unzip cut members at. */
  readonly maxFileSize: number;
  /**
   * ClamAV's cli_checklimits(who, needed) as a parser calls it before it unpacks `needed` bytes:
   * false past the scan-size or file-size limit, with its debug line and the
   * Heuristics.Limits.Exceeded.* alert (with --alert-exceeds-max). The scanner provides it.
   */
  checkLimits?(who: string, needed: number): boolean;
  /** Report a heuristic finding with ClamAV's signature name, e.g. `Heuristics.Encrypted.Zip`. */
  heuristic(kind: HeuristicKind, name: string): void;
  /**
   * ClamAV's phishingScan on the links of a mail part (the scanner provides it when
   * --phishing-scan-urls is on): suspicious links raise `Heuristics.Phishing.*`. False when an
   * alert stopped the scan (with --heuristic-scan-precedence).
   */
  checkLinks?(links: readonly HtmlLink[]): boolean;
  /**
   * The `.pwdb` passwords to try on encrypted zip members, in ClamAV's order; undefined when
   * DCONF's ARCHIVE PASSWD is off (encrypted members are then skipped).
   */
  readonly zipPasswords?: readonly ArchivePassword[];
  /** libclamav-style messages (`LibClamAV Error: …`, `LibClamAV Warning: …`, debug lines). */
  error(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

export interface FormatHandler {
  /** Short identifier used in debug lines and docs, e.g. 'zip'. */
  readonly name: string;
  /** ClamAV file types (`CL_TYPE_*`) this handler unpacks. */
  readonly fileTypes: readonly string[];
  /** The `--scan-*` switch that turns it off; none when ClamAV parses the type whatever they say. */
  readonly scanSwitch?: ScanSwitch;
  /**
   * Unpacks only what the raw scan recognises inside another file (recognised-types.ts): ClamAV's
   * magic scan has no parser for an object that is itself of this type.
   */
  readonly recognisedOnly?: boolean;
  /**
   * ClamAV's parser stops unpacking at the first member the limits refuse to scan (cli_unzip
   * ends when a member is bigger than what is left of --max-scansize).
   */
  readonly endsAtRefusedMember?: boolean;
  /**
   * Yields the objects inside `data`, lazily: the scanner stops pulling when a limit is reached
   * or a virus was found (without --allmatch). Corrupt input never throws past the handler:
   * it yields what it could recover and reports `broken` heuristics where ClamAV would.
   */
  extract(data: Uint8Array, ctx: ExtractionContext): Iterable<ExtractedObject>;
}
