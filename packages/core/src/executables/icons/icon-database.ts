import { sharedArray } from '../../util/shared-memory.js';
import { Area, averageDigits, RECORD_SIZE, SAMPLES, sampleAt, setRecordSide, Spread, spreadAt } from './icon-record.js';

/**
 * The icon signatures of an `.idb` file as ClamAV's cli_loadidb keeps them (struct icon_matcher):
 * every icon's metrics, in load order, with the indexes of its two groups, and the distinct group
 * names of each of the two kinds in first-seen order. Plain data in shared memory, so that worker
 * threads and the engine cache take it as it is.
 */

/** Icon sides an `.idb` hash may give. */
const ICON_SIDES = new Set([16, 24, 32]);
const MAX_COLOR_AVERAGE = 4072;
const MAX_SPREAD = 103;
const MAX_COLOR_COUNT = 100;
/** Group names of one kind, at most: a group set is a 256-bit set. */
export const MAX_GROUPS = 256;

export interface SharedIconDatabase {
  /** RECORD_SIZE numbers per icon (see icon-record.ts). */
  records: Uint16Array;
  /** The icon's group 1 and group 2 indexes, two per icon. */
  groups: Uint16Array;
  groupNames: [readonly string[], readonly string[]];
}

export class IconDatabase {
  constructor(
    readonly records: Uint16Array,
    readonly groups: Uint16Array,
    readonly groupNames: readonly [readonly string[], readonly string[]],
  ) {}

  get count(): number {
    return this.groups.length / 2;
  }

  /** The index of group `name` of kind `kind` (0 or 1), or -1. */
  groupIndex(kind: 0 | 1, name: string): number {
    return this.groupNames[kind].indexOf(name);
  }

  /** Icon `icon`'s group of kind `kind`. */
  groupOf(icon: number, kind: 0 | 1): number {
    return this.groups[icon * 2 + kind]!;
  }

  toShared(): SharedIconDatabase {
    return { records: this.records, groups: this.groups, groupNames: [this.groupNames[0], this.groupNames[1]] };
  }

  static fromShared(shared: SharedIconDatabase): IconDatabase {
    return new IconDatabase(shared.records, shared.groups, shared.groupNames);
  }
}

/** The icons of one `.idb` file as they are read. */
export class IconDatabaseBuilder {
  private readonly records: number[] = [];
  private readonly groups: number[] = [];
  private readonly groupNames: [string[], string[]] = [[], []];

  /** Adds an icon; false when a kind now has more than MAX_GROUPS groups (ClamAV's "too many icon groups"). */
  add(record: Uint16Array, group1: string, group2: string): boolean {
    this.records.push(...record);
    this.groups.push(this.groupNumber(0, group1), this.groupNumber(1, group2));
    return this.groupNames[0].length <= MAX_GROUPS && this.groupNames[1].length <= MAX_GROUPS;
  }

  build(): IconDatabase {
    const records = sharedArray(Uint16Array, this.records.length);
    records.set(this.records);
    const groups = sharedArray(Uint16Array, this.groups.length);
    groups.set(this.groups);
    return new IconDatabase(records, groups, this.groupNames);
  }

  private groupNumber(kind: 0 | 1, name: string): number {
    const names = this.groupNames[kind];
    const known = names.indexOf(name);
    if (known >= 0) return known;
    names.push(name);
    return names.length - 1;
  }
}

/** What is wrong with an icon hash, in cli_loadidb's words. */
export type IconHashProblem = 'bad chars' | 'bad size' | `bad ${string} data` | 'bad spread data';

const AREA_NAMES = ['color', 'gray', 'bright', 'dark', 'edge', 'noedge'] as const;

/** Reads the 124 hex digits of an `.idb` hash as cli_loadidb does: the record, or what is wrong. */
export function parseIconHash(hash: string): Uint16Array | IconHashProblem {
  if (!/^[0-9a-fA-F]*$/.test(hash)) return 'bad chars';
  const record = new Uint16Array(RECORD_SIZE);
  let at = 0;
  const digits = (count: number): number => {
    const value = Number.parseInt(hash.slice(at, at + count), 16);
    at += count;
    return value;
  };
  const side = digits(2);
  if (!ICON_SIDES.has(side)) return 'bad size';
  setRecordSide(record, side);
  const maxPosition = side - Math.floor(side / 8);
  for (let area = Area.Color; area <= Area.NoEdge; area++) {
    for (let sample = 0; sample < SAMPLES; sample++) {
      const field = sampleAt(area, sample);
      record[field] = digits(averageDigits(area));
      record[field + 1] = digits(2);
      record[field + 2] = digits(2);
      const averageTooLarge = averageDigits(area) === 3 && record[field]! > MAX_COLOR_AVERAGE;
      if (averageTooLarge || record[field + 1]! > maxPosition || record[field + 2]! > maxPosition) return `bad ${AREA_NAMES[area]} data`;
    }
  }
  for (let field = Spread.Red; field <= Spread.ColorCount; field++) record[spreadAt(field)] = digits(2);
  const spread = record[spreadAt(Spread.Red)]! + record[spreadAt(Spread.Green)]! + record[spreadAt(Spread.Blue)]!;
  if (spread > MAX_SPREAD || record[spreadAt(Spread.ColorCount)]! > MAX_COLOR_COUNT) return 'bad spread data';
  return record;
}
