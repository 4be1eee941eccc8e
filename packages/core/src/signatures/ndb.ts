import { atoi, isDigits } from '../util/c-numbers.js';
import { MAX_TARGET_TYPE } from '../filetypes/targets.js';
import { SignatureError } from '../matching/signature-error.js';

/**
 * The fields of a body signature line, `Name:TargetType:Offset:HexSignature[:MinFL[:MaxFL]]`,
 * with ClamAV 1.4.6's acceptance rules (cli_loadndb). The offset and the pattern are checked when
 * the pattern is added to its target's matcher.
 */
export interface NdbSignature {
  /** The name as written (before " (Clam)" is dropped and `.UNOFFICIAL` added). */
  readonly name: string;
  /** 0–14. */
  readonly target: number;
  readonly offset: string;
  readonly hex: string;
}

/** A line ClamAV skips without error; `reason` is its debug message, if it prints one. */
export interface SkippedNdbLine {
  readonly skipped: true;
  readonly reason?: string;
}

/**
 * Splits and checks a line. `ignored` is asked about the name before the level fields are
 * looked at, as ClamAV does. Throws a SignatureError (which ClamAV reports as a malformed
 * database) for a wrong field count or non-numeric level or target fields.
 */
export function parseNdbLine(line: string, functionalityLevel: number, ignored: (name: string) => boolean): NdbSignature | SkippedNdbLine {
  const fields = line.split(':');
  if (fields.length < 4 || fields.length > 6) throw new SignatureError();
  const [name, targetText, offset, hex, minLevel, maxLevel] = fields as [string, string, string, string, string?, string?];
  if (ignored(name)) return { skipped: true };
  if (minLevel !== undefined) {
    if (!isDigits(minLevel)) throw new SignatureError();
    if (atoi(minLevel) >>> 0 > functionalityLevel) {
      return { skipped: true, reason: `Signature for ${name} not loaded (required f-level: ${atoi(minLevel)})` };
    }
    if (maxLevel !== undefined) {
      if (!isDigits(maxLevel)) throw new SignatureError();
      if (atoi(maxLevel) >>> 0 < functionalityLevel) return { skipped: true };
    }
  }
  if (targetText !== '*' && !isDigits(targetText)) throw new SignatureError();
  const target = atoi(targetText);
  if (target > MAX_TARGET_TYPE || target < 0) {
    return { skipped: true, reason: `Not supported target type (${target}) in signature for ${name}` };
  }
  return { name, target, offset, hex };
}
