/**
 * Random reads over a stream that can only be decoded front to back (a CAB folder, a CHM LZX
 * section): members are usually read in stream order, so the decoder just keeps going; reading
 * an earlier range restarts it. Nothing but the current chunk is kept, so a member far into a
 * huge stream costs decoding time, never memory.
 */
export interface RangeRead {
  /** The bytes read: shorter than asked when the stream ended or broke first. */
  readonly data: Uint8Array;
  /** Why the read stopped early (corrupt or truncated stream), if it did. */
  readonly error?: string;
}

export class ChunkCursor {
  private chunks: Iterator<Uint8Array> | undefined;
  private chunk: Uint8Array = new Uint8Array(0);
  /** Stream offset of `chunk[0]`. */
  private chunkStart = 0;
  private ended = false;
  private error: string | undefined;

  /** @param open starts decoding from the beginning; it throws or ends on bad data. */
  constructor(private readonly open: () => Iterator<Uint8Array>) {}

  /** Reads `length` bytes at stream offset `start`. */
  read(start: number, length: number): RangeRead {
    if (this.chunks === undefined || start < this.chunkStart) this.restart();
    const pieces: Uint8Array[] = [];
    let got = 0;
    let pos = start;
    while (got < length) {
      const chunkEnd = this.chunkStart + this.chunk.length;
      if (pos < chunkEnd) {
        const from = pos - this.chunkStart;
        const take = Math.min(chunkEnd - pos, length - got);
        pieces.push(this.chunk.subarray(from, from + take));
        got += take;
        pos += take;
        continue;
      }
      if (!this.advance()) break;
    }
    const data = pieces.length === 1 ? pieces[0]!.slice() : concat(pieces, got);
    return got < length ? { data, error: this.error ?? 'stream ended early' } : { data };
  }

  private restart(): void {
    this.chunks = this.open();
    this.chunk = new Uint8Array(0);
    this.chunkStart = 0;
    this.ended = false;
    this.error = undefined;
  }

  private advance(): boolean {
    if (this.ended) return false;
    try {
      const next = this.chunks!.next();
      if (!next.done) {
        this.chunkStart += this.chunk.length;
        this.chunk = next.value;
        return true;
      }
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
    this.ended = true;
    return false;
  }
}

function concat(pieces: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}
