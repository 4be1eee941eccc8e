/**
 * What ClamAV's raw scan does with the file types its type signatures (`.ftm` magic type 1)
 * recognise inside an object (libclamav scanners.c, scanraw). Each recognised type, in the order
 * found, is one of:
 *
 * - a **correction**: the object itself is really of that type (an ISO 9660 image whose volume
 *   descriptors lie past the head, MIME HTML in text) and is unpacked whole as such — at every
 *   level;
 * - an **embedded container**: an archive starts at the match (a self-extracting ZIP, RAR, CAB,
 *   ARJ or 7z; in PE files, the files of an MSI-based InstallShield setup, a compiled AutoIt
 *   script or an NSIS installer's archive, 4 bytes before its signature) and is unpacked from there as one more level — only in objects that are a buffer of
 *   their own, not a view of their container's (see `ExtractedObject.sameBuffer`).
 *
 * Afterwards the best type of the whole scan may still turn a text object into HTML or mail.
 * Embedded PE files are the scanner's own business (ScanRun.scanEmbeddedPe: a new file, not a
 * container). Types ClamTS has no unpacker for (EGG, DMG, UDF, disk partitions,
 * XML documents) are recognised and left alone.
 */
import { isTextOrBinary, typeCode } from '../filetypes/types.js';

export interface RecognisedTypeAction {
  /** The file type whose handler unpacks it (see `FormatHandlers.for`). */
  readonly handlerType: string;
  /** The type the unpacked layer has: what its members see as their container. */
  readonly layerType: string;
  /** Where the unpacked data starts in the object. */
  readonly start: number;
  /** An embedded container is one level deeper; a correction stays at the object's level. */
  readonly deeper: boolean;
}

interface Rule {
  readonly embedded: boolean;
  readonly handlerType: string;
  readonly layerType: string;
  /** Whether the rule applies to an object of this type. */
  readonly appliesTo: (objectType: string) => boolean;
  /** Where the unpacked data starts, from the match offset; undefined when it cannot be there. */
  readonly start: (matchOffset: number) => number | undefined;
}

/** ISO 9660 needs its 16 system sectors before the primary volume descriptor. */
const ISO_SYSTEM_AREA = 32768;
/** The flags field in front of NSIS's signature. */
const NSIS_FLAGS_SIZE = 4;

const anyType = () => true;
const notOf = (type: string) => (objectType: string) => objectType !== type;
const atMatch = (offset: number) => offset;
const isPe = (objectType: string) => objectType === 'CL_TYPE_MSEXE';

function embedded(handlerType: string, layerType: string): Rule {
  return { embedded: true, handlerType, layerType, appliesTo: notOf(layerType), start: atMatch };
}

const RULES = new Map<string, Rule>([
  [
    'CL_TYPE_MHTML',
    {
      embedded: false,
      handlerType: 'CL_TYPE_MHTML',
      layerType: 'CL_TYPE_MHTML',
      appliesTo: (objectType) => isTextOrBinary(typeCode(objectType)),
      start: () => 0,
    },
  ],
  [
    'CL_TYPE_ISO9660',
    {
      embedded: false,
      handlerType: 'CL_TYPE_ISO9660',
      layerType: 'CL_TYPE_ISO9660',
      appliesTo: anyType,
      start: (offset) => (offset >= ISO_SYSTEM_AREA ? 0 : undefined),
    },
  ],
  ['CL_TYPE_ZIPSFX', embedded('CL_TYPE_ZIPSFX', 'CL_TYPE_ZIP')],
  ['CL_TYPE_RARSFX', embedded('CL_TYPE_RAR', 'CL_TYPE_RAR')],
  ['CL_TYPE_CABSFX', embedded('CL_TYPE_MSCAB', 'CL_TYPE_MSCAB')],
  ['CL_TYPE_ARJSFX', embedded('CL_TYPE_ARJ', 'CL_TYPE_ARJ')],
  ['CL_TYPE_7ZSFX', embedded('CL_TYPE_7Z', 'CL_TYPE_7Z')],
  ['CL_TYPE_ISHIELD_MSI', { ...embedded('CL_TYPE_ISHIELD_MSI', 'CL_TYPE_ISHIELD_MSI'), appliesTo: isPe }],
  ['CL_TYPE_AUTOIT', { ...embedded('CL_TYPE_AUTOIT', 'CL_TYPE_AUTOIT'), appliesTo: isPe }],
  // An NSIS archive starts with 4 bytes of flags before the signature, which may not be at the start.
  [
    'CL_TYPE_NULSFT',
    {
      ...embedded('CL_TYPE_NULSFT', 'CL_TYPE_NULSFT'),
      appliesTo: isPe,
      start: (offset) => (offset > NSIS_FLAGS_SIZE ? offset - NSIS_FLAGS_SIZE : undefined),
    },
  ],
]);

/**
 * What to do with `found`, recognised at `matchOffset` (> 0) in an object of type `objectType`;
 * `ownBuffer` tells whether the object is a buffer of its own. Undefined: nothing.
 */
export function recognisedTypeAction(found: string, matchOffset: number, objectType: string, ownBuffer: boolean): RecognisedTypeAction | undefined {
  const rule = RULES.get(found);
  if (!rule || (rule.embedded && !ownBuffer) || !rule.appliesTo(objectType)) return undefined;
  const start = rule.start(matchOffset);
  if (start === undefined) return undefined;
  return { handlerType: rule.handlerType, layerType: rule.layerType, start, deeper: rule.embedded };
}

/**
 * The best type of the whole raw scan turns text into HTML or mail, which is then unpacked as
 * such (the object keeps its own type for everything else). `containerType` is the type of the
 * object's container: ClamAV leaves AutoIt scripts mistaken for HTML alone.
 */
export function textReinterpretation(best: string | undefined, objectType: string, containerType: string | undefined): 'CL_TYPE_HTML' | 'CL_TYPE_MAIL' | undefined {
  if (best === 'CL_TYPE_HTML') {
    const textOrGif = objectType === 'CL_TYPE_TEXT_ASCII' || objectType === 'CL_TYPE_GIF';
    return textOrGif && containerType !== 'CL_TYPE_AUTOIT' ? best : undefined;
  }
  if (best === 'CL_TYPE_MAIL') return objectType === 'CL_TYPE_TEXT_ASCII' ? best : undefined;
  return undefined;
}
