import { T } from './types.js';

/**
 * Telling Office Open XML (and Hangul HWPX) documents from plain ZIP archives, the way
 * libclamav's cli_determine_fmap_type does it for objects whose magic said ZIP.
 *
 * First the names of the first three local file headers are compared with known entry names:
 * a name that identifies the document kind settles it at once, a name that merely suggests an
 * OOXML package makes ClamAV search the whole central directory for the identifying folders.
 */

const LOCAL_HEADER_SIZE = 30;
const LOCAL_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const MAX_LOCAL_HEADERS = 3;
/** ClamAV gives up looking for local headers after this many windows. */
const MAX_ROUNDS = 32;
/** Size of the windows ClamAV maps while looking for more local headers. */
const WINDOW = 1028;

/** Entry-name prefixes; `type` is the document type, or ZIP when the name only hints at OOXML. */
const ENTRY_HINTS: readonly { name: Uint8Array; type: number }[] = [
  ['xl/', T.OOXML_XL],
  ['ppt/', T.OOXML_PPT],
  ['word/', T.OOXML_WORD],
  ['BinData', T.ZIP],
  ['mimetype', T.ZIP],
  ['Contents', T.ZIP],
  ['docProps/', T.ZIP],
  ['customXml/', T.ZIP],
  ['version.xml', T.ZIP],
  ['settings.xml', T.ZIP],
  // Sic: ClamAV spells the MS package relationships folder this way, so it never matches.
  ['_.rels/.rels', T.ZIP],
  ['[ContentTypes].xml', T.ZIP],
  ['[Content_Types].xml', T.ZIP],
  ['Preview/PrvText.txt', T.ZIP],
  ['Contents/content.hpf', T.OOXML_HWP],
  ['META-INF/container.xml', T.ZIP],
].map(([name, type]) => ({ name: ascii(name as string), type: type as number }));

/** A name is only compared when more bytes than the longest hint follow the header. */
const LONGEST_HINT = 22;

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export interface OoxmlResult {
  readonly type: number;
  /** Whether the whole-archive search ran (ClamAV logs it). */
  readonly searchedCentralDirectory: boolean;
}

/**
 * The OOXML type of a ZIP object, or ZIP when it is not recognisably a document.
 * @param data the whole object
 * @param headLength how many bytes ClamAV read for typing (min(size, 1024))
 */
export function ooxmlType(data: Uint8Array, headLength: number): OoxmlResult {
  // Positions are absolute offsets into `data`; `windowEnd` limits the current window.
  let windowStart = 0;
  let windowEnd = headLength;
  let nextWindow = headLength;
  let searchFrom = 0;
  let headersSeen = 0;
  let likelyOoxml = false;

  for (let round = 0; round < MAX_ROUNDS; round++) {
    let namePos = -1;
    const header = indexOfMagic(data, searchFrom, windowEnd);
    if (header >= 0) {
      namePos = header + LOCAL_HEADER_SIZE;
      if (windowEnd - namePos > LONGEST_HINT) {
        for (const hint of ENTRY_HINTS) {
          if (!startsWith(data, namePos, hint.name)) continue;
          if (hint.type !== T.ZIP) return { type: hint.type, searchedCentralDirectory: false };
          likelyOoxml = true;
        }
        if (++headersSeen >= MAX_LOCAL_HEADERS) {
          if (!likelyOoxml) break;
          return { type: searchCentralDirectory(data), searchedCentralDirectory: true };
        }
        searchFrom = namePos;
      } else {
        namePos = -1;
      }
    }
    if (namePos < 0) {
      // Map the next window, overlapping the previous one so a header cut at its end is seen whole.
      if (data.length - nextWindow <= LOCAL_HEADER_SIZE) break;
      windowStart = nextWindow - (LOCAL_HEADER_SIZE + LONGEST_HINT + 1);
      windowEnd = windowStart + Math.min(WINDOW, data.length - windowStart);
      nextWindow = windowEnd;
      searchFrom = windowStart;
    }
  }
  return { type: T.ZIP, searchedCentralDirectory: false };
}

function indexOfMagic(data: Uint8Array, from: number, end: number): number {
  for (let i = from; i + LOCAL_MAGIC.length <= end; i++) {
    if (data[i] === 0x50 && data[i + 1] === 0x4b && data[i + 2] === 0x03 && data[i + 3] === 0x04) return i;
  }
  return -1;
}

function startsWith(data: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > data.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[at + i] !== prefix[i]) return false;
  return true;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_HEADER = 0x02014b50;
const CENTRAL_HEADER_SIZE = 46;
const END_RECORD_SIZE = 22;
/** ClamAV copies at most 255 bytes of an entry name. */
const MAX_NAME = 255;

/** Central-directory names that decide the type; the last one that matches an entry wins. */
const DIRECTORY_REQUESTS: readonly { name: Uint8Array; exact: boolean; type: number }[] = [
  { name: ascii('xl/'), exact: false, type: T.OOXML_XL },
  { name: ascii('ppt/'), exact: false, type: T.OOXML_PPT },
  { name: ascii('word/'), exact: false, type: T.OOXML_WORD },
  // ClamAV passes 22 as this name's length, so the comparison includes its terminator: exact match.
  { name: ascii('Contents/content.hpf'), exact: true, type: T.OOXML_HWP },
];

/**
 * libclamav's cli_ooxml_filetype: finds the end-of-central-directory record by scanning backwards,
 * then walks the central directory until an entry name matches a request. ZIP when none does.
 */
function searchCentralDirectory(data: Uint8Array): number {
  const size = data.length;
  if (size < CENTRAL_HEADER_SIZE) return T.ZIP;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  for (let at = size - END_RECORD_SIZE; at > 0; at--) {
    if (view.getUint32(at, true) !== END_OF_CENTRAL_DIRECTORY) continue;
    const directory = view.getUint32(at + 16, true);
    if (directory + CENTRAL_HEADER_SIZE > size) continue;
    offset = directory;
    break;
  }
  // An end record pointing at offset 0 counts as not found, as in ClamAV.
  while (offset > 0) {
    if (offset + CENTRAL_HEADER_SIZE > size || view.getUint32(offset, true) !== CENTRAL_HEADER) break;
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const nameStart = offset + CENTRAL_HEADER_SIZE;
    if (size - nameStart <= nameLength) break;
    const afterName = nameStart + nameLength;
    if (size - afterName <= extraLength) break;
    const afterExtra = afterName + extraLength;
    if (size - afterExtra < commentLength) break;
    const found = matchRequest(data.subarray(nameStart, nameStart + Math.min(nameLength, MAX_NAME)));
    if (found !== undefined) return found;
    offset = afterExtra + commentLength;
  }
  return T.ZIP;
}

function matchRequest(rawName: Uint8Array): number | undefined {
  // The name is a C string: it ends at the first NUL.
  const nul = rawName.indexOf(0);
  const name = nul < 0 ? rawName : rawName.subarray(0, nul);
  let found: number | undefined;
  for (const request of DIRECTORY_REQUESTS) {
    const matches = request.exact
      ? name.length === request.name.length && startsWith(name, 0, request.name)
      : startsWith(name, 0, request.name);
    if (matches) found = request.type;
  }
  return found;
}
