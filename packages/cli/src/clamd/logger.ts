import { closeSync, constants, openSync, renameSync, statSync } from 'node:fs';
import { ctime, errnoMessage, libclamavLine, type Logger } from '@clamts/core';
import { writeFully } from '../common/output.js';

/**
 * ClamAV's log levels as clamd uses them:
 * - info: log file and console; info-nf: log file only (startup banner lines);
 * - warning / error: prefixed `WARNING: ` / `ERROR: `, on stderr when shown on the console;
 * - debug: only with LogVerbose; debug-nv: only with Debug (clamd's own chatter).
 */
export type LogLevel = 'info' | 'info-nf' | 'warning' | 'error' | 'debug' | 'debug-nv';

export interface DaemonLogOptions {
  /** LogFile (absolute path), if any. */
  readonly file?: string;
  /** LogTime: prefix lines with the time. */
  readonly time: boolean;
  /** LogVerbose: show debug messages. */
  readonly verbose: boolean;
  /** Debug: show clamd's protocol-level messages too. */
  readonly debug: boolean;
  /** LogFileMaxSize in bytes (0: no limit) and LogRotate. */
  readonly maxSize: number;
  readonly rotate: boolean;
  /** Where console output goes (the terminal by default; a detaching daemon forwards it). */
  readonly console?: (fd: 1 | 2, text: string) => void;
}

/**
 * clamd's log (ClamAV's logg()): appended to LogFile, and echoed to the console until the daemon
 * detaches (then the console is gone, as clamd's stdio goes to /dev/null). The file is opened on
 * first use and after SIGHUP; when it grows past LogFileMaxSize it is renamed aside (with LogRotate,
 * or after a warning line without it) and a new one begun. Writes are synchronous so that lines
 * never interleave and nothing is lost at exit.
 */
export class DaemonLogger {
  private fd: number | undefined;
  private console = true;
  private rotate: boolean;

  constructor(private readonly options: DaemonLogOptions) {
    this.rotate = options.maxSize > 0 && options.rotate;
  }

  /** Writes one message (without its newline) at a level. Returns false if the log file failed. */
  log(level: LogLevel, message: string): boolean {
    if (level === 'debug-nv' && !this.options.debug) return true;
    if (level === 'debug' && !this.options.verbose && !this.options.debug) return true;
    const body = `${levelPrefix(level)}${message}\n`;
    const stamp = this.options.time ? `${ctime(new Date())} -> ` : '';
    let ok = true;
    if (this.options.file) {
      ok = this.writeFile(`${stamp}${body}`);
    }
    if (this.console && level !== 'info-nf') this.writeConsole(level, `${stamp}${body}`);
    return ok;
  }

  info(message: string): void {
    this.log('info', message);
  }

  warning(message: string): void {
    this.log('warning', message);
  }

  error(message: string): void {
    this.log('error', message);
  }

  debug(message: string): void {
    this.log('debug', message);
  }

  /** SIGHUP: close the file; the next message opens it again (after logrotate moved it). */
  reopen(): void {
    this.closeFile();
  }

  /** The daemon has detached from the terminal. */
  detachConsole(): void {
    this.console = false;
  }

  close(): void {
    this.closeFile();
  }

  /** For the connection state machine: its debug chatter is clamd's LOGG_DEBUG_NV. */
  protocolLogger(): Logger {
    return {
      error: (message) => this.log('error', message),
      warning: (message) => this.log('warning', message),
      debug: (message) => this.log('debug-nv', message),
      debugEnabled: this.options.debug,
    };
  }

  /**
   * The engine's own messages: libclamav prints them on stderr (`LibClamAV Error: …`), not to
   * clamd's log, which gets clamd's summary of the failure instead.
   */
  engineLogger(): Logger {
    const debugEnabled = this.options.debug;
    return {
      error: (message) => this.writeConsole('error', libclamavLine('Error', message)),
      warning: (message) => this.writeConsole('warning', libclamavLine('Warning', message)),
      debug: (message) => {
        if (debugEnabled) this.writeConsole('error', libclamavLine('debug', message));
      },
      debugEnabled,
    };
  }

  private writeFile(text: string): boolean {
    const file = this.options.file as string;
    try {
      this.rotateIfFull(file);
      if (this.fd === undefined) this.fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o640);
    } catch (error) {
      writeAll(1, `ERROR: Failed to open log file ${file}: ${errnoMessage(error)}\n`);
      return false;
    }
    writeAll(this.fd, text);
    return true;
  }

  /** ClamAV's rename_logg(): `name.log` becomes `name-YYYYMMDD_HHMMSS.log`. */
  private rotateIfFull(file: string): void {
    if (this.options.maxSize <= 0) return;
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return;
    }
    if (size <= this.options.maxSize) return;
    if (!this.rotate) {
      if (this.fd !== undefined) {
        writeAll(this.fd, `Log size = ${size}, max = ${this.options.maxSize}\n`);
        writeAll(this.fd, 'WARNING: Log size limit met but log file rotation turned off. Forcing log file rotation anyways.\n');
      }
      this.rotate = true;
    }
    this.closeFile();
    // ClamAV overwrites the last four characters (".log" normally) with the stamp and ".log".
    renameSync(file, `${file.slice(0, Math.max(0, file.length - 4))}${rotationStamp(new Date())}`);
  }

  private writeConsole(level: LogLevel, text: string): void {
    if (!this.console) return;
    const fd = level === 'error' || level === 'warning' ? 2 : 1;
    try {
      if (this.options.console) this.options.console(fd, text);
      else writeAll(fd, text);
    } catch {
      // The terminal went away: the log file still has the message.
    }
  }

  private closeFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function levelPrefix(level: LogLevel): string {
  if (level === 'error') return 'ERROR: ';
  if (level === 'warning') return 'WARNING: ';
  return '';
}

function rotationStamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `-${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}_` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}.log`
  );
}

/** Log and console lines are bytes as they came (latin1), written whole. */
function writeAll(fd: number, text: string): void {
  writeFully(fd, Buffer.from(text, 'latin1'));
}
