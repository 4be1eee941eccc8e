/**
 * bin/clamdscan against a scripted fake clamd: the replies a healthy daemon never sends — a
 * rejected command, garbage, a reply cut short or too long, silence, bogus session numbers, a
 * session dropped half-way — and reply details clamdscan rewrites (ExtendedDetectionInfo's
 * `(hash:size)`, multi-colon errors). The expected output of each case was recorded from real
 * ClamAV 1.4.6 clamdscan against the same script; when real clamdscan is installed the test
 * also runs it again and requires the same result.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/run-tool.js';
import { runAsync, startFakeClamd, type AsyncRun, type FakeScript } from './fake-clamd.js';

const HAVE_REAL_CLAMDSCAN = spawnSync('sh', ['-c', 'command -v clamdscan']).status === 0;
const EXTENDED = 'Eicar-Test(44d88612fea8a8f36de82e1278abb02f:68) FOUND';

interface Case {
  readonly title: string;
  readonly script: FakeScript;
  readonly args: readonly string[];
  readonly input?: string;
  /** Real clamdscan's result; `<D>` stands for the fake daemon's directory. */
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

const cases: Case[] = [
  {
    title: 'a daemon that rejects the z framing ("UNKNOWN COMMAND\\n", then closes)',
    script: (_, socket) => socket.end('UNKNOWN COMMAND\n'),
    args: ['target.txt'],
    status: 2,
    stdout: '',
    stderr: 'ERROR: Command rejected by clamd (wrong clamd version?)\n',
  },
  {
    title: 'UNKNOWN COMMAND as a reply',
    script: (_, socket) => socket.end('UNKNOWN COMMAND\0'),
    args: ['target.txt'],
    status: 2,
    stdout: 'clamd replied "UNKNOWN COMMAND". Command was CONTSCAN\n',
    stderr: '',
  },
  {
    title: 'a reply without a colon',
    script: (_, socket) => socket.end('garbage reply without colon\0'),
    args: ['target.txt'],
    status: 2,
    stdout: 'Failed to parse reply: "garbage reply without colon"\n',
    stderr: '',
  },
  {
    title: "ExtendedDetectionInfo's (hash:size) is cut from CONTSCAN replies",
    script: (command, socket) => socket.end(`${command.text.slice('CONTSCAN '.length)}: ${EXTENDED}\0`),
    args: ['target.txt'],
    status: 1,
    stdout: '<D>/target.txt: Eicar-Test FOUND\n',
    stderr: '',
  },
  {
    title: "ExtendedDetectionInfo's (hash:size) is cut from stream replies",
    script: (_, socket) => socket.end(`stream: ${EXTENDED}\0`),
    args: ['--stream', 'target.txt'],
    status: 1,
    stdout: '<D>/target.txt: Eicar-Test FOUND\n',
    stderr: '',
  },
  {
    title: 'a streamed file keeps only the last part of a multi-colon error',
    script: (_, socket) => socket.end('stream: lstat() failed: No such file or directory. ERROR\0'),
    args: ['--stream', 'target.txt'],
    status: 2,
    stdout: '<D>/target.txt: No such file or directory. ERROR\n',
    stderr: '',
  },
  {
    title: 'a CONTSCAN error is printed as clamd sent it',
    script: (_, socket) => socket.end('/x/y: lstat() failed: No such file or directory. ERROR\0'),
    args: ['target.txt'],
    status: 2,
    stdout: '/x/y: lstat() failed: No such file or directory. ERROR\n',
    stderr: '',
  },
  {
    title: 'no reply for a file',
    script: (_, socket) => socket.end(),
    args: ['target.txt'],
    status: 2,
    stdout: '<D>/target.txt: no reply from clamd\n',
    stderr: '',
  },
  {
    title: 'no reply for a directory is fine',
    script: (_, socket) => socket.end(),
    args: ['dir'],
    status: 0,
    stdout: '<D>/dir: OK\n',
    stderr: '',
  },
  {
    title: 'a reply longer than clamdscan reads',
    script: (_, socket) => socket.end('a'.repeat(6000)),
    args: ['target.txt'],
    status: 2,
    stdout: '',
    stderr: 'ERROR: Overlong reply from clamd\n',
  },
  {
    title: 'a reply cut short by the connection closing',
    script: (_, socket) => socket.end('/x: OK'),
    args: ['target.txt'],
    status: 2,
    stdout: '',
    stderr: 'ERROR: Communication error\n',
  },
  {
    title: 'replies shorter than seven bytes are ignored',
    script: (_, socket) => socket.end('ab\0cdefg FOUND\0'),
    args: ['target.txt'],
    status: 2,
    stdout: 'Failed to parse reply: "cdefg FOUND"\n',
    stderr: '',
  },
  // Session replies come only after END in these cases: ClamAV's clamdscan reads replies between
  // requests when they happen to be there already, so earlier replies would make the outcome
  // depend on timing (a walk aborted or not), in ClamAV's clamdscan as in ClamTS's.
  {
    title: 'a session reply for a request never made',
    script: (command, socket) => void (command.text === 'END' && socket.end('99: stream: OK\0')),
    args: ['--stream', '-m', 'dir'],
    status: 2,
    stdout: '',
    stderr: 'ERROR: Bogus session id from clamd\nERROR: Clamd closed the connection before scanning all files.\n',
  },
  {
    title: 'a session closed before every request was answered',
    script: (command, socket) => void (command.text === 'END' && socket.end('1: stream: Virus FOUND\0')),
    args: ['--stream', '-m', 'dir'],
    status: 1,
    stdout: '<D>/dir/a.txt: Virus FOUND\n',
    stderr: 'ERROR: Clamd closed the connection before scanning all files.\n',
  },
  {
    title: 'session replies are printed from their last colon, parentheses and all',
    script: (command, socket) => {
      if (command.id) socket.write(`${command.id}: stream: ${command.data?.includes('bad') ? 'Bad.Thing(aa:3) FOUND' : 'OK'}\0`);
      if (command.text === 'END') socket.end();
    },
    args: ['--stream', '-m', 'dir'],
    status: 1,
    stdout: '<D>/dir/a.txt:3) FOUND\n',
    stderr: '',
  },
  {
    title: 'a session reply with a number but no colon',
    script: (command, socket) => void (command.text === 'END' && socket.end('1  garbage\0')),
    args: ['--stream', '-m', 'dir'],
    status: 2,
    stdout: '',
    stderr: 'ERROR: Failed to parse reply\nERROR: Clamd closed the connection before scanning all files.\n',
  },
  {
    title: '--reload answered with something else than RELOADING',
    script: (_, socket) => socket.end('NOPE\0'),
    args: ['--reload'],
    status: 2,
    stdout: '',
    stderr: 'ERROR: Clamd did not reload the database\n',
  },
  {
    title: '--reload answered with RELOADING',
    script: (_, socket) => socket.end('RELOADING\0'),
    args: ['--reload'],
    status: 0,
    stdout: '',
    stderr: '',
  },
  {
    title: '--version prints every reply line',
    script: (_, socket) => socket.end('ClamTS 0.1.0/1/Thu Jan  1 00:00:00 1970\0second line\0'),
    args: ['--version'],
    status: 0,
    stdout: 'ClamTS 0.1.0/1/Thu Jan  1 00:00:00 1970\nsecond line\n',
    stderr: '',
  },
  {
    title: '--version with a reply cut short',
    script: (_, socket) => socket.end('ClamTS 0.1.0'),
    args: ['--version'],
    status: 0,
    stdout: '',
    stderr: 'ERROR: Communication error\nERROR: Error occurred while receiving version information.\n',
  },
  {
    title: '--ping only needs the PING to be sent',
    script: (_, socket) => socket.end(),
    args: ['--ping', '1'],
    status: 0,
    stdout: 'PONG\n',
    stderr: '',
  },
];

const CLAMDSCAN = join(REPO_ROOT, 'bin', 'clamdscan');

describe('bin/clamdscan against a misbehaving daemon', () => {
  for (const testCase of cases) {
    it(testCase.title, async () => {
      const fake = await startFakeClamd(testCase.script);
      try {
        writeFileSync(join(fake.dir, 'target.txt'), 'hello\n');
        mkdirSync(join(fake.dir, 'dir'));
        writeFileSync(join(fake.dir, 'dir', 'a.txt'), 'bad\n');
        writeFileSync(join(fake.dir, 'dir', 'b.txt'), 'good\n');
        const args = ['-c', fake.config, '--no-summary', ...testCase.args];
        const shown = (run: AsyncRun) => ({
          status: run.status,
          stdout: run.stdout.replaceAll(fake.dir, '<D>'),
          stderr: run.stderr.replaceAll(fake.dir, '<D>'),
        });
        const ours = shown(await runAsync(process.execPath, [CLAMDSCAN, ...args], { cwd: fake.dir, input: testCase.input }));
        assert.deepEqual(ours, { status: testCase.status, stdout: testCase.stdout, stderr: testCase.stderr });
        if (HAVE_REAL_CLAMDSCAN) {
          const real = shown(await runAsync('clamdscan', args, { cwd: fake.dir, input: testCase.input }));
          assert.deepEqual(ours, real, 'real clamdscan now answers differently');
        }
      } finally {
        await fake.close();
      }
    });
  }
});
