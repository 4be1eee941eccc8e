import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A fresh directory removed after the test file; `write` puts files in it and returns paths. */
export function tempDir(prefix = 'clamts-test-') {
  const root = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(root, { recursive: true, force: true }));
  return {
    root,
    write(name: string, content: string | Uint8Array): string {
      const path = join(root, name);
      writeFileSync(path, content);
      return path;
    },
  };
}

/** The 68-byte EICAR test file. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
export const EICAR_MD5 = '44d88612fea8a8f36de82e1278abb02f';
export const EICAR_SHA1 = '3395856ce81f2b7382dee72602f798b642f14140';
export const EICAR_SHA256 = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f';
