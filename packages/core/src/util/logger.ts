/**
 * The engine's diagnostic channel, the counterpart of libclamav's cli_errmsg / cli_warnmsg /
 * cli_dbgmsg. The engine never prints: the tool that owns the terminal decides the prefix
 * ("LibClamAV Error: ", "LibClamAV Warning: ", "LibClamAV debug: ") and where the line goes.
 */
export interface Logger {
  error(message: string): void;
  warning(message: string): void;
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
