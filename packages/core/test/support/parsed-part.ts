// Parsing one pattern part in a test, and reading its stored elements back as 32-bit elements.
import { PLAIN_PART, parsePart, type ParsedPart, type PartOptions } from '../../src/signatures/body-pattern.js';
import { wideElement } from '../../src/signatures/pattern-elements.js';
import { GrowableShared } from '../../src/util/shared-memory.js';

/** Parses `hex` as one part, into a storage of its own. */
export function parseTestPart(hex: string, options: PartOptions = PLAIN_PART): ParsedPart {
  return parsePart(hex, options, 'T', new GrowableShared(Uint16Array));
}

/** A parsed part's elements as 32-bit elements, its specials numbered from `specialStart`. */
export function wideElementsOf(part: ParsedPart, specialStart = 0): number[] {
  return Array.from(part.elements.subarray(part.start, part.start + part.length), (stored) => wideElement(stored, specialStart));
}
