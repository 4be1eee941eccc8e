/** The entry points in bin/, started as a shell starts them: through their first line. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/', import.meta.url));
const TOOLS = ['clamscan', 'clamd', 'clamdscan', 'clamconf', 'clamdtop'];
/** What Node 20 prints at start when NODE_EXTRA_CA_CERTS names a file it cannot read. */
const EXTRA_CERTS_WARNING = /Ignoring extra certs/;
const MISSING_CERTS = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/clamts-test-ca.pem' };

describe('bin/ scripts', () => {
  it('have first lines of at most 127 characters, which Linux before 5.1 would cut', () => {
    for (const tool of TOOLS) {
      const [firstLine] = readFileSync(`${BIN}${tool}`, 'utf8').split('\n');
      assert.ok(firstLine!.length <= 127, `${tool}: ${firstLine!.length} characters`);
    }
  });

  it('start Node without NODE_EXTRA_CA_CERTS, which it would read at start', () => {
    // The same variable makes Node itself read the file and warn: what the scripts avoid.
    const node = spawnSync(process.execPath, ['-e', '0'], { encoding: 'utf8', env: MISSING_CERTS });
    assert.match(node.stderr, EXTRA_CERTS_WARNING);
    for (const tool of TOOLS) {
      const run = spawnSync(`${BIN}${tool}`, ['--version'], { encoding: 'utf8', env: MISSING_CERTS });
      assert.equal(run.status, 0, tool);
      assert.notEqual(run.stdout, '', tool);
      assert.doesNotMatch(run.stderr, EXTRA_CERTS_WARNING, tool);
    }
  });
});
