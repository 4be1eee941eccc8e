import type { FormatHandler } from './handler.js';
import { zipHandler } from './zip.js';

/**
 * Office Open XML documents (.docx, .xlsx, .pptx, and HWPX): zip archives whose parts ClamAV
 * scans exactly as it scans any zip member — its OOXML parser (cli_process_ooxml) only collects
 * JSON metadata for --gen-json, then falls through to the zip scanner. So the parts come from
 * the zip handler, and --scan-archive (not --scan-xmldocs) turns them off, as in ClamAV.
 * Macro-enabled documents carry a vbaProject.bin part, an OLE2 file the scanner unpacks in turn.
 */
export const ooxmlHandler: FormatHandler = {
  name: 'ooxml',
  fileTypes: ['CL_TYPE_OOXML_WORD', 'CL_TYPE_OOXML_PPT', 'CL_TYPE_OOXML_XL', 'CL_TYPE_OOXML_HWP'],
  scanSwitch: 'archive',
  extract: (data, ctx) => zipHandler.extract(data, ctx),
};
