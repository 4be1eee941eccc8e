import type { ExecutableInfo } from '../engine/scan-object.js';
import { elfTargetInfo } from './elf-header.js';
import { machoTargetInfo } from './macho-header.js';
import { peTargetInfo } from './pe-file.js';

/** The header reader of each target type whose objects have executable structure: PE, ELF, Mach-O. */
const HEADER_READERS: ReadonlyMap<number, (data: Uint8Array) => ExecutableInfo | undefined> = new Map([
  [1, peTargetInfo],
  [6, elfTargetInfo],
  [9, machoTargetInfo],
]);

/** Target types whose objects have executable structure (PE, ELF, Mach-O). */
export function isExecutableTarget(target: number): boolean {
  return HEADER_READERS.has(target);
}

/**
 * ClamAV's cli_targetinfo: the entry point and sections of an object scanned with the
 * signatures of executable target `target`, read by that format's header parser. Undefined when
 * the headers do not parse, or the target has no executable structure.
 */
export function executableTargetInfo(data: Uint8Array, target: number): ExecutableInfo | undefined {
  return HEADER_READERS.get(target)?.(data);
}
