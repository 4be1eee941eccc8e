import { spawn } from 'node:child_process';

/** What `%f` turns into: ClamAV no longer substitutes file names into a shell command. */
export const FILENAME_DISABLED_MESSAGE =
  "The filename format character has been disabled due to security concerns, use the 'CLAM_VIRUSEVENT_FILENAME' environment variable instead.";

/** VirusEvent's command line for a detection: `%v` is the signature name, `%f` a warning. */
export function virusEventCommand(template: string, virus: string): string {
  return template.replace(/%([vf])/g, (_match, letter: string) => (letter === 'v' ? virus : FILENAME_DISABLED_MESSAGE));
}

/** A byte string (as the daemon keeps paths) as the text the environment carries. */
function environmentText(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/**
 * Runs VirusEvent as clamd does: `/bin/sh -c command` with only PATH and the
 * CLAM_VIRUSEVENT_FILENAME / CLAM_VIRUSEVENT_VIRUSNAME variables in its environment. Resolves once
 * the command has exited (clamd waits for it before replying); false if it could not be started.
 */
export function runVirusEvent(template: string, path: string, virus: string): Promise<boolean> {
  const env: Record<string, string> = {};
  if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
  env.CLAM_VIRUSEVENT_FILENAME = environmentText(path);
  env.CLAM_VIRUSEVENT_VIRUSNAME = environmentText(virus);
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', environmentText(virusEventCommand(template, virus))], { env, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('close', () => resolve(true));
  });
}
