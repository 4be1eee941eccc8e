/** @jsxRuntime automatic */ // tsx compiles with the repository's tsconfig, which has no `jsx` setting.
import { Text } from 'ink';
import type { Style, Theme } from './theme.js';

/** A run of text in one style. */
export interface Segment {
  readonly text: string;
  readonly style?: Style;
}

/**
 * Cuts or pads `segments` to exactly `width` characters. Every line of the screen is drawn at
 * the full width, so that backgrounds fill it and nothing of an older frame shows through.
 */
export function fit(segments: readonly Segment[], width: number): Segment[] {
  const out: Segment[] = [];
  let room = Math.max(width, 0);
  for (const segment of segments) {
    if (room === 0) break;
    const text = segment.text.slice(0, room);
    if (text) out.push({ text, style: segment.style });
    room -= text.length;
  }
  if (room > 0) out.push({ text: ' '.repeat(room) });
  return out;
}

/** `text` followed by blanks to the end of the line, all in `style` (a bar across the screen). */
export function fullWidth(text: string, width: number, style: Style | undefined): Segment[] {
  return [{ text: text.padEnd(width), style }];
}

/**
 * Text with its digits in the value style and everything else in the label style, as clamdtop
 * draws its figures ("live  2 idle  1 max 10").
 */
export function figures(text: string, theme: Theme): Segment[] {
  return (text.match(/\d+|\D+/g) ?? []).map((part) => ({
    text: part,
    style: /\d/.test(part[0]!) ? theme.value : theme.label,
  }));
}

/** One screen line: `segments` fitted to `width`, each on the theme's base style. */
export function Line({ segments, width, theme }: { segments: readonly Segment[]; width: number; theme: Theme }) {
  return (
    <Text wrap="truncate">
      {fit(segments, width).map((segment, index) => (
        <Text key={index} {...theme.base} {...segment.style}>
          {segment.text}
        </Text>
      ))}
    </Text>
  );
}
