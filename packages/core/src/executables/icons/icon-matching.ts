import type { IconDatabase } from './icon-database.js';
import { Area, RECORD_SIZE, recordSide, SAMPLES, sampleAt, Spread, spreadAt } from './icon-record.js';

/**
 * ClamAV's comparison of a scanned icon's metrics with the icon signatures of its size class that
 * belong to the asked groups: each kind of area scores how close the signature's samples are to
 * the icon's (position within three quarters of a window, average within a fifth of its range),
 * the color spread scores too, and the weighted confidence must reach a threshold that grows for
 * smaller icons (70 for black and white ones).
 */

/** The groups an IconGroup signature asks for: a flag per group index of each kind. */
export type IconGroupSet = readonly [Uint8Array, Uint8Array];

const MAX_COLOR_AVERAGE = 4072;
const MAX_LIGHT = 255;
const BLACK_AND_WHITE_THRESHOLD = 70;

/** Where a set of samples is: the record, the offset of its first number, and the area kinds. */
interface Samples {
  record: ArrayLike<number>;
  at: number;
  areas: readonly Area[];
}

/**
 * The confidence of the first signature that matches `metrics` (of an icon `side` pixels wide),
 * or undefined when none does.
 */
export function matchingConfidence(metrics: Uint32Array, side: number, icons: IconDatabase, groups: IconGroupSet): number | undefined {
  const sizeClass = (side >> 3) - 2;
  for (let icon = 0; icon < icons.count; icon++) {
    const at = icon * RECORD_SIZE;
    if ((recordSide(icons.records, at) >> 3) - 2 !== sizeClass) continue;
    if (!groups[0][icons.groupOf(icon, 0)] || !groups[1][icons.groupOf(icon, 1)]) continue;
    const { confidence, threshold } = compare(metrics, { record: icons.records, at }, side, sizeClass);
    if (confidence >= threshold) return confidence;
  }
  return undefined;
}

function compare(metrics: Uint32Array, signature: { record: Uint16Array; at: number }, side: number, sizeClass: number): { confidence: number; threshold: number } {
  const ours = (...areas: Area[]): Samples => ({ record: metrics, at: 0, areas });
  const theirs = (...areas: Area[]): Samples => ({ record: signature.record, at: signature.at, areas });
  const spread = (field: Spread) => [metrics[spreadAt(field)]!, signature.record[signature.at + spreadAt(field)]!] as const;
  const [ourColors, theirColors] = spread(Spread.ColorCount);
  const bright = matchPoints(side, ours(Area.Bright), theirs(Area.Bright), MAX_LIGHT);
  const dark = matchPoints(side, ours(Area.Dark), theirs(Area.Dark), MAX_LIGHT);
  if (ourColors === 0 && theirColors === 0) {
    // Black and white: the second edge and no-edge samples stand in the color and gray places.
    const edge = matchPoints(side, ours(Area.Edge, Area.Color), theirs(Area.Edge, Area.Color), MAX_LIGHT);
    const noEdge = matchPoints(side, ours(Area.NoEdge, Area.Gray), theirs(Area.NoEdge, Area.Gray), MAX_LIGHT);
    return { confidence: Math.floor((bright + dark + edge * 2 + noEdge) / 6), threshold: BLACK_AND_WHITE_THRESHOLD };
  }
  const edge = matchPoints(side, ours(Area.Edge), theirs(Area.Edge), MAX_LIGHT);
  const noEdge = matchPoints(side, ours(Area.NoEdge), theirs(Area.NoEdge), MAX_LIGHT);
  const bothColored = ourColors !== 0 && theirColors !== 0;
  const color = bothColored ? matchPoints(side, ours(Area.Color), theirs(Area.Color), MAX_COLOR_AVERAGE) : 0;
  const gray = bothColored ? matchPoints(side, ours(Area.Gray), theirs(Area.Gray), MAX_COLOR_AVERAGE) : 0;
  const closeness = (field: Spread) => {
    const [a, b] = spread(field);
    const difference = Math.abs(a - b) * 10;
    return difference < 100 ? 100 - difference : 0;
  };
  const colors = Math.floor((closeness(Spread.Red) + closeness(Spread.Green) + closeness(Spread.Blue) + closeness(Spread.ColorCount)) / 4);
  const confidence = Math.floor((color + Math.floor(((gray + bright + noEdge) * 2) / 3) + dark + edge + colors) / 6);
  return { confidence, threshold: 64 + 4 * (2 - sizeClass) };
}

/**
 * ClamAV's matchpoint (one area kind) and matchbwpoint (two): for each of our samples the best
 * score among their samples, 100 for the same position down to 40 at three quarters of a
 * window's side, 0 further or when the averages differ by more than a fifth of `maxAverage`;
 * the mean of those scores.
 */
function matchPoints(side: number, ours: Samples, theirs: Samples, maxAverage: number): number {
  const reach = Math.floor((Math.floor(side / 4) * 3) / 4);
  const tolerance = Math.floor(maxAverage / 5);
  const points = (samples: Samples) =>
    samples.areas.flatMap((area) =>
      Array.from({ length: SAMPLES }, (_, sample) => {
        const at = samples.at + sampleAt(area, sample);
        return { average: samples.record[at]!, x: samples.record[at + 1]!, y: samples.record[at + 2]! };
      }),
    );
  const candidates = points(theirs);
  let total = 0;
  for (const point of points(ours)) {
    let best = 0;
    for (const candidate of candidates) {
      const dx = toInt32(point.x) - toInt32(candidate.x);
      const dy = toInt32(point.y) - toInt32(candidate.y);
      const distance = Math.trunc(Math.sqrt(dx * dx + dy * dy));
      if (distance > reach || Math.abs(toInt32(point.average) - toInt32(candidate.average)) > tolerance) continue;
      best = Math.max(best, 100 - Math.floor((distance * 60) / reach));
    }
    total += best;
  }
  return Math.floor(total / (3 * ours.areas.length));
}

/** A C unsigned int read as int. */
function toInt32(value: number): number {
  return value | 0;
}
