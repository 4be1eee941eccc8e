import type { Logger } from '../../util/logger.js';
import { labDistanceFromGray } from './lab-color.js';
import { Area, RECORD_SIZE, recordHash, SAMPLES, sampleAt, setRecordSide, Spread, spreadAt } from './icon-record.js';
import type { SquareIcon } from './icon-scaling.js';

/**
 * ClamAV's getmetrics: the metrics of a square icon. With windows of a quarter of the side it
 * finds the three most and least colorful areas, the three brightest and darkest, and (after a
 * Sobel edge detection on the L*a*b* distance from gray, normalised and blurred) the three areas
 * with the most and the fewest edges; it also measures how much of the icon is colored and its
 * red, green and blue spread. An icon with too little color ("black and white") gets three more
 * edge and no-edge areas in place of its color and gray ones.
 */

const OPAQUE = 0xff00_0000;
const NOTHING_FOUND = 0xffff_ffff;
/** Saturation and value above which a pixel counts as colored. */
const COLORED = 85;
/** An icon with at most this share of colored pixels (percent) is black and white. */
const MIN_COLORED_SHARE = 5;

/** The sums of the chosen windows and where they are. */
interface Areas {
  sums: number[];
  xs: number[];
  ys: number[];
}

export function iconMetrics({ side, pixels }: SquareIcon, logger: Logger): Uint32Array {
  const window = Math.floor(side / 4);
  const record = new Uint32Array(RECORD_SIZE);
  setRecordSide(record, side);
  const colorfulness = new Uint32Array(side * side);
  const lightness = new Uint32Array(side * side);
  const spread = measureColors(pixels, colorfulness, lightness);

  const colorSums = windowSums(colorfulness, side, window, side - window);
  const lightSums = windowSums(lightness, side, window, side - window);
  const color = chooseAreas(colorSums, side, window, SAMPLES, 'most');
  const gray = chooseAreas(colorSums, side, window, SAMPLES, 'least');
  const bright = chooseAreas(lightSums, side, window, SAMPLES, 'most');
  const dark = chooseAreas(lightSums, side, window, SAMPLES, 'least');

  const blackAndWhite = Math.floor(Math.floor((spread.count * 100) / side) / side) <= MIN_COLORED_SHARE;
  const edges = windowSums(blurredEdges(pixels, side), side, window, side - 1 - window);
  const edgeSamples = blackAndWhite ? 2 * SAMPLES : SAMPLES;
  const edge = chooseAreas(edges, side, window, edgeSamples, 'most');
  const noEdge = chooseAreas(edges, side, window, edgeSamples, 'least');

  const area = window * window;
  const store = (kind: Area, areas: Areas, first = 0, positions = areas) => {
    for (let sample = 0; sample < SAMPLES; sample++) {
      const at = sampleAt(kind, sample);
      record[at] = Math.floor(areas.sums[first + sample]! / area);
      record[at + 1] = positions.xs[first + sample]!;
      record[at + 2] = positions.ys[first + sample]!;
    }
  };
  store(Area.Bright, bright);
  store(Area.Dark, dark);
  store(Area.Edge, edge);
  store(Area.NoEdge, noEdge);
  if (blackAndWhite) {
    // ClamAV places the second no-edge samples at the second edge samples' positions.
    store(Area.Color, edge, SAMPLES);
    store(Area.Gray, noEdge, SAMPLES, edge);
  } else {
    store(Area.Color, color);
    store(Area.Gray, gray);
    record[spreadAt(Spread.Red)] = Math.floor(spread.red / spread.count);
    record[spreadAt(Spread.Green)] = Math.floor(spread.green / spread.count);
    record[spreadAt(Spread.Blue)] = Math.floor(spread.blue / spread.count);
    record[spreadAt(Spread.ColorCount)] = Math.floor(Math.floor((spread.count * 100) / side) / side);
  }
  if (logger.debugEnabled) logMetrics(record, blackAndWhite, logger);
  return record;
}

interface ColorSpread {
  count: number;
  red: number;
  green: number;
  blue: number;
}

/**
 * Fills each pixel's colorfulness (the square root of saturation² × value) and lightness (its
 * value), and sums, over the colored pixels, how close to pure red, green and blue they are.
 */
function measureColors(pixels: Uint32Array, colorfulness: Uint32Array, lightness: Uint32Array): ColorSpread {
  const spread = { count: 0, red: 0, green: 0, blue: 0 };
  for (let i = 0; i < pixels.length; i++) {
    const pixel = pixels[i]!;
    const r = (pixel >> 16) & 0xff;
    const g = (pixel >> 8) & 0xff;
    const b = pixel & 0xff;
    const max = Math.max(r, g, b);
    const delta = max - Math.min(r, g, b);
    const saturation = delta === 0 ? 0 : Math.floor((255 * delta) / max);
    colorfulness[i] = Math.floor(Math.sqrt(saturation * saturation * max));
    lightness[i] = max;
    if (saturation > COLORED && max > COLORED) {
      spread.count++;
      spread.red += 100 - Math.floor((100 * Math.abs(g - b)) / delta);
      spread.green += 100 - Math.floor((100 * Math.abs(r - b)) / delta);
      spread.blue += 100 - Math.floor((100 * Math.abs(r - g)) / delta);
    }
  }
  return spread;
}

/** Sums of `values` over the window x window squares at each (x, y), x up to `lastX`, y up to side - window. */
function windowSums(values: Uint32Array, side: number, window: number, lastX: number): Uint32Array {
  // Sums of the rectangles from (0, 0) to each point, one row and column wider than the image.
  const stride = side + 1;
  const prefix = new Float64Array(stride * stride);
  for (let y = 0; y < side; y++) {
    let row = 0;
    for (let x = 0; x < side; x++) {
      row += values[y * side + x]!;
      prefix[(y + 1) * stride + x + 1] = prefix[y * stride + x + 1]! + row;
    }
  }
  const sums = new Uint32Array(side * side);
  for (let y = 0; y <= side - window; y++) {
    for (let x = 0; x <= lastX; x++) {
      const [top, bottom] = [y * stride, (y + window) * stride];
      sums[y * side + x] = prefix[bottom + x + window]! - prefix[top + x + window]! - prefix[bottom + x]! + prefix[top + x]!;
    }
  }
  return sums;
}

/**
 * ClamAV's choice of `count` windows with the largest (or smallest) sums, one after the other,
 * each not overlapping those chosen before it; the first window wins a tie. A window not found
 * keeps position (0, 0).
 */
function chooseAreas(sums: Uint32Array, side: number, window: number, count: number, which: 'most' | 'least'): Areas {
  const chosen: number[] = [];
  const xs = new Array<number>(count).fill(0);
  const ys = new Array<number>(count).fill(0);
  const overlapsChosen = (x: number, y: number, chosen: number) => {
    for (let j = 0; j < chosen; j++) {
      if (x + window > xs[j]! && x < xs[j]! + window && y + window > ys[j]! && y < ys[j]! + window) return true;
    }
    return false;
  };
  for (let i = 0; i < count; i++) {
    let best = which === 'most' ? 0 : NOTHING_FOUND;
    for (let y = 0; y < side - window; y++) {
      for (let x = 0; x < side - 1 - window; x++) {
        const sum = sums[y * side + x]!;
        if ((which === 'most' ? sum > best : sum < best) && !overlapsChosen(x, y, i)) {
          best = sum;
          xs[i] = x;
          ys[i] = y;
        }
      }
    }
    chosen.push(best);
  }
  return { sums: chosen, xs, ys };
}

/**
 * The edge map whose window sums rank the edge areas: Sobel gradients of each pixel's L*a*b*
 * distance from gray, scaled so the strongest is 255, black borders, then a 1-2-1 blur across
 * and down, done in place as ClamAV does it (the pass down reads the rows above it already
 * blurred). Returns the intensity of each pixel.
 */
function blurredEdges(pixels: Uint32Array, side: number): Uint32Array {
  const image = pixels.slice();
  const gradients = sobelGradients(pixels, side);
  let strongest = 0;
  for (const gradient of gradients) strongest = Math.max(strongest, gradient);
  if (strongest !== 0) {
    forInterior(side, (at) => {
      const c = Math.floor((gradients[at]! * 255) / strongest);
      image[at] = (OPAQUE | c | (c << 8) | (c << 16)) >>> 0;
    });
  }
  for (let i = 0; i < side; i++) {
    image[i] = OPAQUE;
    image[(side - 1) * side + i] = OPAQUE;
    image[i * side] = OPAQUE;
    image[i * side + side - 1] = OPAQUE;
  }
  forInterior(side, (at) => {
    const sum = (image[at - 1]! & 0xff) + 2 * (image[at]! & 0xff) + (image[at + 1]! & 0xff);
    image[at] = (image[at]! & 0xff) | (Math.floor(sum / 4) << 8);
  });
  forInterior(side, (at) => {
    const sum = ((image[at - side]! >> 8) & 0xff) + 2 * ((image[at]! >> 8) & 0xff) + ((image[at + side]! >> 8) & 0xff);
    const blurred = Math.floor(sum / 4);
    image[at] = (OPAQUE | blurred | (blurred << 8) | (blurred << 16)) >>> 0;
  });
  const intensity = new Uint32Array(side * side);
  for (let i = 0; i < image.length; i++) intensity[i] = image[i]! & 0xff;
  return intensity;
}

/** The Sobel gradient magnitude (truncated) of each interior pixel; 0 on the borders. */
function sobelGradients(pixels: Uint32Array, side: number): Uint32Array {
  const distances = new Float64Array(side * side);
  for (let i = 0; i < pixels.length; i++) distances[i] = labDistanceFromGray(pixels[i]!);
  const gradients = new Uint32Array(side * side);
  forInterior(side, (at) => {
    const d = (dx: number, dy: number) => distances[at + dy * side + dx]!;
    let gx = d(-1, -1);
    gx += d(-1, 0) * 2;
    gx += d(-1, 1);
    gx -= d(1, -1);
    gx -= d(1, 0) * 2;
    gx -= d(1, 1);
    let gy = d(-1, -1);
    gy += d(0, -1) * 2;
    gy += d(1, -1);
    gy -= d(-1, 1);
    gy -= d(0, 1) * 2;
    gy -= d(1, 1);
    gradients[at] = Math.trunc(Math.sqrt(gx * gx + gy * gy));
  });
  return gradients;
}

/** Calls `each` with the index of every pixel off the border, row by row. */
function forInterior(side: number, each: (at: number) => void): void {
  for (let y = 1; y < side - 1; y++) {
    for (let x = 1; x < side - 1; x++) each(y * side + x);
  }
}

function logMetrics(record: Uint32Array, blackAndWhite: boolean, logger: Logger): void {
  const areas = (label: string, kind: Area) => {
    const samples = [];
    for (let sample = 0; sample < SAMPLES; sample++) {
      const at = sampleAt(kind, sample);
      samples.push(`${record[at]}@(${record[at + 1]},${record[at + 2]})`);
    }
    logger.debug(`${label} areas: ${samples.join(' ')}`);
  };
  areas('edge', Area.Edge);
  areas('noedge', Area.NoEdge);
  areas(blackAndWhite ? 'edge(2nd)' : 'color', Area.Color);
  areas(blackAndWhite ? 'noedge(2nd)' : 'gray', Area.Gray);
  areas('bright', Area.Bright);
  areas('dark', Area.Dark);
  if (!blackAndWhite) {
    const spread = (field: Spread) => record[spreadAt(field)];
    logger.debug(`color spread: ${spread(Spread.Red)},${spread(Spread.Green)},${spread(Spread.Blue)} ${spread(Spread.ColorCount)}%`);
  }
  logger.debug(`IDB SIGNATURE: ICON_NAME:GROUP1:GROUP2:${recordHash(record)}`);
}
