/**
 * The two XOR key streams AutoIt uses to hide the members of a compiled script, as ClamAV
 * generates them (libclamav/autoit.c). Both are symmetric: applying one twice restores the data.
 *
 * - EA05 (AutoIt 3.2.5 and older): a Mersenne Twister seeded with a 32-bit number; each key byte
 *   is bits 1 to 8 of the tempered output (ClamAV's tempering masks differ from the reference
 *   MT19937, and are reproduced here).
 * - EA06: "LAME", a lagged-Fibonacci generator over 17 words (r[i] = rol(r[i], 9) + rol(r[j], 13))
 *   seeded with a 16-bit number. ClamAV turns each word into the double 1.0 + word/2^32 (by
 *   writing the word under the exponent of 1.0), takes 1.0 away, multiplies by 256 and
 *   truncates: exactly the word's top byte, which is what is computed here.
 */

const MT_SIZE = 624;
const MT_SHIFT = 397;
const MT_MATRIX = 0x9908b0df;
const MT_INIT_MULTIPLIER = 0x6c078965;

/** XORs `data` in place with the EA05 key stream of `seed`. */
export function mtDecrypt(data: Uint8Array, seed: number): void {
  const state = new Uint32Array(MT_SIZE);
  state[0] = seed;
  for (let i = 1; i < MT_SIZE; i++) {
    const previous = state[i - 1]!;
    state[i] = (Math.imul(MT_INIT_MULTIPLIER, (previous >>> 30) ^ previous) + i) >>> 0;
  }
  let next = MT_SIZE;
  for (let i = 0; i < data.length; i++) {
    if (next === MT_SIZE) {
      twist(state);
      next = 0;
    }
    data[i]! ^= (temper(state[next++]!) >>> 1) & 0xff;
  }
}

/** Regenerates the 624 state words. */
function twist(state: Uint32Array): void {
  const mixed = (word: number, following: number, far: number): number =>
    (((((word ^ following) & 0x7ffffffe) ^ word) >>> 1) ^ (-(following & 1) & MT_MATRIX) ^ far) >>> 0;
  for (let i = 0; i < MT_SIZE - 1; i++) {
    const far = i < MT_SIZE - MT_SHIFT ? state[i + MT_SHIFT]! : state[i + MT_SHIFT - MT_SIZE]!;
    state[i] = mixed(state[i]!, state[i + 1]!, far);
  }
  state[MT_SIZE - 1] = mixed(state[MT_SIZE - 1]!, state[0]!, state[MT_SHIFT - 1]!);
}

function temper(word: number): number {
  let r = word;
  r ^= r >>> 11;
  r ^= (r & 0xff3a58ad) << 7;
  r ^= (r & 0xffffdf8c) << 15;
  r ^= r >>> 18;
  return r >>> 0;
}

const LAME_WORDS = 17;
const LAME_SEED_MULTIPLIER = 0x53a9b4fb;
/** The generator steps LAME_srand discards after seeding. */
const LAME_WARM_UP = 9;

/** XORs `data` in place with the EA06 key stream of the 16-bit `seed`. */
export function lameDecrypt(data: Uint8Array, seed: number): void {
  const words = new Uint32Array(LAME_WORDS);
  let value = seed & 0xffff;
  for (let i = 0; i < LAME_WORDS; i++) {
    value = (1 - Math.imul(value, LAME_SEED_MULTIPLIER)) >>> 0;
    words[i] = value;
  }
  let first = 0;
  let second = 10;
  const step = (): number => {
    const word = (rotateLeft(words[first]!, 9) + rotateLeft(words[second]!, 13)) >>> 0;
    words[first] = word;
    first = first === 0 ? LAME_WORDS - 1 : first - 1;
    second = second === 0 ? LAME_WORDS - 1 : second - 1;
    return word;
  };
  for (let i = 0; i < LAME_WARM_UP; i++) step();
  for (let i = 0; i < data.length; i++) {
    step();
    data[i]! ^= step() >>> 24;
  }
}

function rotateLeft(word: number, count: number): number {
  return ((word << count) | (word >>> (32 - count))) >>> 0;
}
