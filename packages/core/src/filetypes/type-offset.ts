import { OffsetKind, parseOffset } from '../signatures/offset.js';

/** Where a type signature may start (ClamAV's offset field as cli_caloff decodes it for target 0). */
export type TypeOffset =
  | { readonly kind: 'any' }
  /** Start within [min, max]; both are 32-bit unsigned like in ClamAV, so they may wrap. */
  | { readonly kind: 'absolute'; readonly min: number; readonly max: number }
  /** Start within [size - distance, size - distance + shift]; unknown while only typing the head. */
  | { readonly kind: 'eof'; readonly distance: number; readonly shift: number }
  /** Macro groups (`$n$`) only feed logical signatures: such parts never decide a type. */
  | { readonly kind: 'macro' };

/**
 * libclamav's cli_caloff for the generic target, which type signatures belong to: the body
 * signatures' offset parser, whose refusals (executable offsets among them) carry ClamAV's messages.
 */
export function parseTypeOffset(text: string): TypeOffset {
  const { kind, value, shift } = parseOffset(text, 0);
  switch (kind) {
    case OffsetKind.Any:
      return { kind: 'any' };
    case OffsetKind.EndMinus:
      return { kind: 'eof', distance: value, shift };
    case OffsetKind.Macro:
      return { kind: 'macro' };
    default:
      // Target 0 takes no other kind: parseOffset refuses the executable ones.
      return { kind: 'absolute', min: value, max: (value + shift) >>> 0 };
  }
}
