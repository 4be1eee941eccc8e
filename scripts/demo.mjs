#!/usr/bin/env node
// The README's first command ends here: write the EICAR test file and the ClamTS test file into a
// fresh folder and scan it with bin/clamscan and the default database.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const folder = mkdtempSync(join(tmpdir(), 'clamts-demo-'));
// The EICAR test string, assembled so that this file itself is not flagged by scanners.
writeFileSync(join(folder, 'eicar.com'), 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
writeFileSync(
  join(folder, 'clamts-test.txt'),
  'ClamTS test file: this harmless text is detected by the ClamTS bundled database.\n',
);
writeFileSync(join(folder, 'hello.txt'), 'Hello, world.\n');

const clamscan = new URL('../bin/clamscan', import.meta.url).pathname;
console.log(`$ bin/clamscan -r ${folder}`);
const result = spawnSync(process.execPath, [clamscan, '-r', folder], { stdio: 'inherit' });
rmSync(folder, { recursive: true, force: true });
// Exit status 1 means "virus found", which is what this demo expects.
process.exit(result.status === 1 ? 0 : 1);
