import { chownSync, readFileSync } from 'node:fs';
import { errnoMessage } from '@clamts/core';
import type { DaemonLogger } from './logger.js';

/** getpwnam() from /etc/passwd. */
function lookUpUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[0] === name && fields.length > 3) return { uid: Number(fields[2]), gid: Number(fields[3]) };
    }
  } catch {
    // No user database: the user is unknown.
  }
  return undefined;
}

/**
 * `User`: when started as root, become that user (groups, log file ownership, gid, uid), as
 * clamd's drop_privileges() does. Returns false after reporting why it could not.
 */
export function dropPrivileges(user: string, logFile: string | undefined, logger: DaemonLogger): boolean {
  if (process.getuid?.() !== 0) return true;
  const account = lookUpUser(user);
  const fail = (message: string) => {
    process.stderr.write(`ERROR: ${message}\n`);
    logger.warning(message);
    return false;
  };
  if (!account) return fail(`Can't get information about user ${user}.`);
  // Not in @types/node, but present on POSIX systems.
  const initgroups = (process as { initgroups?: (user: string, group: number) => void }).initgroups;
  try {
    initgroups?.(user, account.gid);
  } catch {
    return fail('initgroups() failed.');
  }
  if (logFile !== undefined) {
    try {
      chownSync(logFile, account.uid, account.gid);
    } catch (error) {
      return fail(`lchown to user '${user}' failed on log file '${logFile}'.  Error was '${errnoMessage(error)}'`);
    }
  }
  try {
    process.setgid?.(account.gid);
  } catch {
    return fail(`setgid(${account.gid}) failed.`);
  }
  try {
    process.setuid?.(account.uid);
  } catch {
    return fail(`setuid(${account.uid}) failed.`);
  }
  return true;
}
