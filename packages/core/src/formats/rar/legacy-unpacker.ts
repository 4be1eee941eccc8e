import { isClamError } from '../../errors.js';
import { corrupt } from '../compression/corrupt.js';
import { RarDataError, type RarEntry, type RarUnpacker } from './entry.js';
import { RarBitInput } from './rar15-bits.js';
import { Rar15Decoder } from './rar15-decoder.js';
import { EntryOutput, LzWindow } from './rar15-window.js';
import { Rar20Decoder } from './rar20-decoder.js';
import { Rar29Decoder } from './rar29-decoder.js';

/** The compression method byte of stored RAR 1.5–4 entries. */
const STORED = 0x30;
/** RAR 1.5–4 dictionaries go up to 4 MiB (three header bits, 64 KiB << n). */
const MAX_DICTIONARY = 0x400000;

interface LegacyDecoder {
  decode(input: RarBitInput, window: LzWindow, out: EntryOutput, solid: boolean): void;
  /** Writes out what has been decoded so far (after a data error, to keep the partial content). */
  flush(window: LzWindow, out: EntryOutput): void;
}


/**
 * Unpacks RAR 1.5–4 entries (unpack versions 15 and below, 20, 26, 29, 36). One instance serves
 * a run of solid entries: the window and the decoder's tables and statistics carry over from one
 * entry to the next when the next one is marked solid; a non-solid entry starts afresh, reusing
 * the window, so one instance can serve a whole archive.
 */
export class LegacyRarUnpacker implements RarUnpacker {
  private readonly input = new RarBitInput();
  private window: LzWindow | undefined;
  private rar15: Rar15Decoder | undefined;
  private rar20: Rar20Decoder | undefined;
  private rar29: Rar29Decoder | undefined;
  /** The decoder of the previous entry: only its state can be continued. */
  private last: LegacyDecoder | undefined;

  unpack(entry: RarEntry, packed: Uint8Array, limit: number): Uint8Array {
    // Stored data needs no decoder (and leaves a solid run's state alone).
    if (entry.method === STORED) return packed.subarray(0, Math.min(entry.unpackedSize, packed.length, limit));
    const decoder = this.decoderFor(entry.unpackVersion);
    const solid = entry.solid && decoder === this.last;
    this.last = decoder;

    const dictionary = Math.min(entry.dictionarySize, MAX_DICTIONARY);
    let window = this.window;
    if (!window) window = this.window = new LzWindow(dictionary);
    else if (!solid) window.clear();
    window.ensure(dictionary);
    // Whatever a previous entry left unwritten (a filter block cut short) is not this entry's.
    window.flushed = window.pos;

    const out = new EntryOutput(entry.unpackedSize, limit);
    this.input.reset(packed);
    try {
      // An empty entry without data has not even tables to read.
      if (entry.unpackedSize > 0 || packed.length > 0) decoder.decode(this.input, window, out, solid);
    } catch (err) {
      if (!isClamError(err) || err.code !== 'EFORMAT') throw err;
      decoder.flush(window, out);
      // Damage after the entry's last byte (in what would prepare its solid successor) spoils nothing of it.
      if (out.written < entry.unpackedSize) throw new RarDataError(err.message, out.result());
    }
    return out.result();
  }

  private decoderFor(version: number): LegacyDecoder {
    // Like UnRAR, anything up to 1.5 (RAR 1.3/1.4 files) goes to the RAR 1.5 decoder.
    if (version <= 15) return (this.rar15 ??= new Rar15Decoder());
    switch (version) {
      case 20:
      case 26:
        return (this.rar20 ??= new Rar20Decoder());
      case 29:
      case 36:
        return (this.rar29 ??= new Rar29Decoder());
      default:
        throw corrupt(`RAR: unknown unpack version ${version}`);
    }
  }
}
