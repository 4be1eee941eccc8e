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
