import { createRequire } from 'node:module';
import type { FdSender } from '@clamts/core/client';

/** The native addon that passes descriptors over unix sockets (built when ClamTS is installed). */
const FDPASS_PACKAGE = '@clamts/fdpass';

/**
 * The SCM_RIGHTS sender, or undefined when the addon is not available. clamdscan then behaves
 * as ClamAV's does when built without descriptor passing: what would have been passed is
 * streamed instead.
 */
export async function loadFdSender(): Promise<FdSender | undefined> {
  try {
    const addon = createRequire(import.meta.url)(FDPASS_PACKAGE) as { sendFd?: FdSender };
    return typeof addon.sendFd === 'function' ? addon.sendFd : undefined;
  } catch {
    return undefined;
  }
}
