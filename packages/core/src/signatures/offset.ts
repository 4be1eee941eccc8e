import { atoi, isDigits, scanUnsigned } from '../util/c-numbers.js';
import { SignatureError } from '../matching/signature-error.js';
import { isExecutableTarget } from '../executables/target-info.js';

/**
 * Signature offsets (the `Offset` field of .ndb lines, the `offset:` prefix of .ldb subsignatures):
 * where in an object a body pattern may start.
 */
export const enum OffsetKind {
  /** `*`: anywhere. */
  Any,
  /** `n`: at `n` (up to `n + shift` when floating). */
  Absolute,
  /** `EOF-n`. */
  EndMinus,
  /** `EP+n`. */
  EntryPlus,
  /** `EP-n`. */
  EntryMinus,
  /** `SL+n`: start of the last section plus n. */
  LastSectionPlus,
  /** `Sx+n`: start of section x plus n. */
  SectionPlus,
  /** `SEx`: anywhere inside section x. */
  SectionEntire,
  /** `VI`: at a PE version-information key/value pair. */
  VersionInfo,
  /** `$n$`: a member of macro group n (only feeds logical-signature macros, never detects). */
  Macro,
}

export interface OffsetSpec {
  readonly kind: OffsetKind;
  /** n of `n`, `EOF-n`, `EP±n`, `SL+n`, `Sx+n`; the group of `$n$`. */
  readonly value: number;
  /** The MaxShift of a floating offset `Offset,MaxShift` (0 when absent). */
  readonly shift: number;
  /** x of `Sx+n` and `SEx`. */
  readonly section: number;
}

/** ClamAV's value for "no valid offset". Offsets are unsigned 32-bit numbers in ClamAV. */
export const OFFSET_NONE = 0xfffffffe;
/** ClamAV's value for "anywhere", what a `VI` offset resolves to (its matches are checked against the version information instead). */
export const OFFSET_ANY = 0xffffffff;

export const ANY_OFFSET: OffsetSpec = { kind: OffsetKind.Any, value: 0, shift: 0, section: 0 };

/** Offsets that need the object's size or executable structure, resolved once per scanned object. */
export function isRelativeOffset(spec: OffsetSpec): boolean {
  return spec.kind !== OffsetKind.Any && spec.kind !== OffsetKind.Absolute && spec.kind !== OffsetKind.Macro;
}

/**
 * Parses an offset field for a signature of target type `target`, refusing what ClamAV's
 * cli_caloff refuses with its messages.
 */
export function parseOffset(text: string, target: number): OffsetSpec {
  if (text === '*') return ANY_OFFSET;
  if (text.length > 64) throw new SignatureError('cli_caloff: Offset string too long');

  let base = text;
  let shift = 0;
  const comma = text.indexOf(',');
  if (comma >= 0) {
    const shiftText = text.slice(comma + 1);
    if (!isDigits(shiftText)) throw new SignatureError('cli_caloff: Invalid offset shift value');
    shift = atoi(shiftText) >>> 0;
    base = text.slice(0, comma);
  }

  const spec = (kind: OffsetKind, value = 0, section = 0): OffsetSpec => ({ kind, value, shift, section });
  const number = (digits: string, message: string): number => {
    if (!isDigits(digits)) throw new SignatureError(message);
    return atoi(digits) >>> 0;
  };

  let result: OffsetSpec;
  if (base.startsWith('EP+') || base.startsWith('EP-')) {
    const value = number(base.slice(3), 'cli_caloff: Invalid offset value');
    result = spec(base[2] === '+' ? OffsetKind.EntryPlus : OffsetKind.EntryMinus, value);
  } else if (base.startsWith('S')) {
    if (base[1] === 'E') {
      result = spec(OffsetKind.SectionEntire, 0, number(base.slice(2), 'cli_caloff: Invalid section number'));
    } else if (base.startsWith('SL+')) {
      result = spec(OffsetKind.LastSectionPlus, number(base.slice(3), 'cli_caloff: Invalid offset value'));
    } else {
      // sscanf("S%u+%u"): both numbers required, anything after the second is ignored.
      const section = scanUnsigned(base, 1);
      const value = section && base[section.end] === '+' ? scanUnsigned(base, section.end + 1) : null;
      if (!section || !value) throw new SignatureError('cli_caloff: Invalid offset string');
      result = spec(OffsetKind.SectionPlus, value.value, section.value);
    }
  } else if (base.startsWith('EOF-')) {
    result = spec(OffsetKind.EndMinus, number(base.slice(4), 'cli_caloff: Invalid offset value'));
  } else if (base.startsWith('VI')) {
    result = spec(OffsetKind.VersionInfo);
  } else if (base.includes('$')) {
    const group = base[0] === '$' ? scanUnsigned(base, 1) : null;
    if (!group) throw new SignatureError(`cli_caloff: Invalid macro($) in offset: ${base}`);
    if (group.value >= 32) throw new SignatureError('cli_caloff: at most 32 macro groups supported');
    result = spec(OffsetKind.Macro, group.value);
  } else {
    result = spec(OffsetKind.Absolute, number(base, 'cli_caloff: Invalid offset value'));
  }

  if (isRelativeOffset(result) && result.kind !== OffsetKind.EndMinus && !isExecutableTarget(target)) {
    throw new SignatureError(`cli_caloff: Invalid offset type for target ${target}`);
  }
  return result;
}

/** What relative offsets are computed from, for one scanned object (ClamAV's cli_target_info). */
export interface OffsetBase {
  readonly size: number;
  /**
   * 1 when the object's executable headers were parsed, -1 when its type is an executable one
   * but parsing failed (ClamAV then disables every relative offset, EOF-n included), 0 otherwise.
   */
  readonly status: 1 | 0 | -1;
  readonly entryPoint: number;
  /** Raw file offset and raw size of each section. */
  readonly sections: readonly { readonly rawOffset: number; readonly rawSize: number }[];
}

/** Receives a resolved range; both ends are `OFFSET_NONE` when the offset cannot apply. */
export interface OffsetRange {
  min: number;
  max: number;
}

/**
 * Resolves a relative offset for one object, with ClamAV's unsigned 32-bit arithmetic (so
 * `EP-n` before the start of the file wraps around and simply never matches).
 */
export function resolveOffset(spec: OffsetSpec, base: OffsetBase, out: OffsetRange): void {
  out.min = OFFSET_NONE;
  out.max = OFFSET_NONE;
  if (base.status === -1) return;
  const sections = base.sections;
  switch (spec.kind) {
    case OffsetKind.EndMinus:
      out.min = (base.size - spec.value) >>> 0;
      break;
    case OffsetKind.EntryPlus:
      out.min = (base.entryPoint + spec.value) >>> 0;
      break;
    case OffsetKind.EntryMinus:
      out.min = (base.entryPoint - spec.value) >>> 0;
      break;
    case OffsetKind.LastSectionPlus:
      if (sections.length === 0) return;
      out.min = (sections[sections.length - 1]!.rawOffset + spec.value) >>> 0;
      break;
    case OffsetKind.SectionPlus:
      if (spec.section >= sections.length) return;
      out.min = (sections[spec.section]!.rawOffset + spec.value) >>> 0;
      break;
    case OffsetKind.SectionEntire: {
      if (spec.section >= sections.length) return;
      const section = sections[spec.section]!;
      out.min = section.rawOffset >>> 0;
      out.max = (out.min + section.rawSize + spec.shift) >>> 0;
      return;
    }
    case OffsetKind.Absolute:
      out.min = spec.value;
      break;
    case OffsetKind.VersionInfo:
      out.min = out.max = OFFSET_ANY;
      return;
    default:
      return;
  }
  out.max = (out.min + spec.shift) >>> 0;
}
