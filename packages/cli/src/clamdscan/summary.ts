import type { ToolOutput } from '../common/output.js';
import { summaryTimeLines, type ScanTimes } from '@clamts/core/client';

export interface ClamdscanSummary extends ScanTimes {
  infected: number;
  errors: number;
  notRemoved: number;
  notMoved: number;
}

/**
 * clamdscan's `----------- SCAN SUMMARY -----------` block. Shorter than clamscan's: clamd keeps
 * the signature and data figures, so only infections, errors, quarantine failures and times.
 */
export function printSummary(out: ToolOutput, summary: ClamdscanSummary): void {
  out.info('');
  out.info('----------- SCAN SUMMARY -----------');
  out.info(`Infected files: ${summary.infected}`);
  if (summary.errors) out.info(`Total errors: ${summary.errors}`);
  if (summary.notRemoved) out.info(`Not removed: ${summary.notRemoved}`);
  if (summary.notMoved) out.info(`Not moved: ${summary.notMoved}`);
  for (const line of summaryTimeLines(summary)) out.info(line);
}
