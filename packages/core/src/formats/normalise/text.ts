/**
 * ClamAV's text normalisation (libclamav/textnorm.c): the form of ASCII text that target-type-7
 * signatures match.
 *
 * Per byte: A–Z become a–z; tab, LF, VT, FF, CR and space become one space, and runs of them
 * collapse to a single space; other control bytes and every byte from 0x80 up are dropped; all
 * other printable ASCII is copied.
 *
 * The "previous byte was a space" memory is reset whenever ClamAV flushes its output buffer, so
 * a run of white space that straddles a flush yields two spaces. Where the flushes fall depends
 * on the caller, hence the two entry points below.
 */

/** libclamav's SCANBUFF: the size of the buffers the matcher scans. */
export const SCAN_BUFFER_SIZE = 0x20000;
/** libclamav's ASCII_FILE_BUFF_LENGTH: sigtool's output buffer. */
export const SIGTOOL_BUFFER_SIZE = 131072;
/** The fmap page size on Linux, the unit ClamAV reads input in. */
const PAGE_SIZE = 4096;

const SKIP = 0;
const SPACE = 1;
const COPY = 2;

/** The action for each byte value, and for copied bytes the byte to write. */
const ACTION = new Uint8Array(256);
const OUTPUT = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) ACTION[c] = SPACE;
  else if (c > 0x20 && c < 0x80) {
    ACTION[c] = COPY;
    OUTPUT[c] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
  } else ACTION[c] = SKIP;
}

/** Writes normalised bytes into a caller-supplied buffer; one instance per normalised stream. */
export class TextNormaliser {
  private spaceWritten = false;

  /** Forgets the previous white space, as ClamAV does on every buffer flush. */
  reset(): void {
    this.spaceWritten = false;
  }

  /**
   * Normalises `input[start, end)` into `out` from `outPos`, stopping early only when `out` is
   * full. Returns the new output position; all input was consumed when it did not stop early.
   */
  normalise(input: Uint8Array, start: number, end: number, out: Uint8Array, outPos: number): number {
    const outEnd = out.length;
    let p = outPos;
    for (let i = start; i < end && p < outEnd; i++) {
      const c = input[i]!;
      const action = ACTION[c];
      if (action === COPY) {
        out[p++] = OUTPUT[c]!;
        this.spaceWritten = false;
      } else if (action === SPACE) {
        if (!this.spaceWritten) out[p++] = 0x20;
        this.spaceWritten = true;
      }
    }
    return p;
  }
}

/**
 * Normalises `data` in independent chunks of `chunkSize` input bytes (the white-space memory is
 * reset between chunks). With the default chunk this is exactly `sigtool --ascii-normalise`; with
 * SCAN_BUFFER_SIZE + the longest target-7 pattern it is the stream clamscan scans when target-7
 * signatures use relative offsets.
 */
export function normaliseText(data: Uint8Array, chunkSize = SIGTOOL_BUFFER_SIZE): Uint8Array {
  const normaliser = new TextNormaliser();
  const out = new Uint8Array(data.length);
  let written = 0;
  for (let at = 0; at < data.length; at += chunkSize) {
    normaliser.reset();
    written = normaliser.normalise(data, at, Math.min(data.length, at + chunkSize), out, written);
  }
  return out.slice(0, written);
}

/** The text clamscan's in-memory script scan matches, and how its buffers divide it. */
export interface NormalisedScript {
  /** The concatenated new bytes of all buffers. */
  readonly text: Uint8Array;
  /**
   * Where each buffer's new bytes end in `text`, in order. Every buffer after the first starts
   * with the carried-over tail (the longest target-7 pattern) of the one before.
   */
  readonly bufferEnds: readonly number[];
}

/**
 * The normalised stream clamscan's in-memory script scan matches (cli_scanscript without
 * relative-offset signatures): input is read page by page into a buffer of SCANBUFF plus the
 * longest target-7 pattern, and the buffer is flushed (matched, and the white-space memory
 * reset) before a page could overflow it and at the end; after a flush the buffer restarts
 * behind the carried-over pattern tail.
 */
export function normaliseTextForScan(data: Uint8Array, maxPatternLength: number): NormalisedScript {
  const normaliser = new TextNormaliser();
  const bufferLength = SCAN_BUFFER_SIZE + maxPatternLength;
  const out = new Uint8Array(data.length);
  const bufferEnds: number[] = [];
  let written = 0;
  let bufferPos = 0;
  for (let at = 0; at < data.length; at += PAGE_SIZE) {
    const end = Math.min(data.length, at + PAGE_SIZE);
    if (bufferPos + (end - at) > bufferLength) {
      bufferEnds.push(written);
      normaliser.reset();
      bufferPos = maxPatternLength;
    }
    const next = normaliser.normalise(data, at, end, out, written);
    bufferPos += next - written;
    written = next;
  }
  bufferEnds.push(written);
  return { text: out.slice(0, written), bufferEnds };
}
