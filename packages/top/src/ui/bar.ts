import { barCells } from '../format.js';
import type { Segment } from './line.js';
import type { Theme } from './theme.js';

/**
 * A bar as clamdtop draws it, 39 columns: a blank, `[`, busy cells, idle cells, free cells, `]`.
 * `record` marks a new maximum with `>` in the last cell.
 */
export function bar(used: number, idle: number, max: number, record: boolean, theme: Theme): Segment[] {
  const cells = barCells(used, idle, max);
  const parts: Segment[] = [
    { text: ' ' },
    { text: '[', style: theme.strong },
    { text: '|'.repeat(cells.busy), style: theme.busy },
    { text: '|'.repeat(cells.idle), style: theme.idle },
    { text: ' '.repeat(cells.free) },
  ];
  if (record) {
    const last = parts.findLast((part) => part.text.length > 0)!;
    parts[parts.indexOf(last)] = { ...last, text: last.text.slice(0, -1) };
    parts.push({ text: '>', style: theme.record });
  }
  parts.push({ text: ']', style: theme.strong });
  return parts;
}
