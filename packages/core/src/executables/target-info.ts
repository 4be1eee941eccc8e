import type { ExecutableInfo } from '../engine/scan-object.js';
import { elfTargetInfo } from './elf-header.js';
import { machoTargetInfo } from './macho-header.js';
import { peTargetInfo } from './pe-header.js';

/** ClamAV's target types whose objects have executable structure. */
const PE_TARGET = 1;
const ELF_TARGET = 6;
const MACHO_TARGET = 9;

/**
 * ClamAV's cli_targetinfo: the entry point and sections of an object scanned with the
 * signatures of executable target `target`, read by that format's header parser. Undefined when
 * the headers do not parse.
 */
export function executableTargetInfo(data: Uint8Array, target: number): ExecutableInfo | undefined {
  switch (target) {
    case PE_TARGET:
      return peTargetInfo(data);
    case ELF_TARGET:
      return elfTargetInfo(data);
    case MACHO_TARGET:
      return machoTargetInfo(data);
    default:
      return undefined;
  }
}
