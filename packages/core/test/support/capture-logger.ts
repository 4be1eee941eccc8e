import type { Logger } from '../../src/util/logger.js';

/** A Logger that keeps every message, to assert on libclamav-style diagnostics. */
export class CaptureLogger implements Logger {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  readonly debugs: string[] = [];
  constructor(readonly debugEnabled = false) {}
  error(message: string): void {
    this.errors.push(message);
  }
  warning(message: string): void {
    this.warnings.push(message);
  }
  debug(message: string): void {
    this.debugs.push(message);
  }
}
