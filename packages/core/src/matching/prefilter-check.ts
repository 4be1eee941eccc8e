import { SpecialKind, type ParsedPart, type Special } from '../signatures/body-pattern.js';
import { STORED_ANY, STORED_NOCASE, isStoredSpecial, isStoredStatic, storedSpecialIndex } from '../signatures/pattern-elements.js';
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
  const { elements, start } = part;
  const n = Math.min(part.length, MAX_ELEMENTS);
  // A part of plain bytes takes ClamAV's static filter path, which accepts anything of 2 bytes
  // or more (as every part is, see parsePart); the loop below accepts it at its second byte.
  let i = 0;
  for (; i < n; i++) {
    const special = specialAt(part, i);
    if (special === undefined || special.kind === SpecialKind.AltByte) break;
  }
  // Each representable element stands for `width` byte values; one adjacent pair that is not
  // two `??` (256 x 256) gives the filter a viable choice, and the pattern is accepted.
  let count = 0;
  let previous = 0;
  let stopped = false;
  for (; i < n; i++) {
    const e = elements[start + i]!;
    const special = specialAt(part, i);
    let width: number;
    if (special !== undefined) {
      if (special.kind !== SpecialKind.AltByte) {
        stopped = true;
        break;
      }
      width = special.bytes.length * (special.negative ? 254 : 1);
    } else if (e === STORED_ANY) {
      width = 256;
    } else if (!isStoredStatic(e)) {
      width = 16;
    } else {
      const b = e & 0xff;
      const letter = (e & STORED_NOCASE) !== 0 && ((b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a));
      width = letter ? 2 : 1;
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

/** The special at element `i`, if it is one. */
function specialAt(part: ParsedPart, i: number): Special | undefined {
  const e = part.elements[part.start + i]!;
  return isStoredSpecial(e) ? part.specials[storedSpecialIndex(e, 0)]! : undefined;
}
