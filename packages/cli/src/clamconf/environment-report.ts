import { readFileSync } from 'node:fs';
import { machine, release, type, version } from 'node:os';
import { CLAMTS_VERSION, ENGINE_VERSION, FUNCTIONALITY_LEVEL, registeredHandlers } from '@clamts/core';
import type { ToolOutput } from '../common/output.js';

/**
 * The last parts of clamconf's report, about ClamTS itself: the software (version, the ClamAV
 * release it reproduces, the container formats it unpacks), the platform and the build (the
 * Node.js runtime standing in for ClamAV's C compiler). Section titles are clamconf's.
 */
export function reportSoftware(out: ToolOutput): void {
  out.info('\nSoftware settings\n-----------------');
  out.info(`Version: ${CLAMTS_VERSION}`);
  out.info(`Compatible with: ClamAV ${ENGINE_VERSION}`);
  out.info(`Container formats: ${registeredHandlers().map((handler) => handler.name).join(' ')}`);
}

export function reportPlatform(out: ToolOutput): void {
  out.info('\nPlatform information\n--------------------');
  out.info(`uname: ${type()} ${release()} ${version()} ${machine()}`);
  out.info(`OS: ${type()}, ARCH: ${machine()}, CPU: ${machine()}`);
  const distribution = osReleaseName();
  if (distribution) out.info(`Full OS version: ${distribution}`);
  out.info(`zlib version: ${process.versions.zlib}`);
}

export function reportBuild(out: ToolOutput): void {
  out.info('\nBuild information\n-----------------');
  out.info(`Node.js: ${process.versions.node} (V8 ${process.versions.v8})`);
  out.info(`sizeof(void*) = ${process.arch.endsWith('64') ? 8 : 4}`);
  out.info(`Engine flevel: ${FUNCTIONALITY_LEVEL}, dconf: ${FUNCTIONALITY_LEVEL}`);
}

/** The distribution's own name for itself (what `lsb_release -d -s` prints), if it says. */
function osReleaseName(): string | undefined {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME=("?)(.*)\1$/m.exec(text)?.[2];
  } catch {
    return undefined;
  }
}
