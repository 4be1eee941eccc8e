import { NEWLINE, NUL, PREFIX_NEWLINE, PREFIX_NUL, type Terminator } from './protocol.js';

/** One command cut out of a connection's buffer. */
export interface FramedCommand {
  /** The command line without prefix and terminator, as a byte string. */
  readonly text: string;
  /** Where the command's text starts in the buffer. */
  readonly textStart: number;
  /**
   * clamd's idea of the command's length: the next command starts `length + 1` bytes after the
   * first. For `n` commands this is the length after trailing CR/LF were stripped, so a `\r\n`
   * ending leaves one byte behind, exactly as in clamd (which then treats it as garbage).
   */
  readonly length: number;
  readonly term: Terminator;
  /** Sent without a `z`/`n` prefix. */
  readonly legacy: boolean;
}

/**
 * Cuts the command starting at `offset` out of `buffer[0..end)`, like clamd's get_cmd():
 * prefixed commands run to their terminator (none yet: undefined, wait for more data); an
 * unprefixed one is only recognised at the start of the buffer and is everything up to a newline,
 * or everything received when there is none.
 */
export function frameCommand(buffer: Uint8Array, end: number, offset: number): FramedCommand | undefined {
  if (offset >= end) return undefined;
  const first = buffer[offset];
  if (first === PREFIX_NUL || first === PREFIX_NEWLINE) {
    const termByte = first === PREFIX_NUL ? NUL : NEWLINE;
    const stop = buffer.subarray(offset, end).indexOf(termByte);
    if (stop === -1) return undefined;
    const line = cString(buffer, offset, offset + stop);
    if (termByte === NUL) {
      return { text: line.slice(1), textStart: offset + 1, length: stop, term: '\0', legacy: false };
    }
    const chomped = chomp(line);
    return { text: chomped.slice(1), textStart: offset + 1, length: chomped.length, term: '\n', legacy: false };
  }
  if (offset !== 0) return undefined;
  const newline = buffer.subarray(0, end).indexOf(NEWLINE);
  const length = newline === -1 ? end : newline;
  return { text: chomp(cString(buffer, 0, length)), textStart: 0, length, term: '\n', legacy: true };
}

/** The bytes up to the first NUL (C string semantics), as a byte string. */
function cString(buffer: Uint8Array, start: number, end: number): string {
  const nul = buffer.subarray(start, end).indexOf(NUL);
  const stop = nul === -1 ? end : start + nul;
  return Buffer.from(buffer.buffer, buffer.byteOffset + start, stop - start).toString('latin1');
}

/** Strips trailing CR and LF characters (libclamav's cli_chomp). */
function chomp(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === '\n' || text[end - 1] === '\r')) end--;
  return text.slice(0, end);
}
