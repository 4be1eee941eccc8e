/**
 * @clamts/core/client: the part of @clamts/core that programs talking to clamd or reading
 * ClamAV's configuration need (clamdscan, clamdtop): errors, configuration files and command
 * lines, clamd's protocol and client, version strings, database headers. It loads none of the
 * engine's modules, so such a program starts in about half the time.
 */
export { ClamError, isClamError, strerror, type ClamErrorCode } from './errors.js';
export { libclamavLine, silentLogger, type Logger } from './util/logger.js';
export { errnoMessage, resolverMessage } from './util/strerror.js';
export { readFileHead } from './util/file-head.js';
export type { DatabaseVersion } from './engine/engine.js';
export { ENGINE_VERSION, FUNCTIONALITY_LEVEL, CLAMTS_VERSION } from './engine/version.js';
export {
  parseCvdHeader,
  readCvdHead,
  readContainer,
  verifyContainer,
  type CvdHeader,
  type CvdEntry,
  type ContainerKind,
} from './signatures/cvd.js';
export * from './config/index.js';
export { isWellFormed, convertArgument } from './config/arguments.js';
export { CommandLineError, parseCommandLine, ParsedCommandLine } from './config/command-line.js';
export { ctime, summaryDate, summaryTimeLines, type ScanTimes } from './util/time-format.js';
export * from './clamd/index.js';
export * from './clamd/client.js';
