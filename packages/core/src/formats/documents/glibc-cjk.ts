/**
 * The double-byte code pages ClamAV converts through glibc's iconv under their strict names —
 * 932 as SHIFT_JIS, 936 as GB2312, 950 as BIG5 — expressed as restrictions of the WHATWG
 * decoders Node has (Shift_JIS, GBK and Big5-HKSCS are supersets). The differences were measured
 * against glibc by converting every single byte and every lead/trail pair both ways: glibc
 * rejects the vendor extensions (NEC and IBM rows, GBK outside EUC-CN, HKSCS), maps a handful of
 * characters differently, and reads 0x5C/0x7E in Shift_JIS as JIS-Roman (¥ and ‾).
 */
import { TextDecoder } from 'node:util';

interface Variant {
  readonly label: string;
  /** Whether a byte starts a two-byte character. */
  readonly isLead: (byte: number) => boolean;
  /** Whether glibc accepts this two-byte character (the WHATWG decoder must accept it too). */
  readonly validPair: (lead: number, trail: number) => boolean;
  /** Single bytes glibc maps differently (undefined: rejects). */
  readonly singles: ReadonlyMap<number, number | undefined>;
  /** Two-byte characters glibc maps differently. */
  readonly pairs: ReadonlyMap<number, number>;
}

const inRanges = (value: number, ranges: readonly (readonly [number, number])[]): boolean =>
  ranges.some(([low, high]) => value >= low && value <= high);

/** GBK cells inside the EUC-CN square that GB2312 leaves empty. */
const GB2312_HOLES: readonly (readonly [number, number])[] = [
  [0xa2a1, 0xa2b0], [0xa2e3, 0xa2e4], [0xa2ef, 0xa2f0], [0xa2fd, 0xa2fe], [0xa4f4, 0xa4fe], [0xa5f7, 0xa5fe],
  [0xa6b9, 0xa6c0], [0xa6d9, 0xa6fe], [0xa7c2, 0xa7d0], [0xa7f2, 0xa7fe], [0xa8bb, 0xa8c4], [0xa8ea, 0xa8fe],
  [0xa9a1, 0xa9a3], [0xa9f0, 0xa9fe], [0xaaa1, 0xaffe], [0xd7fa, 0xd7fe],
];

const VARIANTS: ReadonlyMap<number, Variant> = new Map([
  [
    932,
    {
      label: 'shift_jis',
      isLead: (b) => (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc),
      // No NEC row 13 (lead 0x87), NEC-selected IBM rows, user-defined area or IBM extensions.
      validPair: (lead) => lead !== 0x87 && lead < 0xed,
      singles: new Map([
        [0x1a, 0x1a], [0x1c, 0x1c], [0x7f, 0x7f], [0x5c, 0xa5], [0x7e, 0x203e],
      ]),
      pairs: new Map([
        [0x8160, 0x301c], [0x8161, 0x2016], [0x817c, 0x2212], [0x8191, 0xa2], [0x8192, 0xa3], [0x81ca, 0xac],
      ]),
    },
  ],
  [
    936,
    {
      label: 'gbk',
      isLead: (b) => b >= 0x81 && b <= 0xfe,
      validPair: (lead, trail) =>
        lead >= 0xa1 && lead <= 0xf7 && trail >= 0xa1 && trail <= 0xfe && !inRanges((lead << 8) | trail, GB2312_HOLES),
      singles: new Map([
        [0x80, undefined], [0xff, undefined],
      ]),
      pairs: new Map([
        [0xa1a4, 0x30fb], [0xa1aa, 0x2015],
      ]),
    },
  ],
  [
    950,
    {
      label: 'big5',
      isLead: (b) => b >= 0x81 && b <= 0xfe,
      validPair: (lead) => lead >= 0xa1 && lead <= 0xf9,
      singles: new Map([[0xff, undefined]]),
      pairs: new Map(),
    },
  ],
]);

export type CjkResult = { readonly text: string } | { readonly error: 'invalid' | 'incomplete' };

/** glibc's conversion for code pages 932, 936 and 950; undefined for other code pages. */
export function decodeGlibcCjk(bytes: Uint8Array, codepage: number): CjkResult | undefined {
  const variant = VARIANTS.get(codepage);
  if (!variant) return undefined;
  const decoder = new TextDecoder(variant.label, { fatal: true });
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (variant.singles.has(byte)) {
      const mapped = variant.singles.get(byte);
      if (mapped === undefined) return { error: 'invalid' };
      text += String.fromCodePoint(mapped);
      continue;
    }
    if (!variant.isLead(byte)) {
      const single = decodeOne(decoder, bytes.subarray(i, i + 1));
      if (single === undefined) return { error: 'invalid' };
      text += single;
      continue;
    }
    if (i + 1 >= bytes.length) return { error: 'incomplete' };
    const trail = bytes[++i]!;
    if (!variant.validPair(byte, trail)) return { error: 'invalid' };
    const remapped = variant.pairs.get((byte << 8) | trail);
    const pair = remapped === undefined ? decodeOne(decoder, bytes.subarray(i - 1, i + 1)) : String.fromCodePoint(remapped);
    if (pair === undefined || [...pair].length !== 1) return { error: 'invalid' };
    text += pair;
  }
  return { text };
}

function decodeOne(decoder: TextDecoder, bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
