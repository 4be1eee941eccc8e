/** libclamav's FILEBUFF: the line buffer of most database loaders, the manifest's included. */
export const DATABASE_LINE_BUFFER = 8192;
/** The line buffer of ClamAV's logical signature loader (CLI_DEFAULT_LSIG_BUFSIZE + 1). */
export const LOGICAL_LINE_BUFFER = 32769;

/**
 * Where the line that starts at `start` ends (exclusive, its newline included) when read as
 * fgets reads it into a buffer of `lineBuffer` bytes: at the newline, or after `lineBuffer - 1`
 * bytes, the rest of a longer line being read as the next one.
 */
export function nextLineEnd(data: Uint8Array, start: number, lineBuffer: number): number {
  const limit = Math.min(data.length, start + lineBuffer - 1);
  const newline = data.indexOf(0x0a, start);
  return newline >= 0 && newline < limit ? newline + 1 : limit;
}

/**
 * Calls `visit` for every line of a database file the way ClamAV's loader reads them through
 * its line buffer of `lineBuffer` bytes (see nextLineEnd): trailing `\r`/`\n` removed, 1-based
 * line numbers, a last line without newline included. Lines are decoded as latin1 so every byte
 * survives. Returns the number of lines.
 */
export function forEachLine(data: Uint8Array, visit: (line: string, lineNumber: number) => void, lineBuffer: number): number {
  // One Buffer view for all lines: toString with bounds decodes without a Buffer per line.
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  let lineNumber = 0;
  let start = 0;
  while (start < data.length) {
    const next = nextLineEnd(bytes, start, lineBuffer);
    let end = next;
    while (end > start && (data[end - 1] === 0x0d || data[end - 1] === 0x0a)) end--;
    lineNumber++;
    visit(bytes.toString('latin1', start, end), lineNumber);
    start = next;
  }
  return lineNumber;
}
