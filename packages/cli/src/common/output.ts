import { closeSync, openSync, writeSync } from 'node:fs';
import { errnoMessage, libclamavLine, type Logger } from '@clamts/core/client';

export interface OutputOptions {
  /** `--quiet`: only errors reach the console. */
  quiet?: boolean;
  /** `--verbose`: show verbose (LOGG_DEBUG) messages. */
  verbose?: boolean;
  /** `--stdout`: warnings and errors go to stdout too. */
  stdout?: boolean;
  /** `--log FILE`: messages are appended to this file as well. */
  logFile?: string;
  /** `--debug`: show libclamav debug messages. */
  debug?: boolean;
}

/**
 * Console and log-file output with the rules of ClamAV's tools (its `mprintf` and `logg`):
 * results on stdout, `WARNING: `/`ERROR: ` lines on stderr, `--quiet` leaving only errors,
 * and a log file that receives what `logg` writes but not what only `mprintf` writes.
 * Writes are synchronous, like C stdio followed by fflush, so lines never interleave or get lost
 * at exit.
 */
export class ToolOutput {
  private logFd: number | undefined;
  private logFailed = false;

  constructor(private readonly options: OutputOptions = {}) {}

  /** A result or report line, to the console and the log (logg LOGG_INFO). */
  info(line: string): void {
    this.log(line);
    this.console(line);
  }

  /** Console only (mprintf LOGG_INFO): clamscan's `OK` lines do not go to the log. */
  consoleOnly(line: string): void {
    this.console(line);
  }

  /** Log file only (logg LOGG_INFO_NF). Returns false when the log cannot be written. */
  logOnly(line: string): boolean {
    return this.log(line);
  }

  verbose(line: string): void {
    if (!this.options.verbose) return;
    this.log(line);
    this.console(line);
  }

  warning(line: string): void {
    this.log(`WARNING: ${line}`);
    if (!this.options.quiet) this.write(this.options.stdout ? 1 : 2, `WARNING: ${line}\n`);
  }

  error(line: string): void {
    this.log(`ERROR: ${line}`);
    this.consoleError(line);
  }

  /** An `ERROR: ` line on the console only (mprintf LOGG_ERROR). */
  consoleError(line: string): void {
    this.write(this.options.stdout ? 1 : 2, `ERROR: ${line}\n`);
  }

  /** Raw text on stderr (getopt messages, perror, the bell). */
  stderr(text: string): void {
    this.write(2, text);
  }

  /** libclamav's own messages: `LibClamAV Error/Warning/debug: …` on stderr. */
  libclamavLogger(): Logger {
    return {
      error: (message) => this.write(2, libclamavLine('Error', message)),
      warning: (message) => this.write(2, libclamavLine('Warning', message)),
      info: (message) => this.write(2, libclamavLine('info', message)),
      debug: (message) => {
        if (this.options.debug) this.write(2, libclamavLine('debug', message));
      },
      debugEnabled: this.options.debug === true,
    };
  }

  close(): void {
    if (this.logFd !== undefined) closeSync(this.logFd);
    this.logFd = undefined;
  }

  private console(line: string): void {
    if (!this.options.quiet) this.write(1, `${line}\n`);
  }

  private log(line: string): boolean {
    const file = this.options.logFile;
    if (!file || this.logFailed) return !file;
    if (this.logFd === undefined) {
      try {
        this.logFd = openSync(file, 'a', 0o640);
      } catch (error) {
        this.logFailed = true;
        this.write(1, `ERROR: Failed to open log file ${file}: ${errnoMessage(error)}\n`);
        return false;
      }
    }
    this.write(this.logFd, `${line}\n`);
    return true;
  }

  private write(fd: number, text: string): void {
    writeFully(fd, Buffer.from(text));
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `data`, waiting out a non-blocking descriptor that is full (EAGAIN). A closed
 * pipe (e.g. `clamscan | head`) or a closed descriptor ends output quietly, as SIGPIPE would end
 * ClamAV's.
 */
export function writeFully(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'EBADF') return;
      if (code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
