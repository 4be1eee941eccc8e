/**
 * The engine's diagnostic channel, the counterpart of libclamav's cli_errmsg / cli_warnmsg /
 * cli_dbgmsg. The engine never prints: the tool that owns the terminal decides the prefix
 * ("LibClamAV Error: ", "LibClamAV Warning: ", "LibClamAV debug: ") and where the line goes.
 */
export interface Logger {
  error(message: string): void;
  warning(message: string): void;
  /** libclamav's cli_infomsg (`LibClamAV info: …`), e.g. the suspicious links of the phishing check. */
  info?(message: string): void;
  /** Dropped unless `debugEnabled`; callers check `debugEnabled` before building costly messages. */
  debug(message: string): void;
  readonly debugEnabled: boolean;
}

export const silentLogger: Logger = {
  error() {},
  warning() {},
  debug() {},
  debugEnabled: false,
};

/** libclamav's MSGBUFSIZ: a message, prefix and newline included, is cut to one byte less. */
const MESSAGE_BUFFER = 8192;

/**
 * A message as libclamav prints it: `LibClamAV Error: …`, `LibClamAV Warning: …` or
 * `LibClamAV debug: …` and a newline, cut at libclamav's message buffer (a cut message loses its
 * newline, so the next one continues on the same line, as with ClamAV).
 */
export function libclamavLine(level: 'Error' | 'Warning' | 'info' | 'debug', message: string): string {
  return `LibClamAV ${level}: ${message}\n`.slice(0, MESSAGE_BUFFER - 1);
}
