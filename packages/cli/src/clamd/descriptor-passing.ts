import { createRequire } from 'node:module';

/**
 * The native descriptor-passing addon (packages/fdpass), loaded when it was built. Without it clamd
 * still serves everything but FILDES, which then answers "FILDES support not compiled in.", as a
 * ClamAV built without descriptor passing does.
 */
export interface DescriptorReader {
  start(): void;
  stop(): void;
  close(): void;
}

export type ReadCallback = (error: Error | null, data: Buffer | undefined, fd: number, truncated: boolean) => void;

export interface DescriptorPassing {
  reader(socketFd: number, maxRead: number, callback: ReadCallback): DescriptorReader;
}

/** The package name is kept in a variable: the addon is optional, so nothing may require it to type-check. */
const ADDON = '@clamts/fdpass';

export async function loadDescriptorPassing(): Promise<DescriptorPassing | undefined> {
  try {
    const addon = createRequire(import.meta.url)(ADDON) as {
      Reader: new (socketFd: number, maxRead: number, callback: ReadCallback) => DescriptorReader;
    };
    return { reader: (socketFd, maxRead, callback) => new addon.Reader(socketFd, maxRead, callback) };
  } catch {
    return undefined;
  }
}
