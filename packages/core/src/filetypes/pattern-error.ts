/** A line ClamAV prints while refusing a pattern. */
export interface Diagnostic {
  readonly level: 'error' | 'warning';
  readonly text: string;
}

/** A pattern or offset that ClamAV refuses, with the lines ClamAV prints about it, in order. */
export class PatternError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => d.text).join('; '));
  }

  /** The same refusal followed by the lines that ClamAV's callers add. */
  followedBy(...errors: string[]): PatternError {
    return new PatternError([...this.diagnostics, ...errors.map((text) => ({ level: 'error' as const, text }))]);
  }
}

/** A refusal with one error line. */
export const refuse = (text: string) => new PatternError([{ level: 'error', text }]);

