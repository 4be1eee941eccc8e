import { setTimeout as sleep } from 'node:timers/promises';
import { REPLY } from '@clamts/core/client';
import type { ToolOutput } from '../common/output.js';
import type { DaemonLink } from './daemon-link.js';

/** `--ping` and `--wait` without a value: 31 attempts one second apart (about 30 s). */
const DEFAULT_ATTEMPTS = 31;
const DEFAULT_INTERVAL = 1;

export type PingResult = 'answered' | 'timeout' | 'error';

/**
 * `--ping A[:I]` and `--wait`: tries to reach clamd up to A times, I seconds apart. Like
 * clamdscan it counts clamd as up as soon as the PING command could be sent. With `wait`
 * (clamdscan waits before scanning) the progress messages are verbose-only and PONG is not printed.
 */
export async function pingClamd(link: DaemonLink, out: ToolOutput, spec: string | undefined, wait: boolean): Promise<PingResult> {
  let attempts = DEFAULT_ATTEMPTS;
  let interval = DEFAULT_INTERVAL;
  if (spec !== undefined) {
    const colon = spec.indexOf(':');
    if (colon >= 0) {
      const parsed = parseUnsigned(spec.slice(colon + 1));
      if (parsed === undefined) {
        out.warning('interval_str would go past end of buffer');
        return 'error';
      }
      interval = parsed;
    }
    const parsed = parseUnsigned(colon >= 0 ? spec.slice(0, colon) : spec);
    if (parsed === undefined) {
      out.warning('attempt_str would go past end of buffer');
      return 'error';
    }
    attempts = parsed;
  }

  await link.isRemote();
  let attempt = 0;
  do {
    const connection = await link.connect();
    if (connection) {
      try {
        await connection.sendCommand('PING');
        if (!wait) out.info('PONG');
        return 'answered';
      } catch {
        out.verbose('PING failed...');
      } finally {
        connection.close();
      }
    }
    if (attempt + 1 < attempts) {
      const unit = interval === 1 ? 'second' : 'seconds';
      if (wait) out.verbose(`Could not connect, will try again in ${interval} ${unit}`);
      else out.info(`Could not connect, will PING again in ${interval} ${unit}`);
      await sleep(interval * 1000);
    }
    attempt++;
  } while (attempt < attempts);

  out.info(wait ? 'Wait timeout exceeded; Could not connect to clamd' : 'PING timeout exceeded; No response from clamd');
  return 'timeout';
}

/**
 * ClamAV's cli_strntoul() in base 10 as `--ping` uses it: optional blanks and sign, digits, and
 * nothing after them; an empty string reads as 0. Undefined when characters are left over.
 */
function parseUnsigned(text: string): number | undefined {
  if (text === '') return 0;
  const match = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[2]);
  // A negative count wraps around to a huge unsigned one: in effect, no limit.
  return match[1] === '-' && value !== 0 ? Number.MAX_SAFE_INTEGER : value;
}

/**
 * `--version`: prints what clamd's VERSION says. False when clamd could not be asked, so the
 * caller prints its own version instead.
 */
export async function printDaemonVersion(link: DaemonLink, out: ToolOutput): Promise<boolean> {
  await link.isRemote();
  const connection = await link.connect();
  if (!connection) return false;
  try {
    try {
      await connection.sendCommand('VERSION');
    } catch {
      return false;
    }
    for (;;) {
      let reply: string | undefined;
      try {
        reply = await connection.readReply();
      } catch (error) {
        out.error((error as Error).message);
        out.error('Error occurred while receiving version information.');
        return true;
      }
      if (reply === undefined) return true;
      // printf(): standard output whatever --quiet says.
      process.stdout.write(`${reply}\n`);
    }
  } finally {
    connection.close();
  }
}

/** `--reload`: 0 when clamd answered RELOADING, 2 otherwise. */
export async function reloadDatabase(link: DaemonLink, out: ToolOutput): Promise<number> {
  await link.isRemote();
  const connection = await link.connect();
  if (!connection) return 2;
  try {
    try {
      await connection.sendCommand('RELOAD');
    } catch {
      return 2;
    }
    let reply: string | undefined;
    try {
      reply = await connection.readReply();
    } catch (error) {
      out.error((error as Error).message);
    }
    if (reply === undefined || !reply.startsWith(REPLY.RELOADING)) {
      out.error('Clamd did not reload the database');
      return 2;
    }
    return 0;
  } finally {
    connection.close();
  }
}
