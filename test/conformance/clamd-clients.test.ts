// Real clients of ClamAV's clamd against ClamTS's clamd: ClamAV's clamdscan in every mode (output
// compared with the same clamdscan talking to ClamAV's clamd), clamdtop reading STATS, Debian's
// python3-pyclamd, and the npm clamscan package when it is installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLAMTS_VERSION } from '../../packages/core/src/engine/version.js';
import { haveProgram, makeFifo, SAMPLE, SAMPLE_VIRUS, sleep, startClamAV, startClamTS, Workspace, type RunningDaemon } from '../clamd/harness.js';

const workspace = new Workspace();
let real: RunningDaemon | undefined;
let ours: RunningDaemon;

/** A clamd.conf for clients (clamdscan, clamdtop) pointing at a daemon. */
function clientConfig(daemon: RunningDaemon, tcp = false): string {
  const path = join(daemon.dir, tcp ? 'client-tcp.conf' : 'client.conf');
  writeFileSync(path, tcp ? `TCPSocket ${daemon.port}\nTCPAddr 127.0.0.1\n` : `LocalSocket ${daemon.socket}\n`);
  return path;
}

function clamdscan(daemon: RunningDaemon, args: readonly string[], tcp = false) {
  const run = spawnSync('clamdscan', ['-c', clientConfig(daemon, tcp), ...args], { encoding: 'latin1', timeout: 30000 });
  // Timings and dates differ from run to run.
  const output = `${run.stdout}${run.stderr}`.replace(/^(Time|Start Date|End Date):.*\n/gm, '');
  return { status: run.status, output };
}

before(async () => {
  const tree = workspace.path('files', 'tree');
  mkdirSync(join(tree, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(tree, 'sub', 'infected.bin'), SAMPLE);
  writeFileSync(join(tree, 'sub', 'deeper', 'clean.txt'), 'clean\n');
  writeFileSync(join(tree, 'empty'), '');
  makeFifo(join(tree, 'fifo'));
  ours = await startClamTS(workspace, { name: 'ours' });
  if (haveProgram('clamd')) real = await startClamAV(workspace, { name: 'real' });
});
after(async () => {
  await Promise.all([real?.stop(), ours?.stop()]);
  workspace.remove();
});

describe('ClamAV clamdscan against ClamTS clamd', { skip: haveProgram('clamdscan') ? false : 'clamdscan is not installed' }, () => {
  const targets = () => [workspace.path('files'), workspace.path('files', 'tree', 'fifo'), workspace.path('missing')];
  const modes = [[], ['-m'], ['--stream'], ['--fdpass'], ['--stream', '-m'], ['--fdpass', '-m'], ['-z'], ['--no-summary', '-i']];
  for (const mode of modes) {
    it(`clamdscan ${mode.join(' ') || '(default)'}`, { skip: haveProgram('clamd') ? false : 'ClamAV clamd is not installed' }, () => {
      const expected = clamdscan(real as RunningDaemon, [...mode, ...targets()]);
      const actual = clamdscan(ours, [...mode, ...targets()]);
      assert.equal(actual.status, expected.status);
      // Multiscan replies come in completion order: compare them as sets.
      const lines = (text: string) => (mode.includes('-m') ? text.split('\n').sort().join('\n') : text);
      assert.equal(lines(actual.output), lines(expected.output));
      assert.match(actual.output, new RegExp(`infected\\.bin: ${SAMPLE_VIRUS.replace(/\./g, '\\.')} FOUND`));
    });
  }

  it('pings, waits and asks for the version over TCP', () => {
    assert.equal(clamdscan(ours, ['-p', '1'], true).output, 'PONG\n');
    assert.equal(clamdscan(ours, ['--wait', '-p', '1']).status, 0);
    assert.match(clamdscan(ours, ['--version']).output, /^ClamTS \d+\.\d+\.\d+\n$/);
  });

  it('scans stdin', () => {
    const run = spawnSync('clamdscan', ['-c', clientConfig(ours), '-'], { input: SAMPLE, encoding: 'latin1' });
    assert.equal(run.status, 1);
    assert.match(run.stdout, new RegExp(`^stream: ${SAMPLE_VIRUS.replace(/\./g, '\\.')} FOUND$`, 'm'));
  });
});

describe('ClamAV clamdtop against ClamTS clamd', { skip: haveProgram('clamdtop') && haveProgram('tmux') ? false : 'clamdtop or tmux is not installed' }, () => {
  it('shows the daemon, its threads and its queue', async () => {
    const session = `clamts-clamdtop-${process.pid}`;
    const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
    tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', `clamdtop -c ${clientConfig(ours)}`);
    try {
      let screen = '';
      for (let attempt = 0; attempt < 50 && !/ClamTS/.test(screen); attempt++) {
        await sleep(200);
        screen = tmux('capture-pane', '-p', '-t', session).stdout;
      }
      assert.match(screen, /local/);
      assert.match(screen, /ClamTS/);
      assert.match(screen, /LIV/);
      assert.doesNotMatch(screen, /unsupported|Unable to/i);
    } finally {
      tmux('kill-session', '-t', session);
    }
  });
});

describe('python3-pyclamd against ClamTS clamd', { skip: spawnSync('/usr/bin/python3', ['-c', 'import pyclamd']).status === 0 ? false : 'python3-pyclamd is not installed' }, () => {
  it('pings, scans files and streams, and reads the version', () => {
    const script = `
import pyclamd, sys
cd = pyclamd.ClamdUnixSocket(filename=sys.argv[1])
print(cd.ping())
print(cd.version().split('/')[0])
print(cd.scan_file(sys.argv[2]))
print(cd.scan_stream(open(sys.argv[2], 'rb').read()))
print(cd.contscan_file(sys.argv[3]))
print(cd.multiscan_file(sys.argv[3]))
net = pyclamd.ClamdNetworkSocket(host='127.0.0.1', port=int(sys.argv[4]))
print(net.scan_stream(b'clean data'))
`;
    const sample = workspace.path('files', 'sample.bin');
    const run = spawnSync('/usr/bin/python3', ['-c', script, ours.socket, sample, workspace.path('files', 'clean'), String(ours.port)], {
      encoding: 'utf8',
    });
    assert.equal(run.stderr, '');
    assert.equal(
      run.stdout,
      [
        'True',
        `ClamTS ${CLAMTS_VERSION}`,
        `{'${sample}': ('FOUND', '${SAMPLE_VIRUS}')}`,
        `{'stream': ('FOUND', '${SAMPLE_VIRUS}')}`,
        'None',
        'None',
        'None',
        '',
      ].join('\n'),
    );
  });
});

/** The npm clamscan package, from the repository's node_modules, when it is there. */
function npmClamscan(): ((options: object) => Promise<unknown>) | undefined {
  try {
    const NodeClam = createRequire(import.meta.url)('clamscan') as new () => { init(options: object): Promise<unknown> };
    return (options) => new NodeClam().init(options);
  } catch {
    return undefined;
  }
}

describe('npm clamscan against ClamTS clamd', { skip: npmClamscan() ? false : 'the clamscan npm package is not installed' }, () => {
  it('scans a file and a stream through the socket', async () => {
    const init = npmClamscan() as (options: object) => Promise<unknown>;
    const scanner = (await init({ clamdscan: { socket: ours.socket, localFallback: false } })) as {
      isInfected(path: string): Promise<{ isInfected: boolean; viruses: string[] }>;
      scanStream(stream: NodeJS.ReadableStream): Promise<{ isInfected: boolean; viruses: string[] }>;
    };
    const file = await scanner.isInfected(workspace.path('files', 'sample.bin'));
    assert.deepEqual([file.isInfected, file.viruses], [true, [SAMPLE_VIRUS]]);
    const { Readable } = await import('node:stream');
    const stream = await scanner.scanStream(Readable.from([Buffer.from('clean data')]));
    assert.equal(stream.isInfected, false);
  });
});
