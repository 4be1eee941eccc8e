import type { Logger } from '../../util/logger.js';
import type { IconBitmap } from './dib-decoder.js';

/**
 * ClamAV's icon scaling before the metrics: square icons of 16, 24 or 32 pixels stay as they are;
 * other square icons whose side is a multiple of 32 or 24 are halved (averaging 2x2 pixels) until
 * at most 32 pixels wide; any other icon is resampled (nearest pixel) to the nearest of 16, 24
 * and 32 pixels.
 */

/** A square icon ready for its metrics. */
export interface SquareIcon {
  side: number;
  pixels: Uint32Array;
}

const KEPT_SIDES = new Set([16, 24, 32]);
const LARGEST_SIDE = 32;

export function scaleIcon(bitmap: IconBitmap, logger: Logger): SquareIcon {
  const { width, height, pixels } = bitmap;
  if (width === height && KEPT_SIDES.has(width)) return { side: width, pixels };
  if (width === height && (width % 32 === 0 || width % 24 === 0)) return halveUntilSmall(width, pixels, logger);
  return resample(bitmap, logger);
}

function halveUntilSmall(side: number, pixels: Uint32Array, logger: Logger): SquareIcon {
  while (side > LARGEST_SIDE) {
    const half = side / 2;
    const halved = new Uint32Array(half * half);
    for (let y = 0; y < side; y += 2) {
      for (let x = 0; x < side; x += 2) {
        const top = average(pixels[y * side + x]!, pixels[y * side + x + 1]!);
        const bottom = average(pixels[(y + 1) * side + x]!, pixels[(y + 1) * side + x + 1]!);
        halved[(y / 2) * half + x / 2] = average(top, bottom);
      }
    }
    side = half;
    pixels = halved;
    if (logger.debugEnabled) logger.debug(`parseicon: Fast scaling to ${side}x${side}`);
  }
  return { side, pixels };
}

/** The byte-wise average of two pixels, rounded down. */
function average(a: number, b: number): number {
  return ((((a ^ b) & 0xfefefefe) >>> 1) + ((a & b) >>> 0)) >>> 0;
}

function resample({ width, height, pixels }: IconBitmap, logger: Logger): SquareIcon {
  const distance = (side: number) => Math.abs(width - side) + Math.abs(height - side);
  const side = distance(32) < distance(24) ? 32 : distance(24) < distance(16) ? 24 : 16;
  const scaleX = width / side;
  const scaleY = height / side;
  if (logger.debugEnabled) logger.debug(`parseicon: Slow scaling to ${side}x${side} (${scaleX.toFixed(6)}, ${scaleY.toFixed(6)})`);
  const resampled = new Uint32Array(side * side);
  for (let y = 0; y < side; y++) {
    const row = Math.floor(y * scaleY) * width;
    for (let x = 0; x < side; x++) resampled[y * side + x] = pixels[row + Math.floor(x * scaleX + 0.5)]!;
  }
  return { side, pixels: resampled };
}
