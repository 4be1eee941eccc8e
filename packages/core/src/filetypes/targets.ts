import type { FileTypeName } from './types.js';

/**
 * Signature target types (the `TargetType` field of .ndb and .ldb signatures) and the file types
 * each one scans, from libclamav's cli_mtargets table. Target 0 (any) applies to every object in
 * addition to the object's own target.
 */
export interface TargetType {
  readonly id: number;
  /** ClamAV's name for the target (sigtool and debug output). */
  readonly name: string;
  readonly fileTypes: readonly FileTypeName[];
}

export const TARGET_TYPES: readonly TargetType[] = [
  { id: 0, name: 'GENERIC', fileTypes: ['CL_TYPE_ANY'] },
  { id: 1, name: 'PE', fileTypes: ['CL_TYPE_MSEXE'] },
  { id: 2, name: 'OLE2', fileTypes: ['CL_TYPE_MSOLE2'] },
  // Normalised HTML: the HTML scanner rescans its normalised output with this type.
  { id: 3, name: 'HTML', fileTypes: ['CL_TYPE_HTML'] },
  { id: 4, name: 'MAIL', fileTypes: ['CL_TYPE_MAIL'] },
  { id: 5, name: 'GRAPHICS', fileTypes: ['CL_TYPE_GRAPHICS', 'CL_TYPE_GIF', 'CL_TYPE_PNG', 'CL_TYPE_JPEG', 'CL_TYPE_TIFF'] },
  { id: 6, name: 'ELF', fileTypes: ['CL_TYPE_ELF'] },
  // Normalised text: raw text files are scanned as target 0 only (see rawScanTarget).
  { id: 7, name: 'ASCII', fileTypes: ['CL_TYPE_TEXT_ASCII'] },
  // Unused; ClamAV files CL_TYPE_ERROR here so that no real type maps to it.
  { id: 8, name: 'NOT USED', fileTypes: [] },
  { id: 9, name: 'MACH-O', fileTypes: ['CL_TYPE_MACHO', 'CL_TYPE_MACHO_UNIBIN'] },
  { id: 10, name: 'PDF', fileTypes: ['CL_TYPE_PDF'] },
  { id: 11, name: 'FLASH', fileTypes: ['CL_TYPE_SWF'] },
  { id: 12, name: 'JAVA', fileTypes: ['CL_TYPE_JAVA'] },
  { id: 13, name: 'INTERNAL', fileTypes: ['CL_TYPE_INTERNAL'] },
  { id: 14, name: 'OTHER', fileTypes: ['CL_TYPE_OTHER'] },
];

/** The highest target id that signatures may use. */
export const MAX_TARGET_TYPE = TARGET_TYPES.length - 1;

const TARGET_BY_TYPE = new Map<FileTypeName, number>(
  TARGET_TYPES.filter((target) => target.id !== 0).flatMap((target) =>
    target.fileTypes.map((type): [FileTypeName, number] => [type, target.id]),
  ),
);

/**
 * The target whose signatures apply, besides target 0, when ClamAV scans data as `type`:
 * 0 when the type has no target of its own (archives, text other than normalised ASCII, …).
 */
export function targetTypeOf(type: FileTypeName): number {
  return TARGET_BY_TYPE.get(type) ?? 0;
}

/**
 * The target used for the raw scan of an object of `type`. ClamAV scans raw ASCII text as
 * generic data: target 7 only sees normalised text.
 */
export function rawScanTarget(type: FileTypeName): number {
  return type === 'CL_TYPE_TEXT_ASCII' ? 0 : targetTypeOf(type);
}
