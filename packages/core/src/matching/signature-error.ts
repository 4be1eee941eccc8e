/**
 * A signature line that ClamAV would refuse. ClamAV reports such a line with a chain of
 * messages, innermost first (the pattern parser, then the function that added the pattern, then
 * the database loader); `messages` collects that chain in the same order so the builder can log
 * it exactly, then turn it into a ClamError with the path and line.
 */
export type SignatureErrorCode = 'EMALFDB' | 'EMEM' | 'EFORMAT';

export interface SignatureMessage {
  /** ClamAV's cli_errmsg (most) or cli_warnmsg (the pre-filter's refusals). */
  readonly level: 'error' | 'warning';
  readonly text: string;
}

export class SignatureError extends Error {
  readonly messages: SignatureMessage[];
  /**
   * The cl_error_t ClamAV ends up with: usually EMALFDB; EMEM where ClamAV's parser takes a bad
   * line for an allocation failure, EFORMAT for a bad image fuzzy hash.
   */
  readonly code: SignatureErrorCode;

  constructor(message?: string, code: SignatureErrorCode = 'EMALFDB') {
    super(message ?? 'Malformed signature');
    this.name = 'SignatureError';
    this.messages = message === undefined ? [] : [{ level: 'error', text: message }];
    this.code = code;
  }

  /** A refusal ClamAV only explains with warnings. */
  static warned(...warnings: string[]): SignatureError {
    const error = new SignatureError();
    error.messages.push(...warnings.map((text) => ({ level: 'warning' as const, text })));
    return error;
  }

  /** Adds the message an outer ClamAV function prints when an inner step failed. */
  because(outerMessage: string): this {
    this.messages.push({ level: 'error', text: outerMessage });
    return this;
  }
}

/**
 * Runs `step`; when it refuses the signature, appends the caller's own ClamAV message (given as
 * a function where composing it for every line would cost more than the step).
 */
export function withContext<T>(outerMessage: string | (() => string), step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw inContext(error, outerMessage);
  }
}

/**
 * What a caller that caught `error` throws: a refusal with the caller's own ClamAV message
 * appended, anything else as it is. For the per-pattern paths, where withContext's closures would
 * be allocated for every pattern.
 */
export function inContext(error: unknown, outerMessage: string | (() => string)): unknown {
  return error instanceof SignatureError ? error.because(typeof outerMessage === 'string' ? outerMessage : outerMessage()) : error;
}
