/**
 * Calls `visit` for every line of a database file the way ClamAV reads them: split on `\n`,
 * trailing `\r`/`\n` removed, 1-based line numbers, a last line without newline included.
 * Lines are decoded as latin1 so every byte survives. Returns the number of lines.
 */
export function forEachLine(data: Uint8Array, visit: (line: string, lineNumber: number) => void): number {
  // One Buffer view for all lines: toString with bounds decodes without a Buffer per line.
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  let lineNumber = 0;
  let start = 0;
  while (start < data.length) {
    let end = bytes.indexOf(0x0a, start);
    const next = end < 0 ? data.length : end + 1;
    if (end < 0) end = data.length;
    let trimmed = end;
    while (trimmed > start && (data[trimmed - 1] === 0x0d || data[trimmed - 1] === 0x0a)) trimmed--;
    lineNumber++;
    visit(bytes.toString('latin1', start, trimmed), lineNumber);
    start = next;
  }
  return lineNumber;
}
