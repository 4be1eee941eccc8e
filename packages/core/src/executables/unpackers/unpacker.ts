import type { PeFile } from '../pe-file.js';

/**
 * What one of cli_scanpe's unpacking steps sees: the file, its parsed headers, the bytes at the
 * entry point (epbuff, up to 4096), and the scan's limits and debug output.
 */
export interface UnpackContext {
  readonly data: Uint8Array;
  readonly pe: PeFile;
  /** epbuff: up to 4096 bytes from the entry point's file offset (fewer near the end). */
  readonly entry: Uint8Array;
  /** cli_checklimits for a size (CLI_UNPSIZELIMITS): false stops cli_scanpe. */
  withinLimits(size: number): boolean;
  /** A `LibClamAV debug:` line, printed only with --debug. */
  debug(message: string): void;
  /** cli_append_potentially_unwanted: an unpacker's own alert (yC's Heuristics.BoundsCheck). */
  report(name: string): void;
  /** --allmatch: whether an alert lets the scan go on. */
  readonly allMatch: boolean;
  /** ctx->engine->maxfilesize (--max-filesize, 0 for none), which PESpin checks itself. */
  readonly maxFileSize: number;
}

/**
 * What a step decided, as cli_scanpe does after it:
 * - `unpacked`: scan `data` as a new file one level deeper, then stop (ClamAV's "Scanning
 *   rebuilt PE file" / "Scanning decompressed file");
 * - `stop`: cli_scanpe returns without trying the steps after it;
 * - `next`: the packer was not found (or its unpacking failed in a way ClamAV moves on from).
 */
export type UnpackOutcome = { readonly kind: 'unpacked'; readonly data: Uint8Array } | { readonly kind: 'stop' } | { readonly kind: 'next' };

export const NEXT: UnpackOutcome = { kind: 'next' };
export const STOP: UnpackOutcome = { kind: 'stop' };
export function unpacked(data: Uint8Array): UnpackOutcome {
  return { kind: 'unpacked', data };
}

/** ClamAV refuses allocations above 1 GiB (CLI_MAX_ALLOCATION); where an unpacker would need more, cli_scanpe ends. */
export const MAX_ALLOCATION = 1024 * 1024 * 1024;
/** sizeof(struct cli_exe_section), nine 32-bit fields: ClamAV's unpackers allocate section lists of these. */
export const SECTION_STRUCT_SIZE = 36;

