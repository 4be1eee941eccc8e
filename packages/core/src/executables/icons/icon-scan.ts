import { hex } from '../../util/c-numbers.js';
import type { Logger } from '../../util/logger.js';
import { readPeHeaders, type PeFile } from '../pe-file.js';
import { ANY_NAME, findResources } from '../pe-resources.js';
import { decodeIcon, type IconRefusal } from './dib-decoder.js';
import { MAX_GROUPS, type IconDatabase } from './icon-database.js';
import { matchingConfidence, type IconGroupSet } from './icon-matching.js';
import { iconMetrics } from './icon-metrics.js';
import { scaleIcon } from './icon-scaling.js';
import { MappedPe } from './mapped-pe.js';

/**
 * ClamAV's matchicon and cli_scanicon: does an icon of a PE file match an icon signature of the
 * groups an `IconGroup1`/`IconGroup2` logical signature names? Only the first icon group
 * (RT_GROUP_ICON, in every language it has) is looked at; each of its entries leads to the
 * RT_ICON resources of that ID, which are decoded, scaled and measured, and their metrics
 * compared with the signatures. At most `maxIcons` group entries are looked at (MaxIconsPE).
 */

export interface IconScanOptions {
  /** --max-iconspe / MaxIconsPE. */
  readonly maxIcons: number;
  readonly logger: Logger;
}

const RT_ICON = 3;
const RT_GROUP_ICON = 14;
const DLL_CHARACTERISTIC = 0x2000;
const RESOURCE_DIRECTORY = 2;
/** GRPICONDIR: idReserved, idType, idCount; then GRPICONDIRENTRY records. */
const GROUP_HEADER_SIZE = 6;
const GROUP_ENTRY_SIZE = 14;
/**
 * Icons decoded per scan, at most. ClamAV has no such bound (it counts group entries only, and
 * one entry may lead to any number of icons); ClamTS stops where a crafted file would keep it
 * busy for hours.
 */
const MAX_DECODED_ICONS = 4096;

const REFUSAL_MESSAGES: ReadonlyArray<[IconRefusal, string]> = [
  ['out-of-file', 'parseicon: offset to icon is out of file'],
  ['header-out-of-file', 'parseicon: bmp header is out of file'],
  ['header-too-small', 'parseicon: BMP header too small'],
  ['bad-size', 'parseicon: Image too small or too big'],
  ['not-square', 'parseicon: Image not square enough'],
];

/** Whether `data`, a PE file, has an icon that matches a signature of the groups (undefined: any group). */
export function iconsMatch(data: Uint8Array, icons: IconDatabase | undefined, group1: string | undefined, group2: string | undefined, options: IconScanOptions): boolean {
  if (icons === undefined || icons.groupNames[0].length === 0 || icons.groupNames[1].length === 0) return false;
  const pe = readPeHeaders(data);
  if (typeof pe === 'string' || resourceAddress(pe) === 0) return false;
  const groups: IconGroupSet = [groupSet(icons, 0, group1 ?? '*', options.logger), groupSet(icons, 1, group2 ?? '*', options.logger)];
  return new IconScan(new MappedPe(data, pe), icons, groups, options).run();
}

/** cli_peheader's res_addr: the resource directory's RVA, 0 for DLLs and files without resources. */
function resourceAddress(pe: PeFile): number {
  const directory = pe.directories[RESOURCE_DIRECTORY]!;
  if ((pe.fileCharacteristics & DLL_CHARACTERISTIC) !== 0 || pe.directoryCount <= RESOURCE_DIRECTORY || directory.size === 0) return 0;
  return directory.rva;
}

/** cli_icongroupset_add: `*` is every group; an unknown name is none. */
function groupSet(icons: IconDatabase, kind: 0 | 1, name: string, logger: Logger): Uint8Array {
  const set = new Uint8Array(MAX_GROUPS);
  if (name === '*') return set.fill(1);
  const index = icons.groupIndex(kind, name);
  if (index >= 0) set[index] = 1;
  else if (logger.debugEnabled) logger.debug(`cli_icongroupset_add: failed to locate icon group${kind} ${name}`);
  return set;
}


class IconScan {
  /** Icon groups scanned (the first one, once per language), and the name of the last. */
  private groupsScanned = 0;
  private lastGroup = 0;
  /** Group entries looked at (ClamAV's icnt) and icons decoded or refused (hcnt). */
  private entries = 0;
  private iconsSeen = 0;
  private outcome: 'clean' | 'match' | 'limit' = 'clean';
  private readonly refusals = new Map<IconRefusal, number>();
  private readonly logger: Logger;

  constructor(
    private readonly file: MappedPe,
    private readonly icons: IconDatabase,
    private readonly groups: IconGroupSet,
    private readonly options: IconScanOptions,
  ) {
    this.logger = options.logger;
  }

  run(): boolean {
    findResources(this.file.data, this.file.pe, RT_GROUP_ICON, ANY_NAME, ({ name, dataEntryRva }) => {
      this.debug(() => `groupicon_cb: scanning group ${hex(name)}`);
      if (this.groupsScanned !== 0 && this.lastGroup !== name) return true;
      this.groupsScanned++;
      this.lastGroup = name;
      this.scanGroup(dataEntryRva);
      return this.outcome !== 'clean';
    });
    this.report();
    return this.outcome === 'match';
  }

  /** cli_groupiconscan: the entries of one icon group. */
  private scanGroup(rva: number): void {
    const { file } = this;
    const entry = file.offsetOf(rva);
    if (entry === undefined || !file.has(entry, 16)) return;
    let size = file.u32(entry + 4);
    if (size <= GROUP_HEADER_SIZE) return;
    const group = file.offsetOf(file.u32(entry));
    this.debug(() => `cli_scanicon: icon group @${hex(group ?? 0)}`);
    if (group === undefined || !file.has(group, size)) return;
    let count = file.u16(group + 4);
    let at = group + GROUP_HEADER_SIZE;
    size -= GROUP_HEADER_SIZE;
    while (count !== 0 && size >= GROUP_ENTRY_SIZE) {
      const id = file.u16(at + 12);
      this.debug(
        () =>
          `cli_scanicon: Icongrp @${hex(rva)} - ${file.u8(at)}x${file.u8(at + 1)}x${file.u16(at + 6)} - (id=${hex(id)}, ` +
          `rsvd=${file.u16(at + 4)}, planes=${file.u8(at + 2)}, palcnt=${file.u8(at + 3)}, sz=${hex(file.u32(at + 8))})`,
      );
      const seenBefore = this.iconsSeen;
      findResources(file.data, file.pe, RT_ICON, id, ({ dataEntryRva }) => this.scanIcon(dataEntryRva));
      if (this.outcome !== 'clean') return;
      if (seenBefore === this.iconsSeen) this.debug(() => `cli_scanicon: invalid icon entry ${id} in group @${hex(rva)}`);
      this.entries++;
      count--;
      if (this.entries >= this.options.maxIcons) {
        this.outcome = 'limit';
        return;
      }
      at += GROUP_ENTRY_SIZE;
      size -= GROUP_ENTRY_SIZE;
    }
    if (count !== 0) this.debug(() => `cli_scanicon: could not find ${count} icons`);
    if (size !== 0) this.debug(() => `cli_scanicon: could not parse ${size} bytes of icon entries`);
  }

  /** parseicon: one icon decoded, measured and compared. Returns true to end the walk. */
  private scanIcon(dataEntryRva: number): boolean {
    if (this.iconsSeen >= MAX_DECODED_ICONS) {
      this.outcome = 'limit';
      return true;
    }
    this.iconsSeen++;
    const bitmap = decodeIcon(this.file, dataEntryRva, this.logger);
    if (typeof bitmap === 'string') {
      this.refusals.set(bitmap, (this.refusals.get(bitmap) ?? 0) + 1);
      return false;
    }
    const icon = scaleIcon(bitmap, this.logger);
    const confidence = matchingConfidence(iconMetrics(icon, this.logger), icon.side, this.icons, this.groups);
    if (confidence === undefined) return false;
    this.debug(() => `confidence: ${confidence}`);
    this.outcome = 'match';
    return true;
  }

  /** cli_scanicon's closing lines. */
  private report(): void {
    if (this.outcome === 'limit') this.debug(() => 'cli_scanicon: max icon count reached');
    this.debug(() => `cli_scanicon: scanned a total of ${this.entries}[${this.iconsSeen} actual] icons across ${this.groupsScanned} groups`);
    if (this.iconsSeen < this.entries) {
      this.logger.warning(`cli_scanicon: found ${this.entries - this.iconsSeen} invalid icon entries of ${this.entries} total`);
    }
    let total = 0;
    for (const [refusal] of REFUSAL_MESSAGES) total += this.refusals.get(refusal) ?? 0;
    if (total === 0) return;
    this.debug(() => `cli_scanicon: detected ${total} total image parsing issues`);
    for (const [refusal, message] of REFUSAL_MESSAGES) {
      const count = this.refusals.get(refusal) ?? 0;
      if (count > 0) this.debug(() => `cli_scanicon: detected ${count} cases of '${message}'`);
    }
  }

  private debug(message: () => string): void {
    if (this.logger.debugEnabled) this.logger.debug(message());
  }
}
