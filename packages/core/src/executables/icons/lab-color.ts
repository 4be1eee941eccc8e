/**
 * ClamAV's labdiff: how far a color is from mid gray in CIE L*a*b* (sRGB, D65), the input of the
 * icon edge detection. ClamAV computes in doubles with single-precision constants (`0.055f`, …),
 * so the constants here are those floats: the last bits decide where truncations land.
 */

const float = Math.fround;
const SRGB_KNEE = float(0.04045);
const SRGB_OFFSET = float(0.055);
const SRGB_SCALE = float(1.055);
const SRGB_GAMMA = float(2.4);
const SRGB_SLOPE = float(12.92);
const WHITE_X = float(95.047);
const WHITE_Z = float(108.883);
const LAB_KNEE = float(0.008856);
const LAB_SLOPE = float(7.787);
const LAB_OFFSET = float(16 / 116);
const ONE_THIRD = float(1 / 3);
/** The reference color (mid gray) in L*a*b*. */
const REFERENCE_L = float(53.192777691077211);
const REFERENCE_A = float(0.0031420942181448197);
const REFERENCE_B = float(-0.0062075877844014471);

/** Each 8-bit sRGB channel value made linear, times 100. */
const LINEAR = Float64Array.from({ length: 256 }, (_, value) => linearChannel(value) * 100);
/** Distances already computed, by color (cleared when it grows large: icons repeat their colors). */
const known = new Map<number, number>();
const KNOWN_COLORS = 1 << 16;

/** The distance of 0x..RRGGBB from mid gray. */
export function labDistanceFromGray(rgb: number): number {
  const color = rgb & 0xff_ffff;
  let distance = known.get(color);
  if (distance === undefined) {
    if (known.size >= KNOWN_COLORS) known.clear();
    distance = computeDistance(color);
    known.set(color, distance);
  }
  return distance;
}

function computeDistance(rgb: number): number {
  const r = LINEAR[(rgb >> 16) & 0xff]!;
  const g = LINEAR[(rgb >> 8) & 0xff]!;
  const b = LINEAR[rgb & 0xff]!;
  const x = labCurve((r * float(0.4124) + g * float(0.3576) + b * float(0.1805)) / WHITE_X);
  const y = labCurve((r * float(0.2126) + g * float(0.7152) + b * float(0.0722)) / 100);
  const z = labCurve((r * float(0.0193) + g * float(0.1192) + b * float(0.9505)) / WHITE_Z);
  const dl = REFERENCE_L - (116 * y - 16);
  const da = REFERENCE_A - 500 * (x - y);
  const db = REFERENCE_B - 200 * (y - z);
  return Math.sqrt(dl * dl + da * da + db * db);
}

function linearChannel(value: number): number {
  const c = value / 255;
  return c > SRGB_KNEE ? Math.pow((c + SRGB_OFFSET) / SRGB_SCALE, SRGB_GAMMA) : c / SRGB_SLOPE;
}

function labCurve(t: number): number {
  return t > LAB_KNEE ? Math.pow(t, ONE_THIRD) : LAB_SLOPE * t + LAB_OFFSET;
}
