/**
 * ClamAV's file types (libclamav's `cli_file_t`) with their numeric codes.
 *
 * The codes matter beyond naming: when several type signatures match, the matcher keeps the type
 * with the higher code (and a few classes of types always win), so the order below is ClamAV 1.4's
 * enum order and must not be changed.
 */

/** A ClamAV type name such as `CL_TYPE_ZIP`. */
export type FileTypeName = string;

/** The code of CL_TYPE_ANY; every other type is numbered from FIRST_TYPE_CODE upwards. */
export const TYPE_ANY = 0;
const FIRST_TYPE_CODE = 500;

/** Every type of the enum from CL_TYPE_TEXT_ASCII (500) on, in code order. */
const TYPES_IN_CODE_ORDER = [
  'CL_TYPE_TEXT_ASCII',
  'CL_TYPE_TEXT_UTF8',
  'CL_TYPE_TEXT_UTF16LE',
  'CL_TYPE_TEXT_UTF16BE',
  'CL_TYPE_BINARY_DATA',
  'CL_TYPE_ERROR',
  'CL_TYPE_MSEXE',
  'CL_TYPE_ELF',
  'CL_TYPE_MACHO',
  'CL_TYPE_MACHO_UNIBIN',
  'CL_TYPE_POSIX_TAR',
  'CL_TYPE_OLD_TAR',
  'CL_TYPE_CPIO_OLD',
  'CL_TYPE_CPIO_ODC',
  'CL_TYPE_CPIO_NEWC',
  'CL_TYPE_CPIO_CRC',
  'CL_TYPE_GZ',
  'CL_TYPE_ZIP',
  'CL_TYPE_BZ',
  'CL_TYPE_RAR',
  'CL_TYPE_ARJ',
  'CL_TYPE_MSSZDD',
  'CL_TYPE_MSOLE2',
  'CL_TYPE_MSCAB',
  'CL_TYPE_MSCHM',
  'CL_TYPE_SIS',
  'CL_TYPE_SCRENC',
  'CL_TYPE_GRAPHICS',
  'CL_TYPE_GIF',
  'CL_TYPE_PNG',
  'CL_TYPE_JPEG',
  'CL_TYPE_TIFF',
  'CL_TYPE_RIFF',
  'CL_TYPE_BINHEX',
  'CL_TYPE_TNEF',
  'CL_TYPE_CRYPTFF',
  'CL_TYPE_PDF',
  'CL_TYPE_UUENCODED',
  'CL_TYPE_SCRIPT',
  'CL_TYPE_HTML_UTF16',
  'CL_TYPE_RTF',
  'CL_TYPE_7Z',
  'CL_TYPE_SWF',
  'CL_TYPE_JAVA',
  'CL_TYPE_XAR',
  'CL_TYPE_XZ',
  'CL_TYPE_OOXML_WORD',
  'CL_TYPE_OOXML_PPT',
  'CL_TYPE_OOXML_XL',
  'CL_TYPE_INTERNAL',
  'CL_TYPE_HWP3',
  'CL_TYPE_OOXML_HWP',
  'CL_TYPE_PS',
  'CL_TYPE_EGG',
  'CL_TYPE_ONENOTE',
  'CL_TYPE_PYTHON_COMPILED',
  'CL_TYPE_LHA_LZH',
  'CL_TYPE_PART_ANY',
  'CL_TYPE_PART_HFSPLUS',
  'CL_TYPE_MBR',
  'CL_TYPE_HTML',
  'CL_TYPE_MAIL',
  'CL_TYPE_SFX',
  'CL_TYPE_ZIPSFX',
  'CL_TYPE_RARSFX',
  'CL_TYPE_7ZSFX',
  'CL_TYPE_CABSFX',
  'CL_TYPE_ARJSFX',
  'CL_TYPE_EGGSFX',
  'CL_TYPE_NULSFT',
  'CL_TYPE_AUTOIT',
  'CL_TYPE_ISHIELD_MSI',
  'CL_TYPE_ISO9660',
  'CL_TYPE_DMG',
  'CL_TYPE_GPT',
  'CL_TYPE_APM',
  'CL_TYPE_XDP',
  'CL_TYPE_XML_WORD',
  'CL_TYPE_XML_XL',
  'CL_TYPE_XML_HWP',
  'CL_TYPE_HWPOLE2',
  'CL_TYPE_MHTML',
  'CL_TYPE_LNK',
  'CL_TYPE_UDF',
  'CL_TYPE_ALZ',
  'CL_TYPE_OTHER',
  'CL_TYPE_IGNORED',
] as const;

/**
 * Types that exist in the enum but that databases cannot name: libclamav's name table leaves
 * them out, so `.ftm` lines and `Container:`/`Intermediates:` fields that use them are malformed.
 */
const UNNAMEABLE = new Set<string>(['CL_TYPE_ERROR', 'CL_TYPE_OTHER']);

const CODE_BY_NAME = new Map<string, number>([
  ['CL_TYPE_ANY', TYPE_ANY],
  ...TYPES_IN_CODE_ORDER.map((name, index): [string, number] => [name, FIRST_TYPE_CODE + index]),
]);

const NAME_BY_CODE = new Map<number, FileTypeName>([...CODE_BY_NAME].map(([name, code]) => [code, name]));

/** The code of a type of the enum (including CL_TYPE_ERROR and CL_TYPE_OTHER); throws for unknown names. */
export function typeCode(name: FileTypeName): number {
  const code = CODE_BY_NAME.get(name);
  if (code === undefined) throw new RangeError(`unknown file type ${name}`);
  return code;
}

/** The name of a type code; throws for codes that are not in the enum. */
export function typeName(code: number): FileTypeName {
  const name = NAME_BY_CODE.get(code);
  if (name === undefined) throw new RangeError(`unknown file type code ${code}`);
  return name;
}

/**
 * The code of a type name as databases may spell it (libclamav's cli_ftcode), or undefined when
 * ClamAV would refuse the name. Use it to validate `.ftm` types and ldb/cdb container types.
 */
export function databaseTypeCode(name: string): number | undefined {
  return UNNAMEABLE.has(name) ? undefined : CODE_BY_NAME.get(name);
}

/** Every type name that databases may use, CL_TYPE_ANY first, then in code order. */
export const DATABASE_TYPE_NAMES: readonly FileTypeName[] = [...CODE_BY_NAME.keys()].filter((name) => !UNNAMEABLE.has(name));

/** Codes used by the detection logic itself. */
export const T = {
  TEXT_ASCII: typeCode('CL_TYPE_TEXT_ASCII'),
  TEXT_UTF8: typeCode('CL_TYPE_TEXT_UTF8'),
  TEXT_UTF16LE: typeCode('CL_TYPE_TEXT_UTF16LE'),
  TEXT_UTF16BE: typeCode('CL_TYPE_TEXT_UTF16BE'),
  BINARY_DATA: typeCode('CL_TYPE_BINARY_DATA'),
  ERROR: typeCode('CL_TYPE_ERROR'),
  MSEXE: typeCode('CL_TYPE_MSEXE'),
  POSIX_TAR: typeCode('CL_TYPE_POSIX_TAR'),
  OLD_TAR: typeCode('CL_TYPE_OLD_TAR'),
  ZIP: typeCode('CL_TYPE_ZIP'),
  MSOLE2: typeCode('CL_TYPE_MSOLE2'),
  HTML_UTF16: typeCode('CL_TYPE_HTML_UTF16'),
  OOXML_WORD: typeCode('CL_TYPE_OOXML_WORD'),
  OOXML_PPT: typeCode('CL_TYPE_OOXML_PPT'),
  OOXML_XL: typeCode('CL_TYPE_OOXML_XL'),
  OOXML_HWP: typeCode('CL_TYPE_OOXML_HWP'),
  PART_ANY: typeCode('CL_TYPE_PART_ANY'),
  MBR: typeCode('CL_TYPE_MBR'),
  HTML: typeCode('CL_TYPE_HTML'),
  SFX: typeCode('CL_TYPE_SFX'),
  ZIPSFX: typeCode('CL_TYPE_ZIPSFX'),
  RARSFX: typeCode('CL_TYPE_RARSFX'),
  '7ZSFX': typeCode('CL_TYPE_7ZSFX'),
  CABSFX: typeCode('CL_TYPE_CABSFX'),
  ARJSFX: typeCode('CL_TYPE_ARJSFX'),
  EGGSFX: typeCode('CL_TYPE_EGGSFX'),
  GPT: typeCode('CL_TYPE_GPT'),
  IGNORED: typeCode('CL_TYPE_IGNORED'),
} as const;

/** The plain text and binary-data types, the only ones that the type patterns may refine. */
export function isTextOrBinary(code: number): boolean {
  return code >= T.TEXT_ASCII && code <= T.BINARY_DATA;
}
