import { MIN_STATIC_BYTES, type ParsedPart } from '../signatures/body-pattern.js';
import { isStoredStatic } from '../signatures/pattern-elements.js';
import { SignatureError } from './signature-error.js';

/**
 * How ClamAV's Aho-Corasick automaton (cli_ac_addsig) cuts a pattern part: a "prefix" of
 * elements matched backwards, then the pattern proper, which starts with its "key" of 2 or 3
 * static bytes (the path through the automaton's trie). The body matcher and the file type
 * matcher both order their matches by it.
 */

/** The longest key; the shortest is MIN_STATIC_BYTES. */
export const AC_KEY_MAX = 3;

/**
 * Chooses the start of the pattern proper like ClamAV's cli_ac_addsig: when the first bytes
 * contain a wildcard or are all zero, the pattern is shifted right to a run of static bytes
 * (preferring runs that do not start with two zeros) and the skipped elements become the prefix.
 */
export function choosePrefixLength(part: ParsedPart): number {
  const n = part.length;
  let wildcardStart = false;
  let zeroStart = true;
  for (let i = 0; i < AC_KEY_MAX && i < n; i++) {
    if (isWildcardAt(part, i)) {
      wildcardStart = true;
      break;
    }
    if (zeroStart && !isZeroAt(part, i)) zeroStart = false;
  }
  if (!wildcardStart && !zeroStart) return 0;

  let runLength = 0;
  let runStart = 0;
  let nonZeroLength = 0;
  let nonZeroStart = 0;
  const last = n - MIN_STATIC_BYTES + 1;
  for (let i = 0; i < last; i++) {
    for (let j = i; j < i + AC_KEY_MAX && j < n; j++) {
      if (isWildcardAt(part, j)) break;
      if (j - i + 1 >= runLength) {
        runLength = j - i + 1;
        runStart = i;
      }
      if (!isZeroAt(part, runStart) || (n > runStart + 1 && !isZeroAt(part, runStart + 1))) {
        if (runLength >= AC_KEY_MAX) break;
        if (runLength >= MIN_STATIC_BYTES && runLength > nonZeroLength) {
          nonZeroLength = runLength;
          nonZeroStart = runStart;
        }
      }
    }
    if (runLength >= AC_KEY_MAX && (!isZeroAt(part, runStart) || !isZeroAt(part, runStart + 1))) break;
  }
  if (nonZeroLength !== 0 && n > runStart + 1 && isZeroAt(part, runStart) && isZeroAt(part, runStart + 1)) {
    runLength = nonZeroLength;
    runStart = nonZeroStart;
  }
  if (runLength < MIN_STATIC_BYTES) {
    throw new SignatureError(`cli_ac_addsig: Can't find a static subpattern of length ${MIN_STATIC_BYTES}`);
  }
  return runStart;
}

function isWildcardAt(part: ParsedPart, i: number): boolean {
  return !isStoredStatic(part.elements[part.start + i]!);
}

/**
 * ClamAV's zero test on its own 16-bit encoding: an exact 0x00 byte (not a case-insensitive one,
 * not a wildcard), or past the end.
 */
function isZeroAt(part: ParsedPart, i: number): boolean {
  return i >= part.length || part.elements[part.start + i] === 0;
}

/** Length of the key: the static elements from `prefixLength` on, at most AC_KEY_MAX. */
export function keyLengthAt(part: ParsedPart, prefixLength: number): number {
  const { elements, start, length } = part;
  let keyLength = 0;
  while (keyLength < AC_KEY_MAX && prefixLength + keyLength < length && isStoredStatic(elements[start + prefixLength + keyLength]!)) {
    keyLength++;
  }
  return keyLength;
}
