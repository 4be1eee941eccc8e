import { COUNT_PRECISION } from '@clamts/core';
import type { ToolOutput } from '../common/output.js';
import { summaryTimeLines, type ScanTimes } from '@clamts/core';
import type { ScanStats } from './scan-manager.js';

export interface SummaryFigures extends ScanTimes {
  knownViruses: number;
  engineVersion: string;
  stats: ScanStats;
  notRemoved: number;
  notMoved: number;
  /** `--copy` was given: ClamAV's summary then says "Not moved" (and "Not copied" for --move). */
  copyMode: boolean;
}

/** clamscan's `----------- SCAN SUMMARY -----------` block, line for line as ClamAV prints it. */
export function printSummary(out: ToolOutput, figures: SummaryFigures): void {
  const { stats } = figures;
  const megabytes = (blocks: number) => (blocks * (COUNT_PRECISION / 1024)) / 1024;
  out.info('');
  out.info('----------- SCAN SUMMARY -----------');
  out.info(`Known viruses: ${figures.knownViruses}`);
  out.info(`Engine version: ${figures.engineVersion}`);
  out.info(`Scanned directories: ${stats.directories}`);
  out.info(`Scanned files: ${stats.files}`);
  out.info(`Infected files: ${stats.infectedFiles}`);
  if (stats.errors) out.info(`Total errors: ${stats.errors}`);
  if (figures.notRemoved) out.info(`Not removed: ${figures.notRemoved}`);
  if (figures.notMoved) out.info(`Not ${figures.copyMode ? 'moved' : 'copied'}: ${figures.notMoved}`);
  out.info(`Data scanned: ${printfHundredths(megabytes(stats.scannedBlocks))} MB`);
  const ratio = stats.readBlocks ? stats.scannedBlocks / stats.readBlocks : 0;
  out.info(`Data read: ${printfHundredths(megabytes(stats.readBlocks))} MB (ratio ${printfHundredths(ratio)}:1)`);
  for (const line of summaryTimeLines(figures)) out.info(line);
}

/**
 * `value` as C's `%.2f` prints it: like toFixed(2), except that a value exactly halfway between
 * two hundredths rounds to the even one (0.125 MB, 32 blocks, is "0.12"), where toFixed rounds up.
 */
export function printfHundredths(value: number): string {
  const scaled = value * 100;
  const below = Math.floor(scaled);
  if (scaled - below === 0.5 && below % 2 === 0) return (below / 100).toFixed(2);
  return value.toFixed(2);
}
