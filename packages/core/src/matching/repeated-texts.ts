import { Latin1Scratch, detachedCopy } from '../util/latin1.js';

/**
 * A map from texts to numbers that only keeps the texts seen more than once. Loading a database
 * looks up every pattern text, most of which occur once: keeping them all would hold their lines
 * in memory until the engine is built. A first occurrence leaves only a 32-bit fingerprint in a
 * typed table; a text whose fingerprint was seen before is looked up (and remembered) by its
 * exact value, so a fingerprint collision only costs a lookup that finds nothing.
 */
export class RepeatedTexts {
  /** Open addressing: a fingerprint (never 0) per slot, 0 for an empty slot. */
  private fingerprints = new Uint32Array(1024);
  /** How many times each slot's fingerprint was looked up, saturating at 255. */
  private seen = new Uint8Array(1024);
  /** Takes the high bits of a multiplicative hash as the slot: 32 - log2(table size). */
  private shift = 22;
  private used = 0;
  private readonly values = new Map<string, number>();
  /** The text of the last `get` and its slot: `set` usually follows with the same text. */
  private lastText = '';
  private lastSlot = -1;

  /**
   * `textBytes` receives the texts' bytes. A scratch shared with the next reader of the same
   * texts (the hex decoder) spares that reader writing them again.
   */
  constructor(private readonly textBytes = new Latin1Scratch()) {}

  /** The value remembered for `text`, if any; counts the occurrence. */
  get(text: string): number | undefined {
    const slot = this.slotOf(text, true);
    this.lastText = text;
    this.lastSlot = slot;
    if (this.seen[slot]! < 255) this.seen[slot]!++;
    return this.seen[slot]! > 1 ? this.values.get(text) : undefined;
  }

  /** Remembers `value` for `text` when the text (by its fingerprint) was looked up more than once. */
  set(text: string, value: number): void {
    const slot = text === this.lastText && this.lastSlot >= 0 ? this.lastSlot : this.slotOf(text, false);
    if (this.seen[slot]! > 1) this.values.set(detachedCopy(text), value);
  }

  /** The slot of the text's fingerprint; a new one is taken when `insert` is true. */
  private slotOf(text: string, insert: boolean): number {
    const fingerprint = this.fingerprintOf(text);
    const fingerprints = this.fingerprints;
    const mask = fingerprints.length - 1;
    // The probe steps at least once, and its condition compares with the fingerprint first, so
    // that V8 has type feedback for every part of it before the first collision or repeat comes
    // (a part first run after the code was optimized discards that code).
    let slot = ((Math.imul(fingerprint, 0x9e3779b1) >>> this.shift) - 1) & mask;
    let current: number;
    do {
      slot = (slot + 1) & mask;
      current = fingerprints[slot]!;
    } while (current !== fingerprint && current !== 0);
    if (current === 0 && insert) {
      fingerprints[slot] = fingerprint;
      if (++this.used * 2 > fingerprints.length) return this.grow(fingerprint);
    }
    return slot;
  }

  /** A 32-bit hash of the text, never 0; four characters at a time. */
  private fingerprintOf(text: string): number {
    const length = text.length;
    const bytes = this.textBytes.bytes(text);
    const words = this.textBytes.words;
    let hash = 0x811c9dc5 ^ length;
    const whole = length >> 2;
    for (let i = 0; i < whole; i++) {
      hash = Math.imul(hash ^ words[i]!, 0x5bd1e995);
      hash ^= hash >>> 15;
    }
    for (let i = whole << 2; i < length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
    return hash >>> 0 || 1;
  }

  /** Doubles the table; returns the new slot of `fingerprint`. */
  private grow(fingerprint: number): number {
    const { fingerprints, seen } = this;
    this.fingerprints = new Uint32Array(fingerprints.length * 2);
    this.seen = new Uint8Array(fingerprints.length * 2);
    this.shift--;
    const mask = this.fingerprints.length - 1;
    let found = 0;
    for (let old = 0; old < fingerprints.length; old++) {
      const value = fingerprints[old]!;
      if (value === 0) continue;
      let slot = Math.imul(value, 0x9e3779b1) >>> this.shift;
      while (this.fingerprints[slot] !== 0) slot = (slot + 1) & mask;
      this.fingerprints[slot] = value;
      this.seen[slot] = seen[old]!;
      if (value === fingerprint) found = slot;
    }
    return found;
  }
}
