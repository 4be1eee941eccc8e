import { readFileSync } from 'node:fs';

/**
 * The paths in a `--file-list` file, one per line without its line ending (ClamAV strips
 * trailing `\r` and `\n`, but leaves an empty line as the one-character name "\n");
 * undefined when the file cannot be read.
 */
export function readFileList(path: string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => {
    const entry = line.replace(/\r+$/, '');
    return entry.length > 0 ? entry : '\n';
  });
}
