/**
 * The metrics of one icon (ClamAV's struct icomtr) as a flat record of numbers, in the order of
 * the `.idb` hash and of the IDB SIGNATURE debug line: the icon side, then for each kind of area
 * (color, gray, bright, dark, edge, no-edge) three samples of an average and an x and y position,
 * then the color spread (red, green, blue sums and the colored share). Database records are kept
 * in a Uint16Array, the metrics of a scanned icon in a Uint32Array (C unsigned ints).
 */

export const enum Area {
  Color = 0,
  Gray = 1,
  Bright = 2,
  Dark = 3,
  Edge = 4,
  NoEdge = 5,
}

const AREA_KINDS = 6;
export const SAMPLES = 3;
const SIDE = 0;
const AREAS_START = 1;
const SAMPLE_FIELDS = 3;
const SPREAD_START = AREAS_START + AREA_KINDS * SAMPLES * SAMPLE_FIELDS;

export const enum Spread {
  Red = 0,
  Green = 1,
  Blue = 2,
  ColorCount = 3,
}

/** Numbers in one record. */
export const RECORD_SIZE = SPREAD_START + 4;

export type IconRecord = Uint16Array | Uint32Array;

/** Where sample `sample` of `area` keeps its average; the x and y positions follow it. */
export function sampleAt(area: Area, sample: number): number {
  return AREAS_START + (area * SAMPLES + sample) * SAMPLE_FIELDS;
}

export function spreadAt(field: Spread): number {
  return SPREAD_START + field;
}

export function recordSide(record: IconRecord, at = 0): number {
  return record[at + SIDE]!;
}

export function setRecordSide(record: IconRecord, side: number): void {
  record[SIDE] = side;
}

/** Hex digits of an area's averages in the hash: color and gray averages reach 4072, the others 255. */
export function averageDigits(area: Area): number {
  return area === Area.Color || area === Area.Gray ? 3 : 2;
}

/** The 124 hex digits of a record, as ClamAV's getmetrics prints them (%02x / %03x, wider values in full). */
export function recordHash(record: IconRecord): string {
  const hex = (value: number, digits: number) => value.toString(16).padStart(digits, '0');
  let text = hex(recordSide(record), 2);
  for (let area = Area.Color; area <= Area.NoEdge; area++) {
    for (let sample = 0; sample < SAMPLES; sample++) {
      const at = sampleAt(area, sample);
      text += hex(record[at]!, averageDigits(area)) + hex(record[at + 1]!, 2) + hex(record[at + 2]!, 2);
    }
  }
  for (let field = Spread.Red; field <= Spread.ColorCount; field++) text += hex(record[spreadAt(field)]!, 2);
  return text;
}
