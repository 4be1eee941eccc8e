import type { TextProps } from 'ink';

/** How a piece of text is drawn. */
export type Style = Pick<TextProps, 'color' | 'backgroundColor' | 'bold' | 'dimColor' | 'inverse'>;

/** The styles of every part of the screen. */
export interface Theme {
  /** Everything not styled otherwise (and the padding of every line). */
  readonly base: Style;
  /** The title bar and notes drawn in its colours. */
  readonly title: Style;
  /** Column headers of the daemon table and the task list, and the details' title. */
  readonly columns: Style;
  /** The selected daemon's row. */
  readonly selected: Style;
  /** A daemon that cannot be reached. */
  readonly error: Style;
  /** Figures inside descriptive text, and the text around them. */
  readonly value: Style;
  readonly label: Style;
  /** Bar cells: busy, idle, and the mark of a new maximum. */
  readonly busy: Style;
  readonly idle: Style;
  readonly record: Style;
  /** The key hints at the bottom. */
  readonly keys: Style;
  /** Brackets of bars and the command names in the task list. */
  readonly strong: Style;
}

/**
 * ClamAV's clamdtop colours. By default it paints its own white-on-black background;
 * `--defaultcolors` keeps the terminal's foreground and background instead, which is what
 * `useDefaults` selects here.
 */
export function createTheme(useDefaults: boolean): Theme {
  const base: Style = useDefaults ? {} : { color: 'white', backgroundColor: 'black' };
  const onBase = (style: Style): Style => ({ ...style, backgroundColor: base.backgroundColor });
  return {
    base,
    title: { color: 'black', backgroundColor: 'white' },
    columns: { color: 'black', backgroundColor: 'green' },
    selected: { color: 'black', backgroundColor: 'cyan' },
    error: { color: 'white', backgroundColor: 'red', bold: true },
    value: onBase({ color: 'green', bold: true }),
    label: onBase({ color: 'cyan' }),
    busy: onBase({ color: 'magenta', bold: true }),
    idle: onBase({ color: 'green', dimColor: true }),
    record: onBase({ color: 'red', bold: true }),
    keys: { ...base, inverse: true },
    strong: { ...base, bold: true },
  };
}
