/**
 * The Excel BIFF record walk libclamav's handler_enum runs over `Workbook`/`Book` streams
 * (scan_biff_for_xlm_macros_and_images) to learn whether a workbook has Excel 4.0 (XLM) macro
 * sheets or embedded images — either makes ClamAV unpack the document's streams. (The NAME
 * records it also looks at only feed its JSON metadata.)
 */
const OPC_BOUNDSHEET = 0x85;
const OPC_MSODRAWINGGROUP = 0xeb;
/** BOUNDSHEET's sheet type byte: 1 is an Excel 4.0 macro sheet. */
const SHEET_TYPE_OFFSET = 5;
const MACRO_SHEET = 1;

export interface BiffFindings {
  macro: boolean;
  image: boolean;
}

/** Walks the records of `stream`, setting the findings (which may already be set). */
export function scanBiff(stream: Uint8Array, found: BiffFindings): void {
  let pos = 0;
  while (pos + 4 <= stream.length) {
    const opcode = stream[pos]! | (stream[pos + 1]! << 8);
    const length = stream[pos + 2]! | (stream[pos + 3]! << 8);
    const data = pos + 4;
    pos = data + length;
    if (opcode === OPC_BOUNDSHEET && length > SHEET_TYPE_OFFSET && stream[data + SHEET_TYPE_OFFSET] === MACRO_SHEET) {
      found.macro = true;
    } else if (opcode === OPC_MSODRAWINGGROUP && length > 0 && data < stream.length) {
      found.image = true;
    }
  }
}

/** ClamAV's largest acceptable BIFF8 record (xlm_extract.h). */
const BIFF8_MAX_RECORD_LENGTH = 8228;

/**
 * Whether ClamAV's XLM extractor (cli_extract_xlm_macros_and_images) gives up on this workbook
 * stream: a record longer than BIFF8 allows, or one whose data is cut short. ClamAV then skips
 * the rest of the document's directory processing.
 */
export function biffRecordsBroken(stream: Uint8Array): boolean {
  let pos = 0;
  while (pos + 4 <= stream.length) {
    const length = stream[pos + 2]! | (stream[pos + 3]! << 8);
    if (length > BIFF8_MAX_RECORD_LENGTH || pos + 4 + length > stream.length) return true;
    pos += 4 + length;
  }
  return false;
}
