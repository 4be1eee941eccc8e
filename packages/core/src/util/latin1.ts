/**
 * Bytes to a string one character per byte (ISO-8859-1) and back. Not `TextDecoder('latin1')`:
 * the WHATWG decoder of that name is windows-1252 and changes bytes 0x80-0x9F, which would alter
 * signature names and database lines.
 */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/**
 * A reusable buffer that receives a text's characters as bytes, one per character: reading a
 * typed array is cheaper than reading the characters of a string that is a slice of its line.
 * For latin1 texts (database text is decoded as latin1, so every character is below 256). The
 * same memory is also seen as 16-bit units (in the platform's byte order), for code that reads
 * the text two characters at a time.
 */
export class Latin1Scratch {
  private buffer!: Buffer;
  /** The buffer as 16-bit units: unit i holds characters 2i and 2i+1. */
  pairs!: Uint16Array;

  constructor() {
    this.allocate(1024);
  }

  /** `text` as bytes at the start of the buffer, valid until the next call (`pairs` too). */
  bytes(text: string): Buffer {
    if (this.buffer.length < text.length) this.allocate(2 * text.length);
    this.buffer.write(text, 0, 'latin1');
    return this.buffer;
  }

  private allocate(size: number): void {
    const memory = new ArrayBuffer(Math.ceil(size / 2) * 2);
    this.buffer = Buffer.from(memory);
    this.pairs = new Uint16Array(memory);
  }
}
