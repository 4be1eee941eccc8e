/**
 * The clamd wire protocol as ClamAV 1.4 speaks it: command names, framing bytes and the fixed reply
 * texts. Both sides of the socket (the daemon and the client library) take them from here.
 *
 * A command is sent in one of three framings:
 * - `z` prefix, NUL terminator (`zSCAN /path\0`): replies end with NUL;
 * - `n` prefix, newline terminator (`nSCAN /path\n`): replies end with a newline;
 * - no prefix ("legacy"): whatever one read returns is the command, up to a newline if there is
 *   one; replies end with a newline. Only the commands ClamAV marks as old-style accept it.
 */

/** Every command clamd knows, with ClamAV's rules for it. */
export type CommandName =
  | 'SCAN'
  | 'RAWSCAN'
  | 'QUIT'
  | 'RELOAD'
  | 'PING'
  | 'CONTSCAN'
  | 'VERSIONCOMMANDS'
  | 'VERSION'
  | 'END'
  | 'SHUTDOWN'
  | 'MULTISCAN'
  | 'FILDES'
  | 'STATS'
  | 'IDSESSION'
  | 'INSTREAM'
  | 'DETSTATSCLEAR'
  | 'DETSTATS'
  | 'ALLMATCHSCAN'
  | 'STREAM';

export interface CommandSpec {
  readonly name: CommandName;
  /** Takes a path argument, separated from the name by one character (any character). */
  readonly needsArgument: boolean;
  /** Accepted without a `z`/`n` prefix. */
  readonly legacy: boolean;
}

/**
 * The command table in ClamAV's matching order: a command is recognised by its name being a
 * prefix of the line, so VERSIONCOMMANDS must come before VERSION and DETSTATSCLEAR before
 * DETSTATS. The order is also the order VERSIONCOMMANDS lists them in. RAWSCAN and STREAM, which
 * ClamAV 1.4 dropped, are served for old clients and listed last.
 */
export const COMMANDS: readonly CommandSpec[] = [
  { name: 'SCAN', needsArgument: true, legacy: true },
  { name: 'QUIT', needsArgument: false, legacy: true },
  { name: 'RELOAD', needsArgument: false, legacy: true },
  { name: 'PING', needsArgument: false, legacy: true },
  { name: 'CONTSCAN', needsArgument: true, legacy: true },
  { name: 'VERSIONCOMMANDS', needsArgument: false, legacy: false },
  { name: 'VERSION', needsArgument: false, legacy: true },
  { name: 'END', needsArgument: false, legacy: false },
  { name: 'SHUTDOWN', needsArgument: false, legacy: true },
  { name: 'MULTISCAN', needsArgument: true, legacy: true },
  { name: 'FILDES', needsArgument: false, legacy: true },
  { name: 'STATS', needsArgument: false, legacy: false },
  { name: 'IDSESSION', needsArgument: false, legacy: false },
  { name: 'INSTREAM', needsArgument: false, legacy: false },
  { name: 'DETSTATSCLEAR', needsArgument: false, legacy: true },
  { name: 'DETSTATS', needsArgument: false, legacy: true },
  { name: 'ALLMATCHSCAN', needsArgument: true, legacy: false },
  { name: 'RAWSCAN', needsArgument: true, legacy: true },
  { name: 'STREAM', needsArgument: false, legacy: true },
];

/** The commands accepted inside an IDSESSION; anything else ends the session with an error. */
export const SESSION_COMMANDS: ReadonlySet<CommandName> = new Set<CommandName>([
  'FILDES',
  'SCAN',
  'END',
  'INSTREAM',
  'VERSION',
  'PING',
  'STATS',
  'VERSIONCOMMANDS',
]);

/** Framing prefixes and terminators. */
export const PREFIX_NUL = 0x7a; // 'z'
export const PREFIX_NEWLINE = 0x6e; // 'n'
export const NUL = 0x00;
export const NEWLINE = 0x0a;

/** A reply terminator: NUL for `z` commands, newline otherwise. */
export type Terminator = '\0' | '\n';

/**
 * Bytes clamd buffers for one connection's commands: PATH_MAX + 8, as ClamAV allocates. A command
 * that does not fit (with its prefix and terminator) makes clamd drop the connection.
 */
export const COMMAND_BUFFER_SIZE = 4096 + 8;

/** INSTREAM: each chunk is preceded by its length as a 4-byte big-endian number; 0 ends the stream. */
export const CHUNK_HEADER_SIZE = 4;

/** Fixed reply texts (without id prefix and terminator). */
export const REPLY = {
  PONG: 'PONG',
  OK: 'OK',
  FOUND: 'FOUND',
  ERROR: 'ERROR',
  RELOADING: 'RELOADING',
  UNKNOWN_COMMAND: 'UNKNOWN COMMAND',
  COMMAND_READ_TIMED_OUT: 'COMMAND READ TIMED OUT',
  /** The name INSTREAM results are reported under. */
  STREAM: 'stream',
  PORT: 'PORT',
  SIZE_LIMIT_EXCEEDED: 'INSTREAM size limit exceeded.',
  INVALID_IN_SESSION: 'Command invalid inside IDSESSION.',
  ONLY_PREFIXED_IN_SESSION: 'Only nCMDS\\n and zCMDS\\0 are accepted inside IDSESSION.',
  ERROR_PROCESSING: 'Error processing command.',
  NO_FD_RECEIVED: 'No file descriptor received.',
  FILDES_NO_FD: "FILDES: didn't receive file descriptor.",
  FD_WITHOUT_FILDES: 'PROTOCOL ERROR: ancillary data sent without FILDES.',
  FILDES_UNSUPPORTED: 'FILDES support not compiled in.',
  ALLMATCH_DISABLED: 'ALLMATCHSCAN command disabled by clamd configuration.',
  MULTISCAN_THREADS: 'Not enough threads for multiscan. Increase MaxThreads.',
  NOT_REGULAR_FILE: 'Not a regular file',
  NOT_SUPPORTED_FILE_TYPE: 'Not supported file type',
  ACCESS_DENIED: 'Access denied.',
  PATH_CHECK_FAILURE: 'File path check failure:',
  EXCLUDED: 'Excluded',
  EXCLUDED_FILESYSTEM: 'Excluded (another filesystem)',
  EMPTY_FILE: 'Empty file',
} as const;

/** The result of recognising one command line. */
export type ParsedCommand =
  | { readonly known: true; readonly spec: CommandSpec; readonly argument: string | undefined }
  | { readonly known: false };

const UNKNOWN: ParsedCommand = { known: false };

/**
 * Recognises a command the way clamd does: the first table entry whose name starts the line wins;
 * a command with an argument needs at least one more character, which is skipped (so `SCAN\t/x`
 * and even `SCANX/x` scan `/x`); a command without one must end right after its name. Commands
 * that are not old-style are unknown when sent without a prefix.
 */
export function parseCommand(line: string, legacy: boolean): ParsedCommand {
  const spec = COMMANDS.find((candidate) => line.startsWith(candidate.name));
  if (!spec) return UNKNOWN;
  const rest = line.slice(spec.name.length);
  let argument: string | undefined;
  if (spec.needsArgument) {
    if (rest === '') return UNKNOWN;
    argument = rest.slice(1);
  } else if (rest !== '') {
    return UNKNOWN;
  }
  if (legacy && !spec.legacy) return UNKNOWN;
  return { known: true, spec, argument };
}

/** `VERSIONCOMMANDS`' list: ` COMMANDS: SCAN QUIT …`. */
export function commandList(): string {
  return ` COMMANDS:${COMMANDS.map((command) => ` ${command.name}`).join('')}`;
}

/** Encodes one INSTREAM chunk header. */
export function chunkHeader(length: number): Uint8Array {
  const header = new Uint8Array(CHUNK_HEADER_SIZE);
  new DataView(header.buffer).setUint32(0, length, false);
  return header;
}
