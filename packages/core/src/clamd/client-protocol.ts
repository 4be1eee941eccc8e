import { PREFIX_NUL, type CommandName } from './protocol.js';

/**
 * The client's side of the wire format (the shared constants are in `protocol.ts`). A client
 * speaks as ClamAV 1.4's clamdscan does: every command NUL-framed (`zCOMMAND[ argument]\0`), so
 * that clamd ends every reply with a NUL too — replies may then hold newlines (STATS does), and
 * paths may. INSTREAM data follows its command as length-prefixed chunks; FILDES is followed by
 * one byte that carries the descriptor (SCM_RIGHTS).
 */

/**
 * clamdscan sends file data in chunks of BUFSIZ (8192) bytes less the 4-byte length, which is
 * also what clamd's reading is tuned for.
 */
export const STREAM_CHUNK_BYTES = 8192 - 4;

const PREFIX = String.fromCharCode(PREFIX_NUL);

/** `z<command>\0`, or `z<command> <argument>\0`. */
export function encodeCommand(command: CommandName, argument?: string): Buffer {
  const text = argument === undefined ? command : `${command} ${argument}`;
  return Buffer.from(`${PREFIX}${text}\0`, 'utf8');
}
