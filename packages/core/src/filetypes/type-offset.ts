import { atoi, isDigits } from '../util/c-numbers.js';
import { refuse } from './pattern-error.js';

/** Where a type signature may start (ClamAV's offset field as cli_caloff decodes it for target 0). */
export type TypeOffset =
  | { readonly kind: 'any' }
  /** Start within [min, max]; both are 32-bit unsigned like in ClamAV, so they may wrap. */
  | { readonly kind: 'absolute'; readonly min: number; readonly max: number }
  /** Start within [size - distance, size - distance + shift]; unknown while only typing the head. */
  | { readonly kind: 'eof'; readonly distance: number; readonly shift: number }
  /** Macro groups (`$n$`) only feed logical signatures: such parts never decide a type. */
  | { readonly kind: 'macro' };

/** libclamav's cli_caloff for the generic target, which type signatures belong to. */
export function parseTypeOffset(text: string): TypeOffset {
  if (text === '*') return { kind: 'any' };
  if (text.length > 64) throw refuse('cli_caloff: Offset string too long');
  let base = text;
  let shift = 0;
  const comma = text.indexOf(',');
  if (comma >= 0) {
    const shiftText = text.slice(comma + 1);
    if (!isDigits(shiftText)) throw refuse('cli_caloff: Invalid offset shift value');
    shift = atoi(shiftText) >>> 0;
    base = text.slice(0, comma);
  }
  const executableOffsetError = executableOffset(base);
  if (executableOffsetError) throw refuse(executableOffsetError);
  if (base.startsWith('EOF-')) {
    if (!isDigits(base.slice(4))) throw refuse('cli_caloff: Invalid offset value');
    return { kind: 'eof', distance: atoi(base.slice(4)) >>> 0, shift };
  }
  if (base.includes('$')) return parseMacro(base);
  if (!isDigits(base)) throw refuse('cli_caloff: Invalid offset value');
  const min = atoi(base) >>> 0;
  return { kind: 'absolute', min, max: (min + shift) >>> 0 };
}

/**
 * Offsets relative to an executable's entry point or sections: malformed ones get their own
 * message, well-formed ones are refused because type signatures belong to the generic target.
 */
/** `Sx+n` as sscanf("S%u+%u") accepts it. */
const SECTION_PLUS = /^S[ \t\n\v\f\r]*[+-]?[0-9]+\+[ \t\n\v\f\r]*[+-]?[0-9]+/;

function executableOffset(base: string): string | undefined {
  const targetError = 'cli_caloff: Invalid offset type for target 0';
  if (base.startsWith('EP+') || base.startsWith('EP-')) {
    return isDigits(base.slice(3)) ? targetError : 'cli_caloff: Invalid offset value';
  }
  if (base.startsWith('SE')) return isDigits(base.slice(2)) ? targetError : 'cli_caloff: Invalid section number';
  if (base.startsWith('SL+')) return isDigits(base.slice(3)) ? targetError : 'cli_caloff: Invalid offset value';
  if (base.startsWith('S')) return SECTION_PLUS.test(base) ? targetError : 'cli_caloff: Invalid offset string';
  if (base.startsWith('VI')) return targetError;
  return undefined;
}

function parseMacro(text: string): TypeOffset {
  const match = /^\$[ \t\n\v\f\r]*([+-]?)([0-9]+)/.exec(text);
  if (!match) throw refuse(`cli_caloff: Invalid macro($) in offset: ${text}`);
  const magnitude = BigInt(match[2]);
  const group = Number(BigInt.asUintN(32, match[1] === '-' ? -magnitude : magnitude));
  if (group >= 32) throw refuse('cli_caloff: at most 32 macro groups supported');
  return { kind: 'macro' };
}
