import { binaryString } from './bytes.js';

/**
 * A mail file read line by line with libclamav's two line readers, which share one position:
 * `gets` (fmap_gets: up to 999 bytes or through the next line feed; a NUL ends the line as a C
 * string) and `getline` (getline_from_mbox: line ends LF, CR, CRLF or LFCR; NUL bytes dropped).
 * Lines are returned with their line end, as the C readers return them.
 */
export class MailInput {
  at = 0;

  constructor(private readonly data: Uint8Array) {}

  /** The byte at the current position, or undefined at the end. */
  peek(): number | undefined {
    return this.data[this.at];
  }

  gets(): string | undefined {
    const data = this.data;
    const len = Math.min(999, data.length - this.at);
    if (len <= 0) return undefined;
    const newline = data.subarray(this.at, this.at + len).indexOf(0x0a);
    const end = newline === -1 ? this.at + len : this.at + newline + 1;
    const raw = data.subarray(this.at, end);
    this.at = end;
    const nul = raw.indexOf(0);
    return binaryString(raw, 0, nul === -1 ? raw.length : nul);
  }

  getline(): string | undefined {
    const data = this.data;
    let remaining = Math.min(data.length - this.at, 1001);
    if (remaining <= 0) return undefined;
    let src = this.at;
    let out = '';
    for (let i = 0; i < 999; i++) {
      if (!remaining--) {
        if (!out) return undefined;
        break;
      }
      const c = data[src++]!;
      if (c === 0) continue;
      if (c === 0x0a || c === 0x0d) {
        out += String.fromCharCode(c);
        const pair = c === 0x0a ? 0x0d : 0x0a;
        if (remaining && data[src] === pair) src++;
        break;
      }
      out += String.fromCharCode(c);
    }
    this.at = src;
    return out;
  }
}

/** cli_chomp(): trailing CR and LF removed. */
export function chomp(line: string): string {
  let end = line.length;
  while (end > 0 && (line.charCodeAt(end - 1) === 0x0a || line.charCodeAt(end - 1) === 0x0d)) end--;
  return line.slice(0, end);
}
