import { SpecialKind, elementMask, isSpecialElement, specialIndex, type ParsedPart } from '../signatures/body-pattern.js';
import { SignatureError } from './signature-error.js';

/**
 * ClamAV pre-filters the data of some target types (generic, PE, mail, text) with a q-gram
 * filter, and refuses a pattern that filter cannot represent. ClamTS needs no such filter, but
 * must refuse the same signatures, so this reproduces the refusal conditions of ClamAV's
 * filter_add_acpatt (run on the whole part, before its prefix is chosen):
 * - fewer than 2 leading elements it can represent (bytes, wildcards, single-byte alternatives;
 *   other alternatives and boundary classes end the representable run, leading ones are skipped);
 * - or only pairs of `??` among them.
 */

/** Target types ClamAV pre-filters (cli_mtargets' enable_prefiltering). */
export function isPrefilteredTarget(target: number): boolean {
  return target === 0 || target === 1 || target === 4 || target === 7;
}

/** ClamAV's filter only looks at the first 255 elements. */
const MAX_ELEMENTS = 255;

export function checkPrefilter(part: ParsedPart, rawName: string): void {
  const { elements, specials } = part;
  const n = Math.min(elements.length, MAX_ELEMENTS);
  // All plain bytes: ClamAV's static filter path, which accepts anything of 2 bytes or more.
  if (allPlainBytes(elements, n)) return;

  let i = 0;
  while (i < n && isSpecialElement(elements[i]!) && specials[specialIndex(elements[i]!)]!.kind !== SpecialKind.AltByte) i++;
  // Each representable element stands for `width` byte values; one adjacent pair that is not
  // two `??` (256 x 256) gives the filter a viable choice, and the pattern is accepted.
  let count = 0;
  let previous = 0;
  let stopped = false;
  for (; i < n; i++) {
    const e = elements[i]!;
    let width: number;
    if (isSpecialElement(e)) {
      const special = specials[specialIndex(e)]!;
      if (special.kind !== SpecialKind.AltByte) {
        stopped = true;
        break;
      }
      width = special.bytes.length * (special.negative ? 254 : 1);
    } else {
      const mask = elementMask(e);
      const b = e & 0xff;
      const letter = (e & 0x0001_0000) !== 0 && ((b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a));
      width = mask === 0 ? 256 : mask !== 0xff ? 16 : letter ? 2 : 1;
    }
    if (count > 0 && previous * width !== 0x10000) return;
    previous = width;
    count++;
  }
  const refuse = (why: string) => SignatureError.warned(why, 'cli_ac_addsig: cannot use filter for trie');
  if (count < 2) {
    throw refuse(stopped ? `Don't know how to create filter for: ${rawName}` : `Subpattern too short: ${rawName}`);
  }
  // ClamAV has no choice of q-grams then, so its best score stays at its initial value.
  throw refuse(`filter rejecting ${rawName} due to very bad score: -2147483647`);
}

/** Are the first `n` elements exact bytes (no special, wildcard nibble or case-insensitive letter)? */
function allPlainBytes(elements: Uint32Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const e = elements[i]!;
    if (isSpecialElement(e) || elementMask(e) !== 0xff || (e & 0x0001_0000) !== 0) return false;
  }
  return true;
}
