import type { Logger } from '../../util/logger.js';
import type { MappedPe } from './mapped-pe.js';

/**
 * ClamAV's parseicon up to the scaling: an RT_ICON resource read as a BMP (DIB) icon, its pixels
 * decoded (1, 4 and 8 bits with a palette, 16, 24 and 32 bits), its AND mask applied as alpha and
 * the alpha blended over white. Pixels are 0xAARRGGBB, rows top down.
 */

export interface IconBitmap {
  width: number;
  height: number;
  pixels: Uint32Array;
}

/** Why an icon was not decoded, for the counts cli_scanicon reports; `skipped` is not counted. */
export type IconRefusal = 'out-of-file' | 'header-out-of-file' | 'header-too-small' | 'bad-size' | 'not-square' | 'skipped';

/** BITMAPINFOHEADER: biSize, biWidth, biHeight (both halves of an icon), biPlanes, biBitCount, … */
const BITMAP_HEADER_SIZE = 40;
const MIN_SIDE = 16;
const MAX_SIDE = 256;
const OPAQUE = 0xff00_0000;

/** Decodes the icon whose resource data entry is at `dataEntryRva`. */
export function decodeIcon(file: MappedPe, dataEntryRva: number, logger: Logger): IconBitmap | IconRefusal {
  const entry = file.offsetOf(dataEntryRva);
  if (entry === undefined || !file.has(entry, 4)) return 'out-of-file';
  const header = file.offsetOf(file.u32(entry));
  if (header === undefined || !file.has(header, BITMAP_HEADER_SIZE)) return 'header-out-of-file';
  const headerSize = file.u32(header);
  if (headerSize < BITMAP_HEADER_SIZE) return 'header-too-small';
  const width = file.u32(header + 4);
  const height = Math.floor(file.u32(header + 8) / 2);
  const depth = file.u16(header + 14);
  if (width > MAX_SIDE || height > MAX_SIDE || width < MIN_SIDE || height < MIN_SIDE) return 'bad-size';
  if (width < Math.floor((height * 3) / 4) || height < Math.floor((width * 3) / 4)) return 'not-square';
  if (logger.debugEnabled) logger.debug(`parseicon: Bitmap - ${width}x${height}x${depth}`);
  if (depth !== 1 && depth !== 4 && depth !== 8 && depth !== 16 && depth !== 24 && depth !== 32) {
    if (logger.debugEnabled) logger.debug('parseicon: PNG icons are not yet sported');
    return 'skipped';
  }
  let at = (header + headerSize) >>> 0;
  let palette: Uint32Array | undefined;
  if (depth <= 8) {
    palette = readPalette(file, at, 1 << depth);
    if (palette === undefined) return 'skipped';
    at = (at + palette.length * 4) >>> 0;
  }
  const rowSize = 4 * Math.floor((width * depth) / 32) + ((width * depth) % 32 !== 0 ? 4 : 0);
  const maskRowSize = 4 * Math.floor(width / 32) + (width % 32 !== 0 ? 4 : 0);
  const hasMask = (depth & 0x1f) !== 0;
  if (!file.has(at, height * (rowSize + (hasMask ? maskRowSize : 0)))) return 'skipped';
  const pixels = decodePixels(file, at, { width, height, depth, rowSize, palette });
  const maskAt = (at + height * rowSize) >>> 0;
  if (hasMask) applyMask(file, maskAt, width, height, maskRowSize, pixels);
  else if (!pixels.some((pixel) => pixel >>> 24 !== 0)) maskAlphaless32(file, maskAt, width, height, maskRowSize, pixels, logger);
  blendOverWhite(pixels);
  return { width, height, pixels };
}

function readPalette(file: MappedPe, at: number, colors: number): Uint32Array | undefined {
  if (!file.has(at, colors * 4)) return undefined;
  const palette = new Uint32Array(colors);
  for (let i = 0; i < colors; i++) palette[i] = file.u32(at + i * 4);
  return palette;
}

interface PixelLayout {
  width: number;
  height: number;
  depth: number;
  rowSize: number;
  palette: Uint32Array | undefined;
}

/** The pixels as stored (rows bottom up in the file), without the mask. */
function decodePixels(file: MappedPe, at: number, layout: PixelLayout): Uint32Array {
  const { width, height, depth, rowSize, palette } = layout;
  const pixels = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    let from = at + y * rowSize;
    const row = (height - 1 - y) * width;
    if (palette !== undefined) {
      readPacked(file, from, width, depth, (x, index) => (pixels[row + x] = palette[index]!));
    } else {
      for (let x = 0; x < width; x++) {
        pixels[row + x] = depth === 16 ? pixel16(file.u8(from), file.u8(from + 1)) : pixelRgb(file, from, depth === 32);
        from += depth / 8;
      }
    }
  }
  return pixels;
}

/** A 16-bit pixel widened as ClamAV widens it (its red spills into the alpha byte). */
function pixel16(low: number, high: number): number {
  const blue5 = low & 0x1f;
  const green5 = (low >> 5) | ((high & 0x3) << 3);
  const red = high & 0xfc;
  const blue = (blue5 << 3) | (blue5 >> 2);
  const green = ((green5 << 3) | (green5 >> 2)) << 11;
  return ((((red << 3) | (red >> 2)) << 17) | green | blue) >>> 0;
}

function pixelRgb(file: MappedPe, at: number, withAlpha: boolean): number {
  const rgb = file.u8(at) | (file.u8(at + 1) << 8) | (file.u8(at + 2) << 16);
  return withAlpha ? (rgb | (file.u8(at + 3) << 24)) >>> 0 : rgb;
}

/** Pixels whose AND mask bit is 0 become opaque; the others keep their alpha. */
function applyMask(file: MappedPe, at: number, width: number, height: number, maskRowSize: number, pixels: Uint32Array): void {
  for (let y = 0; y < height; y++) {
    const row = (height - 1 - y) * width;
    readPacked(file, at + y * maskRowSize, width, 1, (x, bit) => {
      if (bit === 0) pixels[row + x] = (pixels[row + x]! | OPAQUE) >>> 0;
    });
  }
}

/** `count` values of `depth` bits packed from each byte's high bit down, read from `from` on (one row). */
function readPacked(file: MappedPe, from: number, count: number, depth: number, each: (index: number, value: number) => void): void {
  const valueMask = (1 << depth) - 1;
  let at = from;
  let bits = 0;
  let byte = 0;
  for (let i = 0; i < count; i++) {
    if (bits === 0) {
      byte = file.u8(at++);
      bits = 8;
    }
    bits -= depth;
    each(i, (byte >> bits) & valueMask);
  }
}

/**
 * A 32-bit icon without any alpha is really a 24-bit one: its AND mask, when in the file, gives
 * the alpha; without one every pixel is made opaque.
 */
function maskAlphaless32(file: MappedPe, at: number, width: number, height: number, maskRowSize: number, pixels: Uint32Array, logger: Logger): void {
  if (file.has(at, height * maskRowSize)) {
    if (logger.debugEnabled) logger.debug('parseicon: found a stupid icon');
    applyMask(file, at, width, height, maskRowSize, pixels);
    return;
  }
  for (let i = 0; i < pixels.length; i++) pixels[i] = (pixels[i]! | OPAQUE) >>> 0;
  if (logger.debugEnabled) logger.debug('parseicon: found a broken and stupid icon');
}

/** Blends each pixel's color over white by its alpha, leaving it opaque. */
function blendOverWhite(pixels: Uint32Array): void {
  for (let i = 0; i < pixels.length; i++) {
    const pixel = pixels[i]!;
    const alpha = pixel >>> 24;
    const blend = (channel: number) => 0xff - alpha + Math.floor((alpha * channel) / 0xff);
    pixels[i] = (OPAQUE | (blend((pixel >> 16) & 0xff) << 16) | (blend((pixel >> 8) & 0xff) << 8) | blend(pixel & 0xff)) >>> 0;
  }
}
