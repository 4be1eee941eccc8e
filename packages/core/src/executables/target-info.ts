import type { ExecutableInfo } from '../engine/scan-object.js';
import { elfTargetInfo } from './elf-header.js';
import { machoTargetInfo } from './macho-header.js';
import { executableInfoOf, readPeHeaders } from './pe-file.js';
import { versionInfoOffsets } from './version-info.js';

/** What cli_targetinfo reads besides the entry point and sections. */
export interface TargetInfoOptions {
  /** The version information of a PE file (ClamAV always reads it; ClamTS when `VI` signatures need it or when debugging). */
  readonly versionInfo: boolean;
  /** Receives ClamAV's debug lines of the version-information walk. */
  readonly debug?: (message: string) => void;
}

type HeaderReader = (data: Uint8Array, options: TargetInfoOptions) => ExecutableInfo | undefined;

/** The header reader of each target type whose objects have executable structure: PE, ELF, Mach-O. */
const HEADER_READERS: ReadonlyMap<number, HeaderReader> = new Map<number, HeaderReader>([
  [1, readPeTargetInfo],
  [6, elfTargetInfo],
  [9, machoTargetInfo],
]);

/** Target types whose objects have executable structure (PE, ELF, Mach-O). */
export function isExecutableTarget(target: number): boolean {
  return HEADER_READERS.has(target);
}

/** cli_pe_targetinfo: the headers, and the version information when asked for. */
function readPeTargetInfo(data: Uint8Array, options: TargetInfoOptions): ExecutableInfo | undefined {
  const pe = readPeHeaders(data);
  if (typeof pe === 'string') return undefined;
  const info = executableInfoOf(pe);
  return options.versionInfo ? { ...info, versionInfo: versionInfoOffsets(data, pe, options.debug) } : info;
}

/**
 * ClamAV's cli_targetinfo: the entry point and sections of an object scanned with the
 * signatures of executable target `target`, read by that format's header parser. Undefined when
 * the headers do not parse, or the target has no executable structure.
 */
export function executableTargetInfo(data: Uint8Array, target: number, options: TargetInfoOptions = { versionInfo: false }): ExecutableInfo | undefined {
  return HEADER_READERS.get(target)?.(data, options);
}
